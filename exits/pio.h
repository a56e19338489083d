#ifndef EXITS_PIO_H
#define EXITS_PIO_H
/* Port I/O devices of a VM: a table from port range to device handler. */
#include <stdint.h>
#include <stdbool.h>

struct vm;

/* Handles an access of `size` bytes; for reads sets *value. Returns false
 * if the VM must stop (the handler has ended it). */
typedef bool (*pio_handler_fn)(struct vm *vm, uint16_t port, unsigned size, bool is_write,
                               uint32_t *value);

/* Dispatches to the device at `port`; unclaimed ports read as all-ones and
 * ignore writes (counted in the VM's statistics). */
bool pio_access(struct vm *vm, uint16_t port, unsigned size, bool is_write, uint32_t *value);

#endif
