/* The EPT12 walker (nested/ept12.c) over tables in a fake L1 memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "nested/ept12.h"

#define PAGES 16
#define PAGE 4096ull
#define RAM_BASE 0x100000ull       /* L1-physical address of the fake memory */
#define R 1ull
#define W 2ull
#define X 4ull
#define RWX 7ull
#define WB (6ull << 3)
#define LARGE (1ull << 7)
#define PHYS_BITS 39

static uint64_t memory[PAGES][512];
static unsigned reads;

static bool read_entry(void *ctx, uint64_t gpa, uint64_t *entry)
{
    (void)ctx;
    reads++;
    if (gpa < RAM_BASE || gpa >= RAM_BASE + PAGES * PAGE)
        return false;
    *entry = memory[(gpa - RAM_BASE) / PAGE][(gpa & 0xfff) / 8];
    return true;
}

static uint64_t page(unsigned n)
{
    return RAM_BASE + n * PAGE;
}

static const struct ept12_format format = { .phys_addr_bits = PHYS_BITS, .execute_only = true,
                                            .huge_1g = true };

/* Tables: PML4 at page 0, PDPT at 1, PD at 2, PT at 3, for L2 GPA
 * 0x40201000 (PML4E 0, PDPTE 1, PDE 1, PTE 1). */
#define L2_GPA 0x40201000ull
#define EPTP (page(0) | WB | (3ull << 3))

static void build(uint64_t pml4e_perms, uint64_t pdpte_perms, uint64_t pde_perms,
                  uint64_t pte)
{
    memset(memory, 0, sizeof(memory));
    memory[0][0] = page(1) | pml4e_perms;
    memory[1][1] = page(2) | pdpte_perms;
    memory[2][1] = page(3) | pde_perms;
    memory[3][1] = pte;
}

static struct ept12_walk walk(uint64_t gpa, unsigned access, const struct ept12_format *f)
{
    struct ept12_walk w;
    ept12_walk(EPTP, gpa, access, f, read_entry, NULL, &w);
    return w;
}

static void four_kib_leaf(void **state)
{
    (void)state;
    build(RWX, RWX, RWX, 0x7654000ull | WB | RWX);
    reads = 0;
    struct ept12_walk w = walk(L2_GPA + 0x123, EPT12_ACCESS_WRITE, &format);
    assert_int_equal(w.outcome, EPT12_MAPPED);
    assert_int_equal(w.l1_gpa, 0x7654123ull);
    assert_int_equal(w.page_size, PAGE);
    assert_int_equal(w.perms, 7);
    assert_int_equal(w.memory_type, 6);
    assert_int_equal(reads, 4);
}

static void large_leaves(void **state)
{
    (void)state;
    build(RWX, RWX, 0, 0);
    memory[2][1] = 0x40000000ull | WB | LARGE | R | X;      /* 2 MiB */
    struct ept12_walk w = walk(L2_GPA + 0x5, EPT12_ACCESS_EXEC, &format);
    assert_int_equal(w.outcome, EPT12_MAPPED);
    assert_int_equal(w.l1_gpa, 0x40001005ull);
    assert_int_equal(w.page_size, 2ull << 20);
    assert_int_equal(w.perms, 5);
    memory[1][1] = 0x80000000ull | WB | LARGE | RWX;         /* 1 GiB */
    w = walk(L2_GPA, EPT12_ACCESS_READ, &format);
    assert_int_equal(w.outcome, EPT12_MAPPED);
    assert_int_equal(w.l1_gpa, 0x80201000ull);
    assert_int_equal(w.page_size, 1ull << 30);
    /* Without 1 GiB pages, bit 7 of a PDPTE is reserved. */
    struct ept12_format no_1g = format;
    no_1g.huge_1g = false;
    assert_int_equal(walk(L2_GPA, EPT12_ACCESS_READ, &no_1g).outcome, EPT12_MISCONFIG);
    /* Address bits below a large leaf's alignment are reserved. */
    memory[1][1] = 0x80001000ull | WB | LARGE | RWX;
    assert_int_equal(walk(L2_GPA, EPT12_ACCESS_READ, &format).outcome, EPT12_MISCONFIG);
    memory[1][1] = page(2) | RWX;
    memory[2][1] = 0x40100000ull | WB | LARGE | RWX;
    assert_int_equal(walk(L2_GPA, EPT12_ACCESS_READ, &format).outcome, EPT12_MISCONFIG);
}

/* A not-present entry at any level ends the walk in a violation, with no
 * permission (it is part of the AND). */
static void holes_at_every_level(void **state)
{
    (void)state;
    for (unsigned level = 4; level >= 1; level--) {
        build(RWX, RWX, RWX, 0x7654000ull | WB | RWX);
        uint64_t *entry = level == 4 ? &memory[0][0] : level == 3 ? &memory[1][1]
                        : level == 2 ? &memory[2][1] : &memory[3][1];
        *entry &= ~RWX;
        struct ept12_walk w = walk(L2_GPA, EPT12_ACCESS_READ, &format);
        assert_int_equal(w.outcome, EPT12_VIOLATION);
        assert_int_equal(w.perms, 0);
    }
}

/* The permissions are the AND over every level; the access must be in it. */
static void permissions_intersect(void **state)
{
    (void)state;
    build(R | W, RWX, R | X, 0x7654000ull | WB | RWX);
    struct ept12_walk w = walk(L2_GPA, EPT12_ACCESS_READ, &format);
    assert_int_equal(w.outcome, EPT12_MAPPED);
    assert_int_equal(w.perms, 1);
    w = walk(L2_GPA, EPT12_ACCESS_WRITE, &format);
    assert_int_equal(w.outcome, EPT12_VIOLATION);
    assert_int_equal(w.perms, 1);
    w = walk(L2_GPA, EPT12_ACCESS_EXEC, &format);
    assert_int_equal(w.outcome, EPT12_VIOLATION);
    assert_int_equal(w.perms, 1);
    build(RWX, RWX, RWX, 0x7654000ull | WB | R);
    w = walk(L2_GPA, EPT12_ACCESS_WRITE, &format);
    assert_int_equal(w.outcome, EPT12_VIOLATION);
    assert_int_equal(w.perms, 1);
}

/* Execute-only leaves work where offered and are misconfigured where not;
 * write without read is always misconfigured (SDM Vol. 3C 28.3.3.1). */
static void execute_only_and_write_only(void **state)
{
    (void)state;
    build(RWX, RWX, RWX, 0x7654000ull | WB | X);
    assert_int_equal(walk(L2_GPA, EPT12_ACCESS_EXEC, &format).outcome, EPT12_MAPPED);
    struct ept12_walk w = walk(L2_GPA, EPT12_ACCESS_READ, &format);
    assert_int_equal(w.outcome, EPT12_VIOLATION);
    assert_int_equal(w.perms, 4);
    struct ept12_format no_xo = format;
    no_xo.execute_only = false;
    assert_int_equal(walk(L2_GPA, EPT12_ACCESS_EXEC, &no_xo).outcome, EPT12_MISCONFIG);
    build(RWX, RWX, RWX, 0x7654000ull | WB | W);
    assert_int_equal(walk(L2_GPA, EPT12_ACCESS_WRITE, &format).outcome, EPT12_MISCONFIG);
    build(RWX, W | X, RWX, 0x7654000ull | WB | RWX);
    assert_int_equal(walk(L2_GPA, EPT12_ACCESS_READ, &format).outcome, EPT12_MISCONFIG);
}

static void reserved_bits_and_memory_types(void **state)
{
    (void)state;
    /* bits 7:3 of a PML4E */
    build(RWX | (1ull << 3), RWX, RWX, 0x7654000ull | WB | RWX);
    assert_int_equal(walk(L2_GPA, EPT12_ACCESS_READ, &format).outcome, EPT12_MISCONFIG);
    /* bits 6:3 of a PDE that references a table */
    build(RWX, RWX, RWX | (1ull << 6), 0x7654000ull | WB | RWX);
    assert_int_equal(walk(L2_GPA, EPT12_ACCESS_READ, &format).outcome, EPT12_MISCONFIG);
    /* an address beyond the physical width */
    build(RWX, RWX, RWX, (1ull << PHYS_BITS) | WB | RWX);
    assert_int_equal(walk(L2_GPA, EPT12_ACCESS_READ, &format).outcome, EPT12_MISCONFIG);
    /* the leaf's memory type: 2, 3 and 7 are reserved, 0, 1, 4, 5, 6 not */
    for (uint64_t type = 0; type < 8; type++) {
        build(RWX, RWX, RWX, 0x7654000ull | type << 3 | RWX);
        bool bad = type == 2 || type == 3 || type == 7;
        assert_int_equal(walk(L2_GPA, EPT12_ACCESS_READ, &format).outcome,
                         bad ? EPT12_MISCONFIG : EPT12_MAPPED);
    }
    /* a not-present entry's other bits do not matter */
    build(RWX, RWX, RWX, 0x7654000ull | (7ull << 3));
    assert_int_equal(walk(L2_GPA, EPT12_ACCESS_READ, &format).outcome, EPT12_VIOLATION);
    /* bits 11:8 (A/D and ignored bits) and bit 63 are not reserved */
    build(RWX | (0xfull << 8), RWX, RWX, 0x7654000ull | WB | RWX | (0xfull << 8) | (1ull << 63));
    assert_int_equal(walk(L2_GPA, EPT12_ACCESS_READ, &format).outcome, EPT12_MAPPED);
}

/* A table outside L1's memory reads as all ones: reserved bits, a
 * misconfiguration. */
static void table_outside_memory(void **state)
{
    (void)state;
    build(RWX, RWX, RWX, 0x7654000ull | WB | RWX);
    memory[2][1] = 0x7000000000ull | RWX;      /* beyond the fake memory, within the width */
    assert_int_equal(walk(L2_GPA, EPT12_ACCESS_READ, &format).outcome, EPT12_MISCONFIG);
}

/* With A/D (SDM Vol. 3C 30.3.5): accessed in every entry of the walk,
 * dirty in the leaf for a write; bits already set are not asked for. */
static void accessed_and_dirty_flags(void **state)
{
    (void)state;
    build(RWX, RWX, RWX, page(9) | RWX | WB);
    struct ept12_walk w = walk(L2_GPA, EPT12_ACCESS_READ, &format);
    assert_int_equal(w.outcome, EPT12_MAPPED);
    assert_int_equal(w.used, 4);
    assert_int_equal(w.entry_gpa[0], page(0));
    assert_int_equal(w.entry_gpa[3], page(3) + 8);
    uint64_t set[EPT12_LEVELS];
    ept12_ad_updates(&w, false, set);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(set[i], EPT12_ACCESSED);
    ept12_ad_updates(&w, true, set);
    assert_int_equal(set[3], EPT12_ACCESSED | EPT12_DIRTY);
    assert_int_equal(set[2], EPT12_ACCESSED);
    /* set already: nothing more */
    build(RWX | EPT12_ACCESSED, RWX | EPT12_ACCESSED, RWX | EPT12_ACCESSED,
          page(9) | RWX | WB | EPT12_ACCESSED | EPT12_DIRTY);
    w = walk(L2_GPA, EPT12_ACCESS_WRITE, &format);
    ept12_ad_updates(&w, true, set);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(set[i], 0);
    /* a 2 MiB leaf: three entries, dirty in the PDE */
    build(RWX, RWX, RWX, 0);
    memory[2][1] = 0x40000000ull | WB | LARGE | RWX;
    w = walk(L2_GPA, EPT12_ACCESS_WRITE, &format);
    assert_int_equal(w.outcome, EPT12_MAPPED);
    assert_int_equal(w.used, 3);
    ept12_ad_updates(&w, true, set);
    assert_int_equal(set[2], EPT12_ACCESSED | EPT12_DIRTY);
    assert_int_equal(set[3], 0);
}

/* The PML index (SDM Vol. 3C 30.3.6): full outside 0-511; a logged entry
 * goes at the index, which counts down and wraps from 0 to FFFFH. */
static void pml_index_full_and_wrap(void **state)
{
    (void)state;
    assert_false(ept12_pml_full(511));
    assert_false(ept12_pml_full(0));
    assert_true(ept12_pml_full(512));
    assert_true(ept12_pml_full(0xffff));
    uint16_t index = 511;
    assert_int_equal(ept12_pml_log(&index), 511);
    assert_int_equal(index, 510);
    index = 0;
    assert_int_equal(ept12_pml_log(&index), 0);
    assert_int_equal(index, 0xffff);
    assert_true(ept12_pml_full(index));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(four_kib_leaf),
        cmocka_unit_test(large_leaves),
        cmocka_unit_test(holes_at_every_level),
        cmocka_unit_test(permissions_intersect),
        cmocka_unit_test(execute_only_and_write_only),
        cmocka_unit_test(reserved_bits_and_memory_types),
        cmocka_unit_test(table_outside_memory),
        cmocka_unit_test(accessed_and_dirty_flags),
        cmocka_unit_test(pml_index_full_and_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
