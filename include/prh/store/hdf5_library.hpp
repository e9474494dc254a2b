#pragma once
// Which HDF5 library this process's HDF5 calls reach. LibTorch and OpenCV
// (through GDAL) load Debian's serial HDF5 beside the parallel one prh is
// built against; prh's calls must reach the one prh was built against
// (tested).

#include <string>

namespace prh::store {

// The file of the shared library that defines H5Fopen as this process
// resolves it, and its version: "/usr/lib/.../hdf5/openmpi/libhdf5.so.103
// (HDF5 1.10.8, parallel)".
std::string hdf5_library();

// True when prh was built against a parallel HDF5 (MPI-IO: every rank writes
// the shared files); false for a serial-HDF5 build, where rank 0 alone
// writes them and the other ranks' work reaches them through part files and
// journals (docs/store.md, "Serial HDF5").
bool parallel_hdf5();

}  // namespace prh::store
