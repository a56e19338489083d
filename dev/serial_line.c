#include "dev/serial_line.h"

void serial_line_reset(struct serial_line *line)
{
    line->head = 0;
    line->count = 0;
}

void serial_line_drain(struct serial_line *line, struct uart16550 *u)
{
    while (line->count && uart16550_input_connected(u) && uart16550_rx_room(u)) {
        uart16550_receive(u, line->queue[line->head]);
        line->head = (line->head + 1) % SERIAL_LINE_QUEUE_SIZE;
        line->count--;
    }
}

bool serial_line_send(struct serial_line *line, struct uart16550 *u, uint8_t byte)
{
    if (line->count == SERIAL_LINE_QUEUE_SIZE)
        return false;
    line->queue[(line->head + line->count++) % SERIAL_LINE_QUEUE_SIZE] = byte;
    serial_line_drain(line, u);
    return true;
}
