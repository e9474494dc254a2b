#pragma once
// Thin RAII over MPI: the only code that speaks MPI. A Session initialises
// MPI (works without mpirun too: a singleton of one rank) and finalises it;
// collectives are small checked wrappers.

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace prh::parallel {

class Session {
 public:
  Session(int* argc, char*** argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }
  // Rank among the ranks on this node (GPUs are bound by it).
  int local_rank() const { return local_rank_; }
  MPI_Comm comm() const { return MPI_COMM_WORLD; }

  void barrier() const;
  // Logical OR, and sum, over ranks.
  bool any(bool v) const;
  std::int64_t sum(std::int64_t v) const;
  // Broadcasts a string from root.
  std::string broadcast(const std::string& s) const;
  // Gathers one string per rank at every rank.
  std::vector<std::string> all_gather(const std::string& s) const;
  // Ends the whole job (every rank) with an exit code; for unrecoverable errors.
  [[noreturn]] void abort(int code) const;

 private:
  int rank_ = 0, size_ = 1, local_rank_ = 0;
  bool owns_ = false;
};

}  // namespace prh::parallel
