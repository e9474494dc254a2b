// The score stage's writer of /alignment/{set}/{config}: scores, layers and
// the done flags, one model pair at a time (docs/results.md).
#include "prh/store/results_store.hpp"

#include "h5.hpp"
#include "paths.hpp"
#include "prh/core/error.hpp"
#include "results_schema.hpp"
#include "unit_file.hpp"

namespace prh::store {

namespace {

std::string config_path(const std::string& set, const std::string& config) {
  return paths::configuration(set, config);
}

}  // namespace

struct AlignmentWriter::Impl {
  struct Block {
    std::size_t scores = 0, layers = 0, done = 0;  // slots in `file`
  };
  std::unique_ptr<UnitFile> file;
  std::vector<std::vector<Block>> blocks;  // [set][config]
};

AlignmentWriter::AlignmentWriter(const std::string& path, const ResultsLayout& layout,
                                 MPI_Comm comm)
    : impl_(std::make_unique<Impl>()) {
  impl_->file = std::make_unique<UnitFile>(path, comm);
  auto& file = *impl_->file;
  for (const auto& s : layout.sets) {
    std::vector<Impl::Block> row;
    for (const auto& c : layout.configurations) {
      Impl::Block b;
      const std::string p = config_path(s.name, c.name);
      b.scores = file.dataset(schema::path(schema::kScores, {{"set", s.name}, {"config", c.name}}));
      b.layers = file.dataset(schema::path(schema::kLayers, {{"set", s.name}, {"config", c.name}}));
      b.done =
          file.flags(schema::path(schema::kAlignmentDone, {{"set", s.name}, {"config", c.name}}));
      PRH_ASSERT(static_cast<std::int64_t>(file.flag_count(b.done)) == layout.pairs(),
                 "{}: {} done flags for {} pairs", p, file.flag_count(b.done), layout.pairs());
      row.push_back(b);
    }
    impl_->blocks.push_back(std::move(row));
  }
}

AlignmentWriter::~AlignmentWriter() = default;

bool AlignmentWriter::done(int set, int config, std::int64_t pair) const {
  const auto& b = impl_->blocks[static_cast<std::size_t>(set)][static_cast<std::size_t>(config)];
  return impl_->file->done(b.done, static_cast<std::size_t>(pair));
}

void AlignmentWriter::write(int set, int config, int i, int j, double s_ij, int li, int lj,
                            double s_ji, int lj2, int li2) {
  const auto& b = impl_->blocks[static_cast<std::size_t>(set)][static_cast<std::size_t>(config)];
  auto& file = *impl_->file;
  const auto I = static_cast<h5::hsize>(i), J = static_cast<h5::hsize>(j);
  file.write(b.scores, h5::native_double(), {I, J}, {1, 1}, &s_ij);
  const std::int32_t lij[2] = {li, lj};
  file.write(b.layers, h5::native_int32(), {I, J, 0}, {1, 1, 2}, lij);
  if (i != j) {
    file.write(b.scores, h5::native_double(), {J, I}, {1, 1}, &s_ji);
    const std::int32_t lji[2] = {lj2, li2};
    file.write(b.layers, h5::native_int32(), {J, I, 0}, {1, 1, 2}, lji);
  }
}

void AlignmentWriter::mark_done(int set, int config, std::int64_t pair) {
  const auto& b = impl_->blocks[static_cast<std::size_t>(set)][static_cast<std::size_t>(config)];
  impl_->file->mark(b.done, static_cast<std::size_t>(pair));
}

UnitFile& AlignmentWriter::unit_file() {
  return *impl_->file;
}

void finish_unit_writes(const std::string& path) {
  replay_journals(path);
}

}  // namespace prh::store
