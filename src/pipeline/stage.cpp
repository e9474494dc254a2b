#include "prh/pipeline/stage.hpp"

#include <chrono>
#include <new>

#include <spdlog/spdlog.h>

#include "prh/core/error.hpp"
#include "prh/parallel/mpi.hpp"
#include "prh/parallel/progress.hpp"
#include "prh/parallel/signals.hpp"
#include "prh/parallel/work.hpp"
#include "progress.hpp"

namespace prh::pipeline {

std::vector<std::size_t> my_units(const UnitPlan& plan, int rank, int ranks) {
  PRH_ASSERT(plan.cost.size() == plan.done.size(), "plan {}: {} costs for {} done flags",
             plan.stage, plan.cost.size(), plan.done.size());
  std::vector<std::size_t> todo;
  std::vector<double> cost;
  for (std::size_t u = 0; u < plan.done.size(); ++u)
    if (!plan.done[u]) todo.push_back(u), cost.push_back(plan.cost[u]);
  std::vector<std::size_t> mine;
  if (plan.share == Share::kContiguous) {
    const auto [first, last] = parallel::weighted_share(cost, rank, ranks);
    for (std::size_t t = first; t < last; ++t) mine.push_back(todo[t]);
  } else {
    for (std::size_t t : parallel::balanced_share(cost, rank, ranks)) mine.push_back(todo[t]);
  }
  return mine;
}

namespace {

std::string progress_line(const UnitPlan& plan, parallel::Progress p, std::int64_t todo,
                          double todo_cost, double secs) {
  const double pct =
      todo > 0 ? 100.0 * static_cast<double>(p.units) / static_cast<double>(todo) : 100.0;
  const double rate = p.cost / std::max(secs, 1e-9);
  const std::string eta = p.cost > 0 ? detail::eta((todo_cost - p.cost) / rate) : "?";
  std::string speed;
  if (!plan.rate_unit.empty()) speed = fmt::format(", {:.0f} {}/s", rate, plan.rate_unit);
  return fmt::format("{}: {}/{} {} ({:.0f}%){}, ETA {} (all ranks)", plan.stage, p.units, todo,
                     plan.unit, pct, speed, eta);
}

// The plan with rank 0's done flags. The share must be the same on every
// rank, so rank 0's view of which units are done is everyone's: a rank that
// read a flag after another rank had already set it (a job-array task's part
// files are seen as they appear) would otherwise deal the units differently
// and leave some to nobody. A unit that rank 0 saw undone but another rank
// finished since is done once more (same bytes), never lost.
UnitPlan agreed_plan(const parallel::Session& session, const UnitPlan& given) {
  UnitPlan plan = given;
  const std::string seen = session.broadcast(std::string(plan.done.begin(), plan.done.end()));
  PRH_ASSERT(seen.size() == plan.done.size(), "plan {}: {} done flags from rank 0, {} here",
             plan.stage, seen.size(), plan.done.size());
  plan.done.assign(seen.begin(), seen.end());
  return plan;
}

}  // namespace

StageOutcome run_units(const parallel::Session& session, const UnitPlan& given,
                       const std::function<void(std::size_t unit)>& fn) {
  const UnitPlan plan = agreed_plan(session, given);
  const auto mine = my_units(plan, session.rank(), session.size());
  StageOutcome out;
  out.units = static_cast<std::int64_t>(plan.done.size());
  double todo_cost = 0;
  for (std::size_t u = 0; u < plan.done.size(); ++u)
    if (!plan.done[u]) ++out.todo, todo_cost += plan.cost[u];

  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  auto last_log = t0;
  const auto secs = [&] { return std::chrono::duration<double>(clock::now() - t0).count(); };
  parallel::ProgressBoard board(session);
  parallel::Progress here;
  bool stopped = false;
  for (std::size_t k = 0; k < mine.size(); ++k) {
    if (parallel::stop_requested()) {
      stopped = true;
      break;
    }
    try {
      fn(mine[k]);
    } catch (const Stopped&) {
      stopped = true;  // the unit was abandoned; it stays undone
      break;
    } catch (const std::bad_alloc&) {
      if (!plan.describe) throw;
      throw InputError(fmt::format(
          "{}: out of memory (an allocation failed) on {}: give each rank more memory (fewer "
          "ranks per node) or use smaller sets; finished units are saved, a re-run resumes",
          plan.stage, plan.describe(mine[k])));
    }
    ++here.units;
    here.cost += plan.cost[mine[k]];
    board.report(here);
    parallel::hold_for_test(plan.stage.c_str(), here.units, static_cast<long long>(mine.size()));
    if (session.root() &&
        std::chrono::duration<double>(clock::now() - last_log).count() >= plan.log_every_s) {
      last_log = clock::now();
      spdlog::info("{}", progress_line(plan, board.totals(), out.todo, todo_cost, secs()));
    }
  }
  board.finish(here, plan.log_every_s, [&](parallel::Progress p) {
    spdlog::info("{}", progress_line(plan, p, out.todo, todo_cost, secs()));
  });
  out.done = session.sum(here.units);
  out.seconds = secs();
  if (session.any(stopped)) {
    const std::string what =
        fmt::format("{} stopped on a signal after {} of {} {}; finished {} are saved", plan.stage,
                    out.done, out.todo, plan.unit, plan.unit);
    if (session.root()) spdlog::warn("{}", what);
    throw Stopped(what);
  }
  return out;
}

}  // namespace prh::pipeline
