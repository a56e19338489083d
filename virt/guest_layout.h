#ifndef VIRT_GUEST_LAYOUT_H
#define VIRT_GUEST_LAYOUT_H
/* Where the hypervisor puts the structures of a 64-bit flat start in guest
 * memory (below the 1 MiB at which images are loaded). A test guest's vCPU 0
 * starts at the image's entry with RDI = 0, RSI = number of vCPUs,
 * RDX = GUEST_CMDLINE_GPA (loader/guest_boot.h). */
#define GUEST_GDT_GPA       0x1000ull   /* the selectors below */
#define GUEST_GDT_SIZE      40
#define GUEST_PML4_GPA      0x2000ull
#define GUEST_PDPT_GPA      0x3000ull
#define GUEST_PD_GPA        0x4000ull   /* four PDs: 0-4 GiB in 2 MiB pages */
#define GUEST_CMDLINE_GPA   0x9000ull   /* NUL-terminated, at most one page */
#define GUEST_BOOT_STACK    0x80000ull  /* initial RSP of a test guest's vCPU 0 */
/* The test guests' runtime gives vCPU n the stack below GUEST_BOOT_STACK -
 * n * this: 64 vCPUs end at 0x20000, above the tables. */
#define GUEST_BOOT_STACK_PER_VCPU 0x1800ull
#define GUEST_IMAGE_MIN_GPA 0x100000ull
/* A real-mode start: the image lies in [0x10000, 0xa0000) and runs at
 * CS:IP = (entry >> 4):(entry & 15) with SS:SP = 0:0xfff0. */
#define GUEST_REAL_IMAGE_MIN_GPA 0x10000ull
#define GUEST_REAL_IMAGE_END     0xa0000ull
#define GUEST_REAL_STACK         0xfff0ull

/* Firmware-made structures for unmodified guests (see loader/guest_memmap.h). */
#define GUEST_ZERO_PAGE_GPA 0xa000ull   /* Linux boot_params ("zero page") */
#define GUEST_MB_INFO_GPA   0xb000ull   /* multiboot v1 information, one page */
#define GUEST_ACPI_GPA      0xe0000ull  /* RSDP (16-byte aligned, in the BIOS area), then the tables */
#define GUEST_ACPI_END      0xf0000ull
#define GUEST_SMBIOS_GPA    0xf0000ull  /* SMBIOS entry point and structures (loader/smbios.h) */

/* One GDT for every start: the test guests run on 0x08 (the selector of the
 * hypervisor's IDT code, which they reuse), the Linux boot protocol wants
 * 64-bit code at 0x10 and data at 0x18, multiboot 32-bit code. */
#define GUEST_SEL_CODE64    0x08
#define GUEST_SEL_LINUX_CS  0x10        /* Linux's __BOOT_CS */
#define GUEST_SEL_DATA      0x18        /* Linux's __BOOT_DS; every start's data */
#define GUEST_SEL_CODE32    0x20
#endif
