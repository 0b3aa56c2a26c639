// libmatio, from Debian's libmatio-dev: MATLAB .mat files v4, v5 and v7.3 (the last through HDF5).
#include <matio.h>
