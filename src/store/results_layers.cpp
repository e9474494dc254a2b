// The layer axis of the results file (results_layers.hpp): /layers, written
// with the pairs' scores, and /layer_profile, derived from it.

#include "prh/store/results_layers.hpp"

#include <limits>

#include <nlohmann/json.hpp>

#include "h5.hpp"
#include "prh/core/error.hpp"
#include "results_schema.hpp"
#include "unit_file.hpp"

namespace prh::store {

namespace {

using json = nlohmann::json;

constexpr const char* kPadding =
    "NaN: a layer the model does not have (padding to max_layers), a model absent from the set, "
    "or a pair not scored";

std::string matrices_path(const std::string& set, const std::string& config) {
  return schema::path(schema::kLayerMatrices, {{"set", set}, {"config", config}});
}

h5::Handle open_or_create(h5::Id parent, const std::string& name) {
  return h5::exists(parent, name) ? h5::open_group(parent, name) : h5::create_group(parent, name);
}

}  // namespace

void prepare_layers(const std::string& path, const ResultsLayout& L, const LayersLayout& ll) {
  if (!ll.enabled) return;
  h5::quiet();
  auto file = h5::try_open_file(path, /*write=*/true);
  PRH_CHECK_INPUT(file, "{}: cannot open for writing: {}", path, h5::error_stack());
  const h5::Id f = file.id();
  const std::string root(schema::kLayersRoot);
  const bool existed = h5::exists(f, root);
  auto g = open_or_create(f, root);
  if (existed && h5::has_attr(g.id(), schema::attr(schema::kLayersRoot, "layer_counts"))) {
    PRH_ASSERT(h5::read_attr_ints(g.id(), schema::attr(schema::kLayersRoot, "layer_counts")) ==
                   ll.layer_counts,
               "{}: /layers was made for other layer counts", path);
  }
  h5::write_attr(g.id(), schema::attr(schema::kLayersRoot, "layer_counts"), ll.layer_counts);
  h5::write_attr(g.id(), schema::attr(schema::kLayersRoot, "max_layers"),
                 static_cast<std::int64_t>(ll.max_layers));
  h5::write_attr(g.id(), schema::attr(schema::kLayersRoot, "padding"), std::string(kPadding));
  const auto M = static_cast<h5::hsize>(L.models.size());
  const auto Lm = static_cast<h5::hsize>(ll.max_layers);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const auto& s : L.sets) {
    auto sg = open_or_create(f, schema::path(schema::kLayersSet, {{"set", s.name}}));
    for (const auto& c : L.configurations) {
      if (h5::exists(f, matrices_path(s.name, c.name))) continue;
      h5::create_dataset_filled(sg.id(), c.name, h5::ieee_f64le(), {M, M, Lm, Lm},
                                h5::native_double(), &nan);
    }
  }
}

LayerMatrixWriter::LayerMatrixWriter(AlignmentWriter& writer, const ResultsLayout& L,
                                     const LayersLayout& ll)
    : file_(writer.unit_file()) {
  PRH_ASSERT(ll.enabled, "LayerMatrixWriter without a layer profile");
  for (const auto& s : L.sets) {
    std::vector<std::size_t> row;
    for (const auto& c : L.configurations)
      row.push_back(file_.dataset(matrices_path(s.name, c.name)));
    slots_.push_back(std::move(row));
  }
}

void LayerMatrixWriter::write(int set, int config, int i, int j, const metrics::LayerScores& ij,
                              const metrics::LayerScores& ji) {
  const auto slot = slots_[static_cast<std::size_t>(set)][static_cast<std::size_t>(config)];
  const auto I = static_cast<h5::hsize>(i), J = static_cast<h5::hsize>(j);
  file_.write(slot, h5::native_double(), {I, J, 0, 0},
              {1, 1, static_cast<h5::hsize>(ij.rows), static_cast<h5::hsize>(ij.cols)},
              ij.v.data());
  if (i != j)
    file_.write(slot, h5::native_double(), {J, I, 0, 0},
                {1, 1, static_cast<h5::hsize>(ji.rows), static_cast<h5::hsize>(ji.cols)},
                ji.v.data());
}

LayersLayout read_layers_layout(const std::string& path) {
  h5::quiet();
  auto file = h5::open_file_readonly(path);
  LayersLayout ll;
  const std::string root(schema::kLayersRoot);
  if (!h5::exists(file.id(), root)) return ll;
  auto g = h5::open_group(file.id(), root);
  ll.enabled = true;
  ll.layer_counts = h5::read_attr_ints(g.id(), schema::attr(schema::kLayersRoot, "layer_counts"));
  ll.max_layers =
      static_cast<int>(h5::read_attr_int(g.id(), schema::attr(schema::kLayersRoot, "max_layers")));
  return ll;
}

std::vector<double> read_layer_matrices(const std::string& path, const std::string& set,
                                        const std::string& config, int& max_layers) {
  h5::quiet();
  auto file = h5::open_file_readonly(path);
  auto ds = h5::open_dataset(file, path, matrices_path(set, config));
  const auto shape = h5::dataset_shape(ds);
  PRH_CHECK_INPUT(shape.size() == 4 && shape[0] == shape[1] && shape[2] == shape[3],
                  "{}: {} is not [M, M, Lmax, Lmax]", path, matrices_path(set, config));
  max_layers = static_cast<int>(shape[2]);
  std::vector<double> v(shape[0] * shape[1] * shape[2] * shape[3]);
  if (!v.empty()) h5::read_box(ds.id(), h5::native_double(), {0, 0, 0, 0}, shape, v.data());
  return v;
}

void write_layer_profile(const std::string& path, const LayerProfile& p) {
  h5::quiet();
  auto file = h5::try_open_file(path, /*write=*/true);
  PRH_CHECK_INPUT(file, "{}: cannot open for writing: {}", path, h5::error_stack());
  const h5::Id f = file.id();
  const std::string root(schema::kLayerProfile);
  h5::remove(f, root.substr(1));
  auto g = h5::create_group(f, root);
  h5::write_attr(g.id(), schema::attr(schema::kLayerProfile, "configurations"),
                 json(p.configurations).dump());
  h5::write_attr(g.id(), schema::attr(schema::kLayerProfile, "depth_rule"),
                 std::string("layer l (0-based) of a model with L layers is at depth (l + 1) / L; "
                             "grid point g of G (G = /layers max_layers) is at (g + 1) / G and "
                             "takes each model's layer ceil((g + 1) L / G) - 1"));
  h5::write_attr(g.id(), schema::attr(schema::kLayerProfile, "estimator"),
                 std::string("mean over the ordered model pairs i != j with a finite entry of "
                             "/layers/S/C[i, j, l_i(g), l_j(g)] (both orders of an asymmetric "
                             "configuration); percentile bootstrap interval over model resamples "
                             "(stats::sweep_curves, the estimator of /correlation/S/mean)"));
  h5::write_attr(g.id(), schema::attr(schema::kLayerProfile, "bootstrap"),
                 static_cast<std::int64_t>(p.bootstrap));
  h5::write_attr(g.id(), schema::attr(schema::kLayerProfile, "confidence"), p.confidence);
  h5::write_attr(g.id(), schema::attr(schema::kLayerProfile, "seed"),
                 static_cast<std::int64_t>(p.seed));
  h5::write_attr(g.id(), schema::attr(schema::kLayerProfile, "resampling"), std::string("models"));
  h5::write_attr(g.id(), schema::attr(schema::kLayerProfile, "reference"), p.reference);
  h5::write_attr(
      g.id(), schema::attr(schema::kLayerProfile, "contrast"),
      std::string("early_late = mean at the first grid point (every model's first layer) minus "
                  "mean at the last (every model's last layer); early_late_change = early_late "
                  "minus the reference set's (0 for the reference). Interval and p from one "
                  "construction, the delete-one-model jackknife (each model's pairs dropped in "
                  "turn, n = the models with a score): theta +- t_{n-1} se at confidence, p = "
                  "2 P(T_{n-1} > |theta| / se); the interval excludes 0 exactly when p < 1 - "
                  "confidence (stats::depth_contrast)"));
  const auto G = static_cast<h5::hsize>(p.depths.size());
  const auto K = static_cast<h5::hsize>(p.configurations.size());
  h5::write_doubles(g.id(), schema::child(schema::kLayerProfile, "depths"), {G}, p.depths);
  for (const auto& s : p.sets) {
    auto sg = h5::create_group(g.id(), s.name);
    const auto cn = [](std::string_view name) {
      return schema::child(schema::kLayerProfileSet, name);
    };
    h5::write_doubles(sg.id(), cn("mean"), {G, K}, s.mean);
    h5::write_doubles(sg.id(), cn("mean_ci_low"), {G, K}, s.mean_ci_low);
    h5::write_doubles(sg.id(), cn("mean_ci_high"), {G, K}, s.mean_ci_high);
    h5::write_int64s(sg.id(), cn("pairs"), {G, K}, s.pairs);
    h5::write_doubles(sg.id(), cn("relative"), {G, K}, s.relative);
    h5::write_doubles(sg.id(), cn("relative_ci_low"), {G, K}, s.relative_ci_low);
    h5::write_doubles(sg.id(), cn("relative_ci_high"), {G, K}, s.relative_ci_high);
    h5::write_doubles(sg.id(), cn("early_late"), {K}, s.early_late);
    h5::write_doubles(sg.id(), cn("early_late_ci_low"), {K}, s.early_late_ci_low);
    h5::write_doubles(sg.id(), cn("early_late_ci_high"), {K}, s.early_late_ci_high);
    h5::write_doubles(sg.id(), cn("early_late_p"), {K}, s.early_late_p);
    h5::write_doubles(sg.id(), cn("early_late_change"), {K}, s.early_late_change);
    h5::write_doubles(sg.id(), cn("early_late_change_ci_low"), {K}, s.early_late_change_ci_low);
    h5::write_doubles(sg.id(), cn("early_late_change_ci_high"), {K}, s.early_late_change_ci_high);
    h5::write_doubles(sg.id(), cn("early_late_change_p"), {K}, s.early_late_change_p);
  }
}

}  // namespace prh::store
