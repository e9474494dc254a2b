// prh-bench-embed: embedding throughput of `prh embed` against a bare LibTorch
// forward loop over the same preprocessed batches (see bench/README.md).
//
// Two TorchScript models are built here (torch::jit::Module::define, fixed-seed
// weights, no Python) and saved with their sidecars in a temporary folder:
//   cnn  1x28x28: three 3x3 conv + relu stages (16, 32, 64 channels, max-pool
//        between), each stage's global average as a layer (D = 16, 32, 64),
//        logits over 5 classes; returns Dict[str, List[Tensor]].
//        Sidecar: resize 28, crop 28 (no resize: the transform only scales).
//   vit  1x28x28, patch 7 -> 16 tokens + CLS, dim 64, 4 heads, 4 pre-norm
//        blocks (attention + GELU MLP x4); every block's CLS token as a layer
//        [B, 4, 64], logits over 5 classes; returns Dict[str, Tensor].
//        Sidecar: resize 32 (bicubic), centre crop 28, as timm's eval.
// Image set: Fashion-MNIST test images (gzip IDX), the first kImages of them;
// batch_size 64 as prh's default. Per model and per torch thread count T
// (threads_per_rank; 1 is prh's default):
//   io/M          make_source (gzip IDX decode) + the set's ids and labels (what
//                 embed gathers for the store) + get(i) and the model's
//                 transform for every image: prh's input side alone.
//   store/M       the store alone: open_for_embedding into a fresh file (create,
//                 early allocation, ids/labels) + write_rows and mark_done for
//                 every shard, the rows embed would write.
//   bare/M/tT     the baseline: torch::jit::load, then module.forward on the
//                 batches preprocessed beforehand (in memory, as tensors), under
//                 c10::InferenceMode; only the forward loop is timed.
//   bare_noopt/M/tT  the same with the TorchScript graph optimiser off, as
//                 prh's forward runs (GraphOptimizerEnabledGuard(false)).
//   forward/M/tT  prh::models::Model::forward (prh's wrapper: input copy,
//                 output checks and copies to std::vector) over the same
//                 batches, as std::vector<float>.
//   embed/M/tT    prh::pipeline::embed of the whole sweep (one model, one set)
//                 into a fresh store: sources, probe, model load, read,
//                 transform, forward, predictions, store creation and writes.
//   paired/M/tT   the acceptance measurement: per iteration one bare pass and
//                 one embed pass in the same process, alternating which goes
//                 first, so that drifts of the machine's load hit both alike.
// Times are wall clock (manual timing of the measured region only; for paired:
// the embed pass). Counters: img/s (images per second, mean over iterations);
// cpu_img/s (the same from process CPU time); vs_bare (throughput / bare's,
// mean times); paired: bare_img/s, ratio_med (median over pairs of embed/bare
// throughput), ratio_best (best embed pass / best bare pass). After the run, a
// summary gives best and mean images/s, the ratios, the input side and the
// store alone, and where embed's extra time goes.

#include <torch/script.h>

#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "prh/config/config.hpp"
#include "prh/core/threads.hpp"
#include "prh/data/image.hpp"
#include "prh/data/transform.hpp"
#include "prh/models/model.hpp"
#include "prh/parallel/mpi.hpp"
#include "prh/pipeline/embed.hpp"
#include "prh/store/embedding_store.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr std::int64_t kImages = 10000;  // Fashion-MNIST test images used
constexpr int kBatch = 64;               // prh's default batch_size
constexpr int kIterations = 5;           // per forward/embed benchmark (each a full pass)
constexpr int kCheapIterations = 10;     // io and store (a pass takes ~0.1 s)
constexpr int kPairs = 8;                // paired: bare + embed passes, even: both orders alike
const std::vector<int> kThreads = {1, 2};
const std::vector<std::string> kModels = {"cnn", "vit"};
const std::string kFashion = "/usr/share/datasets/fashion-mnist";

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU seconds of the whole process (every thread), for runs on a busy machine.
double process_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// One timed pass: wall and process CPU seconds.
struct Pass {
  Clock::time_point wall0 = Clock::now();
  double cpu0 = process_cpu();
  double wall() const { return seconds_since(wall0); }
  double cpu() const { return process_cpu() - cpu0; }
};

// --- Process-wide state ------------------------------------------------------------

const prh::parallel::Session* g_session = nullptr;
std::string g_dir;  // temporary folder: models, sidecars, stores

std::string model_path(const std::string& m) {
  return g_dir + "/" + m + ".pt";
}

// Per-iteration wall and process CPU seconds of every benchmark that ran, for
// the summary.
std::map<std::string, std::vector<double>>& times() {
  static std::map<std::string, std::vector<double>> t;
  return t;
}
std::map<std::string, std::vector<double>>& cpu_times() {
  static std::map<std::string, std::vector<double>> t;
  return t;
}
// Extra per-pass seconds of parts (io/store breakdown), mean over iterations.
std::map<std::string, double>& parts() {
  static std::map<std::string, double> p;
  return p;
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}
double min_of(const std::vector<double>& v) {
  return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end());
}

// --- The models (TorchScript source, fixed-seed weights) ----------------------------

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

torch::jit::Module define(const std::string& name, const std::string& source,
                          const std::vector<std::pair<std::string, torch::Tensor>>& params) {
  torch::jit::Module m(name);
  for (const auto& [n, t] : params) m.register_parameter(n, t, false);
  m.define(source);
  m.eval();
  return m;
}

void make_models() {
  torch::manual_seed(20240611);
  // Small CNN: He-scaled conv weights.
  auto conv = [](std::int64_t out, std::int64_t in) {
    return torch::randn({out, in, 3, 3}) * std::sqrt(2.0 / static_cast<double>(in * 9));
  };
  auto cnn = define("BenchCNN", R"JIT(
def forward(self, x):
    h1 = torch.relu(torch.conv2d(x, self.c1w, self.c1b, [1, 1], [1, 1]))
    h2 = torch.relu(torch.conv2d(torch.max_pool2d(h1, [2, 2]), self.c2w, self.c2b, [1, 1], [1, 1]))
    h3 = torch.relu(torch.conv2d(torch.max_pool2d(h2, [2, 2]), self.c3w, self.c3b, [1, 1], [1, 1]))
    g1 = torch.mean(h1, [2, 3])
    g2 = torch.mean(h2, [2, 3])
    g3 = torch.mean(h3, [2, 3])
    logits = torch.addmm(self.fb, g3, self.fw)
    return {"layers": [g1, g2, g3], "logits": [logits]}
)JIT",
                    {{"c1w", conv(16, 1)},
                     {"c1b", torch::zeros({16})},
                     {"c2w", conv(32, 16)},
                     {"c2b", torch::zeros({32})},
                     {"c3w", conv(64, 32)},
                     {"c3b", torch::zeros({64})},
                     {"fw", torch::randn({64, 5}) / 8.0},
                     {"fb", torch::zeros({5})}});
  cnn.save(model_path("cnn"));
  write_text(g_dir + "/cnn.yaml",
             "input_size: 28\nresize: 28\ncrop: 28\ninterpolation: bilinear\nchannels: 1\n"
             "mean: [0.2860]\nstd: [0.3530]\nlayer_names: [stage1, stage2, stage3]\n");

  // Small ViT: per-block weights stacked on a leading [4] axis.
  constexpr std::int64_t kD = 64, kB = 4, kMlp = 256;
  auto w = [](std::vector<std::int64_t> shape, std::int64_t fan_in) {
    return torch::randn(shape) / std::sqrt(static_cast<double>(fan_in));
  };
  auto vit = define("BenchViT", R"JIT(
def forward(self, x):
    b = x.size(0)
    p = x.reshape([b, 1, 4, 7, 4, 7]).permute([0, 2, 4, 1, 3, 5]).reshape([b, 16, 49])
    t = torch.matmul(p, self.patch_w) + self.patch_b
    h = torch.cat([self.cls.expand([b, 1, 64]), t], 1) + self.pos
    outs: List[Tensor] = []
    for i in range(4):
        y = torch.layer_norm(h, [64], self.ln1_w[i], self.ln1_b[i], 1e-6)
        qkv = (torch.matmul(y, self.qkv_w[i]) + self.qkv_b[i]).reshape([b, 17, 3, 4, 16])
        qkv = qkv.permute([2, 0, 3, 1, 4])
        q = qkv[0]
        k = qkv[1]
        v = qkv[2]
        a = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * 0.25, -1)
        o = torch.matmul(a, v).transpose(1, 2).reshape([b, 17, 64])
        h = h + torch.matmul(o, self.proj_w[i]) + self.proj_b[i]
        y = torch.layer_norm(h, [64], self.ln2_w[i], self.ln2_b[i], 1e-6)
        y = torch.gelu(torch.matmul(y, self.fc1_w[i]) + self.fc1_b[i])
        h = h + torch.matmul(y, self.fc2_w[i]) + self.fc2_b[i]
        outs.append(h.select(1, 0))
    z = torch.layer_norm(h.select(1, 0), [64], self.lnf_w, self.lnf_b, 1e-6)
    logits = torch.matmul(z, self.head_w) + self.head_b
    return {"layers": torch.stack(outs, 1), "logits": logits}
)JIT",
                    {{"patch_w", w({49, kD}, 49)},
                     {"patch_b", torch::zeros({kD})},
                     {"cls", torch::randn({1, 1, kD}) * 0.02},
                     {"pos", torch::randn({1, 17, kD}) * 0.02},
                     {"ln1_w", torch::ones({kB, kD})},
                     {"ln1_b", torch::zeros({kB, kD})},
                     {"qkv_w", w({kB, kD, 3 * kD}, kD)},
                     {"qkv_b", torch::zeros({kB, 3 * kD})},
                     {"proj_w", w({kB, kD, kD}, kD)},
                     {"proj_b", torch::zeros({kB, kD})},
                     {"ln2_w", torch::ones({kB, kD})},
                     {"ln2_b", torch::zeros({kB, kD})},
                     {"fc1_w", w({kB, kD, kMlp}, kD)},
                     {"fc1_b", torch::zeros({kB, kMlp})},
                     {"fc2_w", w({kB, kMlp, kD}, kMlp)},
                     {"fc2_b", torch::zeros({kB, kD})},
                     {"lnf_w", torch::ones({kD})},
                     {"lnf_b", torch::zeros({kD})},
                     {"head_w", w({kD, 5}, kD)},
                     {"head_b", torch::zeros({5})}});
  vit.save(model_path("vit"));
  write_text(g_dir + "/vit.yaml",
             "input_size: 28\nresize: 32\ncrop: 28\ninterpolation: bicubic\nchannels: 1\n"
             "mean: [0.2860]\nstd: [0.3530]\nlayer_names: [block1, block2, block3, block4]\n");
}

// --- The sweep ---------------------------------------------------------------------

std::string store_path(const std::string& tag) {
  return g_dir + "/" + tag + ".h5";
}

prh::config::Sweep sweep_for(const std::string& m, int threads, const std::string& store) {
  const std::string yaml =
      "store: " + store + "\nbatch_size: " + std::to_string(kBatch) +
      "\nthreads_per_rank: " + std::to_string(threads) +
      "\nimage_sets:\n  - name: fashion\n    source: {kind: idx, images: " + kFashion +
      "/t10k-images-idx3-ubyte.gz, labels: " + kFashion +
      "/t10k-labels-idx1-ubyte.gz, limit: " + std::to_string(kImages) +
      "}\nmodels:\n  - {name: " + m + ", path: " + model_path(m) + "}\n";
  return prh::config::parse(yaml, "bench_embed:" + m);
}

// Sets prh's and LibTorch's threads as `prh embed` does for threads_per_rank T.
void use_threads(int t) {
  prh::configure_threads(t);
  prh::models::set_torch_threads(t);
}

// The set's images through the model's transform, in batches of kBatch (the
// same bytes as embed feeds the model), made once per model.
const std::vector<std::vector<float>>& batches(const std::string& m) {
  static std::map<std::string, std::vector<std::vector<float>>> cache;
  auto& slot = cache[m];
  if (slot.empty()) {
    const auto sweep = sweep_for(m, 1, store_path("unused"));
    const auto src = prh::data::make_source(sweep.image_sets[0].source.spec, "bench");
    const auto t = prh::models::load_sidecar(g_dir + "/" + m + ".yaml").transform;
    std::vector<float> one;
    for (std::int64_t b0 = 0; b0 < src->size(); b0 += kBatch) {
      std::vector<float> batch;
      for (std::int64_t r = b0; r < std::min<std::int64_t>(b0 + kBatch, src->size()); ++r) {
        prh::data::apply(t, src->get(r).image, one);
        batch.insert(batch.end(), one.begin(), one.end());
      }
      slot.push_back(std::move(batch));
    }
  }
  return slot;
}

std::int64_t images_in(const std::vector<std::vector<float>>& bs) {
  std::int64_t n = 0;
  for (const auto& b : bs) n += static_cast<std::int64_t>(b.size()) / (28 * 28);
  return n;
}

template <class F>
void guarded(benchmark::State& state, F&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

// Wall and CPU seconds of each iteration of one benchmark.
struct Times {
  std::vector<double> wall, cpu;
  void add(benchmark::State& state, const Pass& p) {
    wall.push_back(p.wall());
    cpu.push_back(p.cpu());
    state.SetIterationTime(wall.back());
  }
};

// Records one benchmark's iteration times and sets its counters.
void finish(benchmark::State& state, const std::string& name, const Times& t, std::int64_t images) {
  times()[name] = t.wall;
  cpu_times()[name] = t.cpu;
  const double w = mean_of(t.wall), c = mean_of(t.cpu);
  state.counters["img/s"] = w > 0 ? static_cast<double>(images) / w : 0.0;
  state.counters["cpu_img/s"] = c > 0 ? static_cast<double>(images) / c : 0.0;
}

void set_vs_bare(benchmark::State& state, const std::string& model, int t, const Times& secs) {
  const auto it = times().find("bare/" + model + "/t" + std::to_string(t));
  if (it != times().end() && mean_of(secs.wall) > 0)
    state.counters["vs_bare"] = mean_of(it->second) / mean_of(secs.wall);
}

// --- (c) input side alone ------------------------------------------------------------

void BM_io(benchmark::State& state, std::string m) {
  guarded(state, [&] {
    const auto sweep = sweep_for(m, 1, store_path("unused"));
    const auto t = prh::models::load_sidecar(g_dir + "/" + m + ".yaml").transform;
    use_threads(1);
    Times secs;
    double decode = 0, meta = 0, read = 0;
    std::int64_t n = 0;
    for (auto _ : state) {
      const Pass pass;
      const auto t0 = pass.wall0;
      const auto src = prh::data::make_source(sweep.image_sets[0].source.spec, "bench");
      const auto t1 = Clock::now();
      std::vector<std::string> ids;
      std::vector<std::int64_t> labels;
      for (std::int64_t r = 0; r < src->size(); ++r) {
        ids.push_back(src->id(r));
        labels.push_back(src->label(r));
      }
      const auto t2 = Clock::now();
      std::vector<float> one, batch;
      for (std::int64_t b0 = 0; b0 < src->size(); b0 += kBatch) {
        batch.clear();
        for (std::int64_t r = b0; r < std::min<std::int64_t>(b0 + kBatch, src->size()); ++r) {
          const auto item = src->get(r);
          prh::data::apply(t, item.image, one);
          batch.insert(batch.end(), one.begin(), one.end());
        }
        benchmark::DoNotOptimize(batch.data());
      }
      secs.add(state, pass);
      decode += std::chrono::duration<double>(t1 - t0).count();
      meta += std::chrono::duration<double>(t2 - t1).count();
      read += seconds_since(t2);
      n = src->size();
    }
    const auto k = static_cast<double>(state.iterations());
    state.counters["decode_ms"] = 1e3 * decode / k;
    state.counters["ids_ms"] = 1e3 * meta / k;
    state.counters["get+tf_ms"] = 1e3 * read / k;
    parts()["io_decode/" + m] = decode / k;
    parts()["io_ids/" + m] = meta / k;
    parts()["io_read/" + m] = read / k;
    finish(state, "io/" + m, secs, n);
  });
}

// --- (d) store writes alone ------------------------------------------------------------

// The layout embed builds for this sweep (the same calls, model probed once).
prh::store::StoreLayout layout_for(const prh::config::Sweep& sweep) {
  prh::store::StoreLayout layout;
  layout.embed_params = sweep.embed_params();
  layout.config_file = sweep.file;
  layout.shard_size = sweep.shard_size;
  layout.feature_dtype = sweep.feature_dtype;
  const auto& s = sweep.image_sets[0];
  const auto src = prh::data::make_source(s.source.spec, "bench");
  prh::store::SetLayout sl;
  sl.name = s.name;
  sl.spec = prh::config::Sweep::image_set_json(s);
  sl.n = src->size();
  for (std::int64_t r = 0; r < sl.n; ++r) {
    sl.ids.push_back(src->id(r));
    sl.labels.push_back(src->label(r));
  }
  layout.sets.push_back(std::move(sl));
  const auto& mc = sweep.models[0];
  auto model = prh::models::load_torchscript(mc.name, mc.path, mc.sidecar, "cpu", 0);
  std::vector<float> in;
  prh::data::apply(model->sidecar().transform, src->get(0).image, in);
  const auto out = model->forward(in, 1);
  prh::store::ModelLayout ml;
  ml.name = mc.name;
  ml.spec = prh::config::Sweep::model_json(mc);
  ml.spec["checksum"] = prh::models::file_checksum(mc.path);
  ml.layer_dims = out.dims;
  ml.layer_names = model->sidecar().layer_names;
  ml.classes = out.classes;
  ml.parameters = model->parameter_count();
  const auto& t = model->sidecar().transform;
  ml.sidecar = {{"input_size", model->sidecar().input_size},
                {"resize", t.resize},
                {"crop", t.crop},
                {"interpolation", t.interpolation},
                {"channels", t.channels},
                {"mean", t.mean},
                {"std", t.std}};
  layout.models.push_back(std::move(ml));
  return layout;
}

void BM_store(benchmark::State& state, std::string m) {
  guarded(state, [&] {
    const std::string path = store_path("store_" + m);
    const auto sweep = sweep_for(m, 1, path);
    const auto layout = layout_for(sweep);
    const auto& ml = layout.models[0];
    const auto n = layout.sets[0].n;
    const auto L = static_cast<std::int64_t>(ml.layer_dims.size());
    const auto dmax = *std::max_element(ml.layer_dims.begin(), ml.layer_dims.end());
    const auto items = prh::pipeline::plan_items({n}, 1, sweep.shard_size);
    Times secs;
    double create = 0, write = 0;
    for (auto _ : state) {
      fs::remove(path);
      std::vector<float> feats;
      std::vector<std::int64_t> top1;
      std::vector<float> prob;
      const Pass pass;
      const auto t0 = pass.wall0;
      // One process: the stage engine's three steps without a broadcast.
      const auto plan = prh::store::inspect_store(path, layout);
      prh::store::create_or_extend_store(path, layout, plan, g_session->comm());
      prh::store::finish_store_metadata(path, layout, plan);
      auto writer = prh::store::open_item_writer(path, layout, g_session->comm());
      const auto t1 = Clock::now();
      for (const auto& it : items) {
        feats.assign(static_cast<std::size_t>(it.rows * L * dmax), 0.5f);
        top1.assign(static_cast<std::size_t>(it.rows), 1);
        prob.assign(static_cast<std::size_t>(it.rows), 0.5f);
        writer->write_rows(it.set, it.model, it.row0, it.rows, feats, top1, prob);
        writer->mark_done(it.set, it.model, it.shard);
      }
      writer.reset();  // closes the file
      secs.add(state, pass);
      create += std::chrono::duration<double>(t1 - t0).count();
      write += seconds_since(t1);
    }
    fs::remove(path);
    const auto k = static_cast<double>(state.iterations());
    state.counters["create_ms"] = 1e3 * create / k;
    state.counters["write_ms"] = 1e3 * write / k;
    parts()["store_create/" + m] = create / k;
    parts()["store_write/" + m] = write / k;
    finish(state, "store/" + m, secs, n);
  });
}

// --- (b) the bare LibTorch loop --------------------------------------------------------

// The baseline loop: the module as torch::jit::load gives it, the batches as
// tensors made beforehand; a pass is module.forward over every batch.
struct BareLoop {
  torch::jit::Module module;
  std::vector<at::Tensor> xs;
  bool optimizer = true;
  std::int64_t images = 0;

  BareLoop(const std::string& m, bool opt) : optimizer(opt) {
    const auto& bs = batches(m);
    for (const auto& b : bs)
      xs.push_back(torch::from_blob(const_cast<float*>(b.data()),
                                    {static_cast<std::int64_t>(b.size()) / (28 * 28), 1, 28, 28},
                                    torch::kFloat)
                       .clone());
    images = images_in(bs);
    module = torch::jit::load(model_path(m));
    module.eval();
    c10::InferenceMode inference;
    torch::jit::GraphOptimizerEnabledGuard guard(optimizer);
    for (int w = 0; w < 3; ++w) module.forward({xs[static_cast<std::size_t>(w)]});  // warm-up
  }

  void pass() {
    c10::InferenceMode inference;
    torch::jit::GraphOptimizerEnabledGuard guard(optimizer);
    for (const auto& x : xs) {
      const auto out = module.forward({x});
      benchmark::DoNotOptimize(out.isNone());
    }
  }
};

void BM_bare(benchmark::State& state, std::string m, int threads, bool optimizer) {
  guarded(state, [&] {
    use_threads(threads);
    BareLoop bare(m, optimizer);
    Times secs;
    for (auto _ : state) {
      const Pass pass;
      bare.pass();
      secs.add(state, pass);
    }
    const std::string name =
        std::string(optimizer ? "bare/" : "bare_noopt/") + m + "/t" + std::to_string(threads);
    finish(state, name, secs, bare.images);
    if (!optimizer) set_vs_bare(state, m, threads, secs);
  });
}

// --- prh's model wrapper alone ------------------------------------------------------------

void BM_forward(benchmark::State& state, std::string m, int threads) {
  guarded(state, [&] {
    const auto& bs = batches(m);
    use_threads(threads);
    auto model =
        prh::models::load_torchscript(m, model_path(m), g_dir + "/" + m + ".yaml", "cpu", 0);
    for (int w = 0; w < 3; ++w) model->forward(bs[static_cast<std::size_t>(w)], kBatch);  // warm-up
    Times secs;
    for (auto _ : state) {
      const Pass pass;
      for (const auto& b : bs) {
        auto out = model->forward(b, static_cast<std::int64_t>(b.size()) / (28 * 28));
        benchmark::DoNotOptimize(out.layers.data());
      }
      secs.add(state, pass);
    }
    finish(state, "forward/" + m + "/t" + std::to_string(threads), secs, images_in(bs));
    set_vs_bare(state, m, threads, secs);
  });
}

// --- (a) prh's full embed ---------------------------------------------------------------------

void BM_embed(benchmark::State& state, std::string m, int threads) {
  guarded(state, [&] {
    const std::string path = store_path("embed_" + m + "_t" + std::to_string(threads));
    const auto sweep = sweep_for(m, threads, path);
    Times secs;
    for (auto _ : state) {
      fs::remove(path);  // a fresh store: everything is embedded
      const Pass pass;
      const auto items = prh::pipeline::embed(sweep, *g_session);
      secs.add(state, pass);
      if (items <= 0) throw std::runtime_error("embed did nothing");
    }
    fs::remove(path);
    finish(state, "embed/" + m + "/t" + std::to_string(threads), secs, kImages);
    set_vs_bare(state, m, threads, secs);
  });
}

// --- (a) and (b) interleaved -------------------------------------------------------------

// Per-pair throughput ratios embed/bare of the paired benchmarks, for the summary.
std::map<std::string, std::vector<double>>& pair_ratios() {
  static std::map<std::string, std::vector<double>> r;
  return r;
}

double median_of(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// One bare pass and one embed pass per iteration, alternating which goes first,
// in the same process: slow drifts of the machine's load hit both alike.
void BM_paired(benchmark::State& state, std::string m, int threads) {
  guarded(state, [&] {
    const std::string path = store_path("paired_" + m + "_t" + std::to_string(threads));
    const auto sweep = sweep_for(m, threads, path);
    use_threads(threads);
    BareLoop bare(m, true);
    Times bare_t, embed_t;
    std::vector<double> ratios;
    std::int64_t k = 0;
    for (auto _ : state) {
      double b = 0, e = 0;
      for (int half = 0; half < 2; ++half) {
        if ((half == 0) == (k % 2 == 0)) {
          const Pass pass;
          bare.pass();
          b = pass.wall();
          bare_t.wall.push_back(b);
          bare_t.cpu.push_back(pass.cpu());
        } else {
          fs::remove(path);
          const Pass pass;
          if (prh::pipeline::embed(sweep, *g_session) <= 0)
            throw std::runtime_error("embed did nothing");
          e = pass.wall();
          embed_t.wall.push_back(e);
          embed_t.cpu.push_back(pass.cpu());
        }
      }
      state.SetIterationTime(e);
      ratios.push_back(e > 0 ? b / e : 0.0);
      ++k;
    }
    fs::remove(path);
    const std::string s = "/" + m + "/t" + std::to_string(threads);
    times()["paired_bare" + s] = bare_t.wall;
    times()["paired_embed" + s] = embed_t.wall;
    pair_ratios()[s] = ratios;
    state.counters["img/s"] = static_cast<double>(kImages) / mean_of(embed_t.wall);
    state.counters["bare_img/s"] = static_cast<double>(bare.images) / mean_of(bare_t.wall);
    state.counters["ratio_med"] = median_of(ratios);
    state.counters["ratio_best"] = min_of(bare_t.wall) / min_of(embed_t.wall);
  });
}

void register_all() {
  auto common = [](benchmark::internal::Benchmark* b, int iterations = kIterations) {
    b->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(iterations);
  };
  for (const auto& m : kModels) {
    common(benchmark::RegisterBenchmark(("io/" + m).c_str(), BM_io, m), kCheapIterations);
    common(benchmark::RegisterBenchmark(("store/" + m).c_str(), BM_store, m), kCheapIterations);
    for (int t : kThreads) {
      const std::string s = "/" + m + "/t" + std::to_string(t);
      common(benchmark::RegisterBenchmark(("bare" + s).c_str(), BM_bare, m, t, true));
      common(benchmark::RegisterBenchmark(("bare_noopt" + s).c_str(), BM_bare, m, t, false));
      common(benchmark::RegisterBenchmark(("forward" + s).c_str(), BM_forward, m, t));
      common(benchmark::RegisterBenchmark(("embed" + s).c_str(), BM_embed, m, t));
      common(benchmark::RegisterBenchmark(("paired" + s).c_str(), BM_paired, m, t), kPairs);
    }
  }
}

// --- Summary -------------------------------------------------------------------------------

void print_summary() {
  const auto& W = times();
  const auto& C = cpu_times();
  auto has = [&](const std::string& k) { return W.count(k) != 0; };
  // Images per second from the best (least disturbed) or the mean iteration.
  auto rate = [&](const std::map<std::string, std::vector<double>>& t, const std::string& k,
                  bool best) {
    const auto it = t.find(k);
    if (it == t.end()) return 0.0;
    const double s = best ? min_of(it->second) : mean_of(it->second);
    return s > 0 ? static_cast<double>(kImages) / s : 0.0;
  };
  auto cell = [&](const std::string& k) {
    char buf[48];
    if (!has(k)) return std::string("-");
    std::snprintf(buf, sizeof buf, "%.0f (%.0f)", rate(W, k, true), rate(W, k, false));
    return std::string(buf);
  };
  auto ratio = [&](const std::map<std::string, std::vector<double>>& t, const std::string& a,
                   const std::string& b) {
    char buf[48];
    if (!has(a) || !has(b)) return std::string("-");
    std::snprintf(buf, sizeof buf, "%.3f", rate(t, a, true) / rate(t, b, true));
    return std::string(buf);
  };
  std::printf("\nSummary: %lld images, batch %d, T = torch threads (threads_per_rank)\n",
              static_cast<long long>(kImages), kBatch);
  bool header = false;
  for (const auto& m : kModels)
    for (int t : kThreads) {
      const std::string s = "/" + m + "/t" + std::to_string(t);
      if (!has("embed" + s) && !has("bare" + s) && !has("bare_noopt" + s) && !has("forward" + s))
        continue;
      if (!header) {
        std::printf("images/s, wall clock, best iteration (mean):\n");
        std::printf("%-5s %-2s %15s %15s %15s %15s\n", "model", "T", "(b) bare", "bare_noopt",
                    "forward", "(a) embed");
        header = true;
      }
      std::printf("%-5s %-2d %15s %15s %15s %15s\n", m.c_str(), t, cell("bare" + s).c_str(),
                  cell("bare_noopt" + s).c_str(), cell("forward" + s).c_str(),
                  cell("embed" + s).c_str());
    }
  header = false;
  for (const auto& m : kModels)
    for (int t : kThreads) {
      const std::string s = "/" + m + "/t" + std::to_string(t), b = "bare" + s;
      if (!has(b)) continue;
      if (!header) {
        std::printf(
            "\nthroughput ratios to (b) bare, best iterations, by wall clock and by process "
            "CPU:\n");
        std::printf("%-5s %-2s %12s %12s %12s %12s %12s %12s\n", "model", "T", "(a)/(b) wall",
                    "(a)/(b) cpu", "fwd/b wall", "fwd/b cpu", "noopt/b wall", "noopt/b cpu");
        header = true;
      }
      std::printf("%-5s %-2d %12s %12s %12s %12s %12s %12s\n", m.c_str(), t,
                  ratio(W, "embed" + s, b).c_str(), ratio(C, "embed" + s, b).c_str(),
                  ratio(W, "forward" + s, b).c_str(), ratio(C, "forward" + s, b).c_str(),
                  ratio(W, "bare_noopt" + s, b).c_str(), ratio(C, "bare_noopt" + s, b).c_str());
    }
  header = false;
  for (const auto& m : kModels)
    for (int t : kThreads) {
      const std::string s = "/" + m + "/t" + std::to_string(t);
      const auto it = pair_ratios().find(s);
      if (it == pair_ratios().end()) continue;
      if (!header) {
        std::printf(
            "\npaired (one bare and one embed pass per iteration, alternating order), (a)/(b):\n");
        std::printf("%-5s %-2s %12s %12s %10s %10s %12s %12s\n", "model", "T", "median",
                    "best/best", "min", "max", "(b) img/s", "(a) img/s");
        header = true;
      }
      const auto& r = it->second;
      std::printf("%-5s %-2d %12.3f %12.3f %10.3f %10.3f %12.0f %12.0f\n", m.c_str(), t,
                  median_of(r),
                  rate(W, "paired_embed" + s, true) / rate(W, "paired_bare" + s, true), min_of(r),
                  *std::max_element(r.begin(), r.end()), rate(W, "paired_bare" + s, true),
                  rate(W, "paired_embed" + s, true));
    }
  auto P = [&](const std::string& k) {
    const auto it = parts().find(k);
    return it == parts().end() ? 0.0 : 1e3 * it->second;
  };
  header = false;
  for (const auto& m : kModels) {
    if (!has("io/" + m) && !has("store/" + m)) continue;
    if (!header) {
      std::printf("\n(c) input side and (d) store alone, mean ms per pass of %lld images:\n",
                  static_cast<long long>(kImages));
      std::printf("%-5s %8s %8s %8s %10s %10s %8s %8s %10s\n", "model", "decode", "ids", "get+tf",
                  "(c) img/s", "create", "write", "(d) all", "(d) img/s");
      header = true;
    }
    std::printf("%-5s %8.1f %8.1f %8.1f %10.0f %10.1f %8.1f %8.1f %10.0f\n", m.c_str(),
                P("io_decode/" + m), P("io_ids/" + m), P("io_read/" + m), rate(W, "io/" + m, false),
                P("store_create/" + m), P("store_write/" + m),
                P("store_create/" + m) + P("store_write/" + m), rate(W, "store/" + m, false));
  }
  header = false;
  for (const auto& m : kModels)
    for (int t : kThreads) {
      const std::string s = "/" + m + "/t" + std::to_string(t);
      if (!has("paired_embed" + s)) continue;
      if (!header) {
        std::printf(
            "\nwhere embed's extra time goes, ms per pass (paired means; io, store: their own "
            "means):\n"
            "overhead = embed - bare = io + store + rest (rest: model load and probe, prh's "
            "forward wrapper, loops, predictions, and noise)\n");
        std::printf("%-5s %-2s %9s %9s %9s %9s %9s %9s\n", "model", "T", "embed", "bare",
                    "overhead", "io", "store", "rest");
        header = true;
      }
      const double e = 1e3 * mean_of(W.at("paired_embed" + s)),
                   b = 1e3 * mean_of(W.at("paired_bare" + s));
      const double io = has("io/" + m) ? 1e3 * mean_of(W.at("io/" + m)) : 0.0;
      const double st = has("store/" + m) ? 1e3 * mean_of(W.at("store/" + m)) : 0.0;
      std::printf("%-5s %-2d %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f\n", m.c_str(), t, e, b, e - b, io,
                  st, e - b - io - st);
    }
}

}  // namespace

int main(int argc, char** argv) {
  prh::parallel::Session session(&argc, &argv);
  g_session = &session;
  spdlog::set_level(spdlog::level::warn);  // embed's progress lines off
  use_threads(1);
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/prh-bench-embed-XXXXXX";
  if (!mkdtemp(tmpl.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  g_dir = tmpl;
  int rc = 0;
  try {
    make_models();
    benchmark::AddCustomContext("images", std::to_string(kImages));
    benchmark::AddCustomContext("batch_size", std::to_string(kBatch));
    benchmark::AddCustomContext("workdir", g_dir);
    register_all();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
      rc = 1;
    } else {
      benchmark::RunSpecifiedBenchmarks();
      benchmark::Shutdown();
      print_summary();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "prh-bench-embed: %s\n", e.what());
    rc = 1;
  }
  std::error_code ec;
  fs::remove_all(g_dir, ec);
  return rc;
}
