#pragma once
// Internal to the store: how a stage's ranks write their units into one HDF5
// file (docs/store.md, "Serial HDF5").
//
// - Parallel HDF5: every rank opens the file through MPI-IO and writes raw
//   data with independent writes; a unit's done flag is written after its
//   data (DoneFlags, kWritesReachFile).
// - Serial HDF5 (HDF5 allows one writing process per file): every rank opens
//   the file read-only, for the done flags, and appends each finished unit
//   (its writes, then its flags) as one frame to a journal of its own,
//   FILE.journal/HOST.PID.SEQ. One process replays every journal into the
//   file when the stage ends (replay_journals), and at the start of the next
//   run if a run was cut off. A frame is written with one write(2): a process
//   killed while appending leaves a torn last frame, which replay drops (its
//   unit was never marked done, so it is redone).
//
// The writers of the results file and the preparation cache use UnitFile;
// the embedding store has its own serial mode (part files, embed.cpp).

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "h5.hpp"

namespace prh::store {

class DoneFlags;

// True when this build's HDF5 is parallel (MPI-IO).
constexpr bool kParallelHdf5 = PRH_PARALLEL_HDF5 != 0;

class UnitFile {
 public:
  // Opens `path` (which exists) on every rank of `comm`: through MPI-IO for
  // writing (parallel HDF5), or read-only with a journal (serial HDF5;
  // `journal` forces that mode in a parallel build too, for the tests).
  UnitFile(const std::string& path, MPI_Comm comm, bool journal = !kParallelHdf5);
  ~UnitFile();
  UnitFile(const UnitFile&) = delete;
  UnitFile& operator=(const UnitFile&) = delete;

  const h5::Handle& file() const { return file_; }
  // The data-transfer property list for reads of this file.
  h5::Id dxpl() const { return dxpl_.id(); }

  // A dataset written often (opened once); returns its slot.
  std::size_t dataset(const std::string& path);
  void write(std::size_t slot, h5::Id mem_type, const std::vector<h5::hsize>& start,
             const std::vector<h5::hsize>& count, const void* buf);
  // A dataset written once (opened for this write only).
  void write(const std::string& path, h5::Id mem_type, const std::vector<h5::hsize>& start,
             const std::vector<h5::hsize>& count, const void* buf);

  // The done flags in a 1-D uint8 dataset, read now; returns their slot.
  std::size_t flags(const std::string& path);
  std::size_t flag_count(std::size_t slot) const;
  bool done(std::size_t slot, std::size_t unit) const;
  // The durability point of a unit: every write of its data has been made.
  // Parallel: the flag is written; serial: the unit's frame (its writes and
  // this flag) is appended to the journal.
  void mark(std::size_t slot, std::size_t unit);

 private:
  struct Journal;
  std::string path_;
  h5::Handle file_, dxpl_;
  std::vector<h5::Handle> datasets_;
  std::vector<std::string> dataset_paths_;
  std::map<std::string, std::size_t> dataset_slot_;
  std::vector<std::unique_ptr<DoneFlags>> flags_;        // parallel
  std::vector<std::vector<std::uint8_t>> serial_flags_;  // serial
  std::vector<std::string> flag_paths_;
  std::unique_ptr<Journal> journal_;
};

// The journals of `path` (its FILE.journal folder).
std::string journal_dir(const std::string& path);

// Replays every journal of `path` into it (opened read-write by this process
// alone, serial access whatever the build), then deletes them: the writes of
// every whole frame, an HDF5 flush, their done flags, a flush. Returns the
// units replayed. Idempotent: a process killed while replaying leaves the
// journals, and the next replay writes the same bytes again. If `path` does
// not exist, its journals are stale and are deleted. Cheap when there is no
// journal folder (every parallel-HDF5 run).
std::int64_t replay_journals(const std::string& path);

// journal_units (results_store.hpp): the units waiting in the journals.

}  // namespace prh::store
