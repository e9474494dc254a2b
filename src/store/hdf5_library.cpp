#include "prh/store/hdf5_library.hpp"

#include "h5.hpp"

namespace prh::store {

std::string hdf5_library() {
  return h5::library();
}

bool parallel_hdf5() {
  return h5::parallel();
}

}  // namespace prh::store
