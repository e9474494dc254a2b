#include "prh/pipeline/embed.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <ostream>

#include <spdlog/spdlog.h>

#include "prh/core/error.hpp"
#include "prh/data/image.hpp"
#include "prh/data/views.hpp"
#include "prh/models/model.hpp"
#include "prh/parallel/decide.hpp"
#include "prh/parallel/mpi.hpp"
#include "prh/parallel/work.hpp"
#include "prh/pipeline/stage.hpp"
#include "prh/pipeline/submit.hpp"
#include "prh/store/embedding_store.hpp"
#include "prh/store/hdf5_library.hpp"
#include "prh/store/imported_features.hpp"
#include "prh/store/output_paths.hpp"
#include "prh/store/results_reader.hpp"
#include "progress.hpp"
#include "set_views.hpp"

namespace prh::pipeline {

using json = nlohmann::json;

std::vector<WorkItem> plan_items(const std::vector<std::int64_t>& set_sizes, int models,
                                 int shard_size, const std::vector<std::vector<bool>>& present) {
  std::vector<WorkItem> items;
  for (int m = 0; m < models; ++m)
    for (std::size_t s = 0; s < set_sizes.size(); ++s)
      if (present.empty() || present[static_cast<std::size_t>(m)][s])
        for (std::int64_t r0 = 0, k = 0; r0 < set_sizes[s]; r0 += shard_size, ++k)
          items.push_back({m, static_cast<int>(s), k, r0,
                           std::min<std::int64_t>(shard_size, set_sizes[s] - r0)});
  return items;
}

std::vector<WorkItem> share(const std::vector<WorkItem>& items, int rank, int ranks) {
  std::vector<double> rows;
  for (const auto& it : items) rows.push_back(static_cast<double>(it.rows));
  const auto [first, last] = parallel::weighted_share(rows, rank, ranks);
  return {items.begin() + static_cast<std::ptrdiff_t>(first),
          items.begin() + static_cast<std::ptrdiff_t>(last)};
}

namespace {

struct Probe {
  std::vector<std::int64_t> dims;
  std::vector<std::string> layer_names;
  std::int64_t classes = 0, parameters = 0;
  std::string checksum;
  json sidecar;
};

json sidecar_json(const models::Sidecar& s) {
  const auto& t = s.transform;
  return {{"input_size", s.input_size},
          {"resize", t.resize},
          {"crop", t.crop},
          {"interpolation", t.interpolation},
          {"resampler", t.resampler},
          {"channels", t.channels},
          {"mean", t.mean},
          {"std", t.std}};
}

// Loads a model, runs one image through it: what the store needs to know.
json probe_model(const config::Model& m, const std::string& device, int local_rank) {
  auto model = models::load_torchscript(m.name, m.path, m.sidecar, device, local_rank);
  // An all-zero input of the sidecar's shape: probing must not depend on
  // any image being readable.
  const auto& sc = model->sidecar();
  std::vector<float> input(static_cast<std::size_t>(sc.transform.channels) *
                               static_cast<std::size_t>(sc.input_size) *
                               static_cast<std::size_t>(sc.input_size),
                           0.0f);
  const auto out = model->forward(input, 1);
  std::vector<std::string> names = model->sidecar().layer_names;
  PRH_CHECK_INPUT(names.empty() || names.size() == out.dims.size(),
                  "model '{}': its sidecar names {} layers but the model gives {}", m.name,
                  names.size(), out.dims.size());
  if (names.empty())
    for (std::size_t l = 0; l < out.dims.size(); ++l) names.push_back(fmt::format("layer_{}", l));
  return {{"dims", out.dims},
          {"layer_names", names},
          {"classes", out.classes},
          {"parameters", model->parameter_count()},
          {"checksum", models::file_checksum(m.path)},
          {"sidecar", sidecar_json(model->sidecar())}};
}

// The shape of one imported feature file (a torch.save file is read whole).
store::FeatureShape imported_shape(const std::string& spec) {
  if (store::feature_format(spec) == store::FeatureFormat::kTorch)
    return store::feature_shape_of(models::read_torch_features(spec).shape, spec);
  return store::feature_shape(spec);
}

// A model with imported features (docs/config.md, "Imported features"):
// every set's file gives the set's image count of rows and the same layers
// and widths as the others. What the store needs to know: the layers, no
// head, and each file's checksum (its resume identity).
json probe_imported(const config::Model& m, const store::StoreLayout& layout) {
  json checksums = json::object();
  store::FeatureShape first;
  std::string first_set, first_spec;
  for (const auto& set : layout.sets) {
    const auto f = m.features.find(set.name);
    if (f == m.features.end()) continue;
    store::FeatureShape shape;
    try {
      shape = imported_shape(f->second);
      checksums[set.name] = models::file_checksum(store::feature_file(f->second));
    } catch (const InputError& e) {
      throw InputError(fmt::format("model '{}', image set '{}': {}", m.name, set.name, e.what()));
    }
    PRH_CHECK_INPUT(shape.n == set.n,
                    "model '{}', image set '{}': {} holds features of {} images, the set has {} "
                    "images (rows must be the set's images, in its order)",
                    m.name, set.name, f->second, shape.n, set.n);
    if (first_set.empty()) {
      first = shape;
      first_set = set.name;
      first_spec = f->second;
    } else {
      PRH_CHECK_INPUT(shape.layers == first.layers && shape.dim == first.dim,
                      "model '{}': image set '{}' ({}) has {} layers of width {}, image set '{}' "
                      "({}) has {} layers of width {}: every set's features of a model must have "
                      "the same layers",
                      m.name, set.name, f->second, shape.layers, shape.dim, first_set, first_spec,
                      first.layers, first.dim);
    }
  }
  PRH_ASSERT(!first_set.empty(), "model '{}': imported features without a set", m.name);
  std::vector<std::string> names;
  for (std::int64_t l = 0; l < first.layers; ++l) names.push_back(fmt::format("layer_{}", l));
  return {{"dims", std::vector<std::int64_t>(static_cast<std::size_t>(first.layers), first.dim)},
          {"layer_names", names},
          {"classes", 0},
          {"parameters", 0},
          {"checksum", checksums},
          {"sidecar", nullptr}};
}

// The torch.save file of the item being imported, kept across its shards.
struct TorchCache {
  std::string spec;
  models::TorchFeatures feats;
};

// One work item of a model with imported features: its rows of the set's
// file as float32 (float32 bit for bit), every value finite (else the first
// bad row is named and nothing of the item is stored), written, marked done.
void import_item(const store::StoreLayout& layout, const config::Model& mcfg, const WorkItem& it,
                 TorchCache& cache, store::ItemWriter& writer) {
  const auto& ml = layout.models[static_cast<std::size_t>(it.model)];
  const auto& set = layout.sets[static_cast<std::size_t>(it.set)];
  const std::string& spec = mcfg.features.at(set.name);
  const auto L = static_cast<std::int64_t>(ml.layer_dims.size());
  const std::int64_t d = ml.layer_dims.front();
  std::vector<float> feats;
  try {
    if (store::feature_format(spec) == store::FeatureFormat::kTorch) {
      if (cache.spec != spec) {
        cache = {};
        cache.feats = models::read_torch_features(spec);
        cache.spec = spec;
      }
      const auto shape = store::feature_shape_of(cache.feats.shape, spec);
      PRH_CHECK_INPUT(shape.n == set.n && shape.layers == L && shape.dim == d,
                      "{}: changed while prh read it ([{}, {}, {}] now)", spec, shape.n,
                      shape.layers, shape.dim);
      const auto per_row = static_cast<std::size_t>(L * d);
      feats.assign(
          cache.feats.data.begin() + static_cast<std::ptrdiff_t>(it.row0 * L * d),
          cache.feats.data.begin() + static_cast<std::ptrdiff_t>((it.row0 + it.rows) * L * d));
      PRH_ASSERT(feats.size() == per_row * static_cast<std::size_t>(it.rows), "import: size");
    } else {
      const auto shape = store::feature_shape(spec);
      PRH_CHECK_INPUT(shape.n == set.n && shape.layers == L && shape.dim == d,
                      "{}: changed while prh read it ([{}, {}, {}] now)", spec, shape.n,
                      shape.layers, shape.dim);
      store::read_feature_rows(spec, it.row0, it.rows, feats);
    }
  } catch (const InputError& e) {
    throw InputError(fmt::format("model '{}', image set '{}': {}", mcfg.name, set.name, e.what()));
  }
  PRH_CHECK_INPUT(feats.size() == static_cast<std::size_t>(it.rows * L * d),
                  "model '{}', image set '{}': {}: read {} values for {} rows of {} x {}",
                  mcfg.name, set.name, spec, feats.size(), it.rows, L, d);
  // A NaN or inf feature would poison every score of the model.
  for (std::int64_t r = 0; r < it.rows; ++r)
    for (std::int64_t k = 0; k < L * d; ++k) {
      const float v = feats[static_cast<std::size_t>(r * L * d + k)];
      PRH_CHECK_INPUT(std::isfinite(v),
                      "model '{}', image set '{}': {} has a non-finite value ({}) in row {} "
                      "(layer {}, element {}; the first such row of rows {}..{}); nothing of "
                      "this work item was stored",
                      mcfg.name, set.name, spec, v, it.row0 + r, k / d, k % d, it.row0,
                      it.row0 + it.rows - 1);
    }
  writer.write_rows(it.set, it.model, it.row0, it.rows, feats, {}, {});
  writer.mark_done(it.set, it.model, it.shard);
}

std::uintmax_t file_size_or_zero(const std::string& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

// Top-1 class (ties: lower index) and its softmax probability, per row.
void predictions(const models::Output& out, std::vector<std::int64_t>& top1,
                 std::vector<float>& prob) {
  top1.assign(static_cast<std::size_t>(out.batch), -1);
  prob.assign(static_cast<std::size_t>(out.batch), 0.0f);
  if (out.classes == 0) return;
  for (std::int64_t b = 0; b < out.batch; ++b) {
    const float* z = out.logits.data() + b * out.classes;
    std::int64_t best = 0;
    for (std::int64_t c = 1; c < out.classes; ++c)
      if (z[c] > z[best]) best = c;
    double denom = 0;
    for (std::int64_t c = 0; c < out.classes; ++c)
      denom += std::exp(static_cast<double>(z[c]) - z[best]);
    top1[static_cast<std::size_t>(b)] = best;
    prob[static_cast<std::size_t>(b)] = static_cast<float>(1.0 / denom);
  }
}

// Merges the parts of `items` (this rank's) into the store: rows, skipped
// rows and the done flag, then deletes the part. Returns the items merged.
std::int64_t merge_parts(const std::string& store, const store::StoreLayout& layout,
                         const std::vector<WorkItem>& items, store::ItemWriter& writer) {
  if (!std::filesystem::is_directory(store::parts_dir(store))) return 0;
  std::int64_t merged = 0;
  for (const auto& it : items) {
    const auto& ml = layout.models[static_cast<std::size_t>(it.model)];
    const auto path = store::part_path(store, layout.sets[static_cast<std::size_t>(it.set)].name,
                                       ml.name, it.shard);
    if (!std::filesystem::exists(path)) continue;
    if (!writer.is_done(it.set, it.model, it.shard)) {
      const auto L = static_cast<std::int64_t>(ml.layer_dims.size());
      const auto dmax = *std::max_element(ml.layer_dims.begin(), ml.layer_dims.end());
      const auto part = store::read_part(path, store::part_fingerprint(layout, it.set, it.model),
                                         it.shard, it.row0, it.rows, L, dmax);
      for (auto r : part.skipped) writer.mark_skipped(it.set, r);
      writer.write_rows(it.set, it.model, it.row0, it.rows, part.features, part.top1, part.prob);
      writer.mark_done(it.set, it.model, it.shard);
      ++merged;
    }
    // Done in the store (now or before): the part has served.
    std::filesystem::remove(path);
  }
  return merged;
}

// After every rank merged: removes the empty directories of the parts tree
// and names parts that no item of this config took.
void tidy_parts(const std::string& store) {
  namespace fs = std::filesystem;
  const fs::path dir = store::parts_dir(store);
  if (!fs::is_directory(dir)) return;
  const auto left = store::list_parts(store);
  if (!left.empty()) {
    std::string names;
    for (std::size_t i = 0; i < std::min<std::size_t>(left.size(), 5); ++i)
      names += "\n  " + left[i];
    spdlog::warn(
        "embed: {} part files in {} belong to no work item of this config (image set or model "
        "no longer in it?); left in place:{}{}",
        left.size(), dir.string(), names, left.size() > 5 ? "\n  ..." : "");
  }
  // Deepest first; a directory that is not empty stays.
  std::vector<fs::path> dirs;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->is_directory(ec)) dirs.push_back(it->path());
  std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
    return a.string().size() > b.string().size();
  });
  dirs.push_back(dir);
  for (const auto& d : dirs) fs::remove(d, ec);  // fails (kept) unless empty
}

// Serial HDF5, rank 0 alone: opens the store (the only writer) and merges
// the parts of `items` into it, then tidies the parts' folder. Returns the
// items merged. (A serial-HDF5 store ignores the communicator.)
std::int64_t merge_into_store(const std::string& store, const store::StoreLayout& layout,
                              const std::vector<WorkItem>& items, MPI_Comm comm) {
  if (!std::filesystem::is_directory(store::parts_dir(store))) return 0;
  auto writer = store::open_item_writer(store, layout, comm);
  const auto n = merge_parts(store, layout, items, *writer);
  writer.reset();
  tidy_parts(store);
  return n;
}

// Refuses (InputError) the parts of `items` made with another configuration.
void check_parts(const std::string& store, const store::StoreLayout& layout,
                 const std::vector<WorkItem>& items) {
  if (!std::filesystem::is_directory(store::parts_dir(store))) return;
  for (const auto& it : items) {
    const auto path =
        store::part_path(store, layout.sets[static_cast<std::size_t>(it.set)].name,
                         layout.models[static_cast<std::size_t>(it.model)].name, it.shard);
    if (std::filesystem::exists(path))
      store::check_part(path, store::part_fingerprint(layout, it.set, it.model));
  }
}

// A zeroed buffer for a work item's features [rows, L, dmax]; running out
// of memory is bad input (shard_size too large).
std::vector<float> item_buffer(const store::StoreLayout& layout, const WorkItem& it, std::int64_t L,
                               std::int64_t dmax) {
  const auto& ml = layout.models[static_cast<std::size_t>(it.model)];
  std::vector<float> feats;
  try {
    feats.assign(static_cast<std::size_t>(it.rows * L * dmax), 0.0f);
  } catch (const std::bad_alloc&) {
    throw InputError(fmt::format(
        "model '{}', image set '{}': out of memory for a work item's features: {} bytes ({} "
        "rows x {} layers x {} floats); lower shard_size",
        ml.name, layout.sets[static_cast<std::size_t>(it.set)].name,
        static_cast<std::uint64_t>(it.rows * L * dmax) * sizeof(float), it.rows, L, dmax));
  }
  return feats;
}

// The model's input for the item's rows b0 .. b0 + nb - 1 into `batch_in`.
// An unreadable image is skipped (a zero input, flagged) when the config
// says on_bad_image: skip.
void batch_input(const config::Sweep& sweep, const store::StoreLayout& layout,
                 const data::Source& src, const WorkItem& it, models::Model& model,
                 store::ItemWriter& writer, std::int64_t b0, std::int64_t nb,
                 std::vector<float>& batch_in, std::vector<float>& one) {
  batch_in.clear();
  for (std::int64_t r = 0; r < nb; ++r) {
    const std::int64_t row = it.row0 + b0 + r;
    try {
      data::Item item = src.get(row);
      data::apply(model.sidecar().transform, item.image, one);
    } catch (const InputError& e) {
      if (sweep.on_bad_image != "skip") throw;
      spdlog::warn("skipping image {} of set '{}': {}", row,
                   layout.sets[static_cast<std::size_t>(it.set)].name, e.what());
      writer.mark_skipped(it.set, row);
      const auto c = static_cast<std::size_t>(model.sidecar().transform.channels);
      const auto sz = static_cast<std::size_t>(model.sidecar().input_size);
      one.assign(c * sz * sz, 0.0f);
    }
    batch_in.insert(batch_in.end(), one.begin(), one.end());
  }
}

// Copies the batch's nb rows of every layer into the item's features (row
// b0 + r of [rows, L, dmax]), refusing a non-finite one.
void copy_batch(const store::StoreLayout& layout, const WorkItem& it, const models::Output& out,
                std::int64_t b0, std::int64_t nb, std::int64_t dmax, std::vector<float>& feats) {
  const auto& ml = layout.models[static_cast<std::size_t>(it.model)];
  const auto L = static_cast<std::int64_t>(ml.layer_dims.size());
  for (std::int64_t r = 0; r < nb; ++r)
    for (std::int64_t l = 0; l < L; ++l) {
      const auto d = ml.layer_dims[static_cast<std::size_t>(l)];
      const float* src = out.layers[static_cast<std::size_t>(l)].data() + r * d;
      // A NaN or inf feature would poison every score of the model.
      for (std::int64_t k = 0; k < d; ++k)
        PRH_CHECK_INPUT(std::isfinite(src[k]),
                        "model '{}' gave a non-finite feature ({}) for image {} of set '{}' (layer "
                        "'{}', element {}); check the model and its sidecar's mean and std. "
                        "Nothing of this work item was stored",
                        ml.name, src[k], it.row0 + b0 + r,
                        layout.sets[static_cast<std::size_t>(it.set)].name,
                        ml.layer_names.empty() ? std::to_string(l)
                                               : ml.layer_names[static_cast<std::size_t>(l)],
                        k);
      std::copy_n(src, d, feats.data() + ((b0 + r) * L + l) * dmax);
    }
}

// One work item: its rows through the model in batches aligned to the
// shard's start (the same batches whatever the ranks), written, then marked
// done.
void embed_item(const config::Sweep& sweep, const store::StoreLayout& layout,
                const data::Source& src, const WorkItem& it, models::Model& model,
                store::ItemWriter& writer) {
  const auto& ml = layout.models[static_cast<std::size_t>(it.model)];
  const auto L = static_cast<std::int64_t>(ml.layer_dims.size());
  const std::int64_t dmax = *std::max_element(ml.layer_dims.begin(), ml.layer_dims.end());
  std::vector<float> feats = item_buffer(layout, it, L, dmax);
  std::vector<float> batch_in, one, prob, item_prob;
  std::vector<std::int64_t> top1, item_top1;
  for (std::int64_t b0 = 0; b0 < it.rows; b0 += sweep.batch_size) {
    const std::int64_t nb = std::min<std::int64_t>(sweep.batch_size, it.rows - b0);
    batch_input(sweep, layout, src, it, model, writer, b0, nb, batch_in, one);
    const auto out = model.forward(batch_in, nb);
    PRH_CHECK_INPUT(out.dims == ml.layer_dims,
                    "model '{}' changed its layer shapes between batches", ml.name);
    copy_batch(layout, it, out, b0, nb, dmax, feats);
    predictions(out, top1, prob);
    item_top1.insert(item_top1.end(), top1.begin(), top1.end());
    item_prob.insert(item_prob.end(), prob.begin(), prob.end());
  }
  writer.write_rows(it.set, it.model, it.row0, it.rows, feats, item_top1, item_prob);
  writer.mark_done(it.set, it.model, it.shard);
}

// Views (docs/store.md, "Views"; set_views.hpp): a set whose images are,
// bit for bit, rows of an earlier embedded set is read through those rows
// and never embedded. A model with imported features stays absent from the
// sets it gives none for (views included).
void find_views(const config::Sweep& sweep, store::StoreLayout& layout,
                const std::vector<std::unique_ptr<data::Source>>& sources) {
  auto views = find_set_views(sweep, sources);
  for (std::size_t s = 0; s < layout.sets.size(); ++s) {
    if (views[s].base < 0) continue;
    const auto& base = layout.sets[static_cast<std::size_t>(views[s].base)];
    PRH_ASSERT(static_cast<std::int64_t>(views[s].rows.size()) == layout.sets[s].n,
               "view '{}': {} rows of '{}' for {} images", layout.sets[s].name,
               views[s].rows.size(), base.name, layout.sets[s].n);
    layout.sets[s].view_of = base.name;
    layout.sets[s].rows = std::move(views[s].rows);
  }
}

// The store's layout of the sweep's image sets (ids, labels, specs), and
// their sources (`sources`, in config order).
store::StoreLayout set_layout(const config::Sweep& sweep,
                              std::vector<std::unique_ptr<data::Source>>& sources) {
  store::StoreLayout layout;
  layout.embed_params = sweep.embed_params();
  layout.config_file = sweep.file;
  layout.shard_size = sweep.shard_size;
  layout.feature_dtype = sweep.feature_dtype;
  for (std::size_t i = 0; i < sweep.image_sets.size(); ++i) {
    const auto& s = sweep.image_sets[i];
    store::SetLayout sl;
    try {
      sources.push_back(
          data::make_source(s.source.spec, fmt::format("image_sets[{}] '{}'", i, s.name)));
      sl.name = s.name;
      sl.spec = config::Sweep::image_set_json(s);
      sl.n = sources.back()->size();
      PRH_CHECK_INPUT(sl.n > 0, "image set '{}' is empty", s.name);
      sl.ids.reserve(static_cast<std::size_t>(sl.n));
      sl.labels.reserve(static_cast<std::size_t>(sl.n));
      for (std::int64_t r = 0; r < sl.n; ++r) {
        sl.ids.push_back(sources.back()->id(r));
        sl.labels.push_back(sources.back()->label(r));
      }
    } catch (const std::bad_alloc&) {
      throw InputError(fmt::format(
          "image_sets[{}] '{}': out of memory opening the source ({} images known so far; ids "
          "and labels take about {} bytes)",
          i, s.name, sl.n, static_cast<std::uint64_t>(sl.n) * 48));
    }
    layout.sets.push_back(std::move(sl));
  }
  find_views(sweep, layout, sources);
  return layout;
}

// Every rank's probes, by model name; a model that cannot be used is bad
// input (every problem listed), anything else an internal error.
json gather_probes(const json& mine, const parallel::Session& session) {
  json probes = json::object();
  std::string errors, internal;
  for (const auto& text : session.all_gather(mine.dump())) {
    const json part = json::parse(text);
    for (const auto& [name, p] : part.items()) {
      if (p.contains("error"))
        (p["input"].get<bool>() ? errors : internal) += "\n  - " + p["error"].get<std::string>();
      probes[name] = p;
    }
  }
  if (!internal.empty()) throw InternalError(fmt::format("probing the models failed:{}", internal));
  PRH_CHECK_INPUT(errors.empty(), "cannot use every model:{}", errors);
  return probes;
}

// Probes the models with used[m] set, spread over the ranks; every rank
// learns every model's layout (unused models: name and spec only). A model
// the user gave that cannot be used is bad input (every problem listed);
// anything else (a bug, out of memory) is an internal error.
std::vector<store::ModelLayout> probe_models(const config::Sweep& sweep,
                                             const store::StoreLayout& layout,
                                             const std::vector<bool>& used,
                                             const parallel::Session& session) {
  json mine = json::object();
  for (std::size_t m = 0, k = 0; m < sweep.models.size(); ++m) {
    if (!used[m]) continue;
    if (static_cast<int>(k++) % session.size() != session.rank()) continue;
    try {
      mine[sweep.models[m].name] =
          sweep.models[m].imported()
              ? probe_imported(sweep.models[m], layout)
              : probe_model(sweep.models[m], sweep.device, session.local_rank());
    } catch (const std::bad_alloc&) {
      mine[sweep.models[m].name] = {
          {"error", fmt::format("model '{}': out of memory while loading it and running one "
                                "image through it (file {}: {} bytes)",
                                sweep.models[m].name, sweep.models[m].path,
                                file_size_or_zero(sweep.models[m].path))},
          {"input", true}};
    } catch (const InputError& e) {
      mine[sweep.models[m].name] = {{"error", e.what()}, {"input", true}};
    } catch (const std::exception& e) {
      mine[sweep.models[m].name] = {{"error", utf8_escaped(e.what())}, {"input", false}};
    }
  }
  const json probes = gather_probes(mine, session);
  std::vector<store::ModelLayout> out;
  for (const auto& m : sweep.models) {
    store::ModelLayout ml;
    ml.name = m.name;
    ml.spec = config::Sweep::model_json(m);
    ml.training_data = m.training_data;
    ml.family = m.family;
    ml.objective = m.objective;
    for (const auto& s : sweep.image_sets)
      if (m.imported() && m.has_set(s.name)) ml.sets.push_back(s.name);
    if (probes.contains(m.name)) {  // else: not used by this array task
      const json& p = probes.at(m.name);
      ml.spec["checksum"] = p["checksum"];
      ml.layer_dims = p["dims"].get<std::vector<std::int64_t>>();
      ml.layer_names = p["layer_names"].get<std::vector<std::string>>();
      ml.classes = p["classes"].get<std::int64_t>();
      ml.parameters = p["parameters"].get<std::int64_t>();
      ml.sidecar = p["sidecar"];
    }
    out.push_back(std::move(ml));
  }
  return out;
}

// Which sets each model has work items in: a model with imported features
// only in the sets it has files for, and no model in a view (its features
// are rows of its base's).
std::vector<std::vector<bool>> item_sets(const config::Sweep& sweep,
                                         const store::StoreLayout& layout) {
  std::vector<std::vector<bool>> present;
  for (const auto& m : sweep.models) {
    present.emplace_back();
    for (const auto& s : layout.sets) present.back().push_back(m.has_set(s.name) && !s.view());
  }
  return present;
}

// Serial HDF5 (docs/store.md, "Serial HDF5"): rank 0 alone creates and
// writes the store, merging the parts an earlier run left (`merged`: how
// many); every rank embeds its items into part files, as an array task
// does, and rank 0 merges them when the stage ends.
std::unique_ptr<store::ItemWriter> open_serial(const config::Sweep& sweep,
                                               const store::StoreLayout& layout,
                                               const std::vector<WorkItem>& slice,
                                               const std::vector<bool>& used,
                                               const parallel::Session& session,
                                               std::int64_t& merged) {
  merged = parallel::decide_on_root(session, [&] {
    check_parts(sweep.store, layout, slice);
    const auto plan = store::inspect_store(sweep.store, layout);
    store::create_or_extend_store(sweep.store, layout, plan, session.comm());
    store::finish_store_metadata(sweep.store, layout, plan);
    // Parts left by an earlier run (cut off, or a job array).
    return merge_into_store(sweep.store, layout, slice, session.comm());
  });
  if (session.root() && merged > 0)
    spdlog::info("embed: merged {} work items from parts ({}) into the store", merged,
                 store::parts_dir(sweep.store));
  auto writer = store::open_for_array_task(sweep.store, layout, used);
  session.barrier();
  return writer;
}

// Parallel HDF5: the store created or extended collectively, the parts of a
// job array merged into it (`merged`: how many).
std::unique_ptr<store::ItemWriter> open_parallel(const config::Sweep& sweep,
                                                 const store::StoreLayout& layout,
                                                 const std::vector<WorkItem>& slice,
                                                 const parallel::Session& session,
                                                 std::int64_t& merged) {
  // 1. Rank 0 decides: parts made with another configuration are refused
  //    before the store is created or extended; then the store itself.
  const auto plan = parallel::decide_on_root(session, [&] {
    check_parts(sweep.store, layout, slice);
    return store::inspect_store(sweep.store, layout);
  });
  // 2. Collective create or extend; rank 0 writes the sets' metadata.
  store::create_or_extend_store(sweep.store, layout, plan, session.comm());
  parallel::decide_on_root(session,
                           [&] { store::finish_store_metadata(sweep.store, layout, plan); });
  auto writer = store::open_item_writer(sweep.store, layout, session.comm());
  session.barrier();  // every rank read the done flags before any rank writes one
  // The parts of a job array: each rank merges those of its share of items.
  merged = session.sum(
      merge_parts(sweep.store, layout, share(slice, session.rank(), session.size()), *writer));
  if (merged > 0) {
    // Reopen so that every rank sees every merged flag (the plan below
    // must be the same on every rank).
    writer.reset();
    writer = store::open_item_writer(sweep.store, layout, session.comm());
    session.barrier();
    if (session.root())
      spdlog::info("embed: merged {} work items from the job array's parts ({}) into the store",
                   merged, store::parts_dir(sweep.store));
  }
  if (session.root()) tidy_parts(sweep.store);
  return writer;
}

// Every work item of the sweep; views (logged on rank 0) have none.
std::vector<WorkItem> work_items(const config::Sweep& sweep, const store::StoreLayout& layout,
                                 const parallel::Session& session) {
  std::vector<std::int64_t> sizes;
  for (const auto& s : layout.sets) sizes.push_back(s.n);
  if (session.root())
    for (const auto& s : layout.sets)
      if (s.view())
        spdlog::info(
            "embed: image set '{}' ({} images) is rows of '{}': read through them, not "
            "embedded",
            s.name, s.n, s.view_of);
  return plan_items(sizes, static_cast<int>(sweep.models.size()), sweep.shard_size,
                    item_sets(sweep, layout));
}

// Rank 0: the work items of this task (or of the sweep) and those to do.
void log_plan(const config::Sweep& sweep, const EmbedOptions& opt, const UnitPlan& plan,
              std::size_t slice, std::size_t all, int ranks) {
  const auto todo = std::count(plan.done.begin(), plan.done.end(), std::uint8_t{0});
  if (opt.array_task >= 0)
    spdlog::info(
        "embed: array task {} of {}: {} of the {} work items, {} to do ({} ranks); parts in {}",
        opt.array_task, opt.array_size, slice, all, todo, ranks, store::parts_dir(sweep.store));
  else
    spdlog::info("embed: {} work items in all, {} to do ({} ranks); store {}", all, todo, ranks,
                 sweep.store);
}

// Rank 0: what this run embedded, and where.
void log_done(const config::Sweep& sweep, const EmbedOptions& opt, const StageOutcome& out) {
  if (opt.array_task >= 0)
    spdlog::info(
        "embed: array task {} of {} done, {} items embedded in {:.1f} s into parts in {}; `prh "
        "embed {}` (or `prh run`, the reduce job of `prh submit --array`) merges them",
        opt.array_task, opt.array_size, out.done, out.seconds, store::parts_dir(sweep.store),
        sweep.file);
  else
    spdlog::info("embed: done, {} items embedded in {:.1f} s; store {}", out.done, out.seconds,
                 sweep.store);
}

// 3. The plan: one unit per work item of this task (or of the sweep).
UnitPlan item_plan(const std::vector<WorkItem>& slice, const store::ItemWriter& writer) {
  UnitPlan plan;
  plan.stage = "embed";
  plan.unit = "work items";
  plan.rate_unit = "images";
  for (const auto& it : slice) {
    plan.cost.push_back(static_cast<double>(it.rows));
    plan.done.push_back(writer.is_done(it.set, it.model, it.shard) ? 1 : 0);
  }
  return plan;
}

// 4. One unit: embed the item's rows with its model (kept loaded across
//    units), write them, mark the item done.
class ItemEmbedder {
 public:
  ItemEmbedder(const config::Sweep& sweep, const store::StoreLayout& layout,
               const std::vector<std::unique_ptr<data::Source>>& sources, store::ItemWriter& writer,
               int local_rank)
      : sweep_(sweep),
        layout_(layout),
        sources_(sources),
        writer_(writer),
        local_rank_(local_rank) {}

  void operator()(const WorkItem& it) {
    const auto& m = sweep_.models[static_cast<std::size_t>(it.model)];
    if (m.imported()) {
      import_item(layout_, m, it, torch_cache_, writer_);
      return;
    }
    if (loaded_ != it.model) {
      model_.reset();
      model_ = models::load_torchscript(m.name, m.path, m.sidecar, sweep_.device, local_rank_);
      loaded_ = it.model;
    }
    embed_item(sweep_, layout_, *sources_[static_cast<std::size_t>(it.set)], it, *model_, writer_);
  }

 private:
  const config::Sweep& sweep_;
  const store::StoreLayout& layout_;
  const std::vector<std::unique_ptr<data::Source>>& sources_;
  store::ItemWriter& writer_;
  const int local_rank_;
  int loaded_ = -1;
  std::unique_ptr<models::Model> model_;
  TorchCache torch_cache_;
};

// Serial HDF5: rank 0 merges every rank's parts, once every rank is done.
void merge_serial(const config::Sweep& sweep, const store::StoreLayout& layout,
                  const std::vector<WorkItem>& slice, const parallel::Session& session) {
  session.barrier();  // no rank holds the store open when rank 0 writes it
  const auto t0 = std::chrono::steady_clock::now();
  const auto n = parallel::decide_on_root(
      session, [&] { return merge_into_store(sweep.store, layout, slice, session.comm()); });
  if (session.root())
    spdlog::info(
        "embed: merged the {} work items of this run from parts into the store in {:.1f} s", n,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

}  // namespace

std::int64_t embed(const config::Sweep& sweep, const parallel::Session& session,
                   const EmbedOptions& opt) {
  const bool task_mode = opt.array_task >= 0;
  PRH_CHECK_INPUT(!task_mode || (opt.array_size > 0 && opt.array_task < opt.array_size),
                  "--array-task {} --array-size {}: the task must be in 0..size-1", opt.array_task,
                  opt.array_size);
  // Store, parts, results and the preparation cache must not collide.
  parallel::decide_on_root(session, [&] { store::check_output_paths(sweep.store, sweep.results); });
  models::set_torch_threads(sweep.threads_per_rank);
  data::set_threads(sweep.threads_per_rank);
  // LibTorch and OpenCV bring a serial HDF5 too: say which one prh's calls reach.
  if (session.root()) spdlog::debug("embed: HDF5 calls reach {}", store::hdf5_library());
  // Sources: every rank builds every source (cheap; reading is by index).
  std::vector<std::unique_ptr<data::Source>> sources;
  store::StoreLayout layout = set_layout(sweep, sources);

  const auto all = work_items(sweep, layout, session);
  // An array task's items, and the models they need (it probes only those).
  const auto slice = task_mode ? share(all, opt.array_task, opt.array_size) : all;
  std::vector<bool> used(sweep.models.size(), !task_mode);
  for (const auto& it : slice) used[static_cast<std::size_t>(it.model)] = true;

  layout.models = probe_models(sweep, layout, used, session);

  std::int64_t merged = 0;
  const bool serial = !task_mode && !store::parallel_hdf5();
  std::unique_ptr<store::ItemWriter> writer =
      task_mode ? store::open_for_array_task(sweep.store, layout, used)
      : serial  ? open_serial(sweep, layout, slice, used, session, merged)
                : open_parallel(sweep, layout, slice, session, merged);

  const UnitPlan plan = item_plan(slice, *writer);
  if (session.root()) log_plan(sweep, opt, plan, slice.size(), all.size(), session.size());

  ItemEmbedder embed_one(sweep, layout, sources, *writer, session.local_rank());
  const auto out = run_units(session, plan, [&](std::size_t u) { embed_one(slice[u]); });

  if (serial) {
    writer.reset();
    merge_serial(sweep, layout, slice, session);
  }

  if (session.root()) log_done(sweep, opt, out);  // 5. The accounting.
  return out.done + merged;
}

}  // namespace prh::pipeline
