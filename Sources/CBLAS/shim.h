#ifndef POYO_CBLAS_SHIM_H
#define POYO_CBLAS_SHIM_H
// Debian's libopenblas-dev installs cblas.h (through alternatives) in the
// multiarch include directory; it declares openblas_set_num_threads too.
#include <cblas.h>
#endif
