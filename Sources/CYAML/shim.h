#ifndef KAIROS_CYAML_SHIM_H
#define KAIROS_CYAML_SHIM_H
#include <yaml.h>
#endif
