// store::DoneFlags: a flag per unit, written only after the unit's data, at
// one durability point. A child process killed (SIGKILL) between a unit's
// data write and its flag leaves that unit undone and every earlier one done
// with its data whole; a resume marks the rest.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "h5.hpp"
#include "prh/core/error.hpp"
#include "prh/store/done_flags.hpp"

namespace {

using prh::store::DoneFlags;
using prh::store::Durability;

constexpr prh::h5::hsize kUnits = 8;

std::string make_file() {
  const auto path = (std::filesystem::temp_directory_path() /
                     ("prh-done-flags-" + std::to_string(::getpid()) + ".h5"))
                        .string();
  prh::h5::quiet();
  prh::h5::Handle f = prh::h5::try_create_file(path);
  EXPECT_TRUE(f);
  prh::h5::create_dataset(f.id(), "data", prh::h5::std_i64le(), {kUnits}, true);
  prh::h5::create_dataset(f.id(), "done", prh::h5::std_u8le(), {kUnits}, true);
  prh::h5::create_dataset(f.id(), "matrix", prh::h5::std_u8le(), {2, 2}, true);
  return path;
}

prh::h5::Handle open_rw(const std::string& path) {
  return prh::h5::try_open_file(path, /*write=*/true);
}

void write_data(const prh::h5::Handle& f, prh::h5::hsize unit) {
  auto ds = prh::h5::open_dataset(f.id(), "data");
  const std::int64_t v = 100 + static_cast<std::int64_t>(unit);
  prh::h5::write_box(ds.id(), prh::h5::native_int64(), {unit}, {1}, &v);
}

std::vector<std::int64_t> read_data(const prh::h5::Handle& f) {
  auto ds = prh::h5::open_dataset(f.id(), "data");
  std::vector<std::int64_t> v(kUnits);
  prh::h5::read_box(ds.id(), prh::h5::native_int64(), {0}, {kUnits}, v.data());
  return v;
}

TEST(DoneFlags, KillBetweenWriteAndFlagLeavesTheUnitUndone) {
  const auto path = make_file();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child: three units written and flagged, the fourth written only.
    auto f = open_rw(path);
    DoneFlags flags(f, "done", Durability::kFlushFile);
    for (prh::h5::hsize u = 0; u < 3; ++u) {
      write_data(f, u);
      flags.mark(u);
    }
    write_data(f, 3);
    std::raise(SIGKILL);
    ::_exit(3);  // not reached
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;

  {
    auto f = open_rw(path);
    ASSERT_TRUE(f) << "the file opens after kill -9";
    DoneFlags flags(f, "done", Durability::kFlushFile);
    EXPECT_EQ(flags.size(), kUnits);
    EXPECT_EQ(flags.count(), 3);
    EXPECT_EQ(flags.flags(), (std::vector<std::uint8_t>{1, 1, 1, 0, 0, 0, 0, 0}));
    const auto data = read_data(f);
    for (prh::h5::hsize u = 0; u < 3; ++u) EXPECT_EQ(data[u], 100 + static_cast<std::int64_t>(u));
    // Resume: every unit not done is done again, then flagged.
    for (prh::h5::hsize u = 0; u < kUnits; ++u)
      if (!flags.done(u)) {
        write_data(f, u);
        flags.mark(u);
      }
    EXPECT_EQ(flags.count(), static_cast<std::int64_t>(kUnits));
  }
  auto f = open_rw(path);
  DoneFlags again(f, "done", Durability::kWritesReachFile);
  EXPECT_EQ(again.count(), static_cast<std::int64_t>(kUnits)) << "the flags reached the file";
  const auto data = read_data(f);
  for (prh::h5::hsize u = 0; u < kUnits; ++u)
    EXPECT_EQ(data[u], 100 + static_cast<std::int64_t>(u));
  std::filesystem::remove(path);
}

TEST(DoneFlags, RefusesWhatIsNotAFlagVector) {
  const auto path = make_file();
  auto f = open_rw(path);
  EXPECT_THROW(DoneFlags(f, "matrix", Durability::kFlushFile), prh::InternalError);
  EXPECT_ANY_THROW(DoneFlags(f, "missing", Durability::kFlushFile));
  DoneFlags flags(f, "done", Durability::kFlushFile);
  EXPECT_THROW(flags.mark(kUnits), prh::InternalError);
  std::filesystem::remove(path);
}

}  // namespace
