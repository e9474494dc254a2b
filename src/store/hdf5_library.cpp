#include "prh/store/hdf5_library.hpp"

#include <dlfcn.h>

#include <fmt/format.h>

#include "h5.hpp"

namespace prh::store {

std::string hdf5_library() {
  Dl_info info{};
  // The address of H5Fopen as this object was linked against it: the same
  // resolution every HDF5 call of prh gets.
  const void* fn = reinterpret_cast<const void*>(&H5Fopen);
  const std::string file =
      dladdr(fn, &info) != 0 && info.dli_fname != nullptr ? info.dli_fname : "(unknown)";
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
#ifdef H5_HAVE_PARALLEL
  const char* kind = "parallel";
#else
  const char* kind = "serial";
#endif
  return fmt::format("{} (HDF5 {}.{}.{}, {})", file, major, minor, release, kind);
}

bool parallel_hdf5() {
#ifdef H5_HAVE_PARALLEL
  return true;
#else
  return false;
#endif
}

}  // namespace prh::store
