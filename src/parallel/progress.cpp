#include "prh/parallel/progress.hpp"

#include <mpi.h>

#include <chrono>
#include <thread>

#include "prh/core/error.hpp"
#include "prh/parallel/mpi.hpp"

namespace prh::parallel {

namespace {
constexpr int kTagReport = 7301;  // a rank's progress so far
constexpr int kTagFinal = 7302;   // a rank's progress at the end of its share
}  // namespace

ProgressBoard::ProgressBoard(const Session& session) : session_(session) {
  if (session_.root()) {
    latest_.assign(static_cast<std::size_t>(session_.size()), Progress{});
    final_.assign(static_cast<std::size_t>(session_.size()), 0);
    final_[0] = 1;
  } else {
    request_ = new MPI_Request(MPI_REQUEST_NULL);
  }
}

ProgressBoard::~ProgressBoard() {
  if (request_ == nullptr) return;
  auto* req = static_cast<MPI_Request*>(request_);
  // Normally completed in finish(); an exception left it: cancel it (the job
  // is being aborted anyway) rather than leave MPI a dangling buffer.
  if (*req != MPI_REQUEST_NULL) {
    MPI_Cancel(req);
    MPI_Request_free(req);
  }
  delete req;
}

void ProgressBoard::report(Progress mine) {
  if (session_.root()) {
    latest_[0] = mine;
    receive_pending();
    return;
  }
  auto* req = static_cast<MPI_Request*>(request_);
  int done = 1;
  if (*req != MPI_REQUEST_NULL) MPI_Test(req, &done, MPI_STATUS_IGNORE);
  if (!done) return;  // the previous report is still in flight: skip this one
  buffer_[0] = static_cast<double>(mine.units);
  buffer_[1] = mine.cost;
  MPI_Isend(buffer_, 2, MPI_DOUBLE, 0, kTagReport, session_.comm(), req);
}

Progress ProgressBoard::totals() {
  PRH_ASSERT(session_.root(), "ProgressBoard::totals on rank {}", session_.rank());
  receive_pending();
  Progress t;
  for (const auto& p : latest_) t.units += p.units, t.cost += p.cost;
  return t;
}

void ProgressBoard::receive_pending() {
  for (const int tag : {kTagReport, kTagFinal}) {
    for (;;) {
      int flag = 0;
      MPI_Status st;
      MPI_Iprobe(MPI_ANY_SOURCE, tag, session_.comm(), &flag, &st);
      if (!flag) break;
      double msg[2];
      MPI_Recv(msg, 2, MPI_DOUBLE, st.MPI_SOURCE, tag, session_.comm(), MPI_STATUS_IGNORE);
      const auto r = static_cast<std::size_t>(st.MPI_SOURCE);
      if (final_[r]) continue;  // a report overtaken by the final one
      latest_[r].units = static_cast<std::int64_t>(msg[0]);
      latest_[r].cost = msg[1];
      if (tag == kTagFinal) final_[r] = 1;
    }
  }
}

void ProgressBoard::finish(Progress mine, double interval_s,
                           const std::function<void(Progress)>& tick) {
  if (!session_.root()) {
    auto* req = static_cast<MPI_Request*>(request_);
    if (*req != MPI_REQUEST_NULL) MPI_Wait(req, MPI_STATUS_IGNORE);
    buffer_[0] = static_cast<double>(mine.units);
    buffer_[1] = mine.cost;
    MPI_Send(buffer_, 2, MPI_DOUBLE, 0, kTagFinal, session_.comm());
    return;
  }
  latest_[0] = mine;
  using clock = std::chrono::steady_clock;
  auto last = clock::now();
  for (;;) {
    receive_pending();
    bool all = true;
    for (char f : final_) all = all && f;
    if (all) {
      // A report sent before a rank's final one can still be queued behind
      // it: receive it now, so that no message of this board is left over.
      receive_pending();
      return;
    }
    if (std::chrono::duration<double>(clock::now() - last).count() >= interval_s) {
      last = clock::now();
      tick(totals());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace prh::parallel
