#ifndef DEV_SERIAL_LINE_H
#define DEV_SERIAL_LINE_H
/*
 * The far end of a VM's serial line: typed input that waits until the
 * 16550's receive FIFO has room. The FIFO holds 16 bytes and a guest reads
 * it only when it runs, while a pasted line or a terminal's answer comes in
 * at once; like QEMU's character devices, the line holds bytes back instead
 * of overrunning the FIFO. Pure logic (unit-tested).
 */
#include <stdint.h>
#include <stdbool.h>
#include "dev/uart16550.h"

#define SERIAL_LINE_QUEUE_SIZE 1024

struct serial_line {
    uint8_t queue[SERIAL_LINE_QUEUE_SIZE];
    uint32_t head, count;
};

void serial_line_reset(struct serial_line *line);
/* A typed byte for the UART: into its FIFO if nothing waits before it and
 * there is room, else queued. False if the queue is full too (the byte is
 * lost). */
bool serial_line_send(struct serial_line *line, struct uart16550 *u, uint8_t byte);
/* Moves waiting bytes into the FIFO as far as it has room (after the guest
 * read from it or cleared it); none in loopback mode, where the line is
 * disconnected: they wait for the mode's end. */
void serial_line_drain(struct serial_line *line, struct uart16550 *u);
#endif
