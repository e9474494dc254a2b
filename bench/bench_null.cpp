// prh-bench-null: one permutation null of one model pair (docs/calibration.md),
// the relabelling path against PairNull, per configuration group.
//
//   relabel/GROUP   what the calibrate stage did before PairNull: B's
//                   representation relabelled (permute: lists, moments), then
//                   compare_models on it, per permutation.
//   pairnull/GROUP  PairNull built once (not timed), then layer_max per
//                   permutation.
// N = 1000 images, clustered features (10 clusters) of 32 and 48 dims, lists
// of 100 neighbours; one iteration = one permutation (drawn outside the timed
// region). CPU time is the number to read on a shared machine.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "prh/metrics/cknna.hpp"
#include "prh/metrics/engine.hpp"
#include "prh/metrics/null.hpp"
#include "prh/metrics/registry.hpp"
#include "prh/metrics/tiles.hpp"
#include "prh/stats/permutation.hpp"

namespace {

using namespace prh::metrics;

constexpr Index kN = 1000;

MatrixF clustered(std::uint64_t seed, Index d) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  MatrixF centres(10, d), x(kN, d);
  for (Index c = 0; c < 10; ++c)
    for (Index j = 0; j < d; ++j) centres(c, j) = 2 * g(rng);
  for (Index i = 0; i < kN; ++i)
    for (Index j = 0; j < d; ++j) x(i, j) = centres(i % 10, j) + g(rng);
  return x;
}

const std::map<std::string, std::vector<std::string>>& groups() {
  static const std::map<std::string, std::vector<std::string>> g{
      {"mutual_knn@10", {"mutual_knn:k=10"}},
      {"cknna@10", {"cknna:k=10"}},
      {"mutual+cknna@10", {"mutual_knn:k=10", "cknna:k=10"}},
      {"mutual@10,50,100", {"mutual_knn:k=10", "mutual_knn:k=50", "mutual_knn:k=100"}},
      {"cknna@10,50,100", {"cknna:k=10", "cknna:k=50", "cknna:k=100"}},
      {"cycle@10", {"cycle_knn:k=10"}},
      {"lcs+edit@10", {"lcs_knn:k=10", "edit_distance_knn:k=10"}},
      {"cka+unbiased", {"cka", "unbiased_cka"}},
      {"svcca", {"svcca"}}};
  return g;
}

struct Pair {
  std::vector<Representation> a, b;
};

const Pair& pair() {
  static const Pair p = [] {
    std::vector<MetricSpec> all;
    for (const auto& name : {"mutual_knn:k=100", "svcca", "cka"}) all.push_back(parse_metric(name));
    Pair q;
    q.a = make_representations({clustered(1, 32)}, PreprocessOptions{}, all, "A");
    q.b = make_representations({clustered(2, 48)}, PreprocessOptions{}, all, "B");
    return q;
  }();
  return p;
}

std::vector<MetricSpec> specs_of(const std::string& group) {
  std::vector<MetricSpec> out;
  for (const auto& n : groups().at(group)) out.push_back(parse_metric(n));
  return out;
}

// The pair as the calibrate stage holds it: lists cut to the group's largest
// k, cknna self terms computed (both paths keep them).
Pair cut(const std::vector<MetricSpec>& specs) {
  Pair p = pair();
  int kmax = 0;
  for (const auto& s : specs)
    if (s.uses_knn()) kmax = std::max(kmax, s.k);
  for (auto* side : {&p.a, &p.b})
    for (auto& r : *side) {
      if (kmax > 0) r.neighbors = r.neighbors->prefix(kmax);
      r.cknna_self.clear();
      for (const auto& s : specs)
        if (s.kind == MetricKind::Cknna) r.cknna_self[s.k] = cknna_self(*r.neighbors, s.k);
    }
  return p;
}

void relabel(benchmark::State& state, const std::string& group) {
  const auto specs = specs_of(group);
  const Pair p = cut(specs);
  std::uint64_t t = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const Permutation perm = prh::stats::seeded_permutation(1, t++, kN);
    state.ResumeTiming();
    std::vector<Representation> pb;
    pb.push_back(permute(p.b[0], perm));
    benchmark::DoNotOptimize(compare_models(p.a, pb, specs));
  }
}

void pairnull(benchmark::State& state, const std::string& group) {
  const auto specs = specs_of(group);
  const Pair p = cut(specs);
  PairNull null(p.a, p.b, specs);
  std::uint64_t t = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const Permutation perm = prh::stats::seeded_permutation(1, t++, kN);
    state.ResumeTiming();
    benchmark::DoNotOptimize(null.layer_max(perm));
  }
}

// The linear-kernel null's two paths (null.hpp, linear_null_by_gram): per
// permutation, B's centred rows permuted then the cross product Xc_A^T P Xc_B
// (what the calibrate stage did before the Gram path), against the trace of
// K P L P^T over the row Gram matrices (built once, not timed). Arguments:
// N, D_A, D_B (the Gram path's cost does not depend on the D's).
MatrixF gaussian(std::uint64_t seed, Index n, Index d) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  MatrixF x(n, d);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < d; ++j) x(i, j) = g(rng);
  return x;
}

void linear_cross(benchmark::State& state) {
  const Index n = state.range(0);
  const MatrixF a = gaussian(1, n, state.range(1)), b = gaussian(2, n, state.range(2));
  MatrixF pb(b.rows(), b.cols());
  std::uint64_t t = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const Permutation perm = prh::stats::seeded_permutation(1, t++, n);
    state.ResumeTiming();
    for (Index i = 0; i < n; ++i) pb.row(i) = b.row(perm[static_cast<std::size_t>(i)]);
    benchmark::DoNotOptimize(cpu_backend().cross_product(a, pb).squaredNorm());
  }
}

void linear_gram(benchmark::State& state) {
  const Index n = state.range(0);
  const MatrixF k = row_gram(gaussian(1, n, state.range(1)));
  const MatrixF l = row_gram(gaussian(2, n, state.range(2)));
  std::uint64_t t = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const Permutation perm = prh::stats::seeded_permutation(1, t++, n);
    state.ResumeTiming();
    benchmark::DoNotOptimize(permuted_gram_trace(k, l, perm.data()));
  }
}

// What the Gram path pays once per layer: X X^T of one side.
void linear_gram_build(benchmark::State& state) {
  const MatrixF x = gaussian(1, state.range(0), state.range(1));
  for (auto _ : state) benchmark::DoNotOptimize(row_gram(x));
}

}  // namespace

int main(int argc, char** argv) {
  for (const auto& [group, _] : groups()) {
    benchmark::RegisterBenchmark(("relabel/" + group).c_str(), [g = group](benchmark::State& s) {
      relabel(s, g);
    })->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("pairnull/" + group).c_str(), [g = group](benchmark::State& s) {
      pairnull(s, g);
    })->Unit(benchmark::kMicrosecond);
  }
  const std::vector<std::vector<std::int64_t>> shapes{
      {500, 32, 64},    {500, 128, 128},  {1000, 32, 64},   {1000, 64, 128}, {1000, 128, 128},
      {1000, 256, 256}, {1000, 512, 256}, {2000, 128, 128}, {2000, 256, 256}};
  for (const char* name : {"linear/cross", "linear/gram"}) {
    auto* b = benchmark::RegisterBenchmark(name, name[7] == 'c' ? linear_cross : linear_gram);
    b->ArgNames({"N", "DA", "DB"})->Unit(benchmark::kMicrosecond);
    for (const auto& s : shapes) b->Args(s);
  }
  benchmark::RegisterBenchmark("linear/gram_build", linear_gram_build)
      ->ArgNames({"N", "D"})
      ->Args({1000, 128})
      ->Args({1000, 512})
      ->Args({2000, 256})
      ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
