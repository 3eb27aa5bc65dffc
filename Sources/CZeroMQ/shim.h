#ifndef POYO_CZEROMQ_SHIM_H
#define POYO_CZEROMQ_SHIM_H
#include <zmq.h>
#endif
