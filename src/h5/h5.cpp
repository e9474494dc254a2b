#include "h5.hpp"

#include <dlfcn.h>
#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <type_traits>
#include <vector>

#include "prh/core/error.hpp"

namespace prh::h5 {

// The public header spells HDF5's types without including hdf5.h.
static_assert(std::is_same_v<Id, hid_t>, "prh::h5::Id must be HDF5's hid_t");
static_assert(std::is_same_v<hsize, hsize_t>, "prh::h5::hsize must be HDF5's hsize_t");
static_assert(std::is_same_v<int, herr_t>, "Handle::Closer returns HDF5's herr_t");
static_assert(kDefault == H5P_DEFAULT, "prh::h5::kDefault must be H5P_DEFAULT");
static_assert(kInvalid == H5I_INVALID_HID, "prh::h5::kInvalid must be H5I_INVALID_HID");

std::string object_name(Id obj) {
  const ssize_t n = H5Iget_name(obj, nullptr, 0);
  if (n <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  std::string s(static_cast<std::size_t>(n) + 1, '\0');
  H5Iget_name(obj, s.data(), s.size());
  s.resize(static_cast<std::size_t>(n));
  return s;
}

namespace {

// A prh mistake (or a refused write): InternalError with HDF5's text.
[[noreturn]] void fail(const std::string& what) {
  throw InternalError(fmt::format("HDF5: {}: {}", what, error_stack()));
}
Id checked(Id id, const std::string& what) {
  if (id < 0) fail(what);
  return id;
}
void checked(herr_t rc, const char* what, const std::string& name) {
  if (rc < 0) fail(fmt::format("{} '{}'", what, name));
}

// A file that HDF5 cannot read as it should (damaged, or not what prh
// expects): InputError naming the file, the object and what failed, with
// HDF5's own text (taken before the names are looked up).
// HDF5's error stack, "" when it holds nothing (then only `what` is said).
std::string error_text();

[[noreturn]] void bad_file(Id obj, const std::string& what) {
  const std::string stack = error_text();
  const std::string file = file_name(obj);
  const std::string name = object_name(obj);
  throw InputError(fmt::format("{}: {}{}{} (a damaged file?)", file.empty() ? "HDF5 file" : file,
                               name.empty() ? "" : "'" + name + "': ", what,
                               stack.empty() ? "" : ": " + stack));
}

// The same for damage that prh found itself before asking HDF5 (no HDF5
// error text to add).
[[noreturn]] void damaged(Id obj, const std::string& what) {
  const std::string file = file_name(obj);
  const std::string name = object_name(obj);
  throw InputError(fmt::format("{}: {}{} (a damaged file?)", file.empty() ? "HDF5 file" : file,
                               name.empty() ? "" : "'" + name + "': ", what));
}

}  // namespace

bool parallel() {
#ifdef H5_HAVE_PARALLEL
  return true;
#else
  return false;
#endif
}

std::string library() {
  Dl_info info{};
  // The address of H5Fopen as this object was linked against it: the same
  // resolution every HDF5 call of prh gets.
  const void* fn = reinterpret_cast<const void*>(&H5Fopen);
  const std::string file =
      dladdr(fn, &info) != 0 && info.dli_fname != nullptr ? info.dli_fname : "(unknown)";
  unsigned major = 0, minor = 0, release = 0;
  if (H5get_libversion(&major, &minor, &release) < 0) fail("H5get_libversion");
  return fmt::format("{} (HDF5 {}.{}.{}, {})", file, major, minor, release,
                     parallel() ? "parallel" : "serial");
}

void quiet() {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

namespace {
std::string error_text() {
  std::string out;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
        auto* s = static_cast<std::string*>(data);
        if (e->desc && *e->desc) *s += (s->empty() ? "" : "; ") + std::string(e->desc);
        return 0;
      },
      &out);
  H5Eclear2(H5E_DEFAULT);
  return out;
}
}  // namespace

std::string error_stack() {
  const std::string out = error_text();
  return out.empty() ? "unknown HDF5 error" : out;
}

// --- Types ----------------------------------------------------------------------

Id native_float() {
  return H5T_NATIVE_FLOAT;
}
Id native_double() {
  return H5T_NATIVE_DOUBLE;
}
Id native_int32() {
  return H5T_NATIVE_INT32;
}
Id native_int64() {
  return H5T_NATIVE_INT64;
}
Id native_uint8() {
  return H5T_NATIVE_UINT8;
}
Id native_uint64() {
  return H5T_NATIVE_UINT64;
}
Id ieee_f32le() {
  return H5T_IEEE_F32LE;
}
Id ieee_f64le() {
  return H5T_IEEE_F64LE;
}
Id std_i32le() {
  return H5T_STD_I32LE;
}
Id std_i64le() {
  return H5T_STD_I64LE;
}
Id std_u8le() {
  return H5T_STD_U8LE;
}

Handle float16_type() {
  Handle t(checked(H5Tcopy(H5T_IEEE_F32LE), "copy type float32"), H5Tclose);
  checked(H5Tset_fields(t.id(), 15, 10, 5, 0, 10), "set fields of type", "float16");
  checked(H5Tset_size(t.id(), 2), "set size of type", "float16");
  checked(H5Tset_ebias(t.id(), 15), "set exponent bias of type", "float16");
  return t;
}

Handle fixed_string_type(std::size_t width) {
  Handle str(checked(H5Tcopy(H5T_C_S1), "copy type string"), H5Tclose);
  checked(H5Tset_size(str.id(), std::max<std::size_t>(width, 1)), "set size of type", "string");
  checked(H5Tset_strpad(str.id(), H5T_STR_NULLPAD), "set padding of type", "string");
  checked(H5Tset_cset(str.id(), H5T_CSET_UTF8), "set character set of type", "string");
  return str;
}

Class type_class(Id type) {
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return Class::integer;
    case H5T_FLOAT:
      return Class::floating;
    case H5T_STRING:
      return Class::string;
    default:
      return Class::other;
  }
}

std::size_t type_size(Id type) {
  return H5Tget_size(type);
}

bool type_is_unsigned(Id type) {
  return H5Tget_class(type) == H5T_INTEGER && H5Tget_sign(type) == H5T_SGN_NONE;
}

bool same_type(Id a, Id b) {
  return H5Tequal(a, b) > 0;
}

std::string type_name(Id type) {
  const std::size_t bits = 8 * H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return fmt::format("{}int{}", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", bits);
    case H5T_FLOAT:
      return fmt::format("float{}", bits);
    case H5T_STRING:
      return "string";
    case H5T_BITFIELD:
      return fmt::format("bitfield{}", bits);
    case H5T_OPAQUE:
      return "opaque";
    case H5T_COMPOUND:
      return "compound";
    case H5T_REFERENCE:
      return "reference";
    case H5T_ENUM:
      return "enum";
    case H5T_VLEN:
      return "variable-length";
    case H5T_ARRAY:
      return "array";
    case H5T_TIME:
      return "time";
    default:
      return "unknown";
  }
}

// --- Files ----------------------------------------------------------------------

namespace {

// A global heap collection (variable-length strings live in them) that
// HDF5's loader would trust to its harm. HDF5 1.10 decodes a collection
// object by object (index (2 bytes), reference count (2), reserved (4), size
// (8), data padded to 8; a free-space object, index 0, spans the rest), and
// trusts what it decodes: a free-space object of size 0 before the end never
// advances (reading any string in the collection hangs inside H5HG_read); an
// object whose size runs past the collection's end, or an index decoded
// twice (the second replaces the first), makes H5HG_read copy that many
// bytes from wherever it points (overlapping copies, reads past the
// collection, allocations of GB). Returns the offset of such a collection in
// `path`, or -1. Files above kMaxScan bytes are not scanned (prh's results
// files and test stores are far smaller; an embedding store of many GB is
// read by its features, not scanned for its heaps).
constexpr std::uint64_t kMaxScan = std::uint64_t{256} << 20;

// Little-endian integers of `bytes` at `at`.
std::uint64_t le(const std::string& bytes, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i)
    v = v << 8 | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
  return v;
}

// True when the collection `heap` (its bytes, header included) has an object
// that HDF5's loader would not advance past, one running past the
// collection's end (its size larger than the collection, or overlapping the
// end), or an index that two objects claim.
bool collection_damaged(const std::string& heap) {
  constexpr std::uint64_t kHeader = 16;  // "GCOL", version 1, 3 reserved, size (8)
  const std::uint64_t size = heap.size();
  std::vector<bool> seen(std::size_t{1} << 16, false);
  std::uint64_t p = kHeader;
  while (p < size) {
    if (p + kHeader > size) break;  // too small for an object: free space
    const std::uint64_t index = le(heap, p, 2), object = le(heap, p + 8, 8);
    if (object > size) return true;  // larger than its whole collection
    const std::uint64_t need = index > 0 ? kHeader + ((object + 7) & ~std::uint64_t{7}) : object;
    if (need == 0 || need > size - p) return true;  // never advances; runs past the end
    if (index > 0) {
      if (seen[index]) return true;  // a second object with the same index
      seen[index] = true;
    }
    p += need;
  }
  return false;
}

std::int64_t damaged_global_heap(const std::string& path) {
  std::error_code ec;
  const std::uint64_t size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxScan) return -1;
  std::ifstream in(path, std::ios::binary);
  // Blocks of 1 MiB, each overlapping the last by 3 bytes (a signature across
  // the boundary).
  constexpr std::uint64_t kBlock = std::uint64_t{1} << 20;
  std::string block;
  for (std::uint64_t base = 0; base < size; base += kBlock - 3) {
    const std::uint64_t n = std::min(kBlock, size - base);
    block.assign(static_cast<std::size_t>(n), '\0');
    in.clear();
    in.seekg(static_cast<std::streamoff>(base));
    if (!in.read(block.data(), static_cast<std::streamsize>(n))) return -1;
    for (auto i = block.find("GCOL"); i != std::string::npos; i = block.find("GCOL", i + 1)) {
      const std::uint64_t at = base + i;
      if (at + 16 > size) continue;
      std::string header(16, '\0');
      in.clear();
      in.seekg(static_cast<std::streamoff>(at));
      if (!in.read(header.data(), 16) || header[4] != 1) continue;
      const std::uint64_t heap = le(header, 8, 8);
      // HDF5's smallest collection is 4096 bytes; HDF5 reads a collection's
      // bytes from the file, so one running past its end fails there instead.
      if (heap < 4096 || heap > size - at) continue;
      std::string bytes(static_cast<std::size_t>(heap), '\0');
      in.clear();
      in.seekg(static_cast<std::streamoff>(at));
      if (!in.read(bytes.data(), static_cast<std::streamsize>(heap))) continue;
      if (collection_damaged(bytes)) return static_cast<std::int64_t>(at);
    }
    if (base + n >= size) break;
  }
  return -1;
}

}  // namespace

Handle open_file_readonly(const std::string& path) {
  quiet();
  PRH_CHECK_INPUT(std::filesystem::exists(path), "{}: no such file", path);
  const htri_t is_h5 = H5Fis_hdf5(path.c_str());
  PRH_CHECK_INPUT(is_h5 > 0, "{}: not an HDF5 file", path);
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) throw InputError(fmt::format("{}: cannot open HDF5 file: {}", path, error_stack()));
  Handle file(f, H5Fclose);
  const std::int64_t heap = damaged_global_heap(path);
  PRH_CHECK_INPUT(heap < 0,
                  "{}: the global heap at byte {} is damaged (its objects are inconsistent): "
                  "its strings cannot be read (a damaged file?)",
                  path, heap);
  return file;
}

std::string file_name(Id obj) {
  const ssize_t n = H5Fget_name(obj, nullptr, 0);
  if (n <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  std::string s(static_cast<std::size_t>(n) + 1, '\0');
  H5Fget_name(obj, s.data(), s.size());
  s.resize(static_cast<std::size_t>(n));
  return s;
}

int is_hdf5(const std::string& path) {
  quiet();
  const htri_t r = H5Fis_hdf5(path.c_str());
  H5Eclear2(H5E_DEFAULT);
  return r > 0 ? 1 : r == 0 ? 0 : -1;
}

Handle try_open_file(const std::string& path, bool write, Id fapl) {
  quiet();
  return Handle(H5Fopen(path.c_str(), write ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl), H5Fclose);
}

Handle try_create_file(const std::string& path, Id fapl) {
  quiet();
  return Handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), H5Fclose);
}

void flush(Id obj, bool global) {
  if (H5Fflush(obj, global ? H5F_SCOPE_GLOBAL : H5F_SCOPE_LOCAL) < 0)
    throw InternalError(fmt::format("{}: flush: {}", file_name(obj), error_stack()));
}

Handle fapl_default() {
  return Handle(checked(H5Pcreate(H5P_FILE_ACCESS), "create a file access list"), H5Pclose);
}

Handle dxpl_default() {
  return Handle(checked(H5Pcreate(H5P_DATASET_XFER), "create a transfer list"), H5Pclose);
}

#ifdef H5_HAVE_PARALLEL
Handle fapl_mpio(MPI_Comm comm) {
  Handle p(checked(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate"), H5Pclose);
  checked(H5Pset_fapl_mpio(p.id(), comm, MPI_INFO_NULL), "H5Pset_fapl_mpio", "");
  return p;
}

Handle dxpl_independent() {
  Handle p(checked(H5Pcreate(H5P_DATASET_XFER), "H5Pcreate"), H5Pclose);
  checked(H5Pset_dxpl_mpio(p.id(), H5FD_MPIO_INDEPENDENT), "H5Pset_dxpl_mpio", "");
  return p;
}
#else
// A serial HDF5 has no MPI-IO driver: the store never asks for it there
// (store::kParallelHdf5).
Handle fapl_mpio(MPI_Comm) {
  throw InternalError("HDF5: the MPI-IO driver was asked for, but this prh uses a serial HDF5");
}

Handle dxpl_independent() {
  throw InternalError("HDF5: an MPI-IO transfer was asked for, but this prh uses a serial HDF5");
}
#endif

Handle dapl_chunk_cache(std::size_t bytes) {
  Handle dapl(checked(H5Pcreate(H5P_DATASET_ACCESS), "create a dataset access list"), H5Pclose);
  checked(H5Pset_chunk_cache(dapl.id(), 521, bytes, 1.0), "set the chunk cache", "");
  return dapl;
}

// --- Objects ----------------------------------------------------------------------

bool exists(Id parent, const std::string& path) {
  // Check link by link: H5Lexists fails on a missing intermediate group.
  std::size_t pos = 0;
  while (true) {
    const auto next = path.find('/', pos + 1);
    const std::string prefix = path.substr(0, next);
    if (!prefix.empty() && prefix != "/" && H5Lexists(parent, prefix.c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
    if (next == std::string::npos) return true;
    pos = next;
  }
}

Kind kind_of(const Handle& obj) {
  switch (H5Iget_type(obj.id())) {
    case H5I_GROUP:
      return Kind::group;
    case H5I_DATASET:
      return Kind::dataset;
    case H5I_DATATYPE:
      return Kind::datatype;
    default:
      return Kind::other;
  }
}

Kind kind(Id parent, const std::string& path) {
  if (!exists(parent, path)) return Kind::none;
  Handle obj = try_open_object(parent, path);
  if (!obj) {
    H5Eclear2(H5E_DEFAULT);
    return Kind::none;
  }
  return kind_of(obj);
}

Handle try_open_object(Id parent, const std::string& path) {
  return Handle(H5Oopen(parent, path.c_str(), H5P_DEFAULT), H5Oclose);
}

Handle open_object(Id parent, const std::string& path) {
  Handle obj = try_open_object(parent, path);
  if (!obj) bad_file(parent, fmt::format("cannot open '{}'", path));
  return obj;
}

namespace {
herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}
}  // namespace

std::vector<std::string> members_by_name(Id group) {
  std::vector<std::string> names;
  if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_name, &names) < 0)
    bad_file(group, "cannot list its members");
  return names;
}

std::vector<std::string> members(Id group) {
  std::vector<std::string> names;
  if (H5Literate(group, H5_INDEX_CRT_ORDER, H5_ITER_INC, nullptr, collect_name, &names) >= 0)
    return names;
  H5Eclear2(H5E_DEFAULT);  // no creation order tracked: name order
  return members_by_name(group);
}

Handle create_group(Id parent, const std::string& name) {
  return Handle(checked(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                        "create group " + name),
                H5Gclose);
}

Handle open_group(Id parent, const std::string& name) {
  Handle g(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose);
  if (!g) bad_file(parent, fmt::format("cannot open group '{}'", name));
  return g;
}

void remove(Id parent, const std::string& name) {
  if (exists(parent, name)) checked(H5Ldelete(parent, name.c_str(), H5P_DEFAULT), "delete", name);
}

// --- Attributes ---------------------------------------------------------------------

namespace {

// libhdf5 1.10 decodes an attribute message (looking an attribute up by
// name decodes every attribute message of the object header: H5Aexists,
// H5Aopen) trusting the sizes it reads: the name is copied up to its NUL
// (strdup), the datatype and dataspace are decoded from where the declared
// sizes put them and the value (points x type size bytes) is copied from
// after them, whatever the message's own size. A damaged version-1 object
// header (no checksum; a version-2 header's chunks are checksummed and
// libhdf5 refuses a damaged one) makes it read past the message, past its
// buffer (ASan: heap-buffer-overflow in H5O__msg_iterate_real below
// H5Aexists). Returns what is wrong with the first attribute message of
// `obj`'s header whose parts do not fit in it, or "": checked only for a file
// opened read-only (a file open for writing may hold newer headers than its
// bytes on disk), and only what libhdf5 reads by these sizes (a compound,
// enum or array type's members are not followed).
class AttributeMessages {
 public:
  explicit AttributeMessages(std::uint64_t sizeof_addr) : addr_(sizeof_addr) {}

  // The message's data (`m`, its bytes); "" when its parts fit.
  std::string check(const std::string& m) const {
    if (m.size() < 8) return "shorter than its header";
    const unsigned version = static_cast<unsigned char>(m[0]);
    if (version < 1 || version > 3) return "";  // libhdf5 refuses the version itself
    const unsigned flags = version >= 2 ? static_cast<unsigned char>(m[1]) : 0;
    const std::uint64_t name_len = le(m, 2, 2), dt_size = le(m, 4, 2), ds_size = le(m, 6, 2);
    std::uint64_t p = version == 3 ? 9 : 8;
    const auto advance = [&](std::uint64_t n) { p += version == 1 ? (n + 7) / 8 * 8 : n; };
    if (name_len == 0 || p + name_len > m.size()) return "its name runs past the message";
    if (m.find('\0', p) != p + name_len - 1) return "its name's length is wrong";
    advance(name_len);
    if (p + dt_size > m.size()) return "its type runs past the message";
    std::uint64_t type_size = 0;
    if ((flags & 1) == 0) {
      const std::string why = type(m.substr(p, dt_size), 0, type_size);
      if (!why.empty()) return "its type " + why;
    }
    advance(dt_size);
    if (p + ds_size > m.size()) return "its extent runs past the message";
    std::uint64_t points = 0;
    if ((flags & 2) == 0) {
      const std::string why = extent(m.substr(p, ds_size), points);
      if (!why.empty()) return "its extent " + why;
    }
    advance(ds_size);
    if ((flags & 3) == 0 && type_size != 0 &&
        points > (m.size() - std::min<std::uint64_t>(p, m.size())) / type_size)
      return "its value runs past the message";
    return "";
  }

 private:
  std::uint64_t addr_;

  // A datatype message in `t`; its size as stored (a variable-length
  // element: length, heap address, index) into `size`.
  std::string type(const std::string& t, int depth, std::uint64_t& size) const {
    if (t.size() < 8) return "is shorter than its header";
    const unsigned cls = static_cast<unsigned char>(t[0]) & 0x0f;
    size = le(t, 4, 4);
    std::uint64_t props = 0;
    switch (cls) {
      case 0:  // fixed-point
      case 4:  // bitfield
        props = 4;
        break;
      case 1:  // floating-point
        props = 12;
        break;
      case 2:  // time
        props = 2;
        break;
      case 3:  // string
      case 7:  // reference
        props = 0;
        break;
      case 5:  // opaque: its tag, NUL-padded to 8
        props = le(t, 1, 1);
        break;
      case 9: {  // variable-length: the base type follows
        if (depth > 8) return "nests too deep";
        std::uint64_t base = 0;
        const std::string why = type(t.substr(8), depth + 1, base);
        if (!why.empty()) return why;
        size = 4 + addr_ + 4;
        return "";
      }
      default:  // compound, enum, array: members not followed
        return "";
    }
    if (8 + props > t.size()) return "has properties past its end";
    if (size == 0) return "has size 0";
    return "";
  }

  // A dataspace message in `d`; its number of points into `points`.
  static std::string extent(const std::string& d, std::uint64_t& points) {
    if (d.size() < 4) return "is shorter than its header";
    const unsigned version = static_cast<unsigned char>(d[0]);
    const unsigned rank = static_cast<unsigned char>(d[1]),
                   flags = static_cast<unsigned char>(d[2]);
    if (version < 1 || version > 2 || rank > 32) return "";  // libhdf5 refuses these itself
    const std::uint64_t at = version == 1 ? 8 : 4;
    const std::uint64_t need = at + std::uint64_t{rank} * 8 * ((flags & 1) ? 2 : 1);
    if (need > d.size()) return "has dimensions past its end";
    const unsigned kind = version == 2 ? static_cast<unsigned char>(d[3]) : (rank == 0 ? 0 : 1);
    points = kind == 2 ? 0 : 1;
    for (unsigned i = 0; kind == 1 && i < rank; ++i) {
      const std::uint64_t n = le(d, at + 8 * i, 8);
      if (n != 0 && points > ~std::uint64_t{0} / n) return "has more points than fit in 64 bits";
      points *= n;
    }
    return "";
  }
};

// The raw bytes of a file of `size` bytes, read by the damaged-header checks
// below before libhdf5 reads them: read(at, n) gives at most n bytes (and at
// most 1 MiB) from `at`, never past the end, "" when unreadable.
class RawBytes {
 public:
  RawBytes(const std::string& path, std::uint64_t size)
      : in_(path, std::ios::binary), size_(size) {}
  std::string operator()(std::uint64_t at, std::uint64_t n) {
    std::string bytes;
    if (at >= size_) return bytes;
    bytes.assign(static_cast<std::size_t>(std::min({n, std::uint64_t{1} << 20, size_ - at})), '\0');
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(at));
    if (!in_.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) bytes.clear();
    return bytes;
  }

 private:
  std::ifstream in_;
  std::uint64_t size_;
};

std::string damaged_attribute_message(Id obj) {
  const hid_t file = H5Iget_file_id(obj);
  if (file < 0) {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  Handle f(file, H5Fclose);
  unsigned intent = 0;
  if (H5Fget_intent(file, &intent) < 0 || intent != H5F_ACC_RDONLY) {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  std::size_t sizeof_addr = 8, sizeof_size = 8;
  {
    Handle fcpl(H5Fget_create_plist(file), H5Pclose);
    if (!fcpl || H5Pget_sizes(fcpl.id(), &sizeof_addr, &sizeof_size) < 0) {
      H5Eclear2(H5E_DEFAULT);
      return "";
    }
  }
  H5O_info_t info;
  if (H5Oget_info2(obj, &info, H5O_INFO_BASIC) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  const std::string path = file_name(obj);
  std::error_code ec;
  const std::uint64_t size = path.empty() ? 0 : std::filesystem::file_size(path, ec);
  if (ec || info.addr == HADDR_UNDEF || info.addr >= size) return "";
  RawBytes read(path, size);
  // A version-1 header (see vlen_length_damaged): its first chunk after the
  // 16-byte prefix, the others named by continuation messages (type 0x10);
  // each message: type (2), size (2), flags (1), reserved (3), its data.
  const std::string prefix = read(info.addr, 16);
  if (prefix.size() != 16 || prefix[0] != 1) return "";
  const AttributeMessages attrs(sizeof_addr);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> chunks{{info.addr + 16, le(prefix, 8, 4)}};
  for (std::size_t c = 0; c < chunks.size() && c < 64; ++c) {
    const std::string chunk = read(chunks[c].first, chunks[c].second);
    for (std::size_t p = 0; p + 8 <= chunk.size();) {
      const std::uint64_t type = le(chunk, p, 2), n = le(chunk, p + 2, 2);
      const unsigned flags = static_cast<unsigned char>(chunk[p + 4]);
      if (p + 8 + n > chunk.size()) break;  // libhdf5 refuses such a chunk itself
      if (type == 0x10 && n >= 16)
        chunks.emplace_back(le(chunk, p + 8, sizeof_addr),
                            le(chunk, p + 8 + sizeof_addr, sizeof_size));
      if (type == 0x0c && (flags & 0x02) == 0) {  // an attribute, not a shared message
        const std::string why = attrs.check(chunk.substr(p + 8, n));
        if (!why.empty())
          return fmt::format("the attribute message at byte {} of its object header: {}",
                             chunks[c].first + p, why);
      }
      p += 8 + n;
    }
  }
  return "";
}

// InputError naming the file and the object when an attribute message of
// `obj`'s header would make libhdf5 read past it (above).
void check_attribute_messages(Id obj) {
  const std::string why = damaged_attribute_message(obj);
  if (!why.empty()) damaged(obj, why);
}

}  // namespace

bool has_attr(Id obj, const std::string& name) {
  check_attribute_messages(obj);
  const htri_t r = H5Aexists(obj, name.c_str());
  if (r < 0) bad_file(obj, fmt::format("cannot look for attribute '{}'", name));
  return r > 0;
}

void delete_attr(Id obj, const std::string& name) {
  checked(H5Adelete(obj, name.c_str()), "delete attribute", name);
}

void write_attr(Id obj, const std::string& name, const std::string& value) {
  if (has_attr(obj, name)) delete_attr(obj, name);
  // Variable-length UTF-8: h5py reads it as str.
  Handle type(checked(H5Tcopy(H5T_C_S1), "copy type string"), H5Tclose);
  checked(H5Tset_size(type.id(), H5T_VARIABLE), "set size of attribute type", name);
  checked(H5Tset_cset(type.id(), H5T_CSET_UTF8), "set character set of attribute type", name);
  Handle space(checked(H5Screate(H5S_SCALAR), "create a scalar space"), H5Sclose);
  Handle attr(
      checked(H5Acreate2(obj, name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT),
              "create attribute " + name),
      H5Aclose);
  const char* p = value.c_str();
  checked(H5Awrite(attr.id(), type.id(), &p), "write attribute", name);
}

void write_attr(Id obj, const std::string& name, std::int64_t value) {
  write_attr(obj, name, std::vector<std::int64_t>{value});
}

void write_attr(Id obj, const std::string& name, const std::vector<std::int64_t>& value) {
  if (has_attr(obj, name)) delete_attr(obj, name);
  const hsize_t n = value.size();
  Handle space(checked(n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr),
                       "create the space of attribute " + name),
               H5Sclose);
  Handle attr(
      checked(H5Acreate2(obj, name.c_str(), H5T_STD_I64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT),
              "create attribute " + name),
      H5Aclose);
  checked(H5Awrite(attr.id(), H5T_NATIVE_INT64, value.data()), "write attribute", name);
}

void write_attr(Id obj, const std::string& name, double value) {
  if (has_attr(obj, name)) delete_attr(obj, name);
  Handle space(checked(H5Screate(H5S_SCALAR), "create a scalar space"), H5Sclose);
  Handle attr(
      checked(H5Acreate2(obj, name.c_str(), H5T_IEEE_F64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT),
              "create attribute " + name),
      H5Aclose);
  checked(H5Awrite(attr.id(), H5T_NATIVE_DOUBLE, &value), "write attribute", name);
}

Handle open_attr(Id obj, const std::string& name) {
  check_attribute_messages(obj);
  Handle a(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (!a) bad_file(obj, fmt::format("cannot open attribute '{}'", name));
  return a;
}

namespace {
std::string attr_name(const Handle& attr) {
  const ssize_t n = H5Aget_name(attr.id(), 0, nullptr);
  if (n <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return "?";
  }
  std::string s(static_cast<std::size_t>(n) + 1, '\0');
  H5Aget_name(attr.id(), s.size(), s.data());
  s.resize(static_cast<std::size_t>(n));
  return s;
}
[[noreturn]] void bad_attr(const Handle& attr, const std::string& what) {
  bad_file(attr.id(), fmt::format("attribute '{}': {}", attr_name(attr), what));
}
}  // namespace

Class attr_class(const Handle& attr) {
  Handle type(H5Aget_type(attr.id()), H5Tclose);
  if (!type) bad_attr(attr, "cannot read its type");
  return type_class(type.id());
}

std::size_t attr_points(const Handle& attr) {
  Handle space(H5Aget_space(attr.id()), H5Sclose);
  if (!space) bad_attr(attr, "cannot read its extent");
  const hssize_t n = H5Sget_simple_extent_npoints(space.id());
  if (n < 0) bad_attr(attr, "cannot read its extent");
  return static_cast<std::size_t>(n);
}

void read_attr(const Handle& attr, Id mem, void* out) {
  if (attr_points(attr) == 0) return;
  if (H5Aread(attr.id(), mem, out) < 0) bad_attr(attr, "cannot read it");
}

namespace {

// Strings the one way: fixed-length ones end at their first NUL, and
// space-padded ones lose their trailing spaces; variable-length ones are
// read whole (up to a NUL).
struct StringReader {
  // Reads `n` elements of file type `ftype` with memory type `mem` into buf.
  template <class Read>
  static std::vector<std::string> read(Id ftype, std::size_t n, Read&& read_into) {
    std::vector<std::string> out;
    if (n == 0) return out;
    if (H5Tis_variable_str(ftype) > 0) {
      Handle mtype(checked(H5Tcopy(H5T_C_S1), "copy type string"), H5Tclose);
      checked(H5Tset_size(mtype.id(), H5T_VARIABLE), "set size of type", "string");
      checked(H5Tset_cset(mtype.id(), H5Tget_cset(ftype)), "set character set of type", "string");
      std::vector<char*> ptrs(n, nullptr);
      const bool ok = read_into(mtype.id(), ptrs.data());
      for (char* p : ptrs) {
        if (ok) out.emplace_back(p ? p : "");
        if (p) H5free_memory(p);
      }
      if (!ok) return {};
      return out;
    }
    const std::size_t size = H5Tget_size(ftype);
    const bool spaces = H5Tget_strpad(ftype) == H5T_STR_SPACEPAD;
    std::string buf(size * n, '\0');
    if (!read_into(ftype, buf.data())) return {};
    for (std::size_t i = 0; i < n; ++i) {
      std::string s = buf.substr(i * size, size);
      s = s.substr(0, s.find('\0'));
      if (spaces) s.erase(s.find_last_not_of(' ') + 1);
      out.push_back(std::move(s));
    }
    return out;
  }
};

}  // namespace

namespace {

// A variable-length string is stored as its length (4 bytes) beside its
// global heap ID (the collection's address (8), the object's index (4)),
// and HDF5 1.10 allocates and copies that many bytes before it looks at the
// heap object: a damaged length makes it ask for GB. True when the object
// header holding `attr` (its first chunk, where HDF5 keeps small
// attributes) has such an ID whose length exceeds the whole collection it
// names (no string of a collection is longer than the collection; stale
// bytes of a deleted attribute never are either): then what is wrong, in
// words; "" when nothing is.
std::string vlen_length_damaged(const Handle& attr) {
  H5O_info_t info;
  if (H5Oget_info2(attr.id(), &info, H5O_INFO_BASIC | H5O_INFO_HDR) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  const std::string path = file_name(attr.id());
  std::error_code ec;
  const std::uint64_t size = path.empty() ? 0 : std::filesystem::file_size(path, ec);
  if (ec || info.addr == HADDR_UNDEF || info.addr >= size) return "";
  RawBytes read(path, size);
  // The header's chunks: a version-1 header's messages follow its 16-byte
  // prefix (version, reserved, message count (2), reference count (4), size
  // of its first chunk (4), padding), and its continuation messages (type
  // 0x10: address (8), length (8)) name the others; a version-2 header
  // ("OHDR") is looked at whole from its start.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> chunks;
  const std::string prefix = read(info.addr, 16);
  const bool v1 = prefix.size() == 16 && prefix[0] == 1;
  if (v1)
    chunks.emplace_back(info.addr + 16, le(prefix, 8, 4));
  else
    chunks.emplace_back(info.addr, std::uint64_t{info.hdr.space.total} + 16);
  for (std::size_t c = 0; c < chunks.size() && c < 64; ++c) {
    const std::string chunk = read(chunks[c].first, chunks[c].second);
    for (std::size_t i = 0; i + 16 <= chunk.size(); ++i) {
      const std::uint64_t len = le(chunk, i, 4), heap = le(chunk, i + 4, 8);
      const std::uint64_t index = le(chunk, i + 12, 4);
      // HDF5's smallest collection is 4096 bytes: a shorter length is no harm.
      if (len <= 4096 || index == 0 || index > 0xffff || heap < 8 || heap > size - 16) continue;
      const std::string gcol = read(heap, 16);
      if (gcol.size() != 16 || gcol.compare(0, 4, "GCOL") != 0 || gcol[4] != 1) continue;
      if (len > le(gcol, 8, 8))
        return fmt::format(
            "a variable-length string's stored length ({} bytes) exceeds the whole global heap "
            "collection it points to ({} bytes at offset {}): its length or heap ID is damaged",
            len, le(gcol, 8, 8), heap);
    }
    for (std::size_t p = 0; v1 && p + 8 <= chunk.size();) {
      const std::uint64_t type = le(chunk, p, 2), n = le(chunk, p + 2, 2);
      if (type == 0x10 && n >= 16 && p + 24 <= chunk.size())
        chunks.emplace_back(le(chunk, p + 8, 8), le(chunk, p + 16, 8));
      p += 8 + n;
    }
  }
  return "";
}

}  // namespace

std::vector<std::string> attr_strings(const Handle& attr) {
  Handle ftype(H5Aget_type(attr.id()), H5Tclose);
  if (!ftype) bad_attr(attr, "cannot read its type");
  if (H5Tget_class(ftype.id()) != H5T_STRING) bad_attr(attr, "not a string");
  if (H5Tis_variable_str(ftype.id()) > 0)
    if (const std::string why = vlen_length_damaged(attr); !why.empty()) bad_attr(attr, why);
  const std::size_t n = attr_points(attr);
  bool ok = true;
  auto out = StringReader::read(ftype.id(), n, [&](hid_t mem, void* buf) {
    ok = H5Aread(attr.id(), mem, buf) >= 0;
    return ok;
  });
  if (!ok) bad_attr(attr, "cannot read it");
  return out;
}

std::string read_attr_string(Id obj, const std::string& name) {
  Handle attr = open_attr(obj, name);
  auto v = attr_strings(attr);
  if (v.size() != 1)
    bad_file(obj, fmt::format("attribute '{}' has {} strings, expected 1", name, v.size()));
  return v[0];
}

std::int64_t read_attr_int(Id obj, const std::string& name) {
  check_attribute_messages(obj);
  Handle attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose);
  PRH_CHECK_INPUT(attr, "attribute '{}' is missing: {}", name, error_stack());
  PRH_CHECK_INPUT(attr_points(attr) == 1, "attribute '{}' is not one number", name);
  std::int64_t v = 0;
  PRH_CHECK_INPUT(H5Aread(attr.id(), H5T_NATIVE_INT64, &v) >= 0,
                  "attribute '{}' is not a number: {}", name, error_stack());
  return v;
}

std::vector<std::int64_t> read_attr_ints(Id obj, const std::string& name) {
  check_attribute_messages(obj);
  Handle attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose);
  PRH_CHECK_INPUT(attr, "attribute '{}' is missing", name);
  std::vector<std::int64_t> v(attr_points(attr));
  if (!v.empty() && H5Aread(attr.id(), H5T_NATIVE_INT64, v.data()) < 0)
    bad_attr(attr, "not numbers");
  return v;
}

// --- Datasets -----------------------------------------------------------------------

namespace {
Handle dataset_create_list(bool fill, Id mem_type, const void* value, const std::string& name) {
  Handle dcpl(checked(H5Pcreate(H5P_DATASET_CREATE), "create a dataset creation list"), H5Pclose);
  checked(H5Pset_layout(dcpl.id(), H5D_CONTIGUOUS), "set the layout of", name);
  checked(H5Pset_alloc_time(dcpl.id(), H5D_ALLOC_TIME_EARLY), "set the allocation time of", name);
  checked(H5Pset_fill_time(dcpl.id(), fill ? H5D_FILL_TIME_ALLOC : H5D_FILL_TIME_NEVER),
          "set the fill time of", name);
  if (value != nullptr)
    checked(H5Pset_fill_value(dcpl.id(), mem_type, value), "set fill value", name);
  return dcpl;
}
}  // namespace

Handle create_dataset(Id parent, const std::string& name, Id type, const std::vector<hsize>& dims,
                      bool fill_zero) {
  Handle space(checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                       "create the space of " + name),
               H5Sclose);
  Handle dcpl = dataset_create_list(fill_zero, kInvalid, nullptr, name);
  return Handle(checked(H5Dcreate2(parent, name.c_str(), type, space.id(), H5P_DEFAULT, dcpl.id(),
                                   H5P_DEFAULT),
                        "create dataset " + name),
                H5Dclose);
}

Handle create_dataset_filled(Id parent, const std::string& name, Id type,
                             const std::vector<hsize>& dims, Id mem_type, const void* fill) {
  Handle space(checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                       "create the space of " + name),
               H5Sclose);
  Handle dcpl = dataset_create_list(true, mem_type, fill, name);
  return Handle(checked(H5Dcreate2(parent, name.c_str(), type, space.id(), H5P_DEFAULT, dcpl.id(),
                                   H5P_DEFAULT),
                        "create dataset " + name),
                H5Dclose);
}

Handle try_open_dataset(Id parent, const std::string& name, Id dapl) {
  return Handle(H5Dopen2(parent, name.c_str(), dapl), H5Dclose);
}

Handle open_dataset(Id parent, const std::string& name) {
  Handle d = try_open_dataset(parent, name);
  if (!d) bad_file(parent, fmt::format("cannot open dataset '{}'", name));
  return d;
}

Handle open_dataset(const Handle& file, const std::string& file_path, const std::string& dataset) {
  quiet();
  // Check the path link by link so that a missing group gives a clean message.
  std::size_t pos = 0;
  while (pos < dataset.size()) {
    auto next = dataset.find('/', pos + 1);
    const std::string prefix = dataset.substr(0, next);
    if (!prefix.empty() && prefix != "/") {
      const htri_t exists = H5Lexists(file.id(), prefix.c_str(), H5P_DEFAULT);
      H5Eclear2(H5E_DEFAULT);
      PRH_CHECK_INPUT(exists > 0, "{}: no dataset '{}' (no object '{}')", file_path, dataset,
                      prefix);
    }
    if (next == std::string::npos) break;
    pos = next;
  }
  {
    Handle obj = try_open_object(file.id(), dataset);
    PRH_CHECK_INPUT(obj, "{}: cannot open '{}': {}", file_path, dataset, error_stack());
    PRH_CHECK_INPUT(kind_of(obj) == Kind::dataset, "{}: '{}' is not a dataset (it is a group)",
                    file_path, dataset);
  }
  Handle d = try_open_dataset(file.id(), dataset);
  if (!d)
    throw InputError(
        fmt::format("{}: cannot open dataset '{}': {}", file_path, dataset, error_stack()));
  return d;
}

namespace {
// A contiguous dataset whose extent needs more bytes than its allocated
// storage holds: a damaged dataspace (libhdf5 1.10 opens it, and a reader
// sizing its buffer by the extent would ask for exabytes). Chunked and
// compact datasets, and storage not allocated yet (read as fill values), are
// not checked.
void check_extent_fits_storage(const Handle& dataset, const std::vector<hsize>& dims) {
  Handle dcpl(H5Dget_create_plist(dataset.id()), H5Pclose);
  if (!dcpl || H5Pget_layout(dcpl.id()) != H5D_CONTIGUOUS) {
    H5Eclear2(H5E_DEFAULT);
    return;
  }
  H5D_space_status_t status{};
  if (H5Dget_space_status(dataset.id(), &status) < 0 || status != H5D_SPACE_STATUS_ALLOCATED) {
    H5Eclear2(H5E_DEFAULT);
    return;
  }
  Handle type(H5Dget_type(dataset.id()), H5Tclose);
  if (!type) bad_file(dataset.id(), "cannot read its type");
  const std::uint64_t storage = H5Dget_storage_size(dataset.id());
  std::uint64_t need = H5Tget_size(type.id());
  for (const hsize d : dims) {
    if (d != 0 && need > storage / d)
      damaged(dataset.id(),
              fmt::format("its shape needs more bytes than its storage holds ({} bytes)", storage));
    need *= d;
  }
}
}  // namespace

std::vector<hsize> dataset_shape(const Handle& dataset) {
  Handle space(H5Dget_space(dataset.id()), H5Sclose);
  if (!space) bad_file(dataset.id(), "cannot read its shape");
  const int rank = H5Sget_simple_extent_ndims(space.id());
  if (rank < 0) bad_file(dataset.id(), "cannot read its shape");
  std::vector<hsize> dims(static_cast<std::size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr) < 0)
    bad_file(dataset.id(), "cannot read its shape");
  check_extent_fits_storage(dataset, dims);
  return dims;
}

Handle dataset_type(const Handle& dataset) {
  Handle type(H5Dget_type(dataset.id()), H5Tclose);
  if (!type) bad_file(dataset.id(), "cannot read its type");
  return type;
}

Class dataset_class(const Handle& dataset) {
  return type_class(dataset_type(dataset).id());
}

bool dataset_is_float(const Handle& dataset) {
  return dataset_class(dataset) == Class::floating;
}

std::string dataset_type_name(const Handle& dataset) {
  return type_name(dataset_type(dataset).id());
}

std::vector<hsize> chunk_dims(const Handle& dataset) {
  Handle dcpl(H5Dget_create_plist(dataset.id()), H5Pclose);
  if (!dcpl) bad_file(dataset.id(), "cannot read its creation properties");
  if (H5Pget_layout(dcpl.id()) != H5D_CHUNKED) return {};
  const int rank = H5Pget_chunk(dcpl.id(), 0, nullptr);
  if (rank <= 0) return {};
  std::vector<hsize> chunk(static_cast<std::size_t>(rank));
  if (H5Pget_chunk(dcpl.id(), rank, chunk.data()) < 0)
    bad_file(dataset.id(), "cannot read its chunk shape");
  return chunk;
}

void read_all(const Handle& dataset, Id mem, void* out) {
  std::size_t total = 1;
  for (auto d : dataset_shape(dataset)) total *= static_cast<std::size_t>(d);
  if (total == 0) return;
  if (H5Dread(dataset.id(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
    bad_file(dataset.id(), "cannot read it");
}

void read_all_float(const Handle& dataset, std::vector<float>& out, const std::string& what) {
  std::size_t total = 1;
  for (auto d : dataset_shape(dataset)) total *= d;
  out.resize(total);
  if (total == 0) return;
  if (H5Dread(dataset.id(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    throw InputError(fmt::format("{}: cannot read: {}", what, error_stack()));
}

std::vector<std::string> dataset_strings(const Handle& dataset) {
  const auto shape = dataset_shape(dataset);
  const std::size_t n = shape.empty() ? 0 : static_cast<std::size_t>(shape[0]);
  Handle ftype = dataset_type(dataset);
  if (H5Tget_class(ftype.id()) != H5T_STRING) bad_file(dataset.id(), "not strings");
  bool ok = true;
  auto out = StringReader::read(ftype.id(), n, [&](hid_t mem, void* buf) {
    ok = H5Dread(dataset.id(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
    return ok;
  });
  if (!ok) bad_file(dataset.id(), "cannot read it");
  return out;
}

namespace {
// The file space of `dataset` with the box selected, and a memory space of
// the box's shape; false when HDF5 refuses either.
bool box_spaces(Id dataset, const std::vector<hsize>& start, const std::vector<hsize>& count,
                Handle& fspace, Handle& mspace) {
  fspace = Handle(H5Dget_space(dataset), H5Sclose);
  if (!fspace) return false;
  if (H5Sselect_hyperslab(fspace.id(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                          nullptr) < 0)
    return false;
  mspace =
      Handle(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose);
  return static_cast<bool>(mspace);
}
}  // namespace

void write_box(Id dataset, Id mem_type, const std::vector<hsize>& start,
               const std::vector<hsize>& count, const void* buf, Id dxpl) {
  Handle fspace, mspace;
  if (!box_spaces(dataset, start, count, fspace, mspace))
    fail(fmt::format("select a box of '{}'", object_name(dataset)));
  if (H5Dwrite(dataset, mem_type, mspace.id(), fspace.id(), dxpl, buf) < 0)
    fail(fmt::format("write '{}' of {}", object_name(dataset), file_name(dataset)));
}

void read_box(Id dataset, Id mem_type, const std::vector<hsize>& start,
              const std::vector<hsize>& count, void* buf, Id dxpl) {
  Handle fspace, mspace;
  if (!box_spaces(dataset, start, count, fspace, mspace))
    bad_file(dataset, "cannot select the part to read (shape changed?)");
  if (H5Dread(dataset, mem_type, mspace.id(), fspace.id(), dxpl, buf) < 0)
    bad_file(dataset, "cannot read it");
}

void write_strings(Id parent, const std::string& name, const std::vector<std::string>& values) {
  std::size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size());
  Handle str = fixed_string_type(width);
  const hsize_t n = values.size();
  Handle ds = create_dataset(parent, name, str.id(), {n}, true);
  if (n == 0) return;
  std::string buf(width * n, '\0');
  for (std::size_t i = 0; i < n; ++i) buf.replace(i * width, values[i].size(), values[i]);
  write_box(ds.id(), str.id(), {0}, {n}, buf.data());
}

std::vector<std::string> read_strings(Id parent, const std::string& name) {
  return dataset_strings(open_dataset(parent, name));
}

namespace {
// An InternalError naming the dataset when `given` values do not fill a
// dataset of shape `dims` exactly.
void check_count(const std::string& name, const std::vector<hsize>& dims, std::size_t given) {
  std::size_t n = 1;
  for (auto d : dims) n *= static_cast<std::size_t>(d);
  PRH_ASSERT(given == n, "HDF5 dataset '{}': {} values for a shape of {} elements", name, given, n);
}
}  // namespace

void write_doubles(Id parent, const std::string& name, const std::vector<hsize>& dims,
                   const std::vector<double>& values) {
  check_count(name, dims, values.size());
  Handle ds = create_dataset(parent, name, H5T_IEEE_F64LE, dims, false);
  if (!values.empty())
    write_box(ds.id(), H5T_NATIVE_DOUBLE, std::vector<hsize>(dims.size(), 0), dims, values.data());
}

void write_int64s(Id parent, const std::string& name, const std::vector<hsize>& dims,
                  const std::vector<std::int64_t>& values) {
  check_count(name, dims, values.size());
  Handle ds = create_dataset(parent, name, H5T_STD_I64LE, dims, false);
  if (!values.empty())
    write_box(ds.id(), H5T_NATIVE_INT64, std::vector<hsize>(dims.size(), 0), dims, values.data());
}

}  // namespace prh::h5
