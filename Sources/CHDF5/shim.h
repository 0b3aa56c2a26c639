// The HDF5 C library, from Debian's libhdf5-dev (headers under /usr/include/hdf5/serial, found
// through pkg-config's hdf5.pc).
#include <hdf5.h>
