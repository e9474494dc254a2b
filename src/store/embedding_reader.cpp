#include "prh/store/embedding_reader.hpp"

#include "h5.hpp"
#include "json_attr.hpp"
#include "paths.hpp"
#include "prh/core/error.hpp"

namespace prh::store {

namespace {

using json = nlohmann::json;

std::string item_path(const std::string& set, const std::string& model) {
  return paths::item(set, model);
}

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
  PRH_CHECK_INPUT(
      h5::has_attr(f, "format") && h5::read_attr_string(f, "format") == paths::kStoreFormat,
      "{}: not a prh embedding store (no format attribute 'prh-store-1')", path);
  PRH_CHECK_INPUT(h5::has_attr(f, "complete"),
                  "{}: the store's creation never finished; run `prh embed` on it first", path);
  shard_size_ = read_attr_int(f, "shard_size");
}

json StoreReader::embed_params() const {
  return detail::json_attr(file_->id(), "embed_params");
}

bool StoreReader::has_set(const std::string& set) const {
  return h5::exists(file_->id(), paths::set(set));
}
bool StoreReader::has_model(const std::string& model) const {
  return h5::exists(file_->id(), "/models/" + model);
}
bool StoreReader::has_item(const std::string& set, const std::string& model) const {
  return h5::exists(file_->id(), item_path(set, model) + "/done");
}

StoredSet StoreReader::set(const std::string& name) const {
  PRH_CHECK_INPUT(has_set(name), "{}: has no image set '{}'", path_, name);
  auto g = h5::open_group(file_->id(), paths::set(name));
  StoredSet s;
  s.name = name;
  s.spec = detail::json_attr(g.id(), "spec");
  s.n = read_attr_int(g.id(), "n");
  s.labels = read_vector<std::int64_t>(g.id(), "labels", h5::native_int64());
  s.skipped = read_vector<std::uint8_t>(g.id(), "skipped", h5::native_uint8());
  PRH_CHECK_INPUT(static_cast<std::int64_t>(s.labels.size()) == s.n &&
                      static_cast<std::int64_t>(s.skipped.size()) == s.n,
                  "{}: image set '{}' has inconsistent sizes", path_, name);
  return s;
}

StoredModel StoreReader::model(const std::string& name) const {
  PRH_CHECK_INPUT(has_model(name), "{}: has no model '{}'", path_, name);
  auto g = h5::open_group(file_->id(), "/models/" + name);
  StoredModel m;
  m.name = name;
  m.spec = detail::json_attr(g.id(), "spec");
  m.layer_dims = read_attr_ints(g.id(), "layer_dims");
  m.layer_names = detail::json_attr_strings(g.id(), "layer_names");
  m.classes = read_attr_int(g.id(), "classes");
  m.parameters = read_attr_int(g.id(), "parameters");
  return m;
}

std::vector<std::uint8_t> StoreReader::done(const std::string& set,
                                            const std::string& model) const {
  if (!has_item(set, model)) return {};
  return read_vector<std::uint8_t>(file_->id(), item_path(set, model) + "/done",
                                   h5::native_uint8());
}

metrics::MatrixF StoreReader::read_layer(const std::string& set, const std::string& model,
                                         int layer, std::int64_t dim) const {
  auto ds = h5::open_dataset(file_->id(), item_path(set, model) + "/features");
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
  const std::string p = item_path(set, model);
  if (!h5::exists(file_->id(), p + "/top1")) return;
  top1 = read_vector<std::int64_t>(file_->id(), p + "/top1", h5::native_int64());
  prob = read_vector<float>(file_->id(), p + "/prob", h5::native_float());
}

}  // namespace prh::store
