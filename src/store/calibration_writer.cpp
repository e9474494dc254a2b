// The calibration (/calibration, docs/results.md): rank 0 prepares its groups
// (prepare_calibration); the calibrate stage writes each model pair's cells
// and null scores (CalibrationWriter); reduce's later steps read them back.
#include "prh/store/results_store.hpp"

#include <limits>
#include <optional>

#include "h5.hpp"
#include "paths.hpp"
#include "prh/core/error.hpp"
#include "results_file.hpp"
#include "results_schema.hpp"
#include "unit_file.hpp"

namespace prh::store {

namespace {

using json = nlohmann::json;
using detail::open_or_create_group;
using detail::open_rw;

// The [M, M] datasets of /calibration/{set}/{config}: the five a pair's unit
// writes (CalibrationWriter::write, in CalibrationCell's order), then qvalue
// (write_derived, once every pair is done).
constexpr std::string_view kCalibrationFields[] = {"pvalue",    "threshold", "calibrated",
                                                   "null_mean", "null_sd",   "qvalue"};

std::string null_scores_name(bool reverse) {
  return schema::child(schema::kCalibrationConfig, reverse ? "null_scores_reverse" : "null_scores");
}

json calibration_identity(const ResultsLayout& L, const CalibrationLayout& c, const SetInfo& s) {
  return {
      {"permutations", c.permutations},     {"alpha", c.alpha},   {"seed", std::to_string(c.seed)},
      {"configurations", c.configurations}, {"models", L.models}, {"n", s.n},
      {"models_present", s.models_present}};
}

bool symmetric_configuration(const ResultsLayout& L, const std::string& name) {
  for (const auto& c : L.configurations)
    if (c.name == name) return c.symmetric;
  throw InternalError(fmt::format("calibrated configuration {} is not in the layout", name));
}

// Whether a calibration group's null scores are stored exactly (float64, and
// the reverse orientation of asymmetric configurations): a group written
// before prh stored them so (float32) is made anew.
bool exact_nulls(h5::Id set_group, const ResultsLayout& L, const CalibrationLayout& c,
                 bool any_pair) {
  if (!any_pair) return true;
  for (const auto& name : c.configurations) {
    for (const bool reverse : {false, true}) {
      if (reverse && symmetric_configuration(L, name)) continue;
      const std::string p = name + "/" + null_scores_name(reverse);
      if (!h5::exists(set_group, p)) return false;
      if (h5::dataset_type_name(h5::open_dataset(set_group, p)) != "float64") return false;
    }
  }
  return true;
}

}  // namespace

bool detail::calibration_current(h5::Id group, const ResultsLayout& L, const CalibrationLayout& c,
                                 const SetInfo& s) {
  const std::string identity = schema::attr(schema::kCalibrationSet, "identity");
  return h5::has_attr(group, identity) &&
         h5::read_attr_string(group, identity) == calibration_identity(L, c, s).dump() &&
         exact_nulls(group, L, c, CalibrationLayout::pairs(static_cast<int>(L.models.size())) > 0);
}

std::int64_t CalibrationLayout::pair_index(int M, int i, int j) {
  // Row i starts after rows 0..i-1, which hold M-1, ..., M-i pairs.
  const auto m = static_cast<std::int64_t>(M);
  return static_cast<std::int64_t>(i) * (m - 1) - static_cast<std::int64_t>(i) * (i - 1) / 2 +
         (j - i - 1);
}

std::pair<int, int> CalibrationLayout::pair_at(int M, std::int64_t p) {
  for (int i = 0; i < M - 1; ++i) {
    const std::int64_t row = M - 1 - i;
    if (p < row) return {i, i + 1 + static_cast<int>(p)};
    p -= row;
  }
  throw InternalError("calibration pair index out of range");
}

void prepare_calibration(const std::string& path, const ResultsLayout& L,
                         const CalibrationLayout& c) {
  h5::quiet();
  auto file = open_rw(path);
  const h5::Id f = file.id();
  if (!c.enabled()) {
    h5::remove(f, schema::path(schema::kCalibration, {}));
    return;
  }
  auto root = open_or_create_group(f, schema::path(schema::kCalibration, {}));
  h5::write_attr(root.id(), schema::attr(schema::kCalibration, "permutations"),
                 static_cast<std::int64_t>(c.permutations));
  h5::write_attr(root.id(), schema::attr(schema::kCalibration, "alpha"), c.alpha);
  h5::write_attr(root.id(), schema::attr(schema::kCalibration, "seed"),
                 static_cast<std::int64_t>(c.seed));
  h5::write_attr(root.id(), schema::attr(schema::kCalibration, "configurations"),
                 json(c.configurations).dump());
  h5::write_attr(root.id(), schema::attr(schema::kCalibration, "skipped"), json(c.skipped).dump());
  h5::write_attr(root.id(), schema::attr(schema::kCalibration, "null"),
                 std::string("rows of model B (the second index) shuffled, the same "
                             "permutation for every layer; permutation t seeded from (seed, t)"));
  const auto M = static_cast<h5::hsize>(L.models.size());
  const auto P = static_cast<h5::hsize>(CalibrationLayout::pairs(static_cast<int>(M)));
  const auto K = static_cast<h5::hsize>(c.permutations);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const auto& s : L.sets) {
    const std::string ident = calibration_identity(L, c, s).dump();
    const std::string sp = paths::calibration(s.name);
    if (h5::exists(f, sp)) {
      auto g = h5::open_group(f, sp);
      if (detail::calibration_current(g.id(), L, c, s)) continue;
      g = h5::Handle();
      h5::remove(root.id(), s.name);
    }
    auto g = h5::create_group(root.id(), s.name);
    for (const auto& name : c.configurations) {
      auto cg = h5::create_group(g.id(), name);
      h5::write_attr(cg.id(), schema::attr(schema::kCalibrationConfig, "permutations"),
                     static_cast<std::int64_t>(c.permutations));
      h5::write_attr(cg.id(), schema::attr(schema::kCalibrationConfig, "alpha"), c.alpha);
      h5::write_attr(cg.id(), schema::attr(schema::kCalibrationConfig, "seed"),
                     static_cast<std::int64_t>(c.seed));
      for (const auto field : kCalibrationFields)
        h5::create_dataset_filled(cg.id(), schema::child(schema::kCalibrationConfig, field),
                                  h5::ieee_f64le(), {M, M}, h5::native_double(), &nan);
      // float64: p, tau and the calibrated score recompute exactly from them.
      if (P > 0) {
        h5::create_dataset_filled(cg.id(), null_scores_name(false), h5::ieee_f64le(), {P, K},
                                  h5::native_double(), &nan);
        if (!symmetric_configuration(L, name))
          h5::create_dataset_filled(cg.id(), null_scores_name(true), h5::ieee_f64le(), {P, K},
                                    h5::native_double(), &nan);
      }
    }
    h5::create_dataset(g.id(), schema::child(schema::kCalibrationSet, "done"), h5::std_u8le(), {P},
                       true);
    // Written last: a group without it is remade.
    h5::write_attr(g.id(), schema::attr(schema::kCalibrationSet, "identity"), ident);
  }
}

struct CalibrationWriter::Impl {
  struct Block {
    std::vector<std::size_t> fields;  // slots of kCalibrationFields but qvalue
    std::size_t null_scores = 0;
    std::optional<std::size_t> null_reverse;  // asymmetric configurations
  };
  std::unique_ptr<UnitFile> file;
  int M = 0, K = 0;
  std::vector<std::vector<Block>> blocks;  // [set][config]
  std::vector<std::size_t> done;           // [set]: slots of the done flags
};

CalibrationWriter::CalibrationWriter(const std::string& path, const ResultsLayout& layout,
                                     const CalibrationLayout& c, MPI_Comm comm)
    : impl_(std::make_unique<Impl>()) {
  impl_->file = std::make_unique<UnitFile>(path, comm);
  auto& file = *impl_->file;
  impl_->M = static_cast<int>(layout.models.size());
  impl_->K = c.permutations;
  const auto P = CalibrationLayout::pairs(impl_->M);
  for (const auto& s : layout.sets) {
    std::vector<Impl::Block> row;
    for (const auto& name : c.configurations) {
      Impl::Block b;
      const std::string p = paths::calibration(s.name, name);
      for (int k = 0; k < 5; ++k)
        b.fields.push_back(file.dataset(
            p + "/" + schema::child(schema::kCalibrationConfig, kCalibrationFields[k])));
      if (P > 0) {
        b.null_scores = file.dataset(p + "/" + null_scores_name(false));
        if (!symmetric_configuration(layout, name))
          b.null_reverse = file.dataset(p + "/" + null_scores_name(true));
      }
      row.push_back(std::move(b));
    }
    impl_->blocks.push_back(std::move(row));
    impl_->done.push_back(file.flags(schema::path(schema::kCalibrationDone, {{"set", s.name}})));
    PRH_ASSERT(static_cast<std::int64_t>(file.flag_count(impl_->done.back())) == P,
               "calibration of set {}: {} done flags for {} pairs", s.name,
               file.flag_count(impl_->done.back()), P);
  }
}

CalibrationWriter::~CalibrationWriter() = default;

bool CalibrationWriter::done(int set, std::int64_t pair) const {
  return impl_->file->done(impl_->done[static_cast<std::size_t>(set)],
                           static_cast<std::size_t>(pair));
}

void CalibrationWriter::write(int set, int config, int a, int b, const CalibrationCell& cell) {
  auto& blk = impl_->blocks[static_cast<std::size_t>(set)][static_cast<std::size_t>(config)];
  const double v[5] = {cell.pvalue, cell.threshold, cell.calibrated, cell.null_mean, cell.null_sd};
  for (int k = 0; k < 5; ++k)
    impl_->file->write(blk.fields[static_cast<std::size_t>(k)], h5::native_double(),
                       {static_cast<h5::hsize>(a), static_cast<h5::hsize>(b)}, {1, 1}, &v[k]);
}

void CalibrationWriter::write_null(int set, int config, std::int64_t pair,
                                   const std::vector<double>& null, bool reverse) {
  auto& blk = impl_->blocks[static_cast<std::size_t>(set)][static_cast<std::size_t>(config)];
  PRH_ASSERT(static_cast<int>(null.size()) == impl_->K, "null scores: {} of {}", null.size(),
             impl_->K);
  PRH_ASSERT(!reverse || blk.null_reverse, "reverse null scores of a symmetric configuration");
  impl_->file->write(reverse ? *blk.null_reverse : blk.null_scores, h5::native_double(),
                     {static_cast<h5::hsize>(pair), 0}, {1, static_cast<h5::hsize>(impl_->K)},
                     null.data());
}

void CalibrationWriter::mark_done(int set, std::int64_t pair) {
  impl_->file->mark(impl_->done[static_cast<std::size_t>(set)], static_cast<std::size_t>(pair));
}

std::vector<double> read_calibration(const std::string& path, const std::string& set,
                                     const std::string& config, const std::string& name) {
  auto file = h5::open_file_readonly(path);
  auto ds = h5::open_dataset(
      file, path,
      paths::calibration(set, config) + "/" + schema::child(schema::kCalibrationConfig, name));
  const auto shape = h5::dataset_shape(ds);
  std::vector<double> v(shape[0] * shape[1]);
  if (!v.empty())
    h5::read_box(ds.id(), h5::native_double(), {0, 0}, {shape[0], shape[1]}, v.data());
  return v;
}

std::vector<float> read_null_scores(const std::string& path, const std::string& set,
                                    const std::string& config) {
  auto file = h5::open_file_readonly(path);
  const std::string p = schema::path(schema::kNullScores, {{"set", set}, {"config", config}});
  if (!h5::exists(file.id(), p)) return {};
  auto ds = h5::open_dataset(file, path, p);
  const auto shape = h5::dataset_shape(ds);
  // Stored as float64 (float32 before); the correlation null is computed from
  // them rounded to float, as it always was.
  std::vector<double> v(shape[0] * shape[1]);
  if (!v.empty())
    h5::read_box(ds.id(), h5::native_double(), {0, 0}, {shape[0], shape[1]}, v.data());
  std::vector<float> out(v.size());
  for (std::size_t k = 0; k < v.size(); ++k) out[k] = static_cast<float>(v[k]);
  return out;
}

}  // namespace prh::store
