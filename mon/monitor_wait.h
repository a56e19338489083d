#ifndef MON_MONITOR_WAIT_H
#define MON_MONITOR_WAIT_H
/*
 * Monitor commands that wait for something outside the monitor (a vCPU's
 * state from its own CPU, the next second of a live view). Such a command
 * returns after monitor_defer: `done` runs on CPU 0 once `ready` says so,
 * `timeout_ms` has passed, or (with key_ends) a key was typed; the prompt
 * follows it unless `done` defers again. Keys typed meanwhile wait too
 * (with key_ends the first is dropped, as a live view's "any key").
 */
#include <stdbool.h>
#include <stddef.h>

enum monitor_wait_end { MONITOR_READY, MONITOR_TIMED_OUT, MONITOR_KEY };
void monitor_defer(bool (*ready)(void), void (*done)(enum monitor_wait_end end),
                   unsigned timeout_ms, bool key_ends);

/* The monitor's side (mon/monitor.c): whether a command waits; a key typed
 * meanwhile (false if nothing waits: the key is the monitor's); and, at
 * start, what to do when the wait is over (the prompt, then the held keys). */
bool monitor_waiting(void);
bool monitor_wait_take_key(char c);
void monitor_wait_init(void (*resume)(const char *held_keys, size_t count));
#endif
