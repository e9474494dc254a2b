// prh-bench-preprocess: the cost of the resize paths on the parity
// photographs (tests/e2e/test_parity.py) beside a model's forward pass
// (see bench/README.md).
//
// Images: the ten photographs of python3-skimage that the parity test uses,
// decoded once. Model: an exported TorchScript file with its sidecar
// (PRH_BENCH_MODEL, default build/tests/exported/resnet18.pt, which ctest's
// models.export writes), loaded through prh's models layer; threads as prh's
// default (1 per rank: OpenMP 1, LibTorch 1).
//   transform/pil     prh::data::apply with the sidecar (resampler pil: PIL's
//                     antialiased resize of the crop window) on every image
//   transform/opencv  the same with resampler opencv (cv::resize, full image)
//   forward           Model::forward on the batch of the ten preprocessed images
//   paired            per iteration all three, one after the other, in the same
//                     process: per-image times and the ratios
//                     (counters pil_vs_fwd, opencv_vs_fwd, pil_vs_opencv, and
//                     img_s_pil / img_s_opencv: images per second of
//                     transform + forward with each path), medians over
//                     iterations.
// No torch headers here: the model runs through prh::models.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "prh/core/threads.hpp"
#include "prh/data/image.hpp"
#include "prh/data/transform.hpp"
#include "prh/models/model.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

const char* const kPhotos[] = {
    "astronaut.png",         "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg",
    "hubble_deep_field.jpg", "retina.jpg",  "camera.png", "coins.png",           "cell.png"};
constexpr const char* kSkimage = "/usr/lib/python3/dist-packages/skimage/data";

struct Fixture {
  std::vector<prh::data::Image> images;
  std::unique_ptr<prh::models::Model> model;
  std::string model_path;
};

Fixture& fixture() {
  static Fixture f = [] {
    Fixture x;
    const char* env = std::getenv("PRH_BENCH_MODEL");
    x.model_path = env && *env ? env : "build/tests/exported/resnet18.pt";
    const fs::path list = fs::temp_directory_path() / "prh-bench-preprocess.txt";
    {
      std::ofstream out(list);
      for (const char* p : kPhotos) out << kSkimage << "/" << p << "\n";
    }
    const auto src = prh::data::make_source(
        {{"kind", "list"}, {"file", list.string()}, {"root", ""}, {"limit", 0}}, "photos");
    for (std::int64_t i = 0; i < src->size(); ++i) x.images.push_back(src->get(i).image);
    fs::remove(list);
    prh::configure_threads(1);
    prh::models::set_torch_threads(1);
    x.model = prh::models::load_torchscript(
        "bench", x.model_path, fs::path(x.model_path).replace_extension(".yaml").string(), "cpu",
        0);
    return x;
  }();
  return f;
}

prh::data::Transform with_resampler(const std::string& r) {
  prh::data::Transform t = fixture().model->sidecar().transform;
  t.resampler = r;
  return t;
}

// All images through the transform into one batch.
double transform_all(const prh::data::Transform& t, std::vector<float>& batch) {
  const auto& f = fixture();
  std::vector<float> one;
  batch.clear();
  const auto t0 = Clock::now();
  for (const auto& img : f.images) {
    prh::data::apply(t, img, one);
    batch.insert(batch.end(), one.begin(), one.end());
  }
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double forward_all(const std::vector<float>& batch) {
  auto& f = fixture();
  const auto t0 = Clock::now();
  const auto out = f.model->forward(batch, static_cast<std::int64_t>(f.images.size()));
  benchmark::DoNotOptimize(out.layers.data());
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void per_image(benchmark::State& state, double seconds_total) {
  const auto n = static_cast<double>(fixture().images.size());
  state.counters["ms/img"] =
      benchmark::Counter(1e3 * seconds_total / n, benchmark::Counter::kAvgIterations);
}

void BM_Transform(benchmark::State& state, const std::string& resampler) {
  const auto t = with_resampler(resampler);
  std::vector<float> batch;
  double total = 0;
  for (auto _ : state) {
    const double s = transform_all(t, batch);
    state.SetIterationTime(s);
    total += s;
  }
  per_image(state, total);
}

void BM_Forward(benchmark::State& state) {
  std::vector<float> batch;
  transform_all(with_resampler("pil"), batch);
  double total = 0;
  for (auto _ : state) {
    const double s = forward_all(batch);
    state.SetIterationTime(s);
    total += s;
  }
  per_image(state, total);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

void BM_Paired(benchmark::State& state) {
  const auto pil = with_resampler("pil"), cv = with_resampler("opencv");
  const double n = static_cast<double>(fixture().images.size());
  std::vector<float> a, b;
  std::vector<double> tp, tc, tf;
  for (auto _ : state) {
    const double p = transform_all(pil, a);
    const double c = transform_all(cv, b);
    const double f = forward_all(a);
    tp.push_back(p);
    tc.push_back(c);
    tf.push_back(f);
    state.SetIterationTime(p + c + f);
  }
  const double p = median(tp), c = median(tc), f = median(tf);
  state.counters["pil_ms/img"] = 1e3 * p / n;
  state.counters["opencv_ms/img"] = 1e3 * c / n;
  state.counters["fwd_ms/img"] = 1e3 * f / n;
  state.counters["pil_vs_fwd"] = p / f;
  state.counters["opencv_vs_fwd"] = c / f;
  state.counters["pil_vs_opencv"] = p / c;
  state.counters["img_s_pil"] = n / (p + f);
  state.counters["img_s_opencv"] = n / (c + f);
  std::printf(
      "paired (%s, %zu photographs, medians of %zu iterations): transform pil %.3f ms/img, "
      "opencv %.3f ms/img, forward %.2f ms/img; pil/forward %.4f, opencv/forward %.4f, "
      "pil/opencv %.2f; transform+forward %.2f img/s (pil) vs %.2f img/s (opencv)\n",
      fixture().model_path.c_str(), fixture().images.size(), tp.size(), 1e3 * p / n, 1e3 * c / n,
      1e3 * f / n, p / f, c / f, p / c, n / (p + f), n / (c + f));
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  try {
    fixture();
  } catch (const std::exception& e) {
    std::fprintf(stderr,
                 "prh-bench-preprocess: %s\n(export the model first: ctest -R models.export, or "
                 "set PRH_BENCH_MODEL; the photographs come with python3-skimage)\n",
                 e.what());
    return 2;
  }
  benchmark::RegisterBenchmark("transform/pil", BM_Transform, std::string("pil"))
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("transform/opencv", BM_Transform, std::string("opencv"))
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("forward", BM_Forward)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("paired", BM_Paired)
      ->UseManualTime()
      ->Iterations(15)
      ->Unit(benchmark::kMillisecond);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
