// prh-bench-bootstrap: the correlation matrix of K configurations over the
// M (M - 1) / 2 model pairs with its bootstrap intervals and p-values
// (prh::stats::correlation_matrix, 1000 resamples over models), per method,
// and with missing scores (docs/results.md, /correlation). Formerly the unit test
// BootstrapPerf.Report, which timed these without asserting anything.
//
//   spearman | pearson | kendall   complete matrices
//   spearman_model_missing         one model NaN in every configuration
//   spearman_model_missing_pairs   that, plus one NaN pair in 6 configurations
//
// K = 26 configurations, M = 17 models: models are random points in R^3 and a
// configuration scores a pair by minus their distance plus its own noise
// (fixed seed). One iteration = one correlation_matrix call.

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "prh/stats/bootstrap.hpp"

namespace {

using namespace prh::stats;

constexpr int kM = 17;
constexpr int kK = 26;

// Portable normal numbers (Box-Muller on the raw mt19937_64 output).
struct Gauss {
  explicit Gauss(std::uint64_t seed) : rng(seed) {}
  double uniform() { return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53; }
  double operator()() {
    return std::sqrt(-2 * std::log(uniform())) * std::cos(2 * M_PI * uniform());
  }
  std::mt19937_64 rng;
};

// K symmetric M x M score matrices (diagonal 1), configuration k with noise
// of standard deviation 0.05 (k + 1).
std::vector<std::vector<double>> generate(std::uint64_t seed) {
  Gauss g(seed);
  std::vector<double> z(static_cast<std::size_t>(3 * kM));
  for (auto& v : z) v = g();
  std::vector<std::vector<double>> out;
  for (int k = 0; k < kK; ++k) {
    const double sd = 0.05 * (k + 1);
    std::vector<double> s(static_cast<std::size_t>(kM * kM), 1.0);
    for (int i = 0; i < kM; ++i)
      for (int j = i + 1; j < kM; ++j) {
        double d2 = 0;
        for (int c = 0; c < 3; ++c)
          d2 += (z[3 * i + c] - z[3 * j + c]) * (z[3 * i + c] - z[3 * j + c]);
        s[i * kM + j] = s[j * kM + i] = -std::sqrt(d2) + sd * g();
      }
    out.push_back(std::move(s));
  }
  return out;
}

// missing: 0 none, 1 model 5 missing everywhere, 2 that plus pair (1, 2) in
// every fifth configuration.
std::vector<std::vector<double>> matrices(int missing) {
  auto mats = generate(13);
  const double nan = std::nan("");
  if (missing >= 1)
    for (auto& s : mats)
      for (int j = 0; j < kM; ++j) s[5 * kM + j] = s[j * kM + 5] = nan;
  if (missing >= 2)
    for (int k = 0; k < kK; k += 5) mats[k][1 * kM + 2] = mats[k][2 * kM + 1] = nan;
  return mats;
}

void run(benchmark::State& state, Method m, int missing) {
  const auto mats = matrices(missing);
  BootstrapOptions opt;  // 1000 resamples
  for (auto _ : state) {
    auto c = correlation_matrix(mats, kM, m, opt);
    benchmark::DoNotOptimize(c.ci_low.data());
    state.counters["ci_low[1]"] = c.ci_low[1];  // a sanity value: finite
  }
  state.counters["resamples"] = opt.resamples;
}

}  // namespace

BENCHMARK_CAPTURE(run, spearman, Method::Spearman, 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(run, pearson, Method::Pearson, 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(run, kendall, Method::Kendall, 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(run, spearman_model_missing, Method::Spearman, 1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(run, spearman_model_missing_pairs, Method::Spearman, 2)
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
