// The zoo: networks written in TorchScript source (torch::jit::Module::define),
// so the trained module is saved as is and `prh embed` loads it like any
// exported model; trained from C++ through the JIT's autograd.

#include "prh/models/zoo.hpp"

#include <torch/script.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "prh/core/error.hpp"
#include "prh/core/files.hpp"

namespace prh::models {

std::vector<ZooMember> default_zoo() {
  // name, family, objective, width, depth, seed, epochs, lr, seconds per
  // epoch on one core of the 2-core test machine (measured, for balancing),
  // training distribution (pipeline/zoo.cpp: the data behind each key)
  return {
      {"mlp_w256_d2_s0", "mlp", "supervised", 256, 2, 0, 3, 1e-3, 1.2, "fashion04"},
      {"mlp_w256_d2_s1", "mlp", "supervised", 256, 2, 1, 3, 1e-3, 1.2, "fashion04"},
      {"mlp_w512_d3_s0", "mlp", "supervised", 512, 3, 0, 3, 1e-3, 3.5, "fashion04"},
      {"cnn_w16_d2_s0", "cnn", "supervised", 16, 2, 0, 2, 2e-3, 12.5, "fashion04"},
      {"cnn_w16_d2_s1", "cnn", "supervised", 16, 2, 1, 2, 2e-3, 12.5, "fashion04"},
      {"cnn_w32_d3_s0", "cnn", "supervised", 32, 3, 0, 2, 2e-3, 42, "fashion04"},
      {"resnet_w16_d1_s0", "resnet", "supervised", 16, 1, 0, 2, 2e-3, 15, "fashion04"},
      {"resnet_w24_d2_s0", "resnet", "supervised", 24, 2, 0, 2, 2e-3, 38, "fashion04"},
      {"vit_w32_d2_s0", "vit", "supervised", 32, 2, 0, 3, 2e-3, 9.5, "fashion04"},
      {"vit_w64_d4_s0", "vit", "supervised", 64, 4, 0, 2, 1e-3, 23.5, "fashion04"},
      {"mlp_ae_w256_d2_s0", "mlp", "autoencoder", 256, 2, 0, 3, 1e-3, 2.3, "fashion04"},
      {"cnn_ae_w16_d2_s0", "cnn", "autoencoder", 16, 2, 0, 2, 2e-3, 12.4, "fashion04"},
      {"cnn_clr_w16_d2_s0", "cnn", "contrastive", 16, 2, 0, 2, 2e-3, 25, "fashion04"},
      // The same architectures on other data (issue 15): Fashion-MNIST
      // classes 5-9, all ten classes, prh's generated shapes, and patches of
      // natural photographs (no labels: autoencoders).
      {"f59_mlp_w256_d2_s0", "mlp", "supervised", 256, 2, 0, 3, 1e-3, 1.2, "fashion59"},
      {"f59_cnn_w16_d2_s0", "cnn", "supervised", 16, 2, 0, 2, 2e-3, 12.5, "fashion59"},
      {"f10_mlp_w256_d2_s0", "mlp", "supervised", 256, 2, 0, 3, 1e-3, 1.2, "fashion10"},
      {"f10_cnn_w16_d2_s0", "cnn", "supervised", 16, 2, 0, 2, 2e-3, 12.5, "fashion10"},
      {"shp_mlp_w256_d2_s0", "mlp", "supervised", 256, 2, 0, 3, 1e-3, 1.2, "shapes"},
      {"shp_cnn_w16_d2_s0", "cnn", "supervised", 16, 2, 0, 2, 2e-3, 12.5, "shapes"},
      {"nat_mlp_ae_w256_d2_s0", "mlp", "autoencoder", 256, 2, 0, 3, 1e-3, 2.3, "natural"},
      {"nat_cnn_ae_w16_d2_s0", "cnn", "autoencoder", 16, 2, 0, 2, 2e-3, 12.4, "natural"},
  };
}

namespace {

using torch::Tensor;

struct Builder {
  torch::jit::Module module;
  std::string src;
  std::vector<std::string> layer_names;
  explicit Builder(const std::string& name) : module(name) {}

  // Kaiming-uniform-like init, deterministic under torch::manual_seed.
  void param(const std::string& name, std::vector<std::int64_t> shape, double fan_in) {
    const double bound = 1.0 / std::sqrt(fan_in);
    module.register_parameter(name, torch::empty(shape).uniform_(-bound, bound), false);
  }
  void ones(const std::string& name, std::int64_t n) {
    module.register_parameter(name, torch::ones({n}), false);
  }
  void zeros(const std::string& name, std::vector<std::int64_t> shape) {
    module.register_parameter(name, torch::zeros(shape), false);
  }
  void line(const std::string& s) { src += "    " + s + "\n"; }
};

std::string S(std::int64_t v) {
  return std::to_string(v);
}

// The encoders of the four families: each appends its lines to encode() and
// returns the width of its last layer.

// MLP: `depth` hidden layers of `width` on the flattened pixels.
std::int64_t build_mlp(Builder& b, const ZooMember& m) {
  const std::int64_t w = m.width;
  std::int64_t in = 784;
  b.line("h = x.reshape([n, 784])");
  for (int i = 0; i < m.depth; ++i) {
    b.param("w" + S(i), {in, w}, static_cast<double>(in));
    b.param("b" + S(i), {w}, static_cast<double>(in));
    b.line("h = torch.relu(torch.addmm(self.b" + S(i) + ", h, self.w" + S(i) + "))");
    b.line("out.append(h)");
    b.layer_names.push_back("fc" + S(i));
    in = w;
  }
  return w;
}

// A hidden fully connected layer of 128 on the flattened maps (the CNNs' and
// ResNets' last layer).
std::int64_t fc_on_maps(Builder& b, std::int64_t flat) {
  const std::int64_t fc = 128;
  b.param("fw", {flat, fc}, static_cast<double>(flat));
  b.param("fb", {fc}, static_cast<double>(flat));
  b.line("h = torch.relu(torch.addmm(self.fb, h.reshape([n, " + S(flat) + "]), self.fw))");
  b.line("out.append(h)");
  b.layer_names.push_back("fc");
  return fc;
}

// CNN: `depth` stages of 3x3 conv (width, 2 width, ...), ReLU, max-pool 2.
std::int64_t build_cnn(Builder& b, const ZooMember& m) {
  std::int64_t cin = 1, c = m.width, size = 28;
  b.line("h = x");
  for (int i = 0; i < m.depth; ++i) {
    b.param("c" + S(i) + "w", {c, cin, 3, 3}, static_cast<double>(cin * 9));
    b.param("c" + S(i) + "b", {c}, static_cast<double>(cin * 9));
    b.line("h = torch.relu(torch.conv2d(h, self.c" + S(i) + "w, self.c" + S(i) +
           "b, [1, 1], [1, 1]))");
    b.line("h = torch.max_pool2d(h, [2, 2])");
    b.line("out.append(h.mean([2, 3]))");
    b.layer_names.push_back("conv" + S(i));
    size /= 2;
    cin = c;
    c *= 2;
  }
  return fc_on_maps(b, cin * size * size);
}

// ResNet-style: stem (3x3 conv, max-pool 2: 28 -> 14), `depth` residual
// blocks, a stride-2 transition (14 -> 7) to 2w channels, `depth` more blocks.
std::int64_t build_resnet(Builder& b, const ZooMember& m) {
  const std::int64_t w = m.width;
  b.param("stem_w", {w, 1, 3, 3}, 9.0);
  b.param("stem_b", {w}, 9.0);
  b.line(
      "h = torch.max_pool2d(torch.relu(torch.conv2d(x, self.stem_w, self.stem_b, [1, 1], "
      "[1, 1])), [2, 2])");
  b.line("out.append(h.mean([2, 3]))");
  b.layer_names.push_back("stem");
  std::int64_t c = w;
  for (int stage = 0; stage < 2; ++stage) {
    if (stage == 1) {
      b.param("tr_w", {2 * w, w, 3, 3}, static_cast<double>(w * 9));
      b.param("tr_b", {2 * w}, static_cast<double>(w * 9));
      b.line("h = torch.relu(torch.conv2d(h, self.tr_w, self.tr_b, [2, 2], [1, 1]))");
      c = 2 * w;
    }
    for (int i = 0; i < m.depth; ++i) {
      const std::string p = "s" + S(stage) + "b" + S(i);
      b.param(p + "w1", {c, c, 3, 3}, static_cast<double>(c * 9));
      b.zeros(p + "b1", {c});
      b.param(p + "w2", {c, c, 3, 3}, static_cast<double>(c * 9) * 4);
      b.zeros(p + "b2", {c});
      b.line("r = torch.relu(torch.conv2d(h, self." + p + "w1, self." + p + "b1, [1, 1], [1, 1]))");
      b.line("h = torch.relu(h + torch.conv2d(r, self." + p + "w2, self." + p +
             "b2, [1, 1], [1, 1]))");
      b.line("out.append(h.mean([2, 3]))");
      b.layer_names.push_back("stage" + S(stage) + ".block" + S(i));
    }
  }
  // A hidden fully connected layer on the flattened 7 x 7 maps, as the CNNs
  // have (global pooling alone loses the layout that tells a coat from a
  // pullover: 83% instead of 88%).
  return fc_on_maps(b, c * 49);
}

// One pre-norm transformer block (4 heads, MLP of 2 d) on the t tokens h,
// its parameters prefixed by p.
void vit_block(Builder& b, const std::string& p, std::int64_t d, std::int64_t t) {
  const std::int64_t heads = 4, dh = d / 4, hidden = 2 * d;
  const std::string scale = std::to_string(1.0 / std::sqrt(static_cast<double>(dh)));
  b.ones(p + "ln1w", d);
  b.zeros(p + "ln1b", {d});
  b.param(p + "qkv", {d, 3 * d}, static_cast<double>(d));
  b.zeros(p + "qkvb", {3 * d});
  b.param(p + "proj", {d, d}, static_cast<double>(d) * 4);
  b.zeros(p + "projb", {d});
  b.ones(p + "ln2w", d);
  b.zeros(p + "ln2b", {d});
  b.param(p + "fc1", {d, hidden}, static_cast<double>(d));
  b.zeros(p + "fc1b", {hidden});
  b.param(p + "fc2", {hidden, d}, static_cast<double>(hidden) * 4);
  b.zeros(p + "fc2b", {d});
  b.line("y = torch.layer_norm(h, [" + S(d) + "], self." + p + "ln1w, self." + p + "ln1b)");
  b.line("qkv = (torch.matmul(y, self." + p + "qkv) + self." + p + "qkvb).reshape([n, " + S(t) +
         ", 3, " + S(heads) + ", " + S(dh) + "]).permute([2, 0, 3, 1, 4])");
  b.line("a = torch.softmax(torch.matmul(qkv[0], qkv[1].transpose(-2, -1)) * " + scale + ", -1)");
  b.line("o = torch.matmul(a, qkv[2]).transpose(1, 2).reshape([n, " + S(t) + ", " + S(d) + "])");
  b.line("h = h + torch.matmul(o, self." + p + "proj) + self." + p + "projb");
  b.line("y = torch.layer_norm(h, [" + S(d) + "], self." + p + "ln2w, self." + p + "ln2b)");
  b.line("h = h + torch.matmul(torch.gelu(torch.matmul(y, self." + p + "fc1) + self." + p +
         "fc1b), self." + p + "fc2) + self." + p + "fc2b");
}

// ViT: patches of 7 x 7 (16 tokens) and a class token; `depth` blocks; each
// block's class token is a layer.
std::int64_t build_vit(Builder& b, const ZooMember& m) {
  const std::int64_t d = m.width, t = 17;
  PRH_CHECK_INPUT(d % 4 == 0, "zoo member '{}': vit width {} is not a multiple of 4", m.name, d);
  b.param("pw", {49, d}, 49.0);
  b.zeros("pb", {d});
  b.module.register_parameter("cls", torch::randn({1, 1, d}) * 0.02, false);
  b.module.register_parameter("pos", torch::randn({1, t, d}) * 0.02, false);
  b.line("p = x.reshape([n, 1, 4, 7, 4, 7]).permute([0, 2, 4, 1, 3, 5]).reshape([n, 16, 49])");
  b.line("h = torch.cat([self.cls.expand([n, 1, " + S(d) +
         "]), torch.matmul(p, self.pw) + self.pb], 1) + self.pos");
  for (int i = 0; i < m.depth; ++i) {
    vit_block(b, "blk" + S(i) + "_", d, t);
    b.line("out.append(h[:, 0])");
    b.layer_names.push_back("block" + S(i) + ".cls");
  }
  return d;
}

// encode(x) -> List[Tensor]: the layers whose features prh compares; the last
// one feeds the objective's head. Returns the width of the last layer.
std::int64_t build_encoder(Builder& b, const ZooMember& m) {
  b.src += "def encode(self, x: Tensor) -> List[Tensor]:\n";
  b.line("n = x.size(0)");
  b.line("out: List[Tensor] = []");
  if (m.family == "mlp") return build_mlp(b, m);
  if (m.family == "cnn") return build_cnn(b, m);
  if (m.family == "resnet") return build_resnet(b, m);
  if (m.family == "vit") return build_vit(b, m);
  throw InputError(fmt::format("zoo member '{}': unknown family '{}'", m.name, m.family));
}

torch::jit::Module build(const ZooMember& m, int classes, std::vector<std::string>& layer_names) {
  Builder b("Zoo_" + m.family);
  const std::int64_t last = build_encoder(b, m);
  b.line("return out");
  if (m.objective == "supervised") {
    b.param("head_w", {last, classes}, static_cast<double>(last));
    b.param("head_b", {classes}, static_cast<double>(last));
    b.src += R"(
def logits(self, x: Tensor) -> Tensor:
    h = self.encode(x)
    return torch.addmm(self.head_b, h[-1], self.head_w)

def forward(self, x: Tensor) -> Dict[str, List[Tensor]]:
    h = self.encode(x)
    return {"layers": h, "logits": [torch.addmm(self.head_b, h[-1], self.head_w)]}
)";
  } else if (m.objective == "autoencoder") {
    b.param("dec_w1", {last, 256}, static_cast<double>(last));
    b.param("dec_b1", {256}, static_cast<double>(last));
    b.param("dec_w2", {256, 784}, 256.0);
    b.param("dec_b2", {784}, 256.0);
    b.src += R"(
def reconstruct(self, x: Tensor) -> Tensor:
    h = self.encode(x)
    r = torch.relu(torch.addmm(self.dec_b1, h[-1], self.dec_w1))
    return torch.sigmoid(torch.addmm(self.dec_b2, r, self.dec_w2))

def forward(self, x: Tensor) -> Dict[str, List[Tensor]]:
    return {"layers": self.encode(x)}
)";
  } else if (m.objective == "contrastive") {
    b.param("proj_w1", {last, 128}, static_cast<double>(last));
    b.param("proj_b1", {128}, static_cast<double>(last));
    b.param("proj_w2", {128, 64}, 128.0);
    b.param("proj_b2", {64}, 128.0);
    b.src += R"(
def project(self, x: Tensor) -> Tensor:
    h = self.encode(x)
    r = torch.relu(torch.addmm(self.proj_b1, h[-1], self.proj_w1))
    return torch.addmm(self.proj_b2, r, self.proj_w2)

def forward(self, x: Tensor) -> Dict[str, List[Tensor]]:
    return {"layers": self.encode(x)}
)";
  } else {
    throw InputError(fmt::format("zoo member '{}': unknown objective '{}'", m.name, m.objective));
  }
  b.module.define(b.src);
  layer_names = b.layer_names;
  return b.module;
}

// [n, 1, 28, 28] float normalised like the sidecar: (x / 255 - 0.5) / 0.5.
Tensor to_tensor(const ImageData& d) {
  auto t =
      torch::from_blob(const_cast<std::uint8_t*>(d.pixels.data()), {d.n, 1, 28, 28}, torch::kUInt8)
          .to(torch::kFloat32);
  return (t / 255.0 - 0.5) / 0.5;
}

// Two random views for contrastive learning: shift by up to 3 pixels,
// horizontal flip, a little Gaussian noise.
Tensor augment(const Tensor& x, std::mt19937_64& rng) {
  const auto n = x.size(0);
  auto padded = torch::constant_pad_nd(x, {3, 3, 3, 3}, -1.0);
  std::vector<Tensor> views;
  views.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const auto dy = static_cast<std::int64_t>(rng() % 7), dx = static_cast<std::int64_t>(rng() % 7);
    auto v = padded[i].narrow(1, dy, 28).narrow(2, dx, 28);
    if (rng() % 2) v = v.flip({2});
    views.push_back(v);
  }
  return torch::stack(views) + 0.1 * torch::randn_like(x);
}

Tensor nt_xent(const Tensor& z1, const Tensor& z2, double temperature) {
  const auto n = z1.size(0);
  auto z = torch::nn::functional::normalize(torch::cat({z1, z2}),
                                            torch::nn::functional::NormalizeFuncOptions().dim(1));
  auto sim = torch::matmul(z, z.t()) / temperature;
  sim = sim - 1e9 * torch::eye(2 * n);
  auto target = torch::cat({torch::arange(n, 2 * n), torch::arange(0, n)});
  return torch::nn::functional::cross_entropy(sim, target);
}

// The last layer of encode() (the contrastive members' features).
Tensor last_layer(torch::jit::Module& module, const Tensor& x) {
  const auto layers = module.get_method("encode")({x}).toTensorList();
  return layers.get(layers.size() - 1);
}

constexpr std::int64_t kEvalChunk = 500;  // test images a forward pass in evaluate

// The autoencoder's held-out quality: the reconstruction MSE, beside that of
// every test image predicted by the training images' mean image.
HeldOut evaluate_autoencoder(torch::jit::Module& module, const ImageData& train,
                             const ImageData& test, const Tensor& xt) {
  HeldOut h;
  h.images = test.n;
  const Tensor mean = (to_tensor(train) * 0.5 + 0.5).reshape({train.n, 784}).mean(0);
  double err = 0, base = 0;
  for (std::int64_t s = 0; s < test.n; s += kEvalChunk) {
    const auto e = std::min(test.n, s + kEvalChunk);
    const Tensor x = xt.narrow(0, s, e - s);
    const Tensor target = x.reshape({e - s, 784}) * 0.5 + 0.5;
    err += (module.get_method("reconstruct")({x}).toTensor() - target).pow(2).sum().item<double>();
    base += (target - mean).pow(2).sum().item<double>();
  }
  h.metric = "reconstruction_mse";
  h.value = err / (static_cast<double>(test.n) * 784);
  h.baseline = base / (static_cast<double>(test.n) * 784);
  return h;
}

// The supervised member's predicted class of each test image (its logits).
void predict_by_logits(torch::jit::Module& module, const Tensor& xt, std::int64_t n,
                       std::vector<std::int64_t>& pred) {
  for (std::int64_t s = 0; s < n; s += kEvalChunk) {
    const auto e = std::min(n, s + kEvalChunk);
    const Tensor p =
        module.get_method("logits")({xt.narrow(0, s, e - s)}).toTensor().argmax(1).contiguous();
    std::copy(p.data_ptr<std::int64_t>(), p.data_ptr<std::int64_t>() + (e - s), pred.begin() + s);
  }
}

// Nearest class centroid of the last layer, centroids from (at most) the
// first 5000 training images, one per class of `classes`.
void predict_by_centroid(torch::jit::Module& module, const ZooMember& m, const ImageData& train,
                         const Tensor& xt, std::int64_t n, const std::vector<std::int64_t>& classes,
                         std::vector<std::int64_t>& pred) {
  const std::int64_t nt = std::min<std::int64_t>(train.n, 5000);
  const Tensor xtr = to_tensor(train).narrow(0, 0, nt);
  std::vector<Tensor> feats;
  for (std::int64_t s = 0; s < nt; s += kEvalChunk)
    feats.push_back(last_layer(module, xtr.narrow(0, s, std::min(nt, s + kEvalChunk) - s)));
  const Tensor f = torch::cat(feats);
  std::vector<Tensor> cents;
  for (const auto c : classes) {
    std::vector<std::int64_t> idx;
    for (std::int64_t i = 0; i < nt; ++i)
      if (train.labels[static_cast<std::size_t>(i)] == c) idx.push_back(i);
    PRH_CHECK_INPUT(!idx.empty(), "zoo member '{}': no training image of class {}", m.name, c);
    cents.push_back(f.index_select(0, torch::tensor(idx, torch::kInt64)).mean(0, /*keepdim=*/true));
  }
  const Tensor cent = torch::cat(cents);
  for (std::int64_t s = 0; s < n; s += kEvalChunk) {
    const auto e = std::min(n, s + kEvalChunk);
    const Tensor d = torch::cdist(last_layer(module, xt.narrow(0, s, e - s)), cent);
    const Tensor p = d.argmin(1).contiguous();
    for (std::int64_t i = 0; i < e - s; ++i)
      pred[static_cast<std::size_t>(s + i)] =
          classes[static_cast<std::size_t>(p.data_ptr<std::int64_t>()[i])];
  }
}

// Held-out quality on `test` (models/zoo.hpp, HeldOut), in chunks of 500.
HeldOut evaluate(torch::jit::Module& module, const ZooMember& m, const ImageData& train,
                 const ImageData& test) {
  torch::NoGradGuard no_grad;
  const Tensor xt = to_tensor(test);
  if (m.objective == "autoencoder") return evaluate_autoencoder(module, train, test, xt);
  HeldOut h;
  h.images = test.n;
  std::set<std::int64_t> seen(test.labels.begin(), test.labels.end());
  h.baseline = seen.empty() ? std::nan("") : 1.0 / static_cast<double>(seen.size());
  std::vector<std::int64_t> pred(static_cast<std::size_t>(test.n));
  if (m.objective == "supervised") {
    h.metric = "accuracy";
    predict_by_logits(module, xt, test.n, pred);
  } else {
    h.metric = "centroid_accuracy";
    predict_by_centroid(module, m, train, xt, test.n,
                        std::vector<std::int64_t>(seen.begin(), seen.end()), pred);
  }
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < test.n; ++i)
    correct += pred[static_cast<std::size_t>(i)] == test.labels[static_cast<std::size_t>(i)];
  h.value = static_cast<double>(correct) / static_cast<double>(test.n);
  return h;
}

// The module's parameters, made trainable; count: how many numbers they hold.
std::vector<Tensor> trainable_parameters(torch::jit::Module& module, std::int64_t& count) {
  std::vector<Tensor> params;
  count = 0;
  for (const auto& p : module.parameters()) {
    p.set_requires_grad(true);
    params.push_back(p);
    count += p.numel();
  }
  return params;
}

// The objective's loss on one batch x (labels y); contrastive draws its two
// views from rng.
Tensor batch_loss(torch::jit::Module& module, const ZooMember& m, const Tensor& x, const Tensor& y,
                  std::mt19937_64& rng) {
  if (m.objective == "supervised") {
    auto logits = module.get_method("logits")({x}).toTensor();
    return torch::nn::functional::cross_entropy(logits, y);
  }
  if (m.objective == "autoencoder") {
    auto r = module.get_method("reconstruct")({x}).toTensor();
    return torch::mse_loss(r, (x.reshape({x.size(0), 784}) * 0.5 + 0.5));
  }
  auto z1 = module.get_method("project")({augment(x, rng)}).toTensor();
  auto z2 = module.get_method("project")({augment(x, rng)}).toTensor();
  return nt_xent(z1, z2, 0.5);
}

// One epoch over the training images in `order` (shuffled first, in place),
// batches of 128; the mean batch loss.
double train_epoch(torch::jit::Module& module, const ZooMember& m, torch::optim::Adam& opt,
                   const Tensor& x_all, const Tensor& y_all, std::vector<std::int64_t>& order,
                   std::mt19937_64& rng) {
  const std::int64_t batch = 128;
  const auto n = static_cast<std::int64_t>(order.size());
  // Fisher-Yates with our own generator: the same order on every platform.
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  double sum = 0;
  std::int64_t batches = 0;
  for (std::int64_t s = 0; s < n; s += batch) {
    const auto e = std::min(n, s + batch);
    auto idx = torch::from_blob(order.data() + s, {e - s}, torch::kInt64).clone();
    auto x = x_all.index_select(0, idx);
    const Tensor y = m.objective == "supervised" ? y_all.index_select(0, idx) : Tensor();
    Tensor loss = batch_loss(module, m, x, y, rng);
    opt.zero_grad();
    loss.backward();
    opt.step();
    sum += loss.item<double>();
    ++batches;
  }
  return sum / static_cast<double>(std::max<std::int64_t>(batches, 1));
}

// Atomic: the .pt appears complete or not at all; the sidecar first.
void save_member(torch::jit::Module& module, const ZooMember& m,
                 const std::vector<std::string>& layer_names, const std::string& out_dir) {
  std::filesystem::create_directories(out_dir);
  const std::string base = out_dir + "/" + m.name;
  std::string names;
  for (const auto& n : layer_names) names += (names.empty() ? "" : ", ") + n;
  write_text_atomically(
      base + ".yaml",
      "# prh zoo member " + m.name + " (" + m.family + ", " + m.objective +
          ")\ninput_size: 28\nresize: 28\ncrop: 28\ninterpolation: bilinear\nchannels: "
          "1\nmean: [0.5]\nstd: [0.5]\nlayer_names: [" +
          names + "]\n");
  write_atomically(base + ".pt", [&](const std::string& tmp) { module.save(tmp); });
}

}  // namespace

TrainReport train_member(const ZooMember& m, const ImageData& train, const ImageData& test,
                         int classes, const std::string& out_dir, int epochs_override,
                         const std::function<void(int, double)>& progress) {
  PRH_CHECK_INPUT(train.n > 0, "zoo: no training images");
  const auto t0 = std::chrono::steady_clock::now();
  torch::manual_seed(m.seed);
  std::vector<std::string> layer_names;
  auto module = build(m, classes, layer_names);
  std::int64_t count = 0;
  std::vector<Tensor> params = trainable_parameters(module, count);
  torch::optim::Adam opt(params, torch::optim::AdamOptions(m.lr));
  const Tensor x_all = to_tensor(train);
  const Tensor y_all =
      torch::from_blob(const_cast<std::int64_t*>(train.labels.data()), {train.n}, torch::kInt64)
          .clone();
  const int epochs = epochs_override > 0 ? epochs_override : m.epochs;
  std::mt19937_64 rng(m.seed * 7919 + 17);
  std::vector<std::int64_t> order(static_cast<std::size_t>(train.n));
  for (std::int64_t i = 0; i < train.n; ++i) order[static_cast<std::size_t>(i)] = i;
  module.train();
  double last_loss = 0;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    last_loss = train_epoch(module, m, opt, x_all, y_all, order, rng);
    if (progress) progress(epoch + 1, last_loss);
  }
  module.eval();
  for (auto& p : params) p.set_requires_grad(false);

  TrainReport rep;
  rep.name = m.name;
  rep.final_loss = last_loss;
  rep.parameters = count;
  rep.epochs = epochs;
  rep.train_images = train.n;
  if (test.n > 0) {
    rep.held_out = evaluate(module, m, train, test);
    if (m.objective == "supervised") rep.test_accuracy = rep.held_out.value;
  }
  save_member(module, m, layer_names, out_dir);
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace prh::models
