// prh::keep_freed_memory (core/memory.hpp): large blocks come from the heap
// and stay there when freed, so the next unit's block of the same size
// touches pages that are already mapped (no new page faults); and a user's
// own malloc tuning is left alone.

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdlib>
#include <cstring>

#include "prh/core/memory.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define PRH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PRH_ASAN 1
#endif
#endif

namespace {

long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

// Allocates and writes `bytes`, frees them; the minor page faults it took.
// `mmapped`: the bytes malloc had mapped with mmap while the block lived.
long touch_block(std::size_t bytes, std::size_t& mmapped) {
  // Through volatile pointers: the compiler may not elide the block.
  static void* (*volatile allocate)(std::size_t) = std::malloc;
  static void (*volatile release)(void*) = std::free;
  const long before = minor_faults();
  auto* p = static_cast<char*>(allocate(bytes));
  if (p == nullptr) return -1;
  std::memset(p, 1, bytes);
#if defined(__GLIBC__)
  mmapped = mallinfo2().hblkhd;
#endif
  release(p);
  return minor_faults() - before;
}

// One test, in this order: each test runs in its own process (ctest), and
// once applied the setting cannot be undone in this one.
TEST(KeepFreedMemory, LeftAloneWhenTunedThenLargeBlocksAreReused) {
  for (const char* name : {"PRH_MALLOC", "GLIBC_TUNABLES", "MALLOC_MMAP_MAX_"}) {
    ASSERT_EQ(setenv(name, "default", 1), 0);
    EXPECT_FALSE(prh::keep_freed_memory()) << name << " set";
    ASSERT_EQ(unsetenv(name), 0);
  }
#if defined(PRH_ASAN) || !defined(__GLIBC__)
  // The sanitizer's allocator stands in for glibc's and ignores mallopt;
  // the check below runs in every plain build (tools/test.sh's first pass).
  EXPECT_FALSE(prh::keep_freed_memory());
  GTEST_SKIP() << "not glibc's malloc (sanitizer build): nothing to keep";
#else
  ASSERT_TRUE(prh::keep_freed_memory());
  const std::size_t bytes = std::size_t{96} << 20;  // above glibc's largest mmap threshold
  std::size_t mmapped = 0;
  const long first = touch_block(bytes, mmapped);
  EXPECT_EQ(mmapped, 0u) << "the block was mmapped";
  EXPECT_GE(mallinfo2().arena, bytes) << "the freed block went back to the kernel";
  const long second = touch_block(bytes, mmapped);
  // 96 MB is 24,576 pages of 4 KiB (or 48 huge pages): the first touch
  // faults them in, the second finds them mapped.
  EXPECT_GT(first, 40);
  EXPECT_LT(second, 8) << "first touch " << first << " faults";
#endif
}

}  // namespace
