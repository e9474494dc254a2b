#pragma once
// One done dataset (1-D uint8, a flag per unit) with its flags cached in
// memory: the resumability of every stage. A unit's flag is written only
// after its data, at one explicit durability point (mark), so a process
// killed at any moment leaves every flag either unset (the unit is redone)
// or set with its data complete in the file.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace prh::h5 {
class Handle;  // src/store/h5.hpp: HDF5 stays inside the store
}

namespace prh::store {

// How a unit's data reaches the file before its flag is written.
enum class Durability {
  // Independent MPI-IO raw-data writes: in the file (the OS) when they return.
  kWritesReachFile,
  // A file written by one process through HDF5's cache: flushed before the
  // flag is written, and again after it.
  kFlushFile,
};

class DoneFlags {
 public:
  // Opens `dataset` in `file` and reads every flag (transfers through
  // `dxpl`, the file's data-transfer property list, if given).
  DoneFlags(const h5::Handle& file, const std::string& dataset, Durability durability,
            const h5::Handle* dxpl = nullptr);
  ~DoneFlags();
  DoneFlags(DoneFlags&&) noexcept;
  DoneFlags& operator=(DoneFlags&&) noexcept;

  std::size_t size() const { return flags_.size(); }
  bool done(std::size_t unit) const { return flags_.at(unit) != 0; }
  std::int64_t count() const;
  const std::vector<std::uint8_t>& flags() const { return flags_; }

  // The durability point. Call once every write of the unit's data has
  // returned: makes that data durable (flush_data), writes the unit's flag,
  // makes the flag durable, and caches it.
  void mark(std::size_t unit);

 private:
  void flush_data();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<std::uint8_t> flags_;
};

}  // namespace prh::store
