#include "prh/store/embedding_store.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "h5.hpp"
#include "json_attr.hpp"
#include "json_diff.hpp"
#include "paths.hpp"
#include "prh/core/error.hpp"
#include "prh/core/files.hpp"
#include "prh/core/version.hpp"
#include "prh/store/done_flags.hpp"
#include "results_file.hpp"
#include "store_schema.hpp"
#include "unit_file.hpp"

namespace prh::store {

namespace {

using json = nlohmann::json;
using detail::open_or_create_group;

std::string set_path(const std::string& set) {
  return paths::set(set);
}
std::string item_path(const std::string& set, const std::string& model) {
  return paths::item(set, model);
}

h5::Id feature_type(const std::string& dtype, h5::Handle& keep) {
  if (dtype == "float16") {
    keep = h5::float16_type();
    return keep.id();
  }
  return h5::ieee_f32le();
}

// Whether the open file says it is a prh store (its format attribute).
bool is_store(h5::Id f) {
  return detail::string_attr_or(f, schema::store().attr(schema::kStoreRoot, "format"), "") ==
         paths::kStoreFormat;
}

std::int64_t max_dim(const ModelLayout& m) {
  std::int64_t d = 0;
  for (auto x : m.layer_dims) d = std::max(d, x);
  return d;
}

// Collective: creates the groups and datasets of one (set, model) item.
void create_item(h5::Id file, const StoreLayout& layout, const SetLayout& s, const ModelLayout& m) {
  auto models = open_or_create_group(file, paths::set_models(s.name));
  auto g = h5::create_group(models.id(), m.name);
  h5::Handle f16;
  const auto n = static_cast<h5::hsize>(s.n);
  h5::create_dataset(
      g.id(), schema::store().child(schema::kStoreItem, "features"),
      feature_type(layout.feature_dtype, f16),
      {n, static_cast<h5::hsize>(m.layer_dims.size()), static_cast<h5::hsize>(max_dim(m))}, false);
  if (m.classes > 0) {
    h5::create_dataset(g.id(), schema::store().child(schema::kStoreItem, "top1"), h5::std_i64le(),
                       {n}, true);
    h5::create_dataset(g.id(), schema::store().child(schema::kStoreItem, "prob"), h5::ieee_f32le(),
                       {n}, true);
  }
  h5::create_dataset(g.id(), schema::store().child(schema::kStoreItem, "done"), h5::std_u8le(),
                     {static_cast<h5::hsize>(layout.shards(s.n))}, true);
  h5::write_attr(g.id(), schema::store().attr(schema::kStoreItem, "layer_dims"), m.layer_dims);
}

void create_set(h5::Id file, const SetLayout& s) {
  auto g = h5::create_group(file, set_path(s.name));
  std::size_t width = 1;
  for (const auto& id : s.ids) width = std::max(width, id.size());
  h5::Handle str = h5::fixed_string_type(width);
  const auto n = static_cast<h5::hsize>(s.n);
  h5::create_dataset(g.id(), schema::store().child(schema::kStoreSet, "ids"), str.id(), {n}, true);
  h5::create_dataset(g.id(), schema::store().child(schema::kStoreSet, "labels"), h5::std_i64le(),
                     {n}, true);
  if (s.view()) {
    // Rows of another set: no skipped flags and no models of its own.
    h5::create_dataset(g.id(), schema::store().child(schema::kStoreSet, "rows"), h5::std_i64le(),
                       {n}, true);
    h5::write_attr(g.id(), schema::store().attr(schema::kStoreSet, "view_of"), s.view_of);
  } else {
    h5::create_dataset(g.id(), schema::store().child(schema::kStoreSet, "skipped"), h5::std_u8le(),
                       {n}, true);
  }
  h5::write_attr(g.id(), schema::store().attr(schema::kStoreSet, "spec"), s.spec.dump());
  h5::write_attr(g.id(), schema::store().attr(schema::kStoreSet, "n"), s.n);
}

void create_model(h5::Id file, const ModelLayout& m) {
  auto models = open_or_create_group(file, schema::store().path(schema::kStoreModels, {}));
  auto g = h5::create_group(models.id(), m.name);
  const auto attr = [](std::string_view name) {
    return schema::store().attr(schema::kStoreModel, name);
  };
  h5::write_attr(g.id(), attr("spec"), m.spec.dump());
  h5::write_attr(g.id(), attr("layer_dims"), m.layer_dims);
  h5::write_attr(g.id(), attr("layer_names"), json(m.layer_names).dump());
  h5::write_attr(g.id(), attr("classes"), m.classes);
  h5::write_attr(g.id(), attr("parameters"), m.parameters);
  h5::write_attr(g.id(), attr("sidecar"), m.sidecar.dump());
  h5::write_attr(g.id(), attr("training_data"), m.training_data);
  h5::write_attr(g.id(), attr("family"), m.family);
  h5::write_attr(g.id(), attr("objective"), m.objective);
}

// Serial (rank 0): ids and labels of a set, then the flag saying they are there.
void write_set_metadata(h5::Id file, const SetLayout& s) {
  auto g = h5::open_group(file, set_path(s.name));
  auto ids = h5::open_dataset(g.id(), schema::store().child(schema::kStoreSet, "ids"));
  h5::Handle ftype = h5::dataset_type(ids);
  const std::size_t width = h5::type_size(ftype.id());
  std::string buf(width * s.ids.size(), '\0');
  for (std::size_t i = 0; i < s.ids.size(); ++i) buf.replace(i * width, s.ids[i].size(), s.ids[i]);
  if (s.n > 0) {
    h5::write_box(ids.id(), ftype.id(), {0}, {static_cast<h5::hsize>(s.n)}, buf.data());
    auto labels = h5::open_dataset(g.id(), schema::store().child(schema::kStoreSet, "labels"));
    h5::write_box(labels.id(), h5::native_int64(), {0}, {static_cast<h5::hsize>(s.n)},
                  s.labels.data());
    if (s.view()) {
      PRH_ASSERT(static_cast<std::int64_t>(s.rows.size()) == s.n, "view '{}': {} rows for {}",
                 s.name, s.rows.size(), s.n);
      auto rows = h5::open_dataset(g.id(), schema::store().child(schema::kStoreSet, "rows"));
      h5::write_box(rows.id(), h5::native_int64(), {0}, {static_cast<h5::hsize>(s.n)},
                    s.rows.data());
    }
  }
  h5::write_attr(g.id(), schema::store().attr(schema::kStoreSet, "metadata_written"),
                 std::int64_t{1});
}

// What an existing store says, compared with the layout: problems (refuse)
// and additions (extend).
struct Verdict {
  std::vector<std::string> problems;
  std::vector<std::string> new_sets, new_models, unwritten_sets;
  bool incomplete = false;  // creation never finished: safe to start over
};

// The model's parsed sidecar (its preprocessing: sizes, interpolation,
// resampler, channels, mean, std) and layer names against what the store
// recorded when the model was added: the spec holds only the sidecar's path,
// and a sidecar edited in place would mix two preprocessings in one store.
void sidecar_problems(h5::Id g, const ModelLayout& m, std::vector<std::string>& problems) {
  const std::string sidecar = schema::store().attr(schema::kStoreModel, "sidecar");
  const std::string layer_names = schema::store().attr(schema::kStoreModel, "layer_names");
  if (!h5::has_attr(g, sidecar)) {
    problems.push_back(fmt::format(
        "model '{}': the store does not record its sidecar, so it cannot be checked", m.name));
    return;
  }
  json stored = detail::json_attr(g, sidecar);
  // Stores made before prh had the 'resampler' key were resized by OpenCV,
  // the only resampler then.
  if (stored.is_object() && !stored.contains("resampler")) stored["resampler"] = "opencv";
  std::vector<std::string> d;
  detail::json_diff(detail::float_view(stored), detail::float_view(m.sidecar), "", d);
  for (const auto& c : d)
    problems.push_back(fmt::format("model '{}': sidecar changed: {}", m.name, c));
  if (!m.layer_names.empty() && h5::has_attr(g, layer_names)) {
    const json names = detail::json_attr(g, layer_names);
    if (names != json(m.layer_names))
      problems.push_back(fmt::format("model '{}': sidecar changed: layer_names: {} -> {}", m.name,
                                     names.dump(), json(m.layer_names).dump()));
  }
}

// A set stored as a view must be the same view; a set stored with its own
// features (embedded, as every set was before views) is not read as one.
void view_problems(h5::Id g, const SetLayout& s, std::vector<std::string>& problems) {
  const std::string stored =
      detail::string_attr_or(g, schema::store().attr(schema::kStoreSet, "view_of"), "");
  if (stored.empty() && s.view()) {
    problems.push_back(fmt::format(
        "image set '{}': the store holds its own embedded features (made by a prh before views, "
        "docs/store.md \"Views\"), but its images are rows of image set '{}', which this prh "
        "reads instead of embedding them again",
        s.name, s.view_of));
    return;
  }
  if (stored != s.view_of) {
    problems.push_back(fmt::format("image set '{}': stored as {}, now {}", s.name,
                                   stored.empty() ? "embedded" : "rows of '" + stored + "'",
                                   s.view() ? "rows of '" + s.view_of + "'" : "embedded"));
    return;
  }
  if (!s.view() || !h5::has_attr(g, schema::store().attr(schema::kStoreSet, "metadata_written")))
    return;
  auto ds = h5::open_dataset(g, schema::store().child(schema::kStoreSet, "rows"));
  std::vector<std::int64_t> rows(s.rows.size());
  if (h5::dataset_shape(ds) != std::vector<h5::hsize>{static_cast<h5::hsize>(rows.size())}) {
    problems.push_back(
        fmt::format("image set '{}': its stored rows of '{}' differ", s.name, s.view_of));
    return;
  }
  if (!rows.empty()) h5::read_box(ds.id(), h5::native_int64(), {0}, {rows.size()}, rows.data());
  if (rows != s.rows)
    problems.push_back(
        fmt::format("image set '{}': its stored rows of '{}' differ", s.name, s.view_of));
}

Verdict inspect(const std::string& path, const StoreLayout& layout) {
  Verdict v;
  auto file = h5::open_file_readonly(path);
  const h5::Id f = file.id();
  if (!is_store(f)) {
    v.problems.push_back(
        fmt::format("{} is not a prh store (no format attribute '{}')", path, paths::kStoreFormat));
    return v;
  }
  if (!h5::has_attr(f, schema::store().attr(schema::kStoreRoot, "complete"))) {
    v.incomplete = true;
    return v;
  }
  const json stored =
      detail::json_attr(f, schema::store().attr(schema::kStoreRoot, "embed_params"));
  std::vector<std::string> changed;
  detail::json_diff(stored, layout.embed_params, "", changed);
  for (const auto& c : changed) v.problems.push_back("embedding parameter " + c);
  for (const auto& s : layout.sets) {
    if (!h5::exists(f, set_path(s.name))) {
      v.new_sets.push_back(s.name);
      continue;
    }
    auto g = h5::open_group(f, set_path(s.name));
    std::vector<std::string> d;
    detail::json_diff(detail::json_attr(g.id(), schema::store().attr(schema::kStoreSet, "spec")),
                      s.spec, "", d);
    for (const auto& c : d) v.problems.push_back(fmt::format("image set '{}': {}", s.name, c));
    view_problems(g.id(), s, v.problems);
    if (!h5::has_attr(g.id(), schema::store().attr(schema::kStoreSet, "metadata_written")))
      v.unwritten_sets.push_back(s.name);
  }
  for (const auto& m : layout.models) {
    if (!h5::exists(f, paths::model(m.name))) {
      v.new_models.push_back(m.name);
      continue;
    }
    auto g = h5::open_group(f, paths::model(m.name));
    std::vector<std::string> d;
    detail::json_diff(detail::json_attr(g.id(), schema::store().attr(schema::kStoreModel, "spec")),
                      m.spec, "", d);
    for (const auto& c : d) v.problems.push_back(fmt::format("model '{}': {}", m.name, c));
    if (!m.sidecar.is_null()) sidecar_problems(g.id(), m, v.problems);
  }
  return v;
}

std::string refusal(const std::string& path, const std::vector<std::string>& problems) {
  std::string msg = fmt::format(
      "{}: this store was made with a different result-relevant configuration, so resuming "
      "would mix incompatible features. What changed:",
      path);
  for (const auto& p : problems) msg += "\n  - " + p;
  msg += "\nUse a new store path, or restore the old settings.";
  return msg;
}

class MpioWriter : public ItemWriter {
 public:
  // Parallel HDF5: every rank, through MPI-IO. Serial HDF5: one process
  // alone (rank 0 merging the parts of the other ranks, docs/store.md),
  // flushing the file around each done flag.
  MpioWriter(const std::string& path, const StoreLayout& layout, MPI_Comm comm)
      : layout_(layout), dxpl_(kParallelHdf5 ? h5::dxpl_independent() : h5::dxpl_default()) {
    h5::Handle fapl = kParallelHdf5 ? h5::fapl_mpio(comm) : h5::fapl_default();
    file_ = h5::try_open_file(path, /*write=*/true, fapl.id());
    if (!file_)
      throw InternalError(fmt::format("{}: cannot open for writing: {}", path, h5::error_stack()));
    const h5::Id f = file_.id();
    for (std::size_t si = 0; si < layout.sets.size(); ++si) {
      const auto& s = layout.sets[si];
      skipped_.push_back(s.view() ? h5::Handle()
                                  : h5::open_dataset(f, paths::set_dataset(s.name, "skipped")));
      std::vector<Item> row;
      for (std::size_t mi = 0; mi < layout.models.size(); ++mi) {
        const auto& m = layout.models[mi];
        Item it;
        if (!layout.has_item(si, mi)) {  // a view, or imported features without this set
          row.push_back(std::move(it));
          continue;
        }
        const std::string p = item_path(s.name, m.name);
        const auto ds = [&](std::string_view name) {
          return paths::item_dataset(s.name, m.name, name);
        };
        it.features = h5::open_dataset(f, ds("features"));
        it.done = std::make_unique<DoneFlags>(
            file_, ds("done"),
            kParallelHdf5 ? Durability::kWritesReachFile : Durability::kFlushFile, &dxpl_);
        if (m.classes > 0) {
          it.top1 = h5::open_dataset(f, ds("top1"));
          it.prob = h5::open_dataset(f, ds("prob"));
        }
        PRH_ASSERT(static_cast<std::int64_t>(it.done->size()) == layout.shards(s.n),
                   "{}: {} done flags for {} shards", p, it.done->size(), layout.shards(s.n));
        it.layers = static_cast<h5::hsize>(m.layer_dims.size());
        it.dmax = static_cast<h5::hsize>(max_dim(m));
        row.push_back(std::move(it));
      }
      items_.push_back(std::move(row));
    }
  }

  void write_rows(int set, int model, std::int64_t row0, std::int64_t rows,
                  const std::vector<float>& features, const std::vector<std::int64_t>& top1,
                  const std::vector<float>& prob) override {
    Item& it = items_[static_cast<std::size_t>(set)][static_cast<std::size_t>(model)];
    const auto r0 = static_cast<h5::hsize>(row0), n = static_cast<h5::hsize>(rows);
    PRH_ASSERT(features.size() == n * it.layers * it.dmax, "write_rows: {} floats for {} rows",
               features.size(), rows);
    h5::write_box(it.features.id(), h5::native_float(), {r0, 0, 0}, {n, it.layers, it.dmax},
                  features.data(), dxpl_.id());
    if (it.top1) {
      PRH_ASSERT(top1.size() == n && prob.size() == n, "write_rows: predictions of wrong size");
      h5::write_box(it.top1.id(), h5::native_int64(), {r0}, {n}, top1.data(), dxpl_.id());
      h5::write_box(it.prob.id(), h5::native_float(), {r0}, {n}, prob.data(), dxpl_.id());
    }
  }

  void mark_skipped(int set, std::int64_t row) override {
    const std::uint8_t one = 1;
    h5::write_box(skipped_[static_cast<std::size_t>(set)].id(), h5::native_uint8(),
                  {static_cast<h5::hsize>(row)}, {1}, &one, dxpl_.id());
  }

  void mark_done(int set, int model, std::int64_t shard) override {
    // Independent MPI-IO writes reach the file (the OS) before they return:
    // the rows above are in the file before this flag is.
    items_[static_cast<std::size_t>(set)][static_cast<std::size_t>(model)].done->mark(
        static_cast<std::size_t>(shard));
  }

  bool is_done(int set, int model, std::int64_t shard) const override {
    return items_[static_cast<std::size_t>(set)][static_cast<std::size_t>(model)].done->done(
        static_cast<std::size_t>(shard));
  }

 private:
  struct Item {
    h5::Handle features, top1, prob;
    std::unique_ptr<DoneFlags> done;
    h5::hsize layers = 0, dmax = 0;
  };
  StoreLayout layout_;
  h5::Handle file_;
  h5::Handle dxpl_;
  std::vector<h5::Handle> skipped_;
  std::vector<std::vector<Item>> items_;
};

}  // namespace

StorePlan inspect_store(const std::string& path, const StoreLayout& layout) {
  h5::quiet();
  StorePlan plan;
  if (!std::filesystem::exists(path)) {
    plan.create = true;
    const auto parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    PRH_CHECK_INPUT(!ec, "store {}: cannot create its directory {}: {}", path, parent.string(),
                    ec.message());
    return plan;
  }
  Verdict v;
  try {
    v = inspect(path, layout);
  } catch (const InputError& e) {
    throw InputError(fmt::format(
        "store {}: cannot read it ({}): damaged, not HDF5, or locked by another process "
        "(another prh still running? HDF5_USE_FILE_LOCKING=FALSE lifts HDF5's lock on "
        "file systems that need it)",
        path, e.what()));
  } catch (const InternalError& e) {
    throw InputError(fmt::format("store {}: cannot read it: {}", path, e.what()));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(
        fmt::format("store {}: a stored configuration attribute is damaged: {}", path, e.what()));
  }
  if (!v.problems.empty()) {
    if (v.problems.size() == 1 && v.problems[0].find("is not a prh store") != std::string::npos)
      throw InputError(v.problems[0] + "; use another `store` path");
    throw InputError(refusal(path, v.problems));
  }
  plan.create = v.incomplete;
  plan.new_sets = v.new_sets;
  plan.new_models = v.new_models;
  plan.unwritten_sets = v.unwritten_sets;
  return plan;
}

void create_or_extend_store(const std::string& path, const StoreLayout& layout,
                            const StorePlan& plan, MPI_Comm comm) {
  if (!plan.create && plan.new_sets.empty() && plan.new_models.empty()) return;
  h5::quiet();
  const std::set<std::string> new_sets(plan.new_sets.begin(), plan.new_sets.end());
  const std::set<std::string> new_models(plan.new_models.begin(), plan.new_models.end());
  // Collective metadata: every rank makes the same calls in the same order
  // (serial HDF5: rank 0 alone).
  h5::Handle fapl = kParallelHdf5 ? h5::fapl_mpio(comm) : h5::fapl_default();
  h5::Handle file;
  if (plan.create) {
    file = h5::try_create_file(path, fapl.id());
    if (!file)
      throw InputError(fmt::format("{}: cannot create the store: {}", path, h5::error_stack()));
    const h5::Id f = file.id();
    const auto attr = [](std::string_view name) {
      return schema::store().attr(schema::kStoreRoot, name);
    };
    h5::write_attr(f, attr("format"), std::string(paths::kStoreFormat));
    h5::write_attr(f, attr("prh_version"), std::string(kVersion));
    h5::write_attr(f, attr("config_file"), layout.config_file);
    h5::write_attr(f, attr("embed_params"), layout.embed_params.dump());
    h5::write_attr(f, attr("shard_size"), static_cast<std::int64_t>(layout.shard_size));
    h5::create_group(f, schema::store().path(schema::kStoreSets, {}));
    h5::create_group(f, schema::store().path(schema::kStoreModels, {}));
  } else {
    file = h5::try_open_file(path, /*write=*/true, fapl.id());
    if (!file)
      throw InputError(fmt::format("{}: cannot open the store: {}", path, h5::error_stack()));
  }
  const h5::Id f = file.id();
  for (const auto& m : layout.models)
    if (plan.create || new_models.count(m.name)) create_model(f, m);
  for (const auto& s : layout.sets) {
    const bool set_is_new = plan.create || new_sets.count(s.name);
    if (set_is_new) create_set(f, s);
    for (const auto& m : layout.models)
      if ((set_is_new || new_models.count(m.name)) && m.in_set(s.name) && !s.view())
        create_item(f, layout, s, m);
  }
  file.reset();  // collective close: all metadata is in the file
}

void finish_store_metadata(const std::string& path, const StoreLayout& layout,
                           const StorePlan& plan) {
  std::set<std::string> unwritten(plan.unwritten_sets.begin(), plan.unwritten_sets.end());
  if (plan.create) unwritten.clear();
  for (const auto& s : layout.sets)
    if (plan.create || std::count(plan.new_sets.begin(), plan.new_sets.end(), s.name))
      unwritten.insert(s.name);
  if (!plan.create && unwritten.empty()) return;
  h5::quiet();
  // Serial, rank 0 alone: ids and labels, then the completion flag.
  h5::Handle file = h5::try_open_file(path, /*write=*/true);
  if (!file) throw InternalError(fmt::format("{}: cannot reopen: {}", path, h5::error_stack()));
  const h5::Id f = file.id();
  for (const auto& s : layout.sets)
    if (unwritten.count(s.name)) write_set_metadata(f, s);
  h5::write_attr(f, schema::store().attr(schema::kStoreRoot, "complete"), std::int64_t{1});
}

std::unique_ptr<ItemWriter> open_item_writer(const std::string& path, const StoreLayout& layout,
                                             MPI_Comm comm) {
  h5::quiet();
  return std::make_unique<MpioWriter>(path, layout, comm);
}

void to_json(nlohmann::json& j, const StorePlan& p) {
  j = {{"create", p.create},
       {"new_sets", p.new_sets},
       {"new_models", p.new_models},
       {"unwritten_sets", p.unwritten_sets}};
}

void from_json(const nlohmann::json& j, StorePlan& p) {
  p.create = j.at("create").get<bool>();
  p.new_sets = j.at("new_sets").get<std::vector<std::string>>();
  p.new_models = j.at("new_models").get<std::vector<std::string>>();
  p.unwritten_sets = j.at("unwritten_sets").get<std::vector<std::string>>();
}

// ---- job arrays: one part file per work item ------------------------------

namespace {

namespace fs = std::filesystem;
constexpr const char* kPartFormat = paths::kPartFormat;

// The part's header (attribute "item"), checked against what the caller expects.
json read_part_header(h5::Id f, const std::string& path, const json& fingerprint) {
  const std::string item_attr = schema::part().attr(schema::kPartRoot, "item");
  PRH_CHECK_INPUT(detail::string_attr_or(f, schema::part().attr(schema::kPartRoot, "format"), "") ==
                          kPartFormat &&
                      h5::has_attr(f, item_attr),
                  "{}: not a prh part file (no format attribute '{}')", path, kPartFormat);
  const json item = detail::json_attr(f, item_attr);
  const json& made = item.at("fingerprint");
  // Parts of a prh that did not record the model's sidecar cannot be
  // checked against it: refused, never merged unchecked.
  PRH_CHECK_INPUT(!fingerprint.at("model").contains("sidecar") ||
                      (made.contains("model") && made.at("model").contains("sidecar")),
                  "{}: this part was made by an older prh that did not record the model's "
                  "sidecar (preprocessing), so it cannot be checked against the current one. "
                  "Delete it to embed that work item again.",
                  path);
  std::vector<std::string> changed;
  detail::json_diff(detail::float_view(made), detail::float_view(fingerprint), "", changed);
  if (!changed.empty()) {
    std::string msg = fmt::format(
        "{}: this part (work item of an embed job array) was made with another configuration, "
        "so merging it would mix incompatible features. What changed:",
        path);
    for (const auto& c : changed) msg += "\n  - " + c;
    msg += fmt::format(
        "\nDelete it (or all of {}) to embed those items again, or restore the old settings.",
        fs::path(path).parent_path().parent_path().parent_path().string());
    throw InputError(msg);
  }
  return item;
}

void check_part_header(const std::string& path, const json& fingerprint) {
  auto file = h5::open_file_readonly(path);
  read_part_header(file.id(), path, fingerprint);
}

struct PendingItem {
  std::int64_t row0 = 0, rows = 0;
  std::vector<float> features;
  std::vector<std::int64_t> top1;
  std::vector<float> prob;
};

// Writes a part atomically: a temporary file in the same directory, renamed.
void write_part(const std::string& path, const json& fingerprint, const std::string& dtype,
                std::int64_t shard, std::int64_t layers, std::int64_t dmax, const PendingItem& p,
                const std::vector<std::int64_t>& skipped) {
  const fs::path dir = fs::path(path).parent_path();
  fs::create_directories(dir);
  // Temporaries of this part left by a killed or requeued task.
  const std::string stale = fs::path(path).filename().string() + ".tmp.";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string().rfind(stale, 0) == 0) fs::remove(e.path(), ec);
  write_atomically(
      path,
      [&](const std::string& tmp) {
        h5::Handle file = h5::try_create_file(tmp);
        if (!file) throw InputError(fmt::format("{}: cannot create: {}", tmp, h5::error_stack()));
        const h5::Id f = file.id();
        h5::write_attr(f, schema::part().attr(schema::kPartRoot, "format"),
                       std::string(kPartFormat));
        h5::write_attr(f, schema::part().attr(schema::kPartRoot, "item"),
                       json{{"fingerprint", fingerprint},
                            {"shard", shard},
                            {"row0", p.row0},
                            {"rows", p.rows},
                            {"layers", layers},
                            {"dmax", dmax},
                            {"skipped", skipped},
                            {"prh_version", kVersion}}
                           .dump());
        h5::Handle f16;
        const auto n = static_cast<h5::hsize>(p.rows);
        const auto L = static_cast<h5::hsize>(layers), D = static_cast<h5::hsize>(dmax);
        auto ds = h5::create_dataset(f, schema::part().child(schema::kPartRoot, "features"),
                                     feature_type(dtype, f16), {n, L, D}, false);
        h5::write_box(ds.id(), h5::native_float(), {0, 0, 0}, {n, L, D}, p.features.data());
        if (!p.top1.empty()) {
          auto t = h5::create_dataset(f, schema::part().child(schema::kPartRoot, "top1"),
                                      h5::std_i64le(), {n}, false);
          h5::write_box(t.id(), h5::native_int64(), {0}, {n}, p.top1.data());
          auto q = h5::create_dataset(f, schema::part().child(schema::kPartRoot, "prob"),
                                      h5::ieee_f32le(), {n}, false);
          h5::write_box(q.id(), h5::native_float(), {0}, {n}, p.prob.data());
        }
      },
      fmt::format(".tmp.{}",
                  ::getpid()));  // closed: every byte is in the file before it gets its name
}

class ArrayTaskWriter : public ItemWriter {
 public:
  ArrayTaskWriter(const std::string& store, const StoreLayout& layout,
                  const std::vector<bool>& used)
      : store_(store), layout_(layout) {
    done_.resize(layout.sets.size());
    for (std::size_t s = 0; s < layout.sets.size(); ++s)
      for (std::size_t m = 0; m < layout.models.size(); ++m)
        done_[s].emplace_back(static_cast<std::size_t>(layout.shards(layout.sets[s].n)), 0);
    pending_.resize(layout.sets.size() * layout.models.size());
    skipped_.resize(layout.sets.size());
    if (!fs::exists(store)) return;
    StoreLayout mine = layout;
    mine.models.clear();
    for (std::size_t m = 0; m < layout.models.size(); ++m)
      if (used[m]) mine.models.push_back(layout.models[m]);
    const Verdict v = inspect(store, mine);
    if (!v.problems.empty()) throw InputError(refusal(store, v.problems));
    if (v.incomplete) return;  // its creation never finished: nothing is done there
    auto file = h5::open_file_readonly(store);
    for (std::size_t s = 0; s < layout.sets.size(); ++s)
      for (std::size_t m = 0; m < layout.models.size(); ++m) {
        const auto p = paths::item_dataset(layout.sets[s].name, layout.models[m].name, "done");
        auto& flags = done_[s][m];
        if (!used[m] || flags.empty() || !h5::exists(file.id(), p)) continue;
        auto ds = h5::open_dataset(file.id(), p);
        h5::read_box(ds.id(), h5::native_uint8(), {0}, {flags.size()}, flags.data());
      }
  }

  void write_rows(int set, int model, std::int64_t row0, std::int64_t rows,
                  const std::vector<float>& features, const std::vector<std::int64_t>& top1,
                  const std::vector<float>& prob) override {
    auto& p = pending(set, model);
    const auto& m = layout_.models[static_cast<std::size_t>(model)];
    PRH_ASSERT(features.size() == static_cast<std::size_t>(rows) * m.layer_dims.size() * max_dim(m),
               "write_rows: {} floats for {} rows", features.size(), rows);
    p.row0 = row0;
    p.rows = rows;
    p.features = features;
    p.top1 = m.classes > 0 ? top1 : std::vector<std::int64_t>{};
    p.prob = m.classes > 0 ? prob : std::vector<float>{};
  }

  void mark_skipped(int set, std::int64_t row) override {
    skipped_[static_cast<std::size_t>(set)].push_back(row);
  }

  void mark_done(int set, int model, std::int64_t shard) override {
    auto& p = pending(set, model);
    const auto& m = layout_.models[static_cast<std::size_t>(model)];
    auto& sk = skipped_[static_cast<std::size_t>(set)];
    std::vector<std::int64_t> mine;
    for (auto r : sk)
      if (r >= p.row0 && r < p.row0 + p.rows) mine.push_back(r);
    std::sort(mine.begin(), mine.end());
    mine.erase(std::unique(mine.begin(), mine.end()), mine.end());
    write_part(path(set, model, shard), part_fingerprint(layout_, set, model),
               layout_.feature_dtype, shard, static_cast<std::int64_t>(m.layer_dims.size()),
               max_dim(m), p, mine);
    p = PendingItem{};
    done_[static_cast<std::size_t>(set)][static_cast<std::size_t>(model)]
         [static_cast<std::size_t>(shard)] = 1;
  }

  bool is_done(int set, int model, std::int64_t shard) const override {
    auto& flag = done_[static_cast<std::size_t>(set)][static_cast<std::size_t>(model)]
                      [static_cast<std::size_t>(shard)];
    if (flag) return true;
    const auto p = path(set, model, shard);
    if (!fs::exists(p)) return false;
    check_part_header(p, part_fingerprint(layout_, set, model));  // refuses another config
    flag = 1;
    return true;
  }

 private:
  std::string path(int set, int model, std::int64_t shard) const {
    return part_path(store_, layout_.sets[static_cast<std::size_t>(set)].name,
                     layout_.models[static_cast<std::size_t>(model)].name, shard);
  }
  PendingItem& pending(int set, int model) {
    return pending_[static_cast<std::size_t>(set) * layout_.models.size() +
                    static_cast<std::size_t>(model)];
  }
  std::string store_;
  StoreLayout layout_;
  mutable std::vector<std::vector<std::vector<std::uint8_t>>> done_;
  std::vector<PendingItem> pending_;
  std::vector<std::vector<std::int64_t>> skipped_;
};

}  // namespace

std::string parts_dir(const std::string& store) {
  return store + ".parts";
}

std::string part_path(const std::string& store, const std::string& set, const std::string& model,
                      std::int64_t shard) {
  return fmt::format("{}/{}/{}/{:06d}.h5", parts_dir(store), set, model, shard);
}

std::vector<std::string> list_parts(const std::string& store) {
  std::vector<std::string> out;
  std::error_code ec;
  const fs::path dir = parts_dir(store);
  if (!fs::is_directory(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->is_regular_file(ec) && it->path().extension() == ".h5")
      out.push_back(it->path().string());
  std::sort(out.begin(), out.end());
  return out;
}

json part_fingerprint(const StoreLayout& layout, int set, int model) {
  const auto& s = layout.sets[static_cast<std::size_t>(set)];
  const auto& m = layout.models[static_cast<std::size_t>(model)];
  return {{"embed_params", layout.embed_params},
          {"shard_size", layout.shard_size},
          {"feature_dtype", layout.feature_dtype},
          {"image_set", {{"name", s.name}, {"spec", s.spec}, {"n", s.n}}},
          {"model",
           {{"name", m.name},
            {"spec", m.spec},
            {"layer_dims", m.layer_dims},
            {"classes", m.classes},
            {"sidecar", m.sidecar},
            {"layer_names", m.layer_names}}}};
}

ItemPart read_part(const std::string& path, const json& fingerprint, std::int64_t shard,
                   std::int64_t row0, std::int64_t rows, std::int64_t layers, std::int64_t dmax) {
  h5::quiet();
  auto file = h5::open_file_readonly(path);
  const h5::Id f = file.id();
  const json item = read_part_header(f, path, fingerprint);
  ItemPart p;
  p.shard = item.at("shard").get<std::int64_t>();
  p.row0 = item.at("row0").get<std::int64_t>();
  p.rows = item.at("rows").get<std::int64_t>();
  PRH_CHECK_INPUT(p.shard == shard && p.row0 == row0 && p.rows == rows &&
                      item.at("layers").get<std::int64_t>() == layers &&
                      item.at("dmax").get<std::int64_t>() == dmax,
                  "{}: holds shard {} (rows {}..{}, {} layers x {}), expected shard {} (rows "
                  "{}..{}, {} layers x {})",
                  path, p.shard, p.row0, p.row0 + p.rows, item.at("layers").get<std::int64_t>(),
                  item.at("dmax").get<std::int64_t>(), shard, row0, row0 + rows, layers, dmax);
  p.skipped = item.at("skipped").get<std::vector<std::int64_t>>();
  const auto n = static_cast<h5::hsize>(rows);
  auto ds = h5::open_dataset(file, path, schema::part().child(schema::kPartRoot, "features"));
  PRH_CHECK_INPUT(
      h5::dataset_shape(ds) ==
          (std::vector<h5::hsize>{n, static_cast<h5::hsize>(layers), static_cast<h5::hsize>(dmax)}),
      "{}: features have the wrong shape", path);
  p.features.resize(static_cast<std::size_t>(rows * layers * dmax));
  h5::read_box(ds.id(), h5::native_float(), {0, 0, 0},
               {n, static_cast<h5::hsize>(layers), static_cast<h5::hsize>(dmax)},
               p.features.data());
  if (fingerprint.at("model").at("classes").get<std::int64_t>() > 0) {
    auto t = h5::open_dataset(file, path, schema::part().child(schema::kPartRoot, "top1"));
    auto q = h5::open_dataset(file, path, schema::part().child(schema::kPartRoot, "prob"));
    p.top1.resize(n);
    p.prob.resize(n);
    h5::read_box(t.id(), h5::native_int64(), {0}, {n}, p.top1.data());
    h5::read_box(q.id(), h5::native_float(), {0}, {n}, p.prob.data());
  }
  return p;
}

void check_part(const std::string& path, const json& fingerprint) {
  h5::quiet();
  check_part_header(path, fingerprint);
}

std::unique_ptr<ItemWriter> open_for_array_task(const std::string& store, const StoreLayout& layout,
                                                const std::vector<bool>& used) {
  h5::quiet();
  return std::make_unique<ArrayTaskWriter>(store, layout, used);
}

StoreSummary read_summary(const std::string& path) {
  h5::quiet();
  auto file = h5::open_file_readonly(path);
  const h5::Id f = file.id();
  PRH_CHECK_INPUT(is_store(f), "{}: not a prh store", path);
  StoreSummary out;
  out.config_file =
      h5::read_attr_string(f, schema::store().attr(schema::kStoreRoot, "config_file"));
  out.embed_params = detail::json_attr(f, schema::store().attr(schema::kStoreRoot, "embed_params"));
  // Iterate sets and their models in name order.
  auto names = [](h5::Id parent, const std::string& group) {
    if (!h5::exists(parent, group)) return std::vector<std::string>{};
    auto g = h5::open_group(parent, group);
    return h5::members_by_name(g.id());
  };
  const std::string view_of = schema::store().attr(schema::kStoreSet, "view_of");
  for (const auto& s : names(f, schema::store().path(schema::kStoreSets, {}))) {
    auto g = h5::open_group(f, set_path(s));
    if (h5::has_attr(g.id(), view_of)) out.views[s] = h5::read_attr_string(g.id(), view_of);
    for (const auto& m : names(f, paths::set_models(s))) {
      auto done = h5::open_dataset(f, paths::item_dataset(s, m, "done"));
      const auto shape = h5::dataset_shape(done);
      std::vector<std::uint8_t> flags(shape.empty() ? 0 : shape[0]);
      if (!flags.empty())
        h5::read_box(done.id(), h5::native_uint8(), {0}, {flags.size()}, flags.data());
      ItemProgress p{s, m, 0, static_cast<std::int64_t>(flags.size())};
      for (auto x : flags) p.done += x != 0;
      out.items.push_back(p);
    }
  }
  return out;
}

}  // namespace prh::store
