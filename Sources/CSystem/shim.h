#ifndef POYO_CSYSTEM_SHIM_H
#define POYO_CSYSTEM_SHIM_H
// Linux calls Swift's Glibc module does not show (they need _GNU_SOURCE).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#include <pthread.h>
#include <string.h>

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
/// Names the calling thread as `ps -L`, `top -H`, `/proc/PID/task/TID/comm` and debuggers show it
/// (at most 15 bytes are kept). 0 on success, an error number otherwise.
static inline int poyo_name_current_thread(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof(truncated) - 1);
    truncated[sizeof(truncated) - 1] = 0;
    return pthread_setname_np(pthread_self(), truncated);
}
#endif
