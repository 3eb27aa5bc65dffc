#ifndef POYO_CZEROMQ_SHIM_H
#define POYO_CZEROMQ_SHIM_H
#include <zmq.h>
#include <errno.h>

// Error numbers that zmq.h defines as expressions (ZMQ_HAUSNUMERO + n) where the system lacks
// them, which Swift does not import as constants.
static inline int czmq_eterm(void) { return ETERM; }
static inline int czmq_efsm(void) { return EFSM; }
static inline int czmq_enotsock(void) { return ENOTSOCK; }
static inline int czmq_eprotonosupport(void) { return EPROTONOSUPPORT; }
static inline int czmq_eaddrinuse(void) { return EADDRINUSE; }

#endif
