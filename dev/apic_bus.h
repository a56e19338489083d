#ifndef DEV_APIC_BUS_H
#define DEV_APIC_BUS_H
/* The VM's APIC bus: interrupt messages to its local APICs, from another
 * local APIC (IPIs, dev/apic_access.c) or from the I/O APIC (dev/irq.c). */
#include <stdint.h>
#include <stdbool.h>

struct vm;
struct apic_ipi;

/* A fixed, lowest-priority or NMI message to the VM's local APICs (an IPI
 * from the APIC with ID `sender`, or an I/O APIC's message, which has no
 * shorthand and so no use for `sender`); `level` sets their TMR (not for
 * NMIs, which have no vector). Whether any accepted it. Any CPU may call. */
bool apic_deliver_interrupt(struct vm *vm, uint32_t sender, const struct apic_ipi *msg,
                            bool level);
#endif
