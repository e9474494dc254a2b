// IDX (MNIST) files, gzip-compressed or not: zlib's gzread reads both.
// Format: 2 zero bytes, a type byte (0x08 = unsigned byte), a byte with the
// number of dimensions, each dimension as a big-endian 32-bit integer, then
// the data in row-major order.

#include <algorithm>
#include <climits>
#include <filesystem>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <zlib.h>

#include "detail.hpp"
#include "prh/core/error.hpp"
#include "prh/core/limits.hpp"

namespace prh::data::detail {

namespace {

// Deflate expands at most 1032-fold: the most bytes a gzip file of this
// size can hold.
constexpr std::uint64_t kMaxDeflateRatio = 1032;

class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path) {
    f_ = gzopen(path.c_str(), "rb");
    PRH_CHECK_INPUT(f_ != nullptr, "{}: cannot open the file", path);
    gzbuffer(f_, 1 << 17);
    std::error_code ec;
    file_size_ = std::filesystem::file_size(path, ec);
    if (ec) file_size_ = 0;
  }

  // The most data bytes the file can hold after `header` bytes: its size
  // (not compressed) or 1032 times it (gzip). Headers declaring more are
  // refused before anything is allocated.
  std::uint64_t max_data_bytes(std::uint64_t header) {
    if (gzdirect(f_)) return file_size_ > header ? file_size_ - header : 0;
    return file_size_ * kMaxDeflateRatio;
  }
  // What to reserve for `total` data bytes up front: all of them when the
  // file is not compressed (its size bounds them, checked), at most 8 times
  // the file's size when it is (MNIST's images compress about 2-fold), so
  // that a header's claim alone allocates nothing big.
  std::uint64_t reserve_for(std::uint64_t total) {
    return gzdirect(f_) ? total : std::min(total, file_size_ * 8);
  }
  ~GzFile() {
    if (f_) gzclose(f_);
  }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  // Appends up to n bytes to `out`, growing it a chunk at a time as the
  // data arrives: a header that declares more than a gzip stream holds costs
  // no memory beyond what is there. Returns how many were appended.
  std::uint64_t append(std::vector<std::uint8_t>& out, std::uint64_t n) {
    constexpr std::uint64_t kChunk = std::uint64_t{1} << 20;
    std::uint64_t done = 0;
    while (done < n) {
      const auto want = static_cast<std::size_t>(std::min(n - done, kChunk));
      const std::size_t at = out.size();
      out.resize(at + want);
      const std::size_t got = read(out.data() + at, want);
      out.resize(at + got);
      done += got;
      if (got < want) break;
    }
    return done;
  }

  // Reads and drops up to n bytes; returns how many there were.
  std::uint64_t skip(std::uint64_t n) {
    std::vector<unsigned char> buf(static_cast<std::size_t>(std::min<std::uint64_t>(n, 1u << 16)));
    std::uint64_t done = 0;
    while (done < n) {
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(n - done, buf.size()));
      const std::size_t got = read(buf.data(), want);
      done += got;
      if (got < want) break;
    }
    return done;
  }

  // Reads up to n bytes; returns how many were read (< n only at the end).
  std::size_t read(void* buf, std::size_t n) {
    auto* p = static_cast<unsigned char*>(buf);
    std::size_t done = 0;
    while (done < n) {
      const auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
      const int got = gzread(f_, p + done, chunk);
      if (got < 0) {
        int err = 0;
        const char* msg = gzerror(f_, &err);
        throw InputError(
            fmt::format("{}: read error ({}): corrupt gzip stream?", path_, msg ? msg : "unknown"));
      }
      if (got == 0) break;
      done += static_cast<std::size_t>(got);
    }
    return done;
  }

 private:
  std::string path_;
  gzFile f_ = nullptr;
  std::uint64_t file_size_ = 0;
};

struct IdxHeader {
  int type = 0;
  std::vector<std::int64_t> dims;
};

const char* type_name(int type) {
  switch (type) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "short";
    case 0x0C:
      return "int";
    case 0x0D:
      return "float";
    case 0x0E:
      return "double";
    default:
      return "unknown";
  }
}

IdxHeader read_header(GzFile& f, const std::string& path) {
  unsigned char magic[4];
  PRH_CHECK_INPUT(f.read(magic, 4) == 4,
                  "{}: not an IDX file (shorter than its 4-byte magic number)", path);
  const int type = magic[2];
  PRH_CHECK_INPUT(
      magic[0] == 0 && magic[1] == 0 && std::string(type_name(type)) != "unknown" && magic[3] >= 1,
      "{}: not an IDX file (bad magic number 0x{:02x}{:02x}{:02x}{:02x})", path, magic[0], magic[1],
      magic[2], magic[3]);
  IdxHeader h;
  h.type = type;
  for (int d = 0; d < magic[3]; ++d) {
    unsigned char b[4];
    PRH_CHECK_INPUT(f.read(b, 4) == 4, "{}: truncated IDX header", path);
    h.dims.push_back((std::int64_t{b[0]} << 24) | (std::int64_t{b[1]} << 16) |
                     (std::int64_t{b[2]} << 8) | std::int64_t{b[3]});
  }
  return h;
}

void check_exists(const std::string& path, const char* field, const std::string& what) {
  std::error_code ec;
  PRH_CHECK_INPUT(!path.empty(), "{}: idx source needs '{}' (a file path)", what, field);
  PRH_CHECK_INPUT(std::filesystem::is_regular_file(path, ec), "{}: idx {} file '{}' does not exist",
                  what, field, path);
}

std::vector<std::int64_t> read_labels(const std::string& path) {
  GzFile f(path);
  const IdxHeader h = read_header(f, path);
  PRH_CHECK_INPUT(h.dims.size() == 1, "{}: IDX labels must be 1-dimensional [n], got {} dimensions",
                  path, h.dims.size());
  PRH_CHECK_INPUT(h.type == 0x08 || h.type == 0x0C,
                  "{}: IDX labels must be unsigned bytes (0x08) or ints (0x0C), got {} (0x{:02x})",
                  path, type_name(h.type), h.type);
  const std::int64_t n = h.dims[0];
  const std::size_t width = h.type == 0x08 ? 1 : 4;
  const std::uint64_t most = f.max_data_bytes(8);
  PRH_CHECK_INPUT(static_cast<std::uint64_t>(n) * width <= most,
                  "{}: truncated, or a wrong header: it declares {} labels ({} bytes), more "
                  "than the file can hold ({} bytes)",
                  path, n, static_cast<std::uint64_t>(n) * width, most);
  std::vector<std::uint8_t> raw;
  raw.reserve(static_cast<std::size_t>(f.reserve_for(static_cast<std::uint64_t>(n) * width)));
  const std::uint64_t got = f.append(raw, static_cast<std::uint64_t>(n) * width);
  PRH_CHECK_INPUT(got == static_cast<std::uint64_t>(n) * width,
                  "{}: truncated: the header says {} labels, the file holds {}", path, n,
                  got / width);
  std::vector<std::int64_t> labels(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (width == 1) {
      labels[i] = raw[i];
    } else {
      const unsigned char* b = &raw[4 * i];
      const std::uint32_t u = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                              (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
      labels[i] = static_cast<std::int32_t>(u);
    }
  }
  return labels;
}

class IdxSource final : public ShapedSource {
 public:
  IdxSource(std::string images, int rows, int cols, std::vector<std::uint8_t> pixels,
            std::vector<std::int64_t> index, std::vector<std::int64_t> labels)
      : ShapedSource("idx source " + images, static_cast<std::int64_t>(index.size()), rows, cols, 1,
                     std::move(labels)),
        images_(std::move(images)),
        pixels_(std::move(pixels)),
        index_(std::move(index)) {}

  std::string id(std::int64_t i) const override {
    check(i);
    return fmt::format("{}#{}", images_, index_[static_cast<std::size_t>(i)]);
  }

 private:
  void read_pixels(std::int64_t i, std::uint8_t* out) const override {
    const std::size_t n = static_cast<std::size_t>(height()) * static_cast<std::size_t>(width());
    const auto* p = pixels_.data() + static_cast<std::size_t>(i) * n;
    std::copy(p, p + n, out);
  }

  std::string images_;
  std::vector<std::uint8_t> pixels_;  // the kept images only, in file order
  std::vector<std::int64_t> index_;   // their indices in the file
};

// An IDX images file's header, checked: n images of rows x cols bytes.
struct ImagesHeader {
  std::int64_t n = 0, rows = 0, cols = 0;
};

ImagesHeader read_images_header(GzFile& f, const std::string& images) {
  const IdxHeader h = read_header(f, images);
  PRH_CHECK_INPUT(h.dims.size() == 3,
                  "{}: IDX images must be 3-dimensional [n, rows, cols], got {} dimensions", images,
                  h.dims.size());
  PRH_CHECK_INPUT(h.type == 0x08, "{}: IDX images must be unsigned bytes (0x08), got {} (0x{:02x})",
                  images, type_name(h.type), h.type);
  const std::int64_t n = h.dims[0], rows = h.dims[1], cols = h.dims[2];
  PRH_CHECK_INPUT(rows >= 1 && cols >= 1 && rows <= 65536 && cols <= 65536,
                  "{}: IDX images of {} x {} pixels: each side must be in 1..65536", images, rows,
                  cols);
  PRH_CHECK_INPUT(rows * cols <= kMaxImagePixels,
                  "{}: IDX images of {} x {} pixels: at most {} pixels an image", images, rows,
                  cols, kMaxImagePixels);
  const std::uint64_t declared = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(rows) *
                                 static_cast<std::uint64_t>(cols);
  const std::uint64_t most = f.max_data_bytes(16);
  PRH_CHECK_INPUT(declared <= most,
                  "{}: truncated, or a wrong header: it declares {} images of {} x {} pixels "
                  "({} bytes), more than the file can hold ({} bytes)",
                  images, n, rows, cols, declared, most);
  return {n, rows, cols};
}

// The images kept: class filter, then offset, then limit, in file order.
// Without a class filter the selection is one run of images, first .. first
// + count - 1, computed, not looped over (n is only a header's claim until
// the images are read) and `index` is left empty; with one, `index` lists
// them. `matching`: how many images are of the wanted classes.
struct Selection {
  bool filtered = false;
  std::int64_t first = 0, count = 0, matching = 0;
  std::vector<std::int64_t> index;
};

Selection select_images(std::int64_t n, const std::vector<std::int64_t>& all_labels,
                        const std::vector<std::int64_t>& classes, std::int64_t offset,
                        std::int64_t limit) {
  const std::set<std::int64_t> keep(classes.begin(), classes.end());
  Selection sel;
  sel.filtered = !keep.empty();
  if (!sel.filtered) {
    sel.matching = n;
    sel.first = offset;
    sel.count = n > offset ? n - offset : 0;
    if (limit > 0) sel.count = std::min(sel.count, limit);
    return sel;
  }
  for (std::int64_t j = 0; j < n; ++j) {  // n == the labels read
    if (keep.count(all_labels[static_cast<std::size_t>(j)]) == 0) continue;
    if (sel.matching++ < offset) continue;
    if (limit > 0 && static_cast<std::int64_t>(sel.index.size()) >= limit) break;
    sel.index.push_back(j);
  }
  sel.count = static_cast<std::int64_t>(sel.index.size());
  return sel;
}

// Reads the file up to the last selected image, keeping only the selected
// ones; the pixels grow as they are read (a gzip file may hold less than its
// header says). Fills sel.index for an unfiltered selection.
std::vector<std::uint8_t> read_selected(GzFile& f, const std::string& images, const ImagesHeader& h,
                                        Selection& sel) {
  const std::uint64_t bytes = static_cast<std::uint64_t>(h.rows * h.cols);
  const auto truncated = [&](std::int64_t j) {
    return InputError(fmt::format(
        "{}: truncated: the header says {} images of {} x {} pixels, the file ends in image {}",
        images, h.n, h.rows, h.cols, j));
  };
  std::vector<std::uint8_t> pixels;
  pixels.reserve(
      static_cast<std::size_t>(f.reserve_for(static_cast<std::uint64_t>(sel.count) * bytes)));
  if (!sel.filtered) {
    const std::uint64_t skipped = f.skip(static_cast<std::uint64_t>(sel.first) * bytes);
    if (skipped < static_cast<std::uint64_t>(sel.first) * bytes)
      throw truncated(static_cast<std::int64_t>(skipped / bytes));
    const std::uint64_t got = f.append(pixels, static_cast<std::uint64_t>(sel.count) * bytes);
    if (got < static_cast<std::uint64_t>(sel.count) * bytes)
      throw truncated(sel.first + static_cast<std::int64_t>(got / bytes));
    sel.index.resize(static_cast<std::size_t>(sel.count));
    for (std::int64_t k = 0; k < sel.count; ++k)
      sel.index[static_cast<std::size_t>(k)] = sel.first + k;
    return pixels;
  }
  std::int64_t at = 0;  // the next image of the file
  for (const std::int64_t j : sel.index) {
    const std::uint64_t skipped = f.skip(static_cast<std::uint64_t>(j - at) * bytes);
    if (skipped < static_cast<std::uint64_t>(j - at) * bytes)
      throw truncated(at + static_cast<std::int64_t>(skipped / bytes));
    if (f.append(pixels, bytes) < bytes) throw truncated(j);
    at = j + 1;
  }
  return pixels;
}

}  // namespace

std::unique_ptr<Source> make_idx_source(const nlohmann::json& spec, const std::string& what) {
  const Spec sp(spec, "idx", what);
  const std::string images = sp.str("images");
  const std::string labels_path = sp.str("labels");
  const std::vector<std::int64_t> classes = sp.int_list("classes");
  const std::int64_t offset = sp.integer("offset");
  const std::int64_t limit = sp.integer("limit");
  PRH_CHECK_INPUT(classes.empty() || !labels_path.empty(),
                  "{}: idx source 'classes' needs 'labels' (a label file)", what);
  check_exists(images, "images", what);
  std::vector<std::int64_t> all_labels;
  if (!labels_path.empty()) {
    check_exists(labels_path, "labels", what);
    all_labels = read_labels(labels_path);
  }

  GzFile f(images);
  const ImagesHeader h = read_images_header(f, images);
  PRH_CHECK_INPUT(labels_path.empty() || static_cast<std::int64_t>(all_labels.size()) == h.n,
                  "{}: {} labels, but the images file {} holds {} images", labels_path,
                  all_labels.size(), images, h.n);
  Selection sel = select_images(h.n, all_labels, classes, offset, limit);
  PRH_CHECK_INPUT(sel.count > 0,
                  "{}: no images selected from {} ({} in the file, {} of the wanted classes, "
                  "offset {}, limit {})",
                  what, images, h.n, sel.matching, offset, limit);
  std::vector<std::uint8_t> pixels = read_selected(f, images, h, sel);
  std::vector<std::int64_t> labels;
  if (!all_labels.empty())
    for (const auto j : sel.index) labels.push_back(all_labels[static_cast<std::size_t>(j)]);
  return std::make_unique<IdxSource>(images, static_cast<int>(h.rows), static_cast<int>(h.cols),
                                     std::move(pixels), std::move(sel.index), std::move(labels));
}

}  // namespace prh::data::detail
