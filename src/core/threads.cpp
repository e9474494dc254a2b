#include "prh/core/threads.hpp"

#include <omp.h>

#include <cstdlib>
#include <thread>

extern "C" void openblas_set_num_threads(int);

namespace prh {

int configure_threads(int n) {
  if (n <= 0) {
    const char* env = std::getenv("OMP_NUM_THREADS");
    n = env ? std::atoi(env) : 0;
    if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
    if (n <= 0) n = 1;
  }
  omp_set_num_threads(n);
  openblas_set_num_threads(1);
  return n;
}

int thread_count() {
  return omp_get_max_threads();
}

}  // namespace prh
