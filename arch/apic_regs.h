#ifndef ARCH_APIC_REGS_H
#define ARCH_APIC_REGS_H
/* Local APIC registers, for the host's driver (arch/lapic.c) and the
 * virtual APIC (dev/vlapic.c) alike. */
/* Register offsets in the xAPIC page; the x2APIC MSR is 0x800 + offset / 16
 * (SDM Vol. 3A 11.4.1 Table 11-1, 11.12.1.2 Table 11-6). */
enum {
    APIC_REG_ID = 0x20, APIC_REG_VERSION = 0x30, APIC_REG_TPR = 0x80, APIC_REG_APR = 0x90,
    APIC_REG_PPR = 0xa0, APIC_REG_EOI = 0xb0, APIC_REG_RRD = 0xc0, APIC_REG_LDR = 0xd0,
    APIC_REG_DFR = 0xe0, APIC_REG_SVR = 0xf0, APIC_REG_ISR = 0x100, APIC_REG_TMR = 0x180,
    APIC_REG_IRR = 0x200, APIC_REG_ESR = 0x280,
    APIC_REG_ICR_LOW = 0x300, APIC_REG_ICR_HIGH = 0x310, APIC_REG_LVT_TIMER = 0x320,
    APIC_REG_LVT_THERMAL = 0x330, APIC_REG_LVT_PERF = 0x340, APIC_REG_LVT_LINT0 = 0x350,
    APIC_REG_LVT_LINT1 = 0x360, APIC_REG_LVT_ERROR = 0x370, APIC_REG_TIMER_INITIAL = 0x380,
    APIC_REG_TIMER_CURRENT = 0x390, APIC_REG_TIMER_DIVIDE = 0x3e0, APIC_REG_SELF_IPI = 0x3f0,
};
#endif
