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

/// 1 when the calling thread may run on `cpu` (it is in its affinity mask, so it exists and is
/// online and not excluded by a cgroup or CPUAffinity=), 0 when not, -1 with errno on failure.
static inline int poyo_cpu_allowed(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
    return cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set) ? 1 : 0;
}
#endif
