#ifndef LIB_SPINLOCK_H
#define LIB_SPINLOCK_H
/* Ticket spinlock: FIFO fairness, so no CPU starves on a contended lock. */
#include <stdint.h>

typedef struct {
    volatile uint16_t next;
    volatile uint16_t owner;
} spinlock_t;

#define SPINLOCK_INIT { 0, 0 }

static inline void spin_lock(spinlock_t *l)
{
    uint16_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket)
        __asm__ volatile("pause" ::: "memory");    /* cpu_relax(); arch/cpu.h is above lib/ */
}

static inline void spin_unlock(spinlock_t *l)
{
    __atomic_store_n(&l->owner, (uint16_t)(l->owner + 1), __ATOMIC_RELEASE);
}

#endif
