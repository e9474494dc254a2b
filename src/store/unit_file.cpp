#include "unit_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "prh/core/error.hpp"
#include "prh/store/done_flags.hpp"
#include "prh/store/results_store.hpp"

namespace prh::store {

namespace fs = std::filesystem;

namespace {

// A journal: a header, then frames. A frame is
//   u64 kFrameBegin, u64 payload bytes, payload, u64 kFrameEnd
// and its payload a sequence of operations:
//   u8 1 (write), u32 path bytes, path, u8 type, u8 rank, u64 start[rank],
//      u64 count[rank], u64 data bytes, data
//   u8 2 (flag),  u32 path bytes, path, u64 unit
// in this machine's byte order (the header's check word tells another).
constexpr char kHeader[16] = "prh-journal-1\n";
constexpr std::uint32_t kByteOrder = 0x01020304u;
constexpr std::uint64_t kFrameBegin = 0x314d5246484a5250ull;  // "PRJHFRM1"
constexpr std::uint64_t kFrameEnd = 0x31444e45484a5250ull;    // "PRJHEND1"
constexpr std::uint8_t kWrite = 1, kFlag = 2;

// The native memory types a writer may use, as codes.
const std::vector<h5::Id>& mem_types() {
  static const std::vector<h5::Id> t = {h5::native_float(), h5::native_double(), h5::native_int32(),
                                        h5::native_int64(), h5::native_uint8()};
  return t;
}
std::uint8_t type_code(h5::Id t) {
  const auto& ts = mem_types();
  for (std::size_t i = 0; i < ts.size(); ++i)
    if (h5::same_type(t, ts[i])) return static_cast<std::uint8_t>(i + 1);
  throw InternalError("journal: a write in an unsupported memory type");
}

template <typename T>
void put(std::vector<char>& b, T v) {
  const auto* p = reinterpret_cast<const char*>(&v);
  b.insert(b.end(), p, p + sizeof(T));
}
void put_string(std::vector<char>& b, const std::string& s) {
  put(b, static_cast<std::uint32_t>(s.size()));
  b.insert(b.end(), s.begin(), s.end());
}

class Reader {
 public:
  Reader(const char* p, std::size_t n) : p_(p), end_(p + n) {}
  template <typename T>
  T get() {
    T v;
    need(sizeof(T));
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    return v;
  }
  std::string string() {
    const auto n = get<std::uint32_t>();
    need(n);
    std::string s(p_, n);
    p_ += n;
    return s;
  }
  const char* bytes(std::size_t n) {
    need(n);
    const char* q = p_;
    p_ += n;
    return q;
  }
  bool empty() const { return p_ == end_; }

 private:
  void need(std::size_t n) const {
    if (static_cast<std::size_t>(end_ - p_) < n)
      throw InternalError("journal: a frame's operations run past its end");
  }
  const char* p_;
  const char* end_;
};

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "host";
  std::string s(buf);
  for (auto& c : s)
    if (c == '/') c = '_';
  return s.empty() ? "host" : s;
}

}  // namespace

std::string journal_dir(const std::string& path) {
  return path + ".journal";
}

// This process's journal of one file: frames appended with one write(2).
struct UnitFile::Journal {
  std::string path;  // the journal file (created at the first frame)
  int fd = -1;
  std::vector<char> frame;  // the pending unit's operations

  explicit Journal(const std::string& file) {
    static std::atomic<int> seq{0};
    path = (fs::path(journal_dir(file)) /
            fmt::format("{}.{}.{}", host_name(), static_cast<long>(getpid()), seq++))
               .string();
  }
  ~Journal() {
    if (fd >= 0) ::close(fd);
  }
  void append(const std::vector<char>& bytes) {
    if (fd < 0) {
      std::error_code ec;
      fs::create_directories(fs::path(path).parent_path(), ec);
      PRH_CHECK_INPUT(!ec, "{}: cannot create the journal folder: {}", path, ec.message());
      fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      PRH_CHECK_INPUT(fd >= 0, "{}: cannot create the journal: {}", path, std::strerror(errno));
      std::vector<char> head(kHeader, kHeader + sizeof(kHeader));
      put(head, kByteOrder);
      write_all(head);
    }
    write_all(bytes);
  }
  void write_all(const std::vector<char>& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t w = ::write(fd, bytes.data() + off, bytes.size() - off);
      if (w < 0 && errno == EINTR) continue;
      PRH_CHECK_INPUT(w > 0, "{}: cannot write the journal: {}", path, std::strerror(errno));
      off += static_cast<std::size_t>(w);
    }
  }
};

UnitFile::UnitFile(const std::string& path, MPI_Comm comm, bool journal) : path_(path) {
  h5::quiet();
  if (!journal) {
    auto fapl = h5::fapl_mpio(comm);
    file_ = h5::try_open_file(path, /*write=*/true, fapl.id());
    if (!file_) throw InternalError(fmt::format("{}: cannot open: {}", path, h5::error_stack()));
    dxpl_ = h5::dxpl_independent();
  } else {
    (void)comm;
    file_ = h5::try_open_file(path, /*write=*/false);
    if (!file_) throw InternalError(fmt::format("{}: cannot open: {}", path, h5::error_stack()));
    dxpl_ = h5::dxpl_default();
    journal_ = std::make_unique<Journal>(path);
  }
}

UnitFile::~UnitFile() = default;

std::size_t UnitFile::dataset(const std::string& path) {
  const auto it = dataset_slot_.find(path);
  if (it != dataset_slot_.end()) return it->second;
  datasets_.push_back(h5::open_dataset(file_.id(), path));
  dataset_paths_.push_back(path);
  dataset_slot_[path] = datasets_.size() - 1;
  return datasets_.size() - 1;
}

namespace {
void append_write(std::vector<char>& frame, const std::string& path, h5::Id mem_type,
                  const std::vector<h5::hsize>& start, const std::vector<h5::hsize>& count,
                  const void* buf) {
  PRH_ASSERT(start.size() == count.size(), "journal: box of rank {} and {}", start.size(),
             count.size());
  std::uint64_t n = h5::type_size(mem_type);
  for (auto c : count) n *= c;
  put(frame, kWrite);
  put_string(frame, path);
  put(frame, type_code(mem_type));
  put(frame, static_cast<std::uint8_t>(start.size()));
  for (auto s : start) put(frame, static_cast<std::uint64_t>(s));
  for (auto c : count) put(frame, static_cast<std::uint64_t>(c));
  put(frame, n);
  const auto* p = static_cast<const char*>(buf);
  frame.insert(frame.end(), p, p + n);
}
}  // namespace

void UnitFile::write(std::size_t slot, h5::Id mem_type, const std::vector<h5::hsize>& start,
                     const std::vector<h5::hsize>& count, const void* buf) {
  if (journal_)
    append_write(journal_->frame, dataset_paths_.at(slot), mem_type, start, count, buf);
  else
    h5::write_box(datasets_.at(slot).id(), mem_type, start, count, buf, dxpl_.id());
}

void UnitFile::write(const std::string& path, h5::Id mem_type, const std::vector<h5::hsize>& start,
                     const std::vector<h5::hsize>& count, const void* buf) {
  if (journal_) {
    append_write(journal_->frame, path, mem_type, start, count, buf);
  } else {
    auto ds = h5::open_dataset(file_.id(), path);
    h5::write_box(ds.id(), mem_type, start, count, buf, dxpl_.id());
  }
}

std::size_t UnitFile::flags(const std::string& path) {
  flag_paths_.push_back(path);
  if (journal_) {
    auto ds = h5::open_dataset(file_.id(), path);
    const auto shape = h5::dataset_shape(ds);
    PRH_ASSERT(shape.size() == 1, "done dataset {}: rank {}, expected 1", path, shape.size());
    std::vector<std::uint8_t> v(static_cast<std::size_t>(shape[0]), 0);
    if (!v.empty()) h5::read_box(ds.id(), h5::native_uint8(), {0}, {shape[0]}, v.data());
    serial_flags_.push_back(std::move(v));
    return serial_flags_.size() - 1;
  }
  flags_.push_back(std::make_unique<DoneFlags>(file_, path, Durability::kWritesReachFile, &dxpl_));
  return flags_.size() - 1;
}

std::size_t UnitFile::flag_count(std::size_t slot) const {
  return journal_ ? serial_flags_.at(slot).size() : flags_.at(slot)->size();
}

bool UnitFile::done(std::size_t slot, std::size_t unit) const {
  return journal_ ? serial_flags_.at(slot).at(unit) != 0 : flags_.at(slot)->done(unit);
}

void UnitFile::mark(std::size_t slot, std::size_t unit) {
  if (!journal_) {
    flags_.at(slot)->mark(unit);
    return;
  }
  auto& f = serial_flags_.at(slot);
  PRH_ASSERT(unit < f.size(), "done flag {} of {} in {}", unit, f.size(), flag_paths_.at(slot));
  auto& frame = journal_->frame;
  put(frame, kFlag);
  put_string(frame, flag_paths_.at(slot));
  put(frame, static_cast<std::uint64_t>(unit));
  std::vector<char> out;
  out.reserve(frame.size() + 24);
  put(out, kFrameBegin);
  put(out, static_cast<std::uint64_t>(frame.size()));
  out.insert(out.end(), frame.begin(), frame.end());
  put(out, kFrameEnd);
  frame.clear();
  journal_->append(out);
  f[unit] = 1;
}

namespace {

std::vector<fs::path> journals_of(const std::string& path) {
  std::vector<fs::path> journals;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(journal_dir(path), ec))
    if (e.is_regular_file()) journals.push_back(e.path());
  std::sort(journals.begin(), journals.end());
  return journals;
}

// One operation of a whole frame: a write (data != nullptr) or a flag.
struct Op {
  std::string path;
  std::uint8_t type = 0;  // write: the type code
  std::vector<h5::hsize> start, count;
  const char* data = nullptr;
  std::uint64_t unit = 0;  // flag
};

// Calls `op` for every operation of every whole frame of journal `j`, in
// order; returns whether the journal ended in a torn frame.
bool read_journal(const fs::path& j, const std::function<void(const Op&)>& op) {
  std::ifstream in(j, std::ios::binary);
  char head[sizeof(kHeader)] = {};
  std::uint32_t order = 0;
  in.read(head, sizeof(head));
  in.read(reinterpret_cast<char*>(&order), sizeof(order));
  if (!in) return false;  // killed before its first frame: nothing in it
  PRH_CHECK_INPUT(std::memcmp(head, kHeader, sizeof(kHeader)) == 0 && order == kByteOrder,
                  "{}: not a prh journal of this machine's byte order; move it away", j.string());
  std::vector<char> payload;
  while (true) {
    std::uint64_t begin = 0, n = 0, end = 0;
    in.read(reinterpret_cast<char*>(&begin), sizeof(begin));
    if (in.gcount() == 0) return false;  // the end of the journal
    in.read(reinterpret_cast<char*>(&n), sizeof(n));
    if (!in || begin != kFrameBegin) return true;
    payload.resize(static_cast<std::size_t>(n));
    in.read(payload.data(), static_cast<std::streamsize>(n));
    in.read(reinterpret_cast<char*>(&end), sizeof(end));
    if (!in || end != kFrameEnd) return true;  // torn: killed while appending it
    Reader r(payload.data(), payload.size());
    while (!r.empty()) {
      Op o;
      const auto kind = r.get<std::uint8_t>();
      o.path = r.string();
      if (kind == kFlag) {
        o.unit = r.get<std::uint64_t>();
        op(o);
        continue;
      }
      PRH_ASSERT(kind == kWrite, "{}: unknown journal operation {}", j.string(), int(kind));
      o.type = r.get<std::uint8_t>();
      PRH_ASSERT(o.type >= 1 && o.type <= mem_types().size(), "{}: unknown type code {}",
                 j.string(), int(o.type));
      const auto rank = r.get<std::uint8_t>();
      o.start.resize(rank);
      o.count.resize(rank);
      for (auto& x : o.start) x = r.get<std::uint64_t>();
      for (auto& c : o.count) c = r.get<std::uint64_t>();
      const auto bytes = r.get<std::uint64_t>();
      o.data = r.bytes(static_cast<std::size_t>(bytes));
      op(o);
    }
  }
}

}  // namespace

std::int64_t journal_units(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(journal_dir(path), ec)) return 0;
  std::int64_t n = 0;
  for (const auto& j : journals_of(path))
    read_journal(j, [&](const Op& o) { n += o.data == nullptr ? 1 : 0; });
  return n;
}

std::map<std::string, std::set<std::uint64_t>> journal_flags(const std::string& path) {
  std::map<std::string, std::set<std::uint64_t>> out;
  std::error_code ec;
  if (!fs::is_directory(journal_dir(path), ec)) return out;
  for (const auto& j : journals_of(path))
    read_journal(j, [&](const Op& o) {
      if (o.data == nullptr) out[o.path].insert(o.unit);
    });
  return out;
}

std::int64_t replay_journals(const std::string& path) {
  const fs::path dir = journal_dir(path);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return 0;
  const auto journals = journals_of(path);
  if (!fs::exists(path)) {
    spdlog::warn("{}: {} journals of a file that no longer exists; deleted", path, journals.size());
    fs::remove_all(dir, ec);
    return 0;
  }
  h5::quiet();
  h5::Handle file = h5::try_open_file(path, /*write=*/true);
  PRH_CHECK_INPUT(file,
                  "{}: cannot open it to merge the journals in {} ({}): locked by another prh "
                  "still running?",
                  path, dir.string(), h5::error_stack());
  const h5::Id fid = file.id();
  std::map<std::string, h5::Handle> open;
  auto dataset = [&](const std::string& p) -> h5::Id {
    auto it = open.find(p);
    if (it == open.end()) it = open.emplace(p, h5::open_dataset(fid, p)).first;
    return it->second.id();
  };
  std::vector<std::pair<std::string, std::uint64_t>> marks;
  std::int64_t torn = 0;
  for (const auto& j : journals)
    torn += read_journal(j, [&](const Op& o) {
      if (o.data == nullptr)
        marks.emplace_back(o.path, o.unit);
      else
        h5::write_box(dataset(o.path), mem_types()[o.type - 1], o.start, o.count, o.data);
    });
  h5::flush(fid);
  const std::uint8_t one = 1;
  for (const auto& [p, unit] : marks)
    h5::write_box(dataset(p), h5::native_uint8(), {static_cast<h5::hsize>(unit)}, {1}, &one);
  open.clear();
  h5::flush(fid);
  file.reset();
  if (torn > 0)
    spdlog::info(
        "{}: {} journals ended in a unit cut off while it was written; that unit is "
        "redone",
        path, torn);
  fs::remove_all(dir, ec);
  return static_cast<std::int64_t>(marks.size());
}

}  // namespace prh::store
