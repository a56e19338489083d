#ifndef DEV_PIC_H
#define DEV_PIC_H
/*
 * The PC's two cascaded 8259A programmable interrupt controllers as a
 * register model with no hardware access (KVM's i8259.c is the same idea):
 * the master at ports 0x20/0x21 with the slave on its input 2, the slave at
 * 0xa0/0xa1, and the edge/level control registers (ELCR) at 0x4d0/0x4d1 as
 * PIIX-style chipsets have them. Devices drive the 15 ISA inputs; the
 * master's INT output goes to the CPU, which acknowledges it (INTA) to learn
 * the vector. Virt/irq.c connects it to the VM.
 */
#include <stdint.h>
#include <stdbool.h>

#define PIC_ELCR_MASTER 0x4d0
#define PIC_ELCR_SLAVE  0x4d1
#define PIC_CASCADE_IRQ 2           /* the master input the slave's INT drives */

struct pic_chip {
    uint8_t lines;          /* input levels now */
    uint8_t edge_irr;       /* requests latched by rising edges (edge-triggered inputs) */
    uint8_t imr, isr;
    uint8_t elcr, elcr_writable;
    uint8_t vector_base;    /* ICW2: bits 7:3 of the vectors */
    uint8_t lowest;         /* the input with the lowest priority (7 unless rotated) */
    uint8_t init_step;      /* the ICW the odd port expects next; 0: initialised */
    bool icw4_needed, single, auto_eoi, rotate_on_aeoi, special_fully_nested;
    bool special_mask, read_isr, poll;
};

struct vpic {
    struct pic_chip chip[2];    /* master, slave */
};

/* The state a PC's firmware leaves: both chips initialised with the BIOS
 * vector bases (0x08, 0x70), all inputs edge-triggered and masked. */
void vpic_reset(struct vpic *pic);
/* ISA IRQ `irq` (0-15, not 2: that input is the cascade) at `level`. */
void vpic_set_irq(struct vpic *pic, unsigned irq, bool level);
/* Port access: PLATFORM_PIC_MASTER/SLAVE (+0, +1) and the ELCRs. */
uint8_t vpic_read(struct vpic *pic, uint16_t port);
void vpic_write(struct vpic *pic, uint16_t port, uint8_t value);
/* The master's INT output: an unmasked request above what is in service. */
bool vpic_output(const struct vpic *pic);
/* The CPU's interrupt acknowledge: the vector of the highest request, which
 * goes in service (through the slave for input 2); if the request has gone
 * meanwhile, the spurious vector of input 7 (15 on the slave). */
uint8_t vpic_acknowledge(struct vpic *pic);
#endif
