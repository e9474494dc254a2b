// The stage engine under MPI (ctest runs this binary with mpiexec -n 2 and
// -n 3): parallel::decide_on_root (a value, and each kind of error, reach
// every rank alike) and pipeline::run_units (every unit exactly once over the
// ranks, done units skipped, a stop on one rank stops every rank after the
// accounting, resume does exactly what is left). Only rank 0 prints.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <new>
#include <set>

#include "prh/core/error.hpp"
#include "prh/parallel/decide.hpp"
#include "prh/parallel/mpi.hpp"
#include "prh/parallel/signals.hpp"
#include "prh/pipeline/stage.hpp"

namespace {

const prh::parallel::Session* g_session = nullptr;
const prh::parallel::Session& S() {
  return *g_session;
}

using prh::parallel::decide_on_root;

TEST(DecideOnRoot, ValueReachesEveryRank) {
  int calls = 0;
  const auto v = decide_on_root(S(), [&] {
    ++calls;
    return std::vector<std::int64_t>{7, 11, static_cast<std::int64_t>(S().size())};
  });
  EXPECT_EQ(v, (std::vector<std::int64_t>{7, 11, S().size()}));
  EXPECT_EQ(calls, S().root() ? 1 : 0) << "only rank 0 runs the function";
  const std::string text = decide_on_root(S(), [] { return std::string("a\0b", 3); });
  EXPECT_EQ(text, std::string("a\0b", 3));
  bool ran = false;
  decide_on_root(S(), [&] { ran = true; });
  EXPECT_EQ(ran, S().root());
  const auto flag = decide_on_root(S(), [] { return true; });
  EXPECT_TRUE(flag);
}

template <typename E>
std::string thrown(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("wrong type: ") + e.what();
  }
  return "nothing thrown";
}

TEST(DecideOnRoot, InputErrorOnEveryRank) {
  const auto what = thrown<prh::InputError>([] {
    decide_on_root(S(),
                   []() -> int { throw prh::InputError("store x.h5: made with another config"); });
  });
  EXPECT_EQ(what, "store x.h5: made with another config");
}

TEST(DecideOnRoot, StoppedOnEveryRank) {
  const auto what = thrown<prh::Stopped>(
      [] { decide_on_root(S(), [] { throw prh::Stopped("stopped while inspecting"); }); });
  EXPECT_EQ(what, "stopped while inspecting");
}

TEST(DecideOnRoot, AnythingElseIsInternalOnEveryRank) {
  auto what = thrown<prh::InternalError>([] {
    decide_on_root(S(), []() -> std::string { throw std::runtime_error("disk on fire"); });
  });
  EXPECT_EQ(what, "disk on fire");
  what = thrown<prh::InternalError>(
      [] { decide_on_root(S(), [] { throw prh::InternalError("bug"); }); });
  EXPECT_EQ(what, "bug");
  // The ranks are still in step after every error: a value goes through.
  EXPECT_EQ(decide_on_root(S(), [] { return 42; }), 42);
}

prh::pipeline::UnitPlan plan_of(std::size_t n, prh::pipeline::Share share) {
  prh::pipeline::UnitPlan p;
  p.stage = "unit-test";
  p.share = share;
  for (std::size_t u = 0; u < n; ++u) {
    p.cost.push_back(1.0 + static_cast<double>((u * 7) % 5));
    p.done.push_back(u % 4 == 1 ? 1 : 0);  // some done earlier
  }
  p.log_every_s = 1e9;
  return p;
}

// Which rank did each unit, gathered to every rank.
std::map<std::size_t, int> owners(const std::vector<std::size_t>& mine) {
  std::string text;
  for (auto u : mine) text += std::to_string(u) + " ";
  std::map<std::size_t, int> out;
  const auto all = S().all_gather(text);
  for (int r = 0; r < S().size(); ++r) {
    std::size_t pos = 0;
    const auto& t = all[static_cast<std::size_t>(r)];
    while (pos < t.size()) {
      const auto sp = t.find(' ', pos);
      const auto u = static_cast<std::size_t>(std::stoul(t.substr(pos, sp - pos)));
      EXPECT_TRUE(out.emplace(u, r).second) << "unit " << u << " done twice";
      pos = sp + 1;
    }
  }
  return out;
}

TEST(RunUnits, EveryUndoneUnitExactlyOnce) {
  for (auto share : {prh::pipeline::Share::kContiguous, prh::pipeline::Share::kBalanced}) {
    const auto plan = plan_of(37, share);
    std::vector<std::size_t> mine;
    const auto out = prh::pipeline::run_units(S(), plan, [&](std::size_t u) { mine.push_back(u); });
    const auto who = owners(mine);
    std::int64_t undone = 0;
    for (std::size_t u = 0; u < plan.done.size(); ++u) {
      undone += plan.done[u] ? 0 : 1;
      EXPECT_EQ(who.count(u), plan.done[u] ? 0u : 1u) << "unit " << u;
    }
    EXPECT_EQ(out.units, 37);
    EXPECT_EQ(out.todo, undone);
    EXPECT_EQ(out.done, undone);
    // The same share on every rank, from the plan alone.
    EXPECT_EQ(mine, prh::pipeline::my_units(plan, S().rank(), S().size()));
    if (share == prh::pipeline::Share::kContiguous) {
      EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end()));
    }
  }
}

TEST(RunUnits, RanksThatSeeDifferentFlagsStillLoseNoUnit) {
  // A job-array task's ranks see part files as they appear: a rank may think
  // a unit done that rank 0 does not. Rank 0's view decides; no unit is lost.
  auto plan = plan_of(41, prh::pipeline::Share::kContiguous);
  const auto root_view = plan.done;
  if (!S().root())
    for (std::size_t u = 0; u < plan.done.size(); u += 3) plan.done[u] = 1;
  std::vector<std::size_t> mine;
  const auto out = prh::pipeline::run_units(S(), plan, [&](std::size_t u) { mine.push_back(u); });
  const auto who = owners(mine);
  for (std::size_t u = 0; u < root_view.size(); ++u)
    EXPECT_EQ(who.count(u), root_view[u] ? 0u : 1u) << "unit " << u;
  EXPECT_EQ(out.done, static_cast<std::int64_t>(who.size()));
}

TEST(RunUnits, StopOnOneRankStopsAllThenResumeDoesTheRest) {
  auto plan = plan_of(40, prh::pipeline::Share::kContiguous);
  // The last rank abandons its second unit (as a stop request mid-unit does).
  const int stopper = S().size() - 1;
  std::vector<std::size_t> mine;
  const auto what = thrown<prh::Stopped>([&] {
    prh::pipeline::run_units(S(), plan, [&](std::size_t u) {
      if (S().rank() == stopper && mine.size() == 1) throw prh::Stopped("abandoned");
      mine.push_back(u);
    });
  });
  EXPECT_NE(what.find("unit-test stopped on a signal after"), std::string::npos) << what;
  const auto first = owners(mine);
  // Resume: the finished units are done now; the rest is done exactly once.
  for (const auto& [u, r] : first) plan.done[u] = 1;
  std::vector<std::size_t> rest;
  const auto out = prh::pipeline::run_units(S(), plan, [&](std::size_t u) { rest.push_back(u); });
  const auto second = owners(rest);
  for (std::size_t u = 0; u < plan.done.size(); ++u) {
    const bool earlier = plan_of(40, prh::pipeline::Share::kContiguous).done[u] != 0;
    EXPECT_EQ(first.count(u) + second.count(u) + (earlier ? 1 : 0), 1u) << "unit " << u;
  }
  EXPECT_EQ(out.done, static_cast<std::int64_t>(second.size()));
  EXPECT_GE(out.done, 1);
}

// Out of memory in a unit (issue 24: `prh reduce` once ended in "internal
// error: std::bad_alloc"): with `describe` an InputError naming the unit and
// its bytes on every rank that hit it; without, the bad_alloc itself.
TEST(RunUnits, OutOfMemoryInAUnitNamesIt) {
  auto plan = plan_of(12, prh::pipeline::Share::kBalanced);
  plan.describe = [](std::size_t u) {
    return "image set 's', unit " + std::to_string(u) + ": 64 GB";
  };
  const auto fail = [](std::size_t) { throw std::bad_alloc(); };
  const auto what = thrown<prh::InputError>([&] { prh::pipeline::run_units(S(), plan, fail); });
  EXPECT_NE(what.find("unit-test: out of memory (an allocation failed) on image set 's', unit "),
            std::string::npos)
      << what;
  EXPECT_NE(what.find(": 64 GB"), std::string::npos) << what;
  plan.describe = nullptr;
  const auto bare = thrown<std::bad_alloc>([&] { prh::pipeline::run_units(S(), plan, fail); });
  EXPECT_EQ(bare, std::bad_alloc().what());
}

}  // namespace

int main(int argc, char** argv) {
  prh::parallel::Session session(&argc, &argv);
  g_session = &session;
  ::testing::InitGoogleTest(&argc, argv);
  if (!session.root()) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  const int failed = RUN_ALL_TESTS();
  // Every rank's result counts: the job fails if any rank failed.
  const bool any_failed = session.sum(failed != 0 ? 1 : 0) > 0;
  return any_failed ? 1 : 0;
}
