#pragma once
// Threads: prh parallelises its kernels itself (OpenMP over fixed tiles) and
// keeps BLAS single-threaded inside each tile. Every float is then computed by
// the same GEMM shape whatever the thread count, so results are bit-identical
// with 1, 2 or 16 threads (a threaded BLAS splits a GEMM differently per
// thread count, and its edge kernels round differently).

namespace prh {

// Sets the number of threads prh kernels use (n <= 0: all cores, or
// OMP_NUM_THREADS when set) and pins BLAS to one thread. Returns the count.
int configure_threads(int n);

// The number of threads kernels use now.
int thread_count();

}  // namespace prh
