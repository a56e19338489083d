/* L1's VMX instructions, emulated as the SDM's instruction reference
 * specifies them (Vol. 3C ch. 31): the faults, then VMsucceed, VMfailInvalid
 * or VMfailValid with the VM-instruction error in the current vmcs12. */
#include "nested/vmx_insn.h"
#include "nested/nested.h"
#include "nested/l1_regions.h"
#include "nested/entry_checks.h"
#include "nested/switch.h"
#include "nested/nested_ept.h"
#include "nested/shadow_vmcs.h"
#include "nested/shadow_vmcs02.h"
#include "nested/vmcs12_cache.h"
#include "nested/vmx_operand.h"
#include "dev/apicv.h"
#include "virt/write_watch.h"
#include "virt/event_inject.h"
#include "virt/guest_mem.h"
#include "virt/guest_linear.h"
#include "virt/vcpu.h"
#include "virt/vcpu_regs.h"
#include "virt/vm.h"
#include "vmx/exit_reasons.h"
#include "vmx/vmcs.h"
#include "vmx/tlb.h"
#include "vmx/vmx_insn.h"
#include "arch/cpu.h"
#include "arch/cpuid_cache.h"
#include "arch/msr.h"
#include "lib/page_alloc.h"

#define RFLAGS_CF (1ull << 0)
#define RFLAGS_PF (1ull << 2)
#define RFLAGS_AF (1ull << 4)
#define RFLAGS_ZF (1ull << 6)
#define RFLAGS_SF (1ull << 7)
#define RFLAGS_OF (1ull << 11)
#define RFLAGS_VM (1ull << 17)
#define RFLAGS_ARITHMETIC (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)
#define AR_L  (1u << 13)
#define AR_DPL(ar) ((ar) >> 5 & 3)
#define INTERRUPTIBILITY_MOV_SS (1u << 1)
#define LINEAR_ADDRESS_BITS 48      /* no 5-level paging for the guests */

/* VM-instruction error numbers (SDM Vol. 3C 31.4). */
enum vm_instruction_error {
    VMXERR_VMCLEAR_BAD_ADDRESS = 2,
    VMXERR_VMCLEAR_VMXON_POINTER = 3,
    VMXERR_VMLAUNCH_NOT_CLEAR = 4,
    VMXERR_VMRESUME_NOT_LAUNCHED = 5,
    VMXERR_VMPTRLD_BAD_ADDRESS = 9,
    VMXERR_VMPTRLD_VMXON_POINTER = 10,
    VMXERR_VMPTRLD_BAD_REVISION = 11,
    VMXERR_UNSUPPORTED_COMPONENT = 12,
    VMXERR_VMWRITE_READ_ONLY = 13,
    VMXERR_VMXON_IN_ROOT = 15,
    VMXERR_ENTRY_MOV_SS_BLOCKING = 26,
    VMXERR_INVALID_INVEPT_INVVPID = 28,
};

/* One VMX instruction being emulated: the exit's description of it. */
struct insn {
    struct vcpu *vcpu;
    uint32_t reason;
    struct vmx_operand op;
    struct vmx_operand_guest guest;
};

static struct nested_vmx *vmx_of(const struct insn *in)
{
    return in->vcpu->nested;
}

/* The outcomes (SDM Vol. 3C 31.2): the arithmetic flags say which, RIP
 * moves past the instruction. */
static void conclude(struct insn *in, uint64_t flags)
{
    uint64_t rflags = vmcs_read(GUEST_RFLAGS) & ~RFLAGS_ARITHMETIC;
    vmcs_write(GUEST_RFLAGS, rflags | flags);
    skip_instruction(in->vcpu);
}

static void succeed(struct insn *in)
{
    conclude(in, 0);
}

static void fail_invalid(struct insn *in)
{
    conclude(in, RFLAGS_CF);
}

/* VMfail: VMfailValid with the error in the current VMCS, VMfailInvalid
 * when there is none. */
static void fail(struct insn *in, enum vm_instruction_error error)
{
    struct nested_vmx *n = vmx_of(in);
    if (!n || n->current_vmptr == NESTED_NO_VMCS) {
        fail_invalid(in);
        return;
    }
    vmcs12_set(n->vmcs12, VM_INSTRUCTION_ERROR, error);
    conclude(in, RFLAGS_ZF);
}

static uint64_t l1_cr0(void)
{
    return guest_cr0();
}

static bool in_64bit_mode(void)
{
    return (vmcs_read(GUEST_IA32_EFER) & EFER_LMA) && (vmcs_read(GUEST_CS_AR_BYTES) & AR_L);
}

/* The checks every VMX instruction makes first (SDM Vol. 3C 31.3, each
 * instruction's operation) that are L0's to make: #UD outside VMX
 * operation, which L0 emulates (but for VMXON), and for VMXON with
 * CR4.VMXE = 0 (L0 keeps the real bit set: L1's comes from its read
 * shadow); #GP(0) at CPL > 0, which the processor checks only after the VM
 * exit. The other #UD conditions (CR0.PE = 0, virtual-8086 mode,
 * compatibility mode) the processor checks before it (the operation's
 * order: #UD, then "in VMX non-root operation: VM exit"), on L1's own
 * CR0, RFLAGS, EFER and CS with unrestricted guest, which vmxvisor
 * requires. False if a fault was injected. */
static bool permitted(struct insn *in)
{
    struct vcpu *v = in->vcpu;
    bool undefined = in->reason == EXIT_REASON_VMXON ? !(guest_cr4() & CR4_VMXE)
                                                     : v->nested == NULL;
    if (undefined) {
        inject_exception(v, VECTOR_UD, false, 0);
        return false;
    }
    if (AR_DPL((uint32_t)vmcs_read_base(GUEST_SS_AR_BYTES)) != 0) {
        inject_exception(v, VECTOR_GP, true, 0);
        return false;
    }
    return true;
}

static const enum vmcs_field segment_base[] = { GUEST_ES_BASE, GUEST_CS_BASE, GUEST_SS_BASE,
                                                GUEST_DS_BASE, GUEST_FS_BASE, GUEST_GS_BASE };
static const enum vmcs_field segment_limit[] = { GUEST_ES_LIMIT, GUEST_CS_LIMIT, GUEST_SS_LIMIT,
                                                 GUEST_DS_LIMIT, GUEST_FS_LIMIT, GUEST_GS_LIMIT };
static const enum vmcs_field segment_ar[] = { GUEST_ES_AR_BYTES, GUEST_CS_AR_BYTES,
                                              GUEST_SS_AR_BYTES, GUEST_DS_AR_BYTES,
                                              GUEST_FS_AR_BYTES, GUEST_GS_AR_BYTES };

static enum vmx_operand_insn operand_insn(uint32_t reason)
{
    switch (reason) {
    case EXIT_REASON_VMXON: return VMX_OPERAND_VMXON;
    case EXIT_REASON_VMCLEAR: return VMX_OPERAND_VMCLEAR;
    case EXIT_REASON_VMPTRLD: return VMX_OPERAND_VMPTRLD;
    case EXIT_REASON_VMPTRST: return VMX_OPERAND_VMPTRST;
    case EXIT_REASON_VMREAD: return VMX_OPERAND_VMREAD;
    case EXIT_REASON_INVEPT: return VMX_OPERAND_INVEPT;
    case EXIT_REASON_INVVPID: return VMX_OPERAND_INVVPID;
    default: return VMX_OPERAND_VMWRITE;
    }
}

/* The operand description and the guest state it depends on: only the
 * registers it names, and the segment only for a memory operand (a
 * VMREAD or VMWRITE between registers, what hypervisors mostly do, reads
 * three registers). */
static void describe(struct insn *in)
{
    struct vmx_operand *op = &in->op;
    *op = (struct vmx_operand){ 0 };
    in->guest = (struct vmx_operand_guest){ 0 };
    vmx_operand_decode(operand_insn(in->reason), (uint32_t)vmcs_read(VMX_INSTRUCTION_INFO),
                       vmcs_read(EXIT_QUALIFICATION), op);
    uint64_t *gpr = in->guest.gpr;
    gpr[op->reg2] = vcpu_read_gpr(in->vcpu, op->reg2);
    if (op->is_register) {
        gpr[op->reg1] = vcpu_read_gpr(in->vcpu, op->reg1);
    } else {
        if (op->has_base)
            gpr[op->base_reg] = vcpu_read_gpr(in->vcpu, op->base_reg);
        if (op->has_index)
            gpr[op->index_reg] = vcpu_read_gpr(in->vcpu, op->index_reg);
        unsigned s = op->segment < 6 ? op->segment : VMX_SEGMENT_DS;
        in->guest.segment = (struct vmx_operand_segment_state){
            .base = vmcs_read(segment_base[s]), .limit = (uint32_t)vmcs_read(segment_limit[s]),
            .access_rights = (uint32_t)vmcs_read(segment_ar[s]) };
    }
    in->guest.in_64bit_mode = in_64bit_mode();
    in->guest.la57 = false;
}

/* Moves the memory operand between `buf` and L1's memory, as the
 * instruction would: the segment checks (#GP/#SS), then L1's paging (#PF
 * where a page is not mapped; virt/guest_linear.h). False if a fault was
 * injected. */
static bool access_operand(struct insn *in, void *buf, bool write)
{
    struct vcpu *v = in->vcpu;
    unsigned size = vmx_operand_size(in->op.insn, in->guest.in_64bit_mode);
    uint64_t linear;
    struct vmx_operand_fault fault;
    if (!vmx_operand_linear_address(&in->op, &in->guest, &linear, &fault)) {
        inject_exception(v, fault.vector, true, fault.error_code);
        return false;
    }
    /* An L2 operand (VMREAD, VMWRITE: nested/reflect.c) on nested EPT is
     * at L2-physical addresses, L1's through EPT12. */
    if (nested_in_l2(v) && nested_l2_uses_ept(v))
        return vcpu_linear_access_mapped(v, linear, buf, size, write, nested_l2_to_l1_gpa, v);
    /* L1's operands lie at the same few addresses instruction after
     * instruction (a VMPTRLD's pointer on its stack): its translations
     * are kept while its page tables say the same. Not before VMXON,
     * nor for L2's. */
    if (v->nested && !nested_in_l2(v))
        return vcpu_linear_access_memo(v, linear, buf, size, write, &v->nested->operand_memo);
    return vcpu_linear_access(v, linear, buf, size, write);
}

/* The 64-bit VMCS pointer operand of VMXON, VMCLEAR, VMPTRLD. */
static bool read_pointer(struct insn *in, uint64_t *addr)
{
    return access_operand(in, addr, false);
}

/* A VMCS or VMXON region address the SDM accepts: 4 KiB aligned, within
 * the physical-address width. */
static bool region_address_valid(uint64_t addr)
{
    return !(addr & 0xfff) && !(addr & ~cpu_phys_addr_mask());
}

/* Drops the current VMCS: into the cache if `keep` (VMPTRLD of the one at
 * `incoming`; nested/vmcs12_cache.h), else (VMCLEAR, VMXOFF, or no memory
 * for the cache) back into its region, the cache keeping a copy. Inline: a
 * nested hypervisor as L1 switches VMCSs several times per exit of its own
 * guest's guest. */
static inline __attribute__((always_inline)) void release_current(struct vcpu *v, bool keep,
                                                                  uint64_t incoming)
{
    struct nested_vmx *n = v->nested;
    if (n->current_vmptr == NESTED_NO_VMCS)
        return;
    nested_sync_l2_state(v);
    if (n->vmcs02_shadow != VMCS02_NOT_SHADOW)
        vmcs02_as_shadow_leave(v);
    shadow_vmcs_detach(v, keep);
    if (!keep || !vmcs12_cache_keep(v, incoming))
        vmcs12_cache_release(v);
    n->current_vmptr = NESTED_NO_VMCS;
}

/* Whether vmcs12's `encoding` may be waiting in vmcs02 after a nested
 * exit (nested_sync_l2_state): guest state; the exit information too
 * while vmcs02 is L1's shadow VMCS. */
static bool vmcs02_may_hold(const struct nested_vmx *n, uint32_t encoding)
{
    unsigned type = vmcs_field_type(encoding);
    return type == VMCS_TYPE_GUEST ||
           (type == VMCS_TYPE_READ_ONLY && n->vmcs02_shadow != VMCS02_NOT_SHADOW);
}

/* vmcs12 as an emulated VMREAD or VMWRITE of `encoding` needs it, from
 * vmcs02: the field, if vmcs02 may hold it; else what the CR0/CR4
 * three-way rule makes, whose inputs and results include controls. */
static void sync_for(struct insn *in, uint32_t encoding)
{
    if (vmcs02_may_hold(vmx_of(in), encoding))
        nested_sync_l2_state(in->vcpu);
    else
        nested_settle_l2_adjusted_state(in->vcpu);
}

static void emulate_vmxon(struct insn *in)
{
    struct vcpu *v = in->vcpu;
    if (v->nested) {
        fail(in, VMXERR_VMXON_IN_ROOT);
        return;
    }
    /* IA32_FEATURE_CONTROL is locked with VMXON outside SMX allowed, so
     * only the CR0/CR4 values can refuse it here. */
    uint64_t cr0 = l1_cr0(), cr4 = guest_cr4();
    const uint64_t *m = nested_caps.msr;
    if ((cr0 & m[NESTED_VMX_CR0_FIXED0]) != m[NESTED_VMX_CR0_FIXED0] ||
        (cr0 & ~m[NESTED_VMX_CR0_FIXED1]) ||
        (cr4 & m[NESTED_VMX_CR4_FIXED0]) != m[NESTED_VMX_CR4_FIXED0] ||
        (cr4 & ~m[NESTED_VMX_CR4_FIXED1])) {
        inject_exception(v, VECTOR_GP, true, 0);
        return;
    }
    uint64_t addr;
    if (!read_pointer(in, &addr))
        return;
    if (!region_address_valid(addr) || l1_region_revision(v, addr) != VMCS12_REVISION) {
        fail_invalid(in);
        return;
    }
    struct nested_vmx *n = page_alloc(NESTED_VMX_PAGES);
    struct vmcs12 *vmcs12 = page_alloc(1);
    if (!n || !vmcs12) {
        if (n)
            page_free(n, NESTED_VMX_PAGES);
        if (vmcs12)
            page_free(vmcs12, 1);
        vm_end(v->vm, -1, "out of memory for nested VMX");
        return;
    }
    _Static_assert(sizeof(*n) <= NESTED_VMX_PAGES * 4096, "a vCPU's nested state fits its pages");
    *n = (struct nested_vmx){ .vmxon_ptr = addr, .current_vmptr = NESTED_NO_VMCS,
                              .vmcs12 = vmcs12, .shadow02_of = NESTED_NO_VMCS,
                              .vmcs02_shadow_on = vmcs02_as_shadow_allowed(v),
                              .l1_long_mode = vmcs_read(GUEST_IA32_EFER) & EFER_LMA };
    n->segment_memo = &n->segment_memos[0];
    n->host_image = &n->host_images[0];
    for (unsigned i = 0; i < NESTED_CACHED_VMCS; i++) {
        n->cached[i].vmptr = NESTED_NO_VMCS;
        n->cached[i].segments = &n->segment_memos[1 + i];
        n->cached[i].host_image = &n->host_images[1 + i];
    }
    v->nested = n;
    apicv_inhibit_changed(v);
    succeed(in);
}

static void emulate_vmxoff(struct insn *in)
{
    struct vcpu *v = in->vcpu;
    release_current(v, false, NESTED_NO_VMCS);
    vmcs12_cache_write_back_all(v);
    shadow02_release(v, v->nested->shadow02_of);
    nested_vcpu_free(v);
    apicv_inhibit_changed(v);
    /* INIT, blocked in VMX root operation, is taken now (SDM Vol. 3C 24.8). */
    if (__atomic_load_n(&v->init_pending, __ATOMIC_SEQ_CST))
        vcpu_request(v, REQ_INIT_SIPI);
    succeed(in);
}

/* The VMCS pointer operand of VMCLEAR and VMPTRLD: read, then VMfail with
 * `bad_address` if it is not a region address, with `vmxon_pointer` if it
 * names the VMXON region (SDM Vol. 3C 31.3). False if the instruction
 * ended there. */
static bool vmcs_pointer_operand(struct insn *in, enum vm_instruction_error bad_address,
                                 enum vm_instruction_error vmxon_pointer, uint64_t *addr)
{
    if (!read_pointer(in, addr))
        return false;
    if (!region_address_valid(*addr)) {
        fail(in, bad_address);
        return false;
    }
    if (*addr == vmx_of(in)->vmxon_ptr) {
        fail(in, vmxon_pointer);
        return false;
    }
    return true;
}

static void emulate_vmclear(struct insn *in)
{
    struct vcpu *v = in->vcpu;
    struct nested_vmx *n = v->nested;
    uint64_t addr;
    if (!vmcs_pointer_operand(in, VMXERR_VMCLEAR_BAD_ADDRESS, VMXERR_VMCLEAR_VMXON_POINTER, &addr))
        return;
    shadow02_release(v, addr);   /* its data to memory, as any VMCS's */
    /* Its data goes to memory and its launch state becomes clear. Memory
     * that is not RAM takes nothing, as the processor's write would go
     * nowhere. */
    if (addr == n->current_vmptr) {
        n->vmcs12->launch_state = VMCS12_CLEAR;
        release_current(v, false, NESTED_NO_VMCS);
    } else if (!vmcs12_cache_write_back(v, addr, true)) {
        uint32_t clear = VMCS12_CLEAR;
        (void)guest_mem_write(v->vm, addr + offsetof(struct vmcs12, launch_state), &clear,
                              sizeof(clear));
    }
    succeed(in);
}

static void emulate_vmptrld(struct insn *in)
{
    struct vcpu *v = in->vcpu;
    struct nested_vmx *n = v->nested;
    uint64_t addr;
    if (!vmcs_pointer_operand(in, VMXERR_VMPTRLD_BAD_ADDRESS, VMXERR_VMPTRLD_VMXON_POINTER, &addr))
        return;
    /* Bits 30:0 ours; bit 31 (a shadow VMCS) is fine, since VMCS shadowing
     * is offered (SDM Vol. 3C 31.3 VMPTRLD). */
    if ((l1_region_revision(v, addr) & ~VMCS12_SHADOW_INDICATOR) != VMCS12_REVISION) {
        fail(in, VMXERR_VMPTRLD_BAD_REVISION);
        return;
    }
    shadow02_release(v, addr);   /* L1 may change it from here on */
    if (addr != n->current_vmptr) {
        release_current(v, true, addr);
        bool checked = false;
        if (!vmcs12_cache_take(v, addr, &checked)) {
            shadow_vmcs_forget(v);
            const struct vmcs12 *region = l1_region_host(v, addr);
            if (!region) {
                fail(in, VMXERR_VMPTRLD_BAD_REVISION);     /* unreachable: its revision was read */
                return;
            }
            vmcs12_copy_spans(n->vmcs12, region);
        }
        n->current_vmptr = addr;
        /* vmcs02 has another VMCS's state: every field is copied again,
         * and checked again unless this VMCS's state was when it stopped
         * being current. */
        vmcs12_field_set_fill(&n->written);
        n->guest_state_checked = checked;
        if (checked)
            nested_written_checked(n);
        n->controls_stale = true;
        /* Without memory for a shadow VMCS, L1 goes on with exits. */
        if (shadow_vmcs_used(v))
            (void)shadow_vmcs_attach(v);
    }
    succeed(in);
}

static void emulate_vmptrst(struct insn *in)
{
    uint64_t pointer = vmx_of(in)->current_vmptr;
    if (access_operand(in, &pointer, true))
        succeed(in);
}

/* VMREAD's and VMWRITE's field encoding (a register; SDM Vol. 3C 31.3):
 * bits the encodings do not use make it unsupported. */
static bool field_encoding(const struct insn *in, uint32_t *encoding)
{
    uint64_t value = vmx_operand_register(&in->guest, in->op.reg2);
    *encoding = (uint32_t)value;
    return value <= UINT32_MAX && vmcs12_field_offset(*encoding) >= 0;
}

/*
 * L2's VMREAD and VMWRITE that L1's bitmaps let through (nested/reflect.c)
 * act on the shadow VMCS that vmcs12's link pointer names, in L1's memory,
 * in our layout (L1 made it with VMPTRLD, VMWRITE and VMCLEAR, which left
 * it there). With no shadow VMCS (link pointer all ones) they end in
 * VMfailInvalid; their VMfailValid errors go to the current VMCS, L1's
 * vmcs12 (SDM Vol. 3C 31.3, VMREAD and VMWRITE in VMX non-root operation).
 * Memory that is not RAM reads all ones and takes nothing.
 */
static bool l2_shadow_vmcs(struct insn *in, struct vmcs12 **shadow)
{
    struct nested_vmx *n = vmx_of(in);
    uint64_t link = vmcs12_get(n->vmcs12, VMCS_LINK_POINTER);
    if (link == ~0ull) {
        fail_invalid(in);
        return false;
    }
    /* L2 runs only after an entry that checked the pointer (4 KiB-aligned,
     * SDM Vol. 3C 27.3.1.5): one translation serves every field. */
    *shadow = guest_page_ref_get(in->vcpu->vm, &n->link12, link);
    return true;
}

static bool l2_shadow_read(struct vmcs12 *shadow, uint32_t encoding, uint64_t *value)
{
    if (shadow)
        return vmcs12_read(shadow, encoding, value);
    if (vmcs12_field_offset(encoding) < 0)
        return false;
    *value = ~0ull >> (64 - 8 * vmcs12_access_bytes(encoding));
    return true;
}

/* An emulated VMREAD or VMWRITE (L1's, vmcs01 current): where vmcs02 is
 * L1's shadow VMCS and L1 makes many of them, a shadow VMCS apart takes
 * its place for a while, and learns the fields (vmcs02_as_shadow_missed). */
static void note_vmcs02_shadow_miss(struct vcpu *v)
{
    if (!vmcs02_as_shadow_missed(v))
        return;
    nested_sync_l2_state(v);
    vmcs02_as_shadow_step_aside(v);
    if (shadow_vmcs_used(v))
        (void)shadow_vmcs_attach(v);
}

static void emulate_vmread(struct insn *in)
{
    struct nested_vmx *n = vmx_of(in);
    bool in_l2 = nested_in_l2(in->vcpu);
    uint32_t encoding;
    uint64_t value;
    struct vmcs12 *shadow = NULL;
    if (n->current_vmptr == NESTED_NO_VMCS) {
        fail_invalid(in);
        return;
    }
    if (in_l2 && !l2_shadow_vmcs(in, &shadow))
        return;
    if (!field_encoding(in, &encoding)) {
        fail(in, VMXERR_UNSUPPORTED_COMPONENT);
        return;
    }
    if (!in_l2) {
        vmcs02_as_shadow_read(in->vcpu, encoding);
        note_vmcs02_shadow_miss(in->vcpu);
        sync_for(in, encoding);
    }
    if (!(in_l2 ? l2_shadow_read(shadow, encoding, &value) : vmcs12_read(n->vmcs12, encoding, &value))) {
        fail(in, VMXERR_UNSUPPORTED_COMPONENT);
        return;
    }
    if (!in->guest.in_64bit_mode)
        value = (uint32_t)value;
    if (in->op.is_register)
        vcpu_write_gpr(in->vcpu, in->op.reg1, value);
    else if (!access_operand(in, &value, true))
        return;
    succeed(in);
    if (!in_l2)
        shadow_vmcs_exited(in->vcpu, encoding);
}

static void emulate_vmwrite(struct insn *in)
{
    struct nested_vmx *n = vmx_of(in);
    bool in_l2 = nested_in_l2(in->vcpu);
    uint32_t encoding;
    uint64_t value = 0;
    struct vmcs12 *shadow = NULL;
    if (n->current_vmptr == NESTED_NO_VMCS) {
        fail_invalid(in);
        return;
    }
    if (in_l2 && !l2_shadow_vmcs(in, &shadow))
        return;
    if (in->op.is_register)
        value = vmx_operand_register(&in->guest, in->op.reg1);
    else if (!access_operand(in, &value, false))
        return;
    if (!field_encoding(in, &encoding)) {
        fail(in, VMXERR_UNSUPPORTED_COMPONENT);
        return;
    }
    if (vmcs_field_type(encoding) == VMCS_TYPE_READ_ONLY &&
        !(nested_caps.msr[NESTED_VMX_MISC] & VMX_MISC_VMWRITE_ANY_FIELD)) {
        fail(in, VMXERR_VMWRITE_READ_ONLY);
        return;
    }
    if (!in->guest.in_64bit_mode)
        value = (uint32_t)value;
    if (in_l2) {
        uint64_t link = vmcs12_get(n->vmcs12, VMCS_LINK_POINTER);
        if (shadow && vmcs12_write(shadow, encoding, value)) {  /* memory that is not RAM takes nothing */
            write_watch_note(in->vcpu->vm, link, sizeof(*shadow));
            shadow02_written(in->vcpu, link, encoding);
        }
        succeed(in);
        return;
    }
    note_vmcs02_shadow_miss(in->vcpu);
    sync_for(in, encoding);     /* (a high half: the field's low half stays) */
    (void)vmcs12_write(n->vmcs12, encoding, value);
    nested_note_written(n, encoding & ~1u);     /* a high half: its field */
    if (n->vmcs02_shadow == VMCS02_PARKED)
        vmcs02_as_shadow_written(in->vcpu, encoding);
    else
        shadow_vmcs_written(in->vcpu, encoding);
    succeed(in);
    shadow_vmcs_exited(in->vcpu, encoding);
}

/* The checks of the controls and host state (SDM Vol. 3C 27.2) after L1
 * wrote some of them: 0, or the VMfail error. If all it changed is an
 * event-window control (PROC_EVENT_WINDOW_CONTROLS), only the checks that read
 * those, and those of an event to inject (which the full checks include).
 * A change of other primary controls makes the guest state checked again
 * too: its checks read whether secondary controls are active. */
static uint32_t check_written_controls_and_host_state(struct nested_vmx *n)
{
    const struct vmcs12_field_set *w = &n->written;
    unsigned width = cpu_phys_addr_bits();
    uint32_t proc_changed =
        (uint32_t)vmcs12_get(n->vmcs12, CPU_BASED_VM_EXEC_CONTROL) ^ n->controls12.proc;
    bool primary_only = !vmcs12_field_set_has_type(w, VMCS_TYPE_HOST) &&
                        vmcs12_field_set_type_is(w, CPU_BASED_VM_EXEC_CONTROL);
    if (primary_only && !(proc_changed & ~PROC_EVENT_WINDOW_CONTROLS)) {
        n->entry_work.windows++;
        uint32_t error = nested_check_window_controls(n->vmcs12, &nested_caps, width, NULL);
        if (!error && nested_injects(n))
            error = nested_check_injection(n->vmcs12, &nested_caps, width, NULL);
        return error;
    }
    if (proc_changed & ~PROC_EVENT_WINDOW_CONTROLS)
        n->guest_state_checked = false;
    n->entry_work.full_controls++;
    uint32_t error = nested_check_controls(n->vmcs12, &nested_caps, width, NULL);
    if (!error)
        error = nested_check_host_state(n->vmcs12, &nested_caps, width, LINEAR_ADDRESS_BITS,
                                        n->l1_long_mode, NULL);
    return error;
}

/* A VMfail of VMLAUNCH or VMRESUME after the take (vmcs02, if it is the
 * shadow, L1's shadow again). */
static void fail_entry_checks(struct insn *in, uint32_t error)
{
    vmcs02_as_shadow_repark(in->vcpu);
    fail(in, error);
}

/* VMLAUNCH and VMRESUME up to the entry itself (SDM Vol. 3C 31.3 and 27.1,
 * 27.2): the current VMCS, MOV-SS blocking, its launch state, then the
 * controls and the host state, each failure a VMfail with its error. */
static void emulate_vmlaunch(struct insn *in, bool resume)
{
    struct nested_vmx *n = vmx_of(in);
    /* No current VMCS, or a shadow VMCS as the current one, is
     * VMfailInvalid (SDM Vol. 3C 31.3 VMLAUNCH/VMRESUME, 25.10). */
    if (n->current_vmptr == NESTED_NO_VMCS || (n->vmcs12->revision & VMCS12_SHADOW_INDICATOR)) {
        fail_invalid(in);
        return;
    }
    if (vmcs_read_base(GUEST_INTERRUPTIBILITY_INFO) & INTERRUPTIBILITY_MOV_SS) {
        fail(in, VMXERR_ENTRY_MOV_SS_BLOCKING);
        return;
    }
    if (!resume && n->vmcs12->launch_state != VMCS12_CLEAR) {
        fail(in, VMXERR_VMLAUNCH_NOT_CLEAR);
        return;
    }
    if (resume && n->vmcs12->launch_state != VMCS12_LAUNCHED) {
        fail(in, VMXERR_VMRESUME_NOT_LAUNCHED);
        return;
    }
    struct nested_l1_carry l1;
    nested_read_l1_carry(in->vcpu, &l1);
    /* What L1 wrote to the shadow VMCS is vmcs12's from here on. Taking
     * vmcs02 back leaves it current: the entry runs on it next. */
    if (n->shadow_linked)
        shadow_vmcs_to_vmcs12(in->vcpu);
    else if (n->vmcs02_shadow == VMCS02_PARKED)
        vmcs02_as_shadow_take(in->vcpu);
    /* Checked again only if L1 wrote a control or host-state field since
     * they last passed: the other inputs (the capabilities, the address
     * widths, L1's IA-32e mode, which CR0.PG fixed to 1 in VMX operation
     * freezes) do not change. An event to inject is checked at every
     * entry that injects one (its fields are not noted as written). */
    if (vmcs12_field_set_has_type(&n->written, VMCS_TYPE_CONTROL) ||
        vmcs12_field_set_has_type(&n->written, VMCS_TYPE_HOST)) {
        uint32_t error = check_written_controls_and_host_state(n);
        if (error) {
            fail_entry_checks(in, error);
            return;
        }
        nested_written_checked(n);
        /* L1 may have written a host field or an exit control, or loaded
         * the VMCS from its region (VMPTRLD notes every field then): the
         * image of its host state is made again. */
        n->host_image->built = false;
    } else if (nested_injects(n)) {
        uint32_t error = nested_check_injection(n->vmcs12, &nested_caps, cpu_phys_addr_bits(), NULL);
        if (error) {
            fail_entry_checks(in, error);
            return;
        }
    }
    nested_vm_entry(in->vcpu, resume, &l1);
}

/* The INVEPT/INVVPID type register and 128-bit descriptor (SDM Vol. 3C
 * 31.3): VMfail with error 28 for a type IA32_VMX_EPT_VPID_CAP does not
 * offer, before the descriptor is read. False if the instruction is
 * over (VMfail, or a fault reading the descriptor). */
static bool read_invalidation(struct insn *in, uint64_t offered_types, uint64_t *type,
                              uint64_t desc[2])
{
    *type = vmx_operand_register(&in->guest, in->op.reg2);
    if (*type >= 64 || !(offered_types >> *type & 1)) {
        fail(in, VMXERR_INVALID_INVEPT_INVVPID);
        return false;
    }
    return access_operand(in, desc, false);
}

/* IA32_VMX_EPT_VPID_CAP bits 25 and 26 offer INVEPT types 1 and 2; bits
 * 40-43 INVVPID types 0-3 (SDM Vol. 3D A.10). */
#define INVEPT_TYPES_SHIFT 24
#define INVVPID_TYPES_SHIFT 40

/* INVEPT (SDM Vol. 3C 31.3): single-context with an EPTP VM entry would
 * accept, or all-context; the shadow EPT built from what it names goes. */
static void emulate_invept(struct insn *in)
{
    uint64_t cap = nested_caps.msr[NESTED_VMX_EPT_VPID_CAP], type, desc[2];
    if (!read_invalidation(in, (cap >> INVEPT_TYPES_SHIFT) & 0x6, &type, desc))
        return;
    bool all = type == INVEPT_ALL_CONTEXT;
    if (!all && !nested_eptp_valid(desc[0], cap, cpu_phys_addr_bits())) {
        fail(in, VMXERR_INVALID_INVEPT_INVVPID);
        return;
    }
    nested_invept(in->vcpu, desc[0], all);
    succeed(in);
}

/* INVVPID (SDM Vol. 3C 31.3): descriptor bits 63:16 zero; a VPID but for
 * all-context; a canonical address for individual-address. Every VPID of
 * L1's is L2's vpid02 here, so any invalidation flushes it. */
static void emulate_invvpid(struct insn *in)
{
    uint64_t cap = nested_caps.msr[NESTED_VMX_EPT_VPID_CAP], type, desc[2];
    if (!read_invalidation(in, (cap >> INVVPID_TYPES_SHIFT) & 0xf, &type, desc))
        return;
    unsigned linear_bits = in->guest.la57 ? 57 : LINEAR_ADDRESS_BITS;
    int64_t canonical = (int64_t)(desc[1] << (64 - linear_bits)) >> (64 - linear_bits);
    if ((desc[0] >> 16) || (type != INVVPID_ALL_CONTEXT && (uint16_t)desc[0] == 0) ||
        (type == INVVPID_INDIVIDUAL_ADDRESS && (uint64_t)canonical != desc[1])) {
        fail(in, VMXERR_INVALID_INVEPT_INVVPID);
        return;
    }
    tlb_flush_vpid(in->vcpu->vpid02);
    succeed(in);
}

void nested_vmx_instruction(struct vcpu *v, uint32_t reason)
{
    struct insn in;
    in.vcpu = v;
    in.reason = reason;
    if (!permitted(&in))
        return;
    if (reason != EXIT_REASON_VMXOFF)     /* the one of these without an operand */
        describe(&in);
    switch (reason) {
    case EXIT_REASON_VMXON: emulate_vmxon(&in); break;
    case EXIT_REASON_VMXOFF: emulate_vmxoff(&in); break;
    case EXIT_REASON_VMCLEAR: emulate_vmclear(&in); break;
    case EXIT_REASON_VMPTRLD: emulate_vmptrld(&in); break;
    case EXIT_REASON_VMPTRST: emulate_vmptrst(&in); break;
    case EXIT_REASON_VMREAD: emulate_vmread(&in); break;
    case EXIT_REASON_VMWRITE: emulate_vmwrite(&in); break;
    case EXIT_REASON_INVEPT: emulate_invept(&in); break;
    case EXIT_REASON_INVVPID: emulate_invvpid(&in); break;
    }
}

void nested_vm_entry_instruction(struct vcpu *v, bool resume)
{
    /* No operand to describe. */
    struct insn in;
    in.vcpu = v;
    in.reason = resume ? EXIT_REASON_VMRESUME : EXIT_REASON_VMLAUNCH;
    if (permitted(&in))
        emulate_vmlaunch(&in, resume);
}
