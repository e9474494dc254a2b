#include "prh/store/embedding_reader.hpp"

#include "h5.hpp"
#include "json_attr.hpp"
#include "paths.hpp"
#include "prh/core/error.hpp"
#include "store_schema.hpp"

namespace prh::store {

namespace {

using json = nlohmann::json;

using paths::item_dataset;

std::int64_t read_attr_int(h5::Id obj, const std::string& name) {
  return h5::read_attr_int(obj, name);
}

std::vector<std::int64_t> read_attr_ints(h5::Id obj, const std::string& name) {
  return h5::read_attr_ints(obj, name);
}

template <typename T>
std::vector<T> read_vector(h5::Id file, const std::string& path, h5::Id type) {
  auto ds = h5::open_dataset(file, path);
  const auto shape = h5::dataset_shape(ds);
  std::vector<T> v(shape.empty() ? 0 : shape[0]);
  if (!v.empty()) h5::read_box(ds.id(), type, {0}, {v.size()}, v.data());
  return v;
}

}  // namespace

StoreReader::StoreReader(const std::string& path) : path_(path) {
  h5::quiet();
  file_ = std::make_shared<h5::Handle>(h5::open_file_readonly(path));
  const h5::Id f = file_->id();
  PRH_CHECK_INPUT(detail::string_attr_or(f, schema::store().attr(schema::kStoreRoot, "format"),
                                         "") == paths::kStoreFormat,
                  "{}: not a prh embedding store (no format attribute '{}')", path,
                  paths::kStoreFormat);
  PRH_CHECK_INPUT(h5::has_attr(f, schema::store().attr(schema::kStoreRoot, "complete")),
                  "{}: the store's creation never finished; run `prh embed` on it first", path);
  shard_size_ = read_attr_int(f, schema::store().attr(schema::kStoreRoot, "shard_size"));
}

json StoreReader::embed_params() const {
  return detail::json_attr(file_->id(), schema::store().attr(schema::kStoreRoot, "embed_params"));
}

bool StoreReader::has_set(const std::string& set) const {
  return h5::exists(file_->id(), paths::set(set));
}
bool StoreReader::has_model(const std::string& model) const {
  return h5::exists(file_->id(), paths::model(model));
}
std::string StoreReader::view_of(const std::string& set) const {
  if (!has_set(set)) return {};
  const std::string view_of = schema::store().attr(schema::kStoreSet, "view_of");
  auto g = h5::open_group(file_->id(), paths::set(set));
  if (!h5::has_attr(g.id(), view_of)) return {};
  const std::string base = h5::read_attr_string(g.id(), view_of);
  PRH_CHECK_INPUT(!base.empty() && base != set && has_set(base) &&
                      !h5::has_attr(h5::open_group(file_->id(), paths::set(base)).id(), view_of),
                  "{}: image set '{}' is a view of '{}', which is not an embedded set of the store",
                  path_, set, base);
  return base;
}

std::vector<std::int64_t> StoreReader::view_rows(const std::string& set) const {
  const std::string base = view_of(set);
  if (base.empty()) return {};
  auto rows =
      read_vector<std::int64_t>(file_->id(), paths::set_dataset(set, "rows"), h5::native_int64());
  const auto n = read_attr_int(h5::open_group(file_->id(), paths::set(base)).id(),
                               schema::store().attr(schema::kStoreSet, "n"));
  for (auto r : rows)
    PRH_CHECK_INPUT(r >= 0 && r < n, "{}: view '{}' names row {} of '{}', which has {} rows", path_,
                    set, r, base, n);
  return rows;
}

bool StoreReader::has_item(const std::string& set, const std::string& model) const {
  const std::string base = view_of(set);
  return h5::exists(file_->id(), item_dataset(base.empty() ? set : base, model, "done"));
}

StoredSet StoreReader::set(const std::string& name) const {
  PRH_CHECK_INPUT(has_set(name), "{}: has no image set '{}'", path_, name);
  auto g = h5::open_group(file_->id(), paths::set(name));
  StoredSet s;
  s.name = name;
  s.spec = detail::json_attr(g.id(), schema::store().attr(schema::kStoreSet, "spec"));
  s.n = read_attr_int(g.id(), schema::store().attr(schema::kStoreSet, "n"));
  s.labels = read_vector<std::int64_t>(g.id(), schema::store().child(schema::kStoreSet, "labels"),
                                       h5::native_int64());
  if (const std::string base = view_of(name); !base.empty()) {
    // A view's image is bad where its base's is (the same image).
    const auto b = set(base);
    for (auto r : view_rows(name)) s.skipped.push_back(b.skipped[static_cast<std::size_t>(r)]);
  } else {
    s.skipped = read_vector<std::uint8_t>(
        g.id(), schema::store().child(schema::kStoreSet, "skipped"), h5::native_uint8());
  }
  PRH_CHECK_INPUT(static_cast<std::int64_t>(s.labels.size()) == s.n &&
                      static_cast<std::int64_t>(s.skipped.size()) == s.n,
                  "{}: image set '{}' has inconsistent sizes", path_, name);
  return s;
}

StoredModel StoreReader::model(const std::string& name) const {
  PRH_CHECK_INPUT(has_model(name), "{}: has no model '{}'", path_, name);
  auto g = h5::open_group(file_->id(), paths::model(name));
  const auto attr = [](std::string_view a) { return schema::store().attr(schema::kStoreModel, a); };
  StoredModel m;
  m.name = name;
  m.spec = detail::json_attr(g.id(), attr("spec"));
  m.layer_dims = read_attr_ints(g.id(), attr("layer_dims"));
  m.layer_names = detail::json_attr_strings(g.id(), attr("layer_names"));
  m.classes = read_attr_int(g.id(), attr("classes"));
  m.parameters = read_attr_int(g.id(), attr("parameters"));
  return m;
}

std::vector<std::uint8_t> StoreReader::done(const std::string& set,
                                            const std::string& model) const {
  if (!has_item(set, model)) return {};
  const std::string base = view_of(set);
  return read_vector<std::uint8_t>(
      file_->id(), item_dataset(base.empty() ? set : base, model, "done"), h5::native_uint8());
}

metrics::MatrixF StoreReader::read_layer(const std::string& set, const std::string& model,
                                         int layer, std::int64_t dim) const {
  if (const std::string base = view_of(set); !base.empty()) {
    // The base's rows, bit for bit.
    const metrics::MatrixF all = read_layer(base, model, layer, dim);
    const auto rows = view_rows(set);
    metrics::MatrixF x(static_cast<metrics::Index>(rows.size()), dim);
    for (std::size_t i = 0; i < rows.size(); ++i)
      x.row(static_cast<metrics::Index>(i)) = all.row(static_cast<metrics::Index>(rows[i]));
    return x;
  }
  auto ds = h5::open_dataset(file_->id(), item_dataset(set, model, "features"));
  const auto shape = h5::dataset_shape(ds);
  PRH_CHECK_INPUT(shape.size() == 3 && layer >= 0 && static_cast<h5::hsize>(layer) < shape[1] &&
                      dim >= 1 && static_cast<h5::hsize>(dim) <= shape[2],
                  "{}: features of model '{}' on set '{}' do not hold layer {} of dimension {}",
                  path_, model, set, layer, dim);
  metrics::MatrixF x(static_cast<metrics::Index>(shape[0]), dim);
  if (shape[0] > 0)
    h5::read_box(ds.id(), h5::native_float(), {0, static_cast<h5::hsize>(layer), 0},
                 {shape[0], 1, static_cast<h5::hsize>(dim)}, x.data());
  return x;
}

void StoreReader::read_predictions(const std::string& set, const std::string& model,
                                   std::vector<std::int64_t>& top1,
                                   std::vector<float>& prob) const {
  top1.clear();
  prob.clear();
  if (const std::string base = view_of(set); !base.empty()) {
    std::vector<std::int64_t> t;
    std::vector<float> q;
    read_predictions(base, model, t, q);
    if (t.empty()) return;
    for (auto r : view_rows(set)) {
      top1.push_back(t[static_cast<std::size_t>(r)]);
      prob.push_back(q[static_cast<std::size_t>(r)]);
    }
    return;
  }
  const std::string top1_path = item_dataset(set, model, "top1");
  if (!h5::exists(file_->id(), top1_path)) return;
  top1 = read_vector<std::int64_t>(file_->id(), top1_path, h5::native_int64());
  prob = read_vector<float>(file_->id(), item_dataset(set, model, "prob"), h5::native_float());
}

}  // namespace prh::store
