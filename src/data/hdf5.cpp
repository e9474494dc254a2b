// HDF5 image arrays (read only): a uint8 dataset [N, H, W] (grey) or
// [N, H, W, C] with C in {1, 3} (RGB when 3), an optional labels dataset [N]
// of any integer type, and a limit (the first `limit` images; 0 = all).
//
// The file is opened read-only once per source and closed with it; each get()
// reads one image by hyperslab, so the array never has to fit in memory.
// Debian's parallel HDF5 is not built thread-safe, so every HDF5 call in this
// file runs under one process-wide mutex (a per-source mutex would not do:
// the library's global state is shared by all open files).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "detail.hpp"
#include "h5.hpp"
#include "prh/core/error.hpp"
#include "prh/core/limits.hpp"

namespace prh::data::detail {

namespace {

std::mutex& h5_mutex() {
  static std::mutex m;
  return m;
}

// Create, move and destroy handles only while holding h5_mutex().
using Hid = h5::Handle;

using h5::error_stack;
using h5::type_name;

using hsize = h5::hsize;

std::vector<hsize> shape(const Hid& dataset) {
  return h5::dataset_shape(dataset);
}

std::string shape_str(const std::vector<hsize>& dims) {
  return fmt::format("[{}]", fmt::join(dims, ", "));
}

// Opens `dataset` of `file` (a path like "images" or "/group/images"), checking
// it link by link so that a missing group or a group in its place is named.
// dapl: the dataset access property list (h5::kDefault or a chunk cache).
Hid open_dataset(h5::Id file, const std::string& where, const std::string& dataset, h5::Id dapl) {
  PRH_CHECK_INPUT(!dataset.empty() && dataset != "/", "{}: the dataset path is empty", where);
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    const std::size_t next = dataset.find('/', pos + 1);
    const std::string prefix = dataset.substr(0, next);
    if (!prefix.empty() && prefix != "/" && prefix.back() != '/') {
      PRH_CHECK_INPUT(h5::exists(file, prefix), "{}: no such dataset in the file (no object '{}')",
                      where, prefix);
    }
    pos = next;
  }
  {
    Hid obj = h5::try_open_object(file, dataset);
    PRH_CHECK_INPUT(obj, "{}: cannot open it: {}", where, error_stack());
    const h5::Kind kind = h5::kind_of(obj);
    PRH_CHECK_INPUT(kind == h5::Kind::dataset, "{}: not a dataset (it is a {})", where,
                    kind == h5::Kind::group      ? "group"
                    : kind == h5::Kind::datatype ? "named datatype"
                                                 : "?");
  }
  Hid d = h5::try_open_dataset(file, dataset, dapl);
  PRH_CHECK_INPUT(d, "{}: cannot open the dataset: {}", where, error_stack());
  return d;
}

// A chunk cache big enough for two chunks of the images (HDF5's default of
// 1 MiB holds no chunk of, say, 64 RGB images of 224 x 224, so reading them
// one by one would re-read and re-decompress each chunk 64 times).
Hid image_access(const Hid& dataset) {
  const std::vector<hsize> chunk = h5::chunk_dims(dataset);
  if (chunk.empty()) return Hid();  // not chunked: the default access list
  std::size_t bytes = 1;
  for (const hsize c : chunk) bytes *= static_cast<std::size_t>(c);
  const std::size_t want =
      std::clamp<std::size_t>(2 * bytes, std::size_t{1} << 20, std::size_t{256} << 20);
  return h5::dapl_chunk_cache(want);
}

class Hdf5Source final : public ShapedSource {
 public:
  // Takes the handles while the caller holds h5_mutex().
  Hdf5Source(std::string file, std::string dataset, Hid h5file, Hid images, std::int64_t count,
             int height, int width, int channels, std::vector<std::int64_t> labels)
      : ShapedSource(fmt::format("hdf5 source {}:{}", file, dataset), count, height, width,
                     channels, std::move(labels)),
        file_(std::move(file)),
        dataset_(std::move(dataset)),
        h5file_(std::move(h5file)),
        images_(std::move(images)) {}

  ~Hdf5Source() override {
    std::lock_guard<std::mutex> lock(h5_mutex());
    images_.reset();
    h5file_.reset();
  }

  Hdf5Source(const Hdf5Source&) = delete;
  Hdf5Source& operator=(const Hdf5Source&) = delete;

  std::string id(std::int64_t i) const override {
    check(i);
    return fmt::format("{}:{}#{}", file_, dataset_, i);
  }

 private:
  void read_pixels(std::int64_t i, std::uint8_t* out) const override {
    std::lock_guard<std::mutex> lock(h5_mutex());
    const std::vector<hsize> start = {static_cast<hsize>(i), 0, 0, 0};
    const std::vector<hsize> count = {1, static_cast<hsize>(height()), static_cast<hsize>(width()),
                                      static_cast<hsize>(channels())};
    try {
      h5::read_box(images_.id(), h5::native_uint8(), start, count, out);
    } catch (const InputError& e) {
      throw InputError(
          fmt::format("{}:{}: cannot read image {}: {}", file_, dataset_, i, e.what()));
    }
  }

  std::string file_, dataset_;
  Hid h5file_, images_;  // guarded by h5_mutex()
};

// The first n labels of `path` in `file`, which must be integers [total].
std::vector<std::int64_t> read_labels(h5::Id file, const std::string& file_path,
                                      const std::string& path, hsize total, std::int64_t n,
                                      const std::string& images, const std::string& what) {
  const std::string where =
      fmt::format("{}: hdf5 file '{}', labels dataset '{}'", what, file_path, path);
  Hid d = open_dataset(file, where, path, h5::kDefault);
  {
    Hid type = h5::dataset_type(d);
    PRH_CHECK_INPUT(h5::type_class(type.id()) == h5::Class::integer,
                    "{}: labels must be integers, got {}", where, type_name(type.id()));
  }
  const std::vector<hsize> dims = shape(d);
  PRH_CHECK_INPUT(dims.size() == 1, "{}: labels must be 1-dimensional [N], got shape {}", where,
                  shape_str(dims));
  PRH_CHECK_INPUT(dims[0] == total, "{}: {} labels, but dataset '{}' holds {} images", where,
                  dims[0], images, total);
  std::vector<std::int64_t> labels(static_cast<std::size_t>(n));
  if (n == 0) return labels;
  try {
    h5::read_box(d.id(), h5::native_int64(), {0}, {static_cast<hsize>(n)}, labels.data());
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: cannot read the labels: {}", where, e.what()));
  }
  return labels;
}

}  // namespace

std::unique_ptr<Source> make_hdf5_source(const nlohmann::json& spec, const std::string& what) {
  const Spec sp(spec, "hdf5", what);
  const std::string file = sp.str("file");
  const std::string dataset = sp.str("dataset");
  const std::string labels_path = sp.str("labels");
  const std::int64_t limit = sp.integer("limit");
  PRH_CHECK_INPUT(!file.empty(), "{}: hdf5 source needs 'file' (an HDF5 file path)", what);
  PRH_CHECK_INPUT(!dataset.empty(), "{}: hdf5 source needs 'dataset' (a dataset path in {})", what,
                  file);
  const std::string where = fmt::format("{}: hdf5 file '{}', dataset '{}'", what, file, dataset);
  std::error_code ec;
  PRH_CHECK_INPUT(std::filesystem::is_regular_file(file, ec), "{}: the file does not exist", where);

  std::lock_guard<std::mutex> lock(h5_mutex());  // before any Hid: they close under it
  h5::quiet();
  PRH_CHECK_INPUT(h5::is_hdf5(file) > 0, "{}: not an HDF5 file", where);
  Hid h5file = h5::try_open_file(file, /*write=*/false);
  PRH_CHECK_INPUT(h5file, "{}: cannot open the file: {}", where, error_stack());

  Hid images = open_dataset(h5file.id(), where, dataset, h5::kDefault);
  {
    Hid type = h5::dataset_type(images);
    PRH_CHECK_INPUT(h5::type_class(type.id()) == h5::Class::integer &&
                        h5::type_size(type.id()) == 1 && h5::type_is_unsigned(type.id()),
                    "{}: images must be uint8, got {}", where, type_name(type.id()));
  }
  const std::vector<hsize> dims = shape(images);
  PRH_CHECK_INPUT(dims.size() == 3 || dims.size() == 4,
                  "{}: images must be [N, H, W] (grey) or [N, H, W, C] with C = 1 or 3, got shape "
                  "{}",
                  where, shape_str(dims));
  const hsize n = dims[0], h = dims[1], w = dims[2], c = dims.size() == 4 ? dims[3] : 1;
  PRH_CHECK_INPUT(c == 1 || c == 3,
                  "{}: images [N, H, W, C] must have C = 1 (grey) or 3 (RGB) channels, got shape "
                  "{}",
                  where, shape_str(dims));
  PRH_CHECK_INPUT(h >= 1 && w >= 1 && h <= 65536 && w <= 65536,
                  "{}: images of {} x {} pixels: each side must be in 1..65536", where, h, w);
  PRH_CHECK_INPUT(n >= 1, "{}: the dataset holds no images (shape {})", where, shape_str(dims));
  PRH_CHECK_INPUT(static_cast<std::int64_t>(h * w) <= kMaxImagePixels,
                  "{}: images of {} x {} pixels (shape {}): at most {} pixels an image", where, h,
                  w, shape_str(dims), kMaxImagePixels);
  const std::int64_t count = limit > 0 ? std::min<std::int64_t>(limit, static_cast<std::int64_t>(n))
                                       : static_cast<std::int64_t>(n);

  std::vector<std::int64_t> labels;
  if (!labels_path.empty())
    labels = read_labels(h5file.id(), file, labels_path, n, count, dataset, what);

  // Reopen the images with a chunk cache that fits their chunks.
  {
    Hid dapl = image_access(images);
    Hid cached = h5::try_open_dataset(h5file.id(), dataset, dapl ? dapl.id() : h5::kDefault);
    PRH_CHECK_INPUT(cached, "{}: cannot open the dataset: {}", where, error_stack());
    images = std::move(cached);
  }
  return std::make_unique<Hdf5Source>(file, dataset, std::move(h5file), std::move(images), count,
                                      static_cast<int>(h), static_cast<int>(w), static_cast<int>(c),
                                      std::move(labels));
}

}  // namespace prh::data::detail
