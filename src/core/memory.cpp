#include "prh/core/memory.hpp"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace prh {

bool keep_freed_memory() {
#if defined(__GLIBC__)
  for (const char* name : {"MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
                           "MALLOC_TOP_PAD_", "GLIBC_TUNABLES"})
    if (std::getenv(name) != nullptr) return false;
  if (const char* p = std::getenv("PRH_MALLOC"); p != nullptr && std::strcmp(p, "default") == 0)
    return false;
  // -1: the largest threshold (glibc reads it as a size_t), never trim.
  return mallopt(M_MMAP_MAX, 0) != 0 && mallopt(M_TRIM_THRESHOLD, -1) != 0;
#else
  return false;
#endif
}

}  // namespace prh
