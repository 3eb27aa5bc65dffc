#ifndef POYO_CSYSTEM_SHIM_H
#define POYO_CSYSTEM_SHIM_H
// Linux calls Swift's Glibc module does not show (they need _GNU_SOURCE).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>

/// Pins the calling thread to one CPU; 0 on success, -1 with errno otherwise.
static inline int poyo_pin_current_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set);
}
#endif
