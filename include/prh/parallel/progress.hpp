#pragma once
// Global progress without a collective inside a stage's loop: every rank
// tells rank 0 how far it is (point to point, never blocking its work), so
// rank 0's progress lines and ETA cover the whole job, not its own share.

#include <cstdint>
#include <functional>
#include <vector>

namespace prh::parallel {

class Session;

// Progress of the ranks: finished units and the cost they represent.
struct Progress {
  std::int64_t units = 0;
  double cost = 0;
};

class ProgressBoard {
 public:
  explicit ProgressBoard(const Session& session);
  ~ProgressBoard();
  ProgressBoard(const ProgressBoard&) = delete;
  ProgressBoard& operator=(const ProgressBoard&) = delete;

  // This rank's progress so far (cumulative). A non-root rank sends it to
  // rank 0 unless its previous report is still in flight; never blocks.
  void report(Progress mine);
  // Rank 0: the sum over ranks of the latest reports (its own included).
  Progress totals();
  // End of this rank's share. A non-root rank sends its final progress.
  // Rank 0 waits for every rank's final progress, calling `tick` with the
  // totals about every `interval_s` seconds while it waits.
  void finish(Progress mine, double interval_s, const std::function<void(Progress)>& tick);

 private:
  void receive_pending();
  const Session& session_;
  std::vector<Progress> latest_;  // rank 0: per rank
  std::vector<char> final_;       // rank 0: per rank, its final report came
  double buffer_[2] = {0, 0};     // non-root: the report in flight
  void* request_ = nullptr;       // non-root: MPI_Request of that report
};

}  // namespace prh::parallel
