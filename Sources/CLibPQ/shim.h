#ifndef KAIROS_CLIBPQ_SHIM_H
#define KAIROS_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
