// prh-bench-metrics: speed of the metric engine (see bench/README.md).
//
// For N in {1024, 4096, 16384} images and D = 768 features:
//   sgemm/N         plain cblas_sgemm of C = X X^T [N x N x D], all N x N done in
//                   kGramTile x kGramTile tiles into one tile buffer (OpenBLAS
//                   threads on); the baseline for the kNN step.
//   knn/N           prh::metrics::knn(x, 10) on preprocessed features.
//   metric/NAME/N   one metric at default parameters from preprocessed features:
//                   prepare() of both inputs for that metric alone + the score.
//   all_metrics/N   the eight default metrics for one pair, end to end from raw
//                   features: make_representations(A), make_representations(B),
//                   compare_models.
//   held_pair_knn/N the kNN configurations of configs/default.yaml (mutual_knn
//                   and cknna at k = 10, 50, 100, cycle_knn, lcs_knn,
//                   edit_distance_knn) for one pair as the score stage meets
//                   it: A held (prepared once, its memos kept from pair to
//                   pair), B freshly read (its lists and cknna self terms
//                   only); the score alone is timed. N in {1000, 4096}.
//   column_ordered/N/K  prh::metrics::column_ordered(lists, K): a model's top-K
//                   lists in column order (CKNNA's mask; made for every
//                   representation read and every calibrated pair), from
//                   lists of 100 neighbours. N in {1000, 4096}, K in {10, 100}.
// Times are wall-clock (manual timing around the measured region only: input
// generation and copies are excluded). Counters:
//   GFLOP/s    flops actually done per second (sgemm: 2 N^2 D; knn: 2 ni nj D
//              summed over the tiles I <= J that knn computes)
//   eqGFLOP/s  knn only: 2 N^2 D per second, the rate comparable to sgemm's
//   t/sgemm    knn only: knn time / sgemm time at the same N (when sgemm/N ran)
//   score      metric only: the value computed (a sanity check)

#include <cblas.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "prh/core/memory.hpp"
#include "prh/core/threads.hpp"
#include "prh/metrics/cknna.hpp"
#include "prh/metrics/engine.hpp"
#include "prh/metrics/knn.hpp"
#include "prh/metrics/matrix.hpp"
#include "prh/metrics/preprocess.hpp"
#include "prh/metrics/registry.hpp"
#include "prh/metrics/representation.hpp"
#include "prh/metrics/tiles.hpp"

namespace {

using prh::metrics::Index;
using prh::metrics::MatrixF;
using Clock = std::chrono::steady_clock;

constexpr Index kD = 768;       // feature dimension
constexpr Index kRank = 32;     // rank of the shared structure Z
constexpr int kK = 10;          // neighbours for the knn step
constexpr float kNoise = 0.5f;  // noise standard deviation
constexpr std::uint64_t kSeed = 20240507;
const std::vector<Index> kSizes = {1024, 4096, 16384};

// Iterations per size: enough to be stable, few enough that the whole run takes
// a couple of minutes on 2 cores.
benchmark::IterationCount iterations_for(Index n) {
  if (n <= 1024) return 10;
  if (n <= 4096) return 3;
  return 2;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void fill_normal(MatrixF& m, std::mt19937_64& rng, float sd) {
  std::normal_distribution<float> dist(0.0f, sd);
  float* p = m.data();
  for (Index i = 0, e = m.size(); i < e; ++i) p[i] = dist(rng);
}

// Raw features of two "models" on the same N images, sharing structure through
// a rank-32 latent Z: A = Z W1 + noise, B = tanh(Z W2) + noise. Fixed seed per N.
std::pair<MatrixF, MatrixF> make_raw(Index n) {
  std::mt19937_64 rng(kSeed + static_cast<std::uint64_t>(n));
  MatrixF z(n, kRank), w1(kRank, kD), w2(kRank, kD);
  fill_normal(z, rng, 1.0f);
  fill_normal(w1, rng, 1.0f / std::sqrt(static_cast<float>(kRank)));
  fill_normal(w2, rng, 1.0f / std::sqrt(static_cast<float>(kRank)));
  std::pair<MatrixF, MatrixF> out;
  out.first.noalias() = z * w1;
  out.second.noalias() = z * w2;
  out.second = out.second.array().tanh().matrix();
  std::normal_distribution<float> noise(0.0f, kNoise);
  for (MatrixF* m : {&out.first, &out.second}) {
    float* p = m->data();
    for (Index i = 0, e = m->size(); i < e; ++i) p[i] += noise(rng);
  }
  return out;
}

// Preprocessed (default clamp + L2 normalisation) A and B per N, made once, on
// first use (so a filtered run only builds what it needs).
const std::pair<MatrixF, MatrixF>& preprocessed(Index n) {
  static std::map<Index, std::unique_ptr<std::pair<MatrixF, MatrixF>>> cache;
  auto& slot = cache[n];
  if (!slot) {
    slot = std::make_unique<std::pair<MatrixF, MatrixF>>(make_raw(n));
    prh::metrics::preprocess(slot->first, prh::metrics::PreprocessOptions{});
    prh::metrics::preprocess(slot->second, prh::metrics::PreprocessOptions{});
  }
  return *slot;
}

// Mean sgemm seconds per N, for the knn t/sgemm counter.
std::map<Index, double>& sgemm_seconds() {
  static std::map<Index, double> m;
  return m;
}

// Runs the benchmark body, turning an exception into a skipped benchmark.
template <class F>
void guarded(benchmark::State& state, F&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

double gflops(double flops_per_iter, benchmark::IterationCount iters, double seconds) {
  return seconds > 0 ? flops_per_iter * static_cast<double>(iters) / seconds * 1e-9 : 0.0;
}

// --- 1. sgemm baseline ---------------------------------------------------------

void BM_sgemm(benchmark::State& state, Index n) {
  guarded(state, [&] {
    const MatrixF& x = preprocessed(n).first;
    const Index t = prh::metrics::kGramTile, d = x.cols();
    std::vector<float> buf(static_cast<std::size_t>(std::min(n, t) * std::min(n, t)));
    // A plain threaded BLAS call, as a user would make it (prh kernels keep BLAS
    // single-threaded and spread tiles over OpenMP threads instead).
    openblas_set_num_threads(prh::thread_count());
    double total = 0;
    for (auto _ : state) {
      const auto t0 = Clock::now();
      for (Index i0 = 0; i0 < n; i0 += t) {
        for (Index j0 = 0; j0 < n; j0 += t) {
          const Index ni = std::min(t, n - i0), nj = std::min(t, n - j0);
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(ni),
                      static_cast<int>(nj), static_cast<int>(d), 1.0f, x.data() + i0 * d,
                      static_cast<int>(d), x.data() + j0 * d, static_cast<int>(d), 0.0f, buf.data(),
                      static_cast<int>(nj));
          benchmark::DoNotOptimize(buf.data());
          benchmark::ClobberMemory();
        }
      }
      const double s = seconds_since(t0);
      state.SetIterationTime(s);
      total += s;
    }
    openblas_set_num_threads(1);
    const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * d;
    state.counters["GFLOP/s"] = gflops(flops, state.iterations(), total);
    sgemm_seconds()[n] = total / static_cast<double>(state.iterations());
  });
}

// --- 2. the kNN step -------------------------------------------------------------

void BM_knn(benchmark::State& state, Index n) {
  guarded(state, [&] {
    const MatrixF& x = preprocessed(n).first;
    const Index d = x.cols();
    double total = 0;
    for (auto _ : state) {
      const auto t0 = Clock::now();
      auto lists = prh::metrics::knn(x, kK);
      const double s = seconds_since(t0);
      benchmark::DoNotOptimize(lists.index.data());
      state.SetIterationTime(s);
      total += s;
    }
    // Flops actually done: one GEMM per tile I <= J (diagonal tiles in full).
    const prh::metrics::TileGrid grid(n, prh::metrics::gram_tile_for(n));
    double done = 0;
    for (const auto& [i0, j0] : grid.tiles)
      done += 2.0 * static_cast<double>(std::min(grid.tile, n - i0)) *
              static_cast<double>(std::min(grid.tile, n - j0)) * static_cast<double>(d);
    const double equivalent = 2.0 * static_cast<double>(n) * static_cast<double>(n) * d;
    state.counters["GFLOP/s"] = gflops(done, state.iterations(), total);
    state.counters["eqGFLOP/s"] = gflops(equivalent, state.iterations(), total);
    const auto it = sgemm_seconds().find(n);
    if (it != sgemm_seconds().end() && it->second > 0)
      state.counters["t/sgemm"] = total / static_cast<double>(state.iterations()) / it->second;
  });
}

// --- 3. one metric alone, from preprocessed features ---------------------------------

void BM_metric(benchmark::State& state, Index n, prh::metrics::MetricSpec spec) {
  guarded(state, [&] {
    const auto& [xa, xb] = preprocessed(n);
    const std::vector<prh::metrics::MetricSpec> specs = {spec};
    const auto req = prh::metrics::Requirements::of(specs);
    double score = 0;
    for (auto _ : state) {
      prh::metrics::Representation ra, rb;  // untimed: copies of the inputs
      ra.x = xa;
      rb.x = xb;
      const auto t0 = Clock::now();
      prh::metrics::prepare(ra, req);
      prh::metrics::prepare(rb, req);
      const auto scores = prh::metrics::score_layer_pair(ra, rb, specs);
      const double s = seconds_since(t0);
      state.SetIterationTime(s);
      score = scores.at(0);
    }
    state.counters["score"] = score;
  });
}

// --- 4. all eight metrics for one pair, end to end from raw features ------------------

void BM_all_metrics(benchmark::State& state, Index n) {
  guarded(state, [&] {
    const auto specs = prh::metrics::default_metrics();
    for (auto _ : state) {
      // Untimed: fresh raw inputs (not cached, so a run of this case alone
      // holds no more than one copy of A and B: its peak RSS is the engine's).
      std::vector<MatrixF> la(1), lb(1);
      {
        auto raw = make_raw(n);
        la[0] = std::move(raw.first);
        lb[0] = std::move(raw.second);
      }
      const auto t0 = Clock::now();
      auto ra = prh::metrics::make_representations(std::move(la), prh::metrics::PreprocessOptions{},
                                                   specs, "A");
      auto rb = prh::metrics::make_representations(std::move(lb), prh::metrics::PreprocessOptions{},
                                                   specs, "B");
      const auto best = prh::metrics::compare_models(ra, rb, specs);
      const double s = seconds_since(t0);
      benchmark::DoNotOptimize(best.data());
      state.SetIterationTime(s);
    }
  });
}

// --- 5. the score stage's kNN pair, A held ---------------------------------------------

void BM_held_pair_knn(benchmark::State& state, Index n) {
  guarded(state, [&] {
    const auto& [xa, xb] = preprocessed(n);
    std::vector<prh::metrics::MetricSpec> specs;
    for (const char* name :
         {"mutual_knn:k=10", "mutual_knn:k=50", "mutual_knn:k=100", "cknna:k=10", "cknna:k=50",
          "cknna:k=100", "cycle_knn", "lcs_knn", "edit_distance_knn"})
      specs.push_back(prh::metrics::parse_metric(name));
    const auto req = prh::metrics::Requirements::of(specs);
    prh::metrics::Representation ra, rb_read;
    ra.x = xa;
    rb_read.x = xb;
    prh::metrics::prepare(ra, req);
    prh::metrics::prepare(rb_read, req);
    for (const auto& s : specs)
      if (s.kind == prh::metrics::MetricKind::Cknna) rb_read.cknna_self_of(s.k);
    // A held: its memos made by an earlier pair (untimed). B as read from the
    // preparation cache: features, lists and its cknna self terms (restored by
    // the score stage), nothing else; scoring it adds no memo to it, so one
    // copy serves every iteration (no allocation outside the timed region).
    benchmark::DoNotOptimize(prh::metrics::score_layer_pair(ra, rb_read, specs).data());
    const auto rb = std::make_unique<prh::metrics::Representation>();
    rb->x = rb_read.x;
    rb->neighbors = rb_read.neighbors;
    rb->cknna_self = rb_read.cknna_self;
    double sum = 0;
    for (auto _ : state) {
      const auto t0 = Clock::now();
      const auto scores = prh::metrics::score_layer_pair(ra, *rb, specs);
      const double s = seconds_since(t0);
      state.SetIterationTime(s);
      sum = 0;
      for (double v : scores) sum += v;
    }
    state.counters["score_sum"] = sum;
  });
}

// --- 6. CKNNA's column-ordered lists --------------------------------------------------

void BM_column_ordered(benchmark::State& state, Index n, int k) {
  guarded(state, [&] {
    const auto lists = prh::metrics::knn(preprocessed(n).first, 100);
    std::size_t check = 0;
    for (auto _ : state) {
      const auto t0 = Clock::now();
      const auto c = prh::metrics::column_ordered(lists, k);
      state.SetIterationTime(seconds_since(t0));
      check = static_cast<std::size_t>(c.col[c.col.size() / 2]);
    }
    state.counters["mid_col"] = static_cast<double>(check);
  });
}

void register_all() {
  auto common = [](benchmark::internal::Benchmark* b, Index n) {
    b->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(iterations_for(n));
  };
  for (Index n : kSizes)
    common(benchmark::RegisterBenchmark(("sgemm/" + std::to_string(n)).c_str(), BM_sgemm, n), n);
  for (Index n : kSizes)
    common(benchmark::RegisterBenchmark(("knn/" + std::to_string(n)).c_str(), BM_knn, n), n);
  for (const auto& spec : prh::metrics::default_metrics())
    for (Index n : kSizes)
      common(benchmark::RegisterBenchmark(
                 ("metric/" + spec.name() + "/" + std::to_string(n)).c_str(), BM_metric, n, spec),
             n);
  for (Index n : kSizes)
    common(benchmark::RegisterBenchmark(("all_metrics/" + std::to_string(n)).c_str(),
                                        BM_all_metrics, n),
           n);
  for (Index n : {Index{1000}, Index{4096}})
    benchmark::RegisterBenchmark(("held_pair_knn/" + std::to_string(n)).c_str(), BM_held_pair_knn,
                                 n)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(n <= 1000 ? 200 : 20);
  for (Index n : {Index{1000}, Index{4096}})
    for (int k : {10, 100})
      benchmark::RegisterBenchmark(
          ("column_ordered/" + std::to_string(n) + "/" + std::to_string(k)).c_str(),
          BM_column_ordered, n, k)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond)
          ->Iterations(200);
}

}  // namespace

int main(int argc, char** argv) {
  prh::keep_freed_memory();  // as prh's main does (core/memory.hpp)
  // As the prh executable does: OpenMP over tiles, BLAS single-threaded inside.
  const int threads = prh::configure_threads(0);
  benchmark::AddCustomContext("prh_threads", std::to_string(threads));
  benchmark::AddCustomContext("D", std::to_string(kD));
  benchmark::AddCustomContext("kGramTile", std::to_string(prh::metrics::kGramTile));
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
