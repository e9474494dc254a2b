#pragma once
// The C library's allocator, tuned once at start-up for prh's pattern of
// work: every score and calibrate unit reads another model's representation
// (tens to hundreds of MB at study size) and frees it when the unit ends.

namespace prh {

// With glibc, asks malloc to keep freed memory for the next unit instead of
// giving it back to the kernel: no mmap for large blocks (M_MMAP_MAX = 0)
// and no trimming of the heap's top (M_TRIM_THRESHOLD at its maximum).
// glibc's default maps every block above its threshold (at most 32 MB)
// afresh and unmaps it on free, so each unit faulted in ~140 MB of new
// pages: 70.9 million minor faults and a third of the reduce in the kernel
// on the study-size benchmark (bench/README.md, "Keeping freed memory").
// Peak resident memory is unchanged up to fragmentation: what a unit frees,
// the next one reuses. Left alone when the user tunes malloc themselves
// (MALLOC_MMAP_MAX_, MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_,
// MALLOC_TOP_PAD_ or GLIBC_TUNABLES set) or PRH_MALLOC=default. Returns
// whether it changed anything.
bool keep_freed_memory();

}  // namespace prh
