/* vCPU state changes and the scheduler (virt/vcpu_state.h). */
#include "virt/vcpu_state.h"
#include "virt/event_inject.h"

static bool (*interrupt_waiting)(const struct vcpu *vcpu);
static bool (*interrupt_waiting_loaded)(const struct vcpu *vcpu);

void vcpu_set_interrupt_source(bool (*waiting)(const struct vcpu *vcpu),
                               bool (*waiting_loaded)(const struct vcpu *vcpu))
{
    interrupt_waiting = waiting;
    interrupt_waiting_loaded = waiting_loaded;
}

/* `waiting`: interrupt_waiting, or on the vCPU's own CPU the cheaper
 * interrupt_waiting_loaded. */
static bool has_wake_event(const struct vcpu *v, enum vcpu_state blocked_in,
                           bool (*waiting)(const struct vcpu *vcpu))
{
    if (__atomic_load_n(&v->init_pending, __ATOMIC_SEQ_CST))
        return true;
    if (blocked_in == VCPU_WAIT_SIPI)
        return __atomic_load_n(&v->sipi_vector, __ATOMIC_SEQ_CST) >= 0;
    /* An NMI ends HLT whatever RFLAGS.IF (SDM Vol. 2A, HLT); not the wait
     * for SIPI, which only INIT and SIPI end (SDM Vol. 3C 25.4.2, activity
     * states). */
    if (__atomic_load_n(&v->nmi_pending, __ATOMIC_SEQ_CST))
        return true;
    return v->halt_interruptible && waiting(v);
}

static bool vcpu_has_wake_event(const struct vcpu *v, enum vcpu_state blocked_in)
{
    return has_wake_event(v, blocked_in, interrupt_waiting);
}

/* A blocked vCPU wakes: counted, so that a scan for "every vCPU blocked"
 * that raced with it can tell (machine/vcpu_entity.c). */
static bool unblock(struct vcpu *v, enum vcpu_state from, enum vcpu_state to)
{
    if (!vcpu_transition(v, from, to))
        return false;
    __atomic_add_fetch(&v->vm->wakeups, 1, __ATOMIC_SEQ_CST);
    return true;
}

bool vcpu_nmi(struct vcpu *v)
{
    if (!nmis_virtualised())
        return false;
    __atomic_store_n(&v->nmi_pending, true, __ATOMIC_SEQ_CST);
    vcpu_request(v, REQ_EVENT);
    vcpu_wake(v);
    return true;
}

void vcpu_wake(struct vcpu *v)
{
    enum vcpu_state s = v->se.state;
    if (s == VCPU_RUNNING) {
        /* A vCPU polling in HLT (exits/exit_hlt.c) looks when the count
         * moves; one in the guest must exit to look. Should the polling end
         * unseen, blocking looks again (vcpu_block). */
        __atomic_add_fetch(&v->halt_poll.wakes, 1, __ATOMIC_SEQ_CST);
        if (!__atomic_load_n(&v->halt_poll.active, __ATOMIC_SEQ_CST))
            sched_notify(v->se.cpu);
        return;
    }
    if ((s != VCPU_HALTED && s != VCPU_WAIT_SIPI) || !vcpu_has_wake_event(v, s) ||
        !unblock(v, s, VCPU_RUNNABLE))
        return;
    sched_wake(&v->se);
}

bool vcpu_block(struct vcpu *v, enum vcpu_state blocked_in)
{
    if (!vcpu_transition(v, VCPU_RUNNING, blocked_in))
        return true;
    /* A waker that saw the vCPU still running only poked its CPU: look
     * again now that the state says blocked. */
    if (vcpu_has_wake_event(v, blocked_in) && unblock(v, blocked_in, VCPU_RUNNING))
        return false;
    return true;
}

bool vcpu_halt_wake_pending(const struct vcpu *v)
{
    return has_wake_event(v, VCPU_HALTED, interrupt_waiting_loaded);
}

bool vcpu_unblock_halted(struct vcpu *v)
{
    if (!unblock(v, VCPU_HALTED, VCPU_RUNNABLE))
        return false;
    vcpu_request(v, REQ_EVENT);
    return true;
}

bool vcpu_unblock_for_timer(struct vcpu *v)
{
    return vcpu_has_wake_event(v, VCPU_HALTED) && vcpu_unblock_halted(v);
}

void vcpu_stop(struct vcpu *v)
{
    enum vcpu_state s = v->se.state;
    while (s != VCPU_STOPPED && !vcpu_transition(v, s, VCPU_STOPPED))
        s = v->se.state;
    vcpu_request(v, REQ_RESCHED);
    sched_kick(v->se.cpu);
}

void vcpu_timer_changed(struct vcpu *v)
{
    enum vcpu_state s = v->se.state;
    if (s == VCPU_RUNNING)
        sched_notify(v->se.cpu);    /* its run loop looks at its requests */
    else if (s == VCPU_HALTED)
        sched_kick(v->se.cpu);      /* its CPU computes when to wake it */
}

const enum sched_state vcpu_state_class[] = {
    [VCPU_RUNNABLE] = SCHED_WAITING, [VCPU_RUNNING] = SCHED_RUNNING,
    [VCPU_HALTED] = SCHED_BLOCKED, [VCPU_WAIT_SIPI] = SCHED_BLOCKED,
    [VCPU_STOPPED] = SCHED_STOPPED,
};
