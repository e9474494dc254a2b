// store::UnitFile's journal (serial HDF5, docs/store.md "Serial HDF5"): a
// unit's writes reach the file only through replay_journals, whole units
// only (a torn last frame is dropped with its flag), replaying twice gives
// the same file, and journals of a file that is gone are deleted.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "h5.hpp"
#include "prh/core/error.hpp"
#include "unit_file.hpp"

namespace {

namespace fs = std::filesystem;
using prh::store::journal_dir;
using prh::store::replay_journals;
using prh::store::UnitFile;

constexpr prh::h5::hsize kUnits = 4, kCols = 3;

struct Fixture {
  std::string path;
  Fixture() {
    path = (fs::temp_directory_path() / ("prh-unit-file-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(counter()++) + ".h5"))
               .string();
    fs::remove_all(journal_dir(path));
    auto f = prh::h5::try_create_file(path);
    const double nan = std::nan("");
    prh::h5::create_dataset_filled(f.id(), "x", prh::h5::ieee_f64le(), {kUnits, kCols},
                                   prh::h5::native_double(), &nan);
    prh::h5::create_dataset(f.id(), "i", prh::h5::std_i32le(), {kUnits}, true);
    prh::h5::create_dataset(f.id(), "done", prh::h5::std_u8le(), {kUnits}, true);
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove(path, ec);
    fs::remove_all(journal_dir(path), ec);
  }
  static int& counter() {
    static int c = 0;
    return c;
  }
  std::vector<double> x() const {
    auto f = prh::h5::open_file_readonly(path);
    auto ds = prh::h5::open_dataset(f, path, "x");
    std::vector<double> v(kUnits * kCols);
    prh::h5::read_box(ds.id(), prh::h5::native_double(), {0, 0}, {kUnits, kCols}, v.data());
    return v;
  }
  std::vector<std::uint8_t> done() const {
    auto f = prh::h5::open_file_readonly(path);
    auto ds = prh::h5::open_dataset(f, path, "done");
    std::vector<std::uint8_t> v(kUnits);
    prh::h5::read_box(ds.id(), prh::h5::native_uint8(), {0}, {kUnits}, v.data());
    return v;
  }
  // Writes units [0, n) through a journal: row u = (u, u + 0.5, u + 0.25).
  void write_units(int n, std::int64_t first = 0) const {
    UnitFile uf(path, MPI_COMM_NULL, true);
    const auto x = uf.dataset("x");
    const auto flags = uf.flags("done");
    for (std::int64_t u = first; u < first + n; ++u) {
      EXPECT_FALSE(uf.done(flags, static_cast<std::size_t>(u)));
      const double row[kCols] = {double(u), u + 0.5, u + 0.25};
      uf.write(x, prh::h5::native_double(), {static_cast<prh::h5::hsize>(u), 0}, {1, kCols}, row);
      const std::int32_t iv = static_cast<std::int32_t>(10 * u);
      uf.write("i", prh::h5::native_int32(), {static_cast<prh::h5::hsize>(u)}, {1}, &iv);
      uf.mark(flags, static_cast<std::size_t>(u));
      EXPECT_TRUE(uf.done(flags, static_cast<std::size_t>(u)));
    }
  }
  std::vector<fs::path> journals() const {
    std::vector<fs::path> v;
    if (fs::is_directory(journal_dir(path)))
      for (const auto& e : fs::directory_iterator(journal_dir(path))) v.push_back(e.path());
    return v;
  }
};

TEST(UnitFileJournal, WritesReachTheFileOnlyThroughReplay) {
  Fixture fx;
  fx.write_units(3);
  // The file is untouched: the writes and flags are in the journal.
  for (double v : fx.x()) EXPECT_TRUE(std::isnan(v));
  EXPECT_EQ(fx.done(), std::vector<std::uint8_t>(kUnits, 0));
  ASSERT_EQ(fx.journals().size(), 1u);
  EXPECT_EQ(replay_journals(fx.path), 3);
  const auto x = fx.x();
  for (prh::h5::hsize u = 0; u < 3; ++u) {
    EXPECT_EQ(x[u * kCols + 0], double(u));
    EXPECT_EQ(x[u * kCols + 1], u + 0.5);
    EXPECT_EQ(x[u * kCols + 2], u + 0.25);
  }
  for (prh::h5::hsize c = 0; c < kCols; ++c) EXPECT_TRUE(std::isnan(x[3 * kCols + c]));
  EXPECT_EQ(fx.done(), (std::vector<std::uint8_t>{1, 1, 1, 0}));
  EXPECT_FALSE(fs::exists(journal_dir(fx.path)));
  // A writer opened now reads the replayed flags.
  UnitFile uf(fx.path, MPI_COMM_NULL, true);
  const auto flags = uf.flags("done");
  EXPECT_TRUE(uf.done(flags, 2));
  EXPECT_FALSE(uf.done(flags, 3));
}

TEST(UnitFileJournal, TornLastFrameIsDroppedWithItsFlag) {
  Fixture fx;
  fx.write_units(2);
  const auto j = fx.journals().at(0);
  // A process killed while appending unit 1's frame: cut it anywhere.
  const auto size = fs::file_size(j);
  for (std::uintmax_t cut : {std::uintmax_t{1}, std::uintmax_t{9}, std::uintmax_t{40}}) {
    Fixture one;
    one.write_units(2);
    const auto jj = one.journals().at(0);
    ASSERT_EQ(fs::file_size(jj), size);
    fs::resize_file(jj, size - cut);
    EXPECT_EQ(replay_journals(one.path), 1) << "cut " << cut;
    EXPECT_EQ(one.done(), (std::vector<std::uint8_t>{1, 0, 0, 0})) << "cut " << cut;
    const auto x = one.x();
    EXPECT_EQ(x[0], 0.0);
    EXPECT_TRUE(std::isnan(x[kCols])) << "cut " << cut << ": the torn unit's row was written";
  }
}

TEST(UnitFileJournal, ReplayingAgainWritesTheSameAndSeveralJournalsMerge) {
  Fixture fx;
  fx.write_units(2, 0);
  fx.write_units(2, 2);  // a second writer (another rank): its own journal
  ASSERT_EQ(fx.journals().size(), 2u);
  const auto saved = journal_dir(fx.path) + ".saved";
  fs::remove_all(saved);
  fs::copy(journal_dir(fx.path), saved);
  EXPECT_EQ(replay_journals(fx.path), 4);
  const auto x1 = fx.x();
  // Killed after the replay wrote, before it deleted the journals.
  fs::rename(saved, journal_dir(fx.path));
  EXPECT_EQ(replay_journals(fx.path), 4);
  const auto x2 = fx.x();
  ASSERT_EQ(x1.size(), x2.size());
  for (std::size_t k = 0; k < x1.size(); ++k) EXPECT_EQ(x1[k], x2[k]);
  EXPECT_EQ(fx.done(), std::vector<std::uint8_t>(kUnits, 1));
}

TEST(UnitFileJournal, NoJournalIsNothingAndJournalsOfAMissingFileAreDeleted) {
  Fixture fx;
  EXPECT_EQ(replay_journals(fx.path), 0);
  fx.write_units(1);
  fs::remove(fx.path);
  EXPECT_EQ(replay_journals(fx.path), 0);
  EXPECT_FALSE(fs::exists(journal_dir(fx.path)));
}

TEST(UnitFileJournal, ForeignFileInTheJournalFolderIsRefusedByName) {
  Fixture fx;
  fs::create_directories(journal_dir(fx.path));
  const auto junk = fs::path(journal_dir(fx.path)) / "junk";
  {
    FILE* f = std::fopen(junk.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("this is not a journal at all, no", f);
    std::fclose(f);
  }
  try {
    replay_journals(fx.path);
    FAIL() << "a foreign file was replayed";
  } catch (const prh::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("junk"), std::string::npos) << e.what();
  }
}

}  // namespace
