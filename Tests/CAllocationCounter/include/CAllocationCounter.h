#ifndef POYO_ALLOCATION_COUNTER_H
#define POYO_ALLOCATION_COUNTER_H

/// Heap allocations made by the calling thread while counting is on (malloc, calloc, realloc,
/// posix_memalign, aligned_alloc and memalign, interposed in the test binary: they forward to
/// glibc's). For the test that the steady-state forward pass allocates nothing.
void poyo_count_allocations(int on);
long poyo_allocations(void);

#endif
