// TorchScript models: every output form of the contract, its breakers, and
// loading errors. The fixtures are TorchScript modules built here in C++
// (torch::jit::Module + define), saved to a temporary file and loaded back
// through load_torchscript: no network, no Python.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/script.h>

#include "prh/core/error.hpp"
#include "prh/models/model.hpp"

namespace {

namespace fs = std::filesystem;
using prh::models::load_torchscript;
using prh::models::Model;
using prh::models::Output;

constexpr int kSize = 8;  // input_size of the fixtures
constexpr int kBatch = 3;

// Prints an error message when PRH_SHOW_ERRORS is set (to read them).
void show(const std::string& msg) {
  if (std::getenv("PRH_SHOW_ERRORS")) std::fprintf(stderr, "  message: %s\n", msg.c_str());
}

// Expects f() to throw an InputError holding each of `needles`.
template <class F>
void expect_input_error(F&& f, std::initializer_list<std::string> needles) {
  try {
    f();
    ADD_FAILURE() << "no InputError";
  } catch (const prh::InputError& e) {
    const std::string msg = e.what();
    show(msg);
    for (const std::string& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << msg;
  }
}

// A deterministic input batch [B, C, S, S].
std::vector<float> make_input(std::int64_t batch, int channels, int size, unsigned seed = 7) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  std::vector<float> v(static_cast<std::size_t>(batch * channels * size * size));
  for (float& x : v) x = u(rng);
  return v;
}

at::Tensor as_tensor(std::vector<float>& v, std::int64_t batch, int channels, int size) {
  return torch::from_blob(v.data(), {batch, channels, size, size}, torch::kFloat).clone();
}

// Layer l of an Output as a [B, D] tensor.
at::Tensor layer(const Output& o, std::size_t l) {
  return torch::from_blob(const_cast<float*>(o.layers[l].data()), {o.batch, o.dims[l]},
                          torch::kFloat)
      .clone();
}

at::Tensor logits(const Output& o) {
  return torch::from_blob(const_cast<float*>(o.logits.data()), {o.batch, o.classes}, torch::kFloat)
      .clone();
}

void expect_close(const at::Tensor& got, const at::Tensor& want) {
  ASSERT_EQ(got.sizes(), want.sizes());
  EXPECT_TRUE(torch::allclose(got, want.to(torch::kFloat), 1e-5, 1e-6)) << "got\n"
                                                                        << got << "\nwant\n"
                                                                        << want;
}

// The tiny CNN: two conv stages, the output a tuple of the globally pooled
// features of each stage.
torch::jit::Module tiny_cnn() {
  torch::manual_seed(1234);
  torch::jit::Module m("TinyCNN");
  m.register_parameter("w1", torch::randn({4, 3, 3, 3}) * 0.5, false);
  m.register_parameter("b1", torch::randn({4}) * 0.1, false);
  m.register_parameter("w2", torch::randn({6, 4, 3, 3}) * 0.5, false);
  m.register_parameter("b2", torch::randn({6}) * 0.1, false);
  m.define(R"JIT(
    def forward(self, x):
        h1 = torch.relu(torch.conv2d(x, self.w1, self.b1, [1, 1], [1, 1]))
        h2 = torch.relu(torch.conv2d(h1, self.w2, self.b2, [2, 2], [1, 1]))
        return (h1.mean([2, 3]), h2.mean([2, 3]))
  )JIT");
  return m;
}

// A two-layer MLP over the flattened image (3 x kSize x kSize) with a head.
torch::jit::Module mlp(const std::string& forward_src) {
  torch::manual_seed(99);
  torch::jit::Module m("Mlp");
  m.register_parameter("w1", torch::randn({3 * kSize * kSize, 5}) * 0.1, false);
  m.register_parameter("w2", torch::randn({5, 5}), false);
  m.register_parameter("w3", torch::randn({5, 4}), false);
  m.register_parameter("wc", torch::randn({5, 10}), false);
  m.define(forward_src);
  return m;
}

at::Tensor param(const torch::jit::Module& m, const std::string& name) {
  return m.attr(name).toTensor();
}

class TorchScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "prh-models-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string write(const std::string& name, const std::string& text) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

  std::string sidecar(int channels = 3, int size = kSize, const std::string& extra = "") {
    return write("model.yaml", "input_size: " + std::to_string(size) +
                                   "\nchannels: " + std::to_string(channels) + "\n" + extra);
  }

  std::string save(torch::jit::Module& m, const std::string& name = "model.pt") {
    const std::string p = (dir_ / name).string();
    m.save(p);
    return p;
  }

  // Saves m, loads it back with a sidecar for `channels` x kSize x kSize.
  std::unique_ptr<Model> roundtrip(torch::jit::Module& m, const std::string& name = "toy",
                                   int channels = 3, const std::string& extra = "") {
    return load_torchscript(name, save(m), sidecar(channels, kSize, extra), "cpu", 0);
  }

  // A model whose forward is `body` (TorchScript source of a whole forward).
  std::unique_ptr<Model> scripted(const std::string& body, const std::string& name) {
    torch::jit::Module m("Scripted");
    m.define(body);
    return roundtrip(m, name);
  }

  fs::path dir_;
};

TEST_F(TorchScriptTest, TupleOfPooledStagesMatchesTorchOps) {
  torch::jit::Module m = tiny_cnn();
  const auto model = roundtrip(m);
  EXPECT_EQ(model->sidecar().input_size, kSize);
  EXPECT_EQ(model->parameter_count(), 4 * 27 + 4 + 6 * 36 + 6);

  std::vector<float> in = make_input(kBatch, 3, kSize);
  const Output o = model->forward(in, kBatch);
  ASSERT_EQ(o.batch, kBatch);
  ASSERT_EQ(o.layers.size(), 2u);
  EXPECT_EQ(o.dims, (std::vector<std::int64_t>{4, 6}));
  EXPECT_EQ(o.layers[0].size(), static_cast<std::size_t>(kBatch * 4));
  EXPECT_EQ(o.layers[1].size(), static_cast<std::size_t>(kBatch * 6));
  EXPECT_TRUE(o.logits.empty());
  EXPECT_EQ(o.classes, 0);

  const at::Tensor x = as_tensor(in, kBatch, 3, kSize);
  const at::Tensor h1 = torch::relu(torch::conv2d(x, param(m, "w1"), param(m, "b1"), 1, 1));
  const at::Tensor h2 = torch::relu(torch::conv2d(h1, param(m, "w2"), param(m, "b2"), 2, 1));
  expect_close(layer(o, 0), h1.mean({2, 3}));
  expect_close(layer(o, 1), h2.mean({2, 3}));
}

TEST_F(TorchScriptTest, ForwardIsDeterministicAndLeavesInputAlone) {
  torch::jit::Module m = tiny_cnn();
  const auto model = roundtrip(m);
  const std::vector<float> in = make_input(kBatch, 3, kSize);
  const std::vector<float> copy = in;
  const Output a = model->forward(in, kBatch);
  for (int i = 0; i < 3; ++i) {  // past the executor's profiling runs
    const Output b = model->forward(in, kBatch);
    EXPECT_EQ(a.layers, b.layers);  // bit for bit
    EXPECT_EQ(a.dims, b.dims);
  }
  EXPECT_EQ(in, copy);
}

TEST_F(TorchScriptTest, ImagesDoNotDependOnTheirBatch) {
  torch::jit::Module m = tiny_cnn();
  const auto model = roundtrip(m);
  const std::vector<float> in = make_input(2, 3, kSize);
  const Output both = model->forward(in, 2);
  const std::size_t per = 3 * kSize * kSize;
  for (std::int64_t i = 0; i < 2; ++i) {
    const std::vector<float> one(in.begin() + i * per, in.begin() + (i + 1) * per);
    const Output o = model->forward(one, 1);
    for (std::size_t l = 0; l < o.layers.size(); ++l)
      expect_close(layer(o, l), layer(both, l).slice(0, i, i + 1));
  }
}

TEST_F(TorchScriptTest, ModelThatWritesIntoItsInputCannotChangeTheCallersData) {
  const auto model = scripted(R"JIT(
    def forward(self, x):
        x.mul_(2.0)
        return x.mean([2, 3])
  )JIT",
                              "inplace");
  const std::vector<float> in = make_input(1, 3, kSize);
  const std::vector<float> copy = in;
  const Output o = model->forward(in, 1);
  EXPECT_EQ(in, copy);
  EXPECT_EQ(o.dims, (std::vector<std::int64_t>{3}));
}

TEST_F(TorchScriptTest, DictWithStackedLayersAndLogits) {
  torch::jit::Module m = mlp(R"JIT(
    def forward(self, x):
        f = x.flatten(1)
        a = torch.tanh(torch.matmul(f, self.w1))
        b = torch.tanh(torch.matmul(a, self.w2))
        return {"layers": torch.stack([a, b], 1), "logits": torch.matmul(b, self.wc)}
  )JIT");
  const auto model = roundtrip(m, "dict-model", 3, "layer_names: [fc1, fc2]\n");
  EXPECT_EQ(model->parameter_count(), 3 * kSize * kSize * 5 + 25 + 20 + 50);
  std::vector<float> in = make_input(kBatch, 3, kSize);
  const Output o = model->forward(in, kBatch);
  ASSERT_EQ(o.layers.size(), 2u);
  EXPECT_EQ(o.dims, (std::vector<std::int64_t>{5, 5}));
  ASSERT_EQ(o.classes, 10);
  ASSERT_EQ(o.logits.size(), static_cast<std::size_t>(kBatch * 10));

  const at::Tensor f = as_tensor(in, kBatch, 3, kSize).flatten(1);
  const at::Tensor a = torch::tanh(torch::matmul(f, param(m, "w1")));
  const at::Tensor b = torch::tanh(torch::matmul(a, param(m, "w2")));
  expect_close(layer(o, 0), a);
  expect_close(layer(o, 1), b);
  expect_close(logits(o), torch::matmul(b, param(m, "wc")));
}

TEST_F(TorchScriptTest, DictWithListOfLayersOfDifferentWidthsAndLogits) {
  // Dict[str, Any]: the layers a list, the logits a tensor.
  torch::jit::Module m = mlp(R"JIT(
    def forward(self, x) -> Dict[str, Any]:
        f = x.flatten(1)
        a = torch.tanh(torch.matmul(f, self.w1))
        c = torch.matmul(a, self.w3)
        out: Dict[str, Any] = {"layers": [a, c], "logits": torch.matmul(a, self.wc)}
        return out
  )JIT");
  const auto model = roundtrip(m);
  std::vector<float> in = make_input(kBatch, 3, kSize);
  const Output o = model->forward(in, kBatch);
  ASSERT_EQ(o.layers.size(), 2u);
  EXPECT_EQ(o.dims, (std::vector<std::int64_t>{5, 4}));
  EXPECT_EQ(o.layers[1].size(), static_cast<std::size_t>(kBatch * 4));
  const at::Tensor f = as_tensor(in, kBatch, 3, kSize).flatten(1);
  const at::Tensor a = torch::tanh(torch::matmul(f, param(m, "w1")));
  expect_close(layer(o, 0), a);
  expect_close(layer(o, 1), torch::matmul(a, param(m, "w3")));
  ASSERT_EQ(o.classes, 10);
  expect_close(logits(o), torch::matmul(a, param(m, "wc")));
}

TEST_F(TorchScriptTest, DictOfListsWithLogitsAsOneElementList) {
  // Dict[str, List[Tensor]], what scripting a dict of lists gives.
  torch::jit::Module m = mlp(R"JIT(
    def forward(self, x):
        f = x.flatten(1)
        a = torch.tanh(torch.matmul(f, self.w1))
        c = torch.matmul(a, self.w3)
        return {"layers": [a, c], "logits": [torch.matmul(a, self.wc)]}
  )JIT");
  const auto model = roundtrip(m);
  std::vector<float> in = make_input(kBatch, 3, kSize);
  const Output o = model->forward(in, kBatch);
  EXPECT_EQ(o.dims, (std::vector<std::int64_t>{5, 4}));
  const at::Tensor f = as_tensor(in, kBatch, 3, kSize).flatten(1);
  const at::Tensor a = torch::tanh(torch::matmul(f, param(m, "w1")));
  ASSERT_EQ(o.classes, 10);
  expect_close(logits(o), torch::matmul(a, param(m, "wc")));
}

TEST_F(TorchScriptTest, DictWithoutLogitsAndWithExtraKeys) {
  const auto model = scripted(R"JIT(
    def forward(self, x):
        return {"layers": x.mean([2, 3]).unsqueeze(1), "extra": x.mean([1, 2, 3])}
  )JIT",
                              "nologits");
  std::vector<float> in = make_input(kBatch, 3, kSize);
  const Output o = model->forward(in, kBatch);
  ASSERT_EQ(o.layers.size(), 1u);
  EXPECT_EQ(o.dims, (std::vector<std::int64_t>{3}));
  EXPECT_TRUE(o.logits.empty());
  EXPECT_EQ(o.classes, 0);
  expect_close(layer(o, 0), as_tensor(in, kBatch, 3, kSize).mean({2, 3}));
}

TEST_F(TorchScriptTest, SingleTensorIsOneLayer) {
  const auto model = scripted(R"JIT(
    def forward(self, x):
        return x.mean([2, 3])
  )JIT",
                              "single");
  EXPECT_EQ(model->parameter_count(), 0);
  std::vector<float> in = make_input(kBatch, 3, kSize);
  const Output o = model->forward(in, kBatch);
  ASSERT_EQ(o.layers.size(), 1u);
  EXPECT_EQ(o.dims, (std::vector<std::int64_t>{3}));
  expect_close(layer(o, 0), as_tensor(in, kBatch, 3, kSize).mean({2, 3}));
}

TEST_F(TorchScriptTest, ListOfTensorsAndDoubleOutputs) {
  const auto model = scripted(R"JIT(
    def forward(self, x):
        return [x.mean([2, 3]).double(), x.amax([1, 2, 3]).unsqueeze(1).half()]
  )JIT",
                              "list");
  std::vector<float> in = make_input(kBatch, 3, kSize);
  const Output o = model->forward(in, kBatch);
  ASSERT_EQ(o.layers.size(), 2u);
  EXPECT_EQ(o.dims, (std::vector<std::int64_t>{3, 1}));
  const at::Tensor x = as_tensor(in, kBatch, 3, kSize);
  expect_close(layer(o, 0), x.mean({2, 3}));
  EXPECT_TRUE(torch::allclose(layer(o, 1), x.amax({1, 2, 3}).unsqueeze(1), 1e-3, 1e-3));
}

TEST_F(TorchScriptTest, GreyModel) {
  torch::jit::Module m("Grey");
  m.define(R"JIT(
    def forward(self, x):
        assert x.size(1) == 1
        return x.flatten(1)
  )JIT");
  const auto model = roundtrip(m, "grey", 1);
  std::vector<float> in = make_input(2, 1, kSize);
  const Output o = model->forward(in, 2);
  EXPECT_EQ(o.dims, (std::vector<std::int64_t>{kSize * kSize}));
  EXPECT_EQ(o.layers[0], in);
}

TEST_F(TorchScriptTest, ContractBreakersNameTheModel) {
  struct Case {
    const char* name;
    const char* src;
    std::vector<std::string> needles;
  };
  const std::vector<Case> cases{
      {"returns-str", "def forward(self, x):\n    return 'hello'\n", {"str", "expected"}},
      {"returns-int", "def forward(self, x):\n    return 3\n", {"int", "expected"}},
      {"returns-none", "def forward(self, x):\n    return None\n", {"None", "expected"}},
      {"rank-1", "def forward(self, x):\n    return x.mean([1, 2, 3])\n", {"shape [3]"}},
      {"rank-4", "def forward(self, x):\n    return x\n", {"shape [3, 3, 8, 8]"}},
      {"no-layers",
       "def forward(self, x):\n    return {'features': x.mean([2, 3])}\n",
       {"without the key \"layers\""}},
      {"wrong-batch",
       "def forward(self, x):\n    return x.mean([2, 3])[0:1]\n",
       {"B = 3", "shape [1, 3]"}},
      {"integer",
       "def forward(self, x):\n    return x.mean([2, 3]).long()\n",
       {"floating-point", "Long"}},
      {"tuple-with-int",
       "def forward(self, x):\n    return (x.mean([2, 3]), 3)\n",
       {"tuple element 1", "int"}},
      {"empty-list",
       "def forward(self, x):\n    out: List[Tensor] = []\n    return out\n",
       {"empty"}},
      {"layers-rank-2",
       "def forward(self, x):\n    return {'layers': x.mean([2, 3])}\n",
       {"[B, L, D]", "shape [3, 3]"}},
      {"layers-wrong-batch",
       "def forward(self, x):\n    return {'layers': x.mean([3])[0:2]}\n",
       {"B = 3", "shape [2, 3, 8]"}},
      {"layers-int-list",
       "def forward(self, x):\n    return {'layers': [1, 2]}\n",
       {"\"layers\" element 0", "int"}},
      {"logits-rank-1",
       "def forward(self, x):\n    return {'layers': x.mean([3]), 'logits': x.mean([1, 2, "
       "3])}\n",
       {"\"logits\" must be a [B, C] tensor", "shape [3]"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::unique_ptr<Model> model;
    ASSERT_NO_THROW(model = scripted(c.src, c.name));
    std::vector<float> in = make_input(kBatch, 3, kSize);
    try {
      model->forward(in, kBatch);
      ADD_FAILURE() << "no InputError";
    } catch (const prh::InputError& e) {
      const std::string msg = e.what();
      show(msg);
      EXPECT_EQ(msg.rfind(std::string(c.name) + ": ", 0), 0u) << msg;
      for (const std::string& n : c.needles) EXPECT_NE(msg.find(n), std::string::npos) << msg;
    }
  }
}

TEST_F(TorchScriptTest, LayerNamesMustMatchTheLayers) {
  torch::jit::Module m = tiny_cnn();
  const auto model = roundtrip(m, "named", 3, "layer_names: [a, b, c]\n");
  std::vector<float> in = make_input(1, 3, kSize);
  expect_input_error([&] { model->forward(in, 1); },
                     {"named", "returns 2 layers", "names 3", "layer_names"});
}

TEST_F(TorchScriptTest, InputShapeMismatchWithTheSidecar) {
  // The CNN wants 3 channels; the sidecar says 1.
  torch::jit::Module cnn = tiny_cnn();
  const auto grey = roundtrip(cnn, "cnn", 1);
  std::vector<float> in = make_input(2, 1, kSize);
  expect_input_error([&] { grey->forward(in, 2); },
                     {"cnn: forward failed on input [2, 1, 8, 8]",
                      "does the sidecar's input_size/channels match the model?", "channels"});

  // The MLP wants 3 x 8 x 8 inputs; the sidecar says 16 x 16.
  torch::jit::Module m = mlp(R"JIT(
    def forward(self, x):
        return torch.matmul(x.flatten(1), self.w1)
  )JIT");
  const auto big = load_torchscript("mlp", save(m), sidecar(3, 16), "cpu", 0);
  std::vector<float> in16 = make_input(2, 3, 16);
  try {
    big->forward(in16, 2);
    ADD_FAILURE() << "no InputError";
  } catch (const prh::InputError& e) {
    const std::string msg = e.what();
    show(msg);
    EXPECT_EQ(msg.rfind("mlp: forward failed on input [2, 3, 16, 16]", 0), 0u) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;  // one line
    EXPECT_NE(msg.find("cannot be multiplied"), std::string::npos) << msg;
  }
}

TEST_F(TorchScriptTest, ErrorRaisedInsideTheModelIsReportedOnOneLine) {
  const auto model = scripted(R"JIT(
    def forward(self, x):
        assert x.size(2) == 224, "this model wants 224 x 224 images"
        return x.mean([2, 3])
  )JIT",
                              "picky");
  std::vector<float> in = make_input(1, 3, kSize);
  try {
    model->forward(in, 1);
    ADD_FAILURE() << "no InputError";
  } catch (const prh::InputError& e) {
    const std::string msg = e.what();
    show(msg);
    EXPECT_EQ(msg.rfind("picky: forward failed on input [1, 3, 8, 8]", 0), 0u) << msg;
    EXPECT_NE(msg.find("224 x 224"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST_F(TorchScriptTest, WrongInputLengthOrBatch) {
  torch::jit::Module m = tiny_cnn();
  const auto model = roundtrip(m, "cnn");
  std::vector<float> in = make_input(2, 3, kSize);
  expect_input_error([&] { model->forward(in, 3); }, {"cnn", "384 floats", "needs 576"});
  expect_input_error([&] { model->forward({}, 0); }, {"cnn", "at least one image"});
}

TEST_F(TorchScriptTest, MissingModelFile) {
  const std::string p = (dir_ / "absent.pt").string();
  expect_input_error([&] { load_torchscript("ghost", p, sidecar(), "cpu", 0); },
                     {"ghost: cannot load TorchScript file " + p + ": no such file"});
  expect_input_error([&] { load_torchscript("dir", dir_.string(), sidecar(), "cpu", 0); },
                     {"dir: cannot load TorchScript file", "not a regular file"});
}

TEST_F(TorchScriptTest, CorruptModelFile) {
  std::mt19937 rng(5);
  std::string bytes;
  for (int i = 0; i < 4096; ++i) bytes.push_back(static_cast<char>(rng() & 0xff));
  const std::string p = write("corrupt.pt", bytes);
  expect_input_error([&] { load_torchscript("noise", p, sidecar(), "cpu", 0); },
                     {"noise: cannot load TorchScript file " + p + ": "});
  // A zip that is not a TorchScript archive either; and a truncated model.
  const std::string empty = write("empty.pt", "");
  expect_input_error([&] { load_torchscript("empty", empty, sidecar(), "cpu", 0); },
                     {"empty: cannot load TorchScript file"});
  torch::jit::Module m = tiny_cnn();
  const std::string good = save(m, "good.pt");
  std::ifstream gin(good, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(gin)), std::istreambuf_iterator<char>());
  const std::string cut = write("cut.pt", all.substr(0, all.size() / 2));
  expect_input_error([&] { load_torchscript("cut", cut, sidecar(), "cpu", 0); },
                     {"cut: cannot load TorchScript file"});
  // The message is one line: no C++ backtrace.
  try {
    load_torchscript("noise", p, sidecar(), "cpu", 0);
  } catch (const prh::InputError& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
}

// LibTorch does not check the zip members' CRCs: a weight byte flipped in
// the file is refused before loading, naming the member.
TEST_F(TorchScriptTest, FlippedWeightBytesAreRefused) {
  torch::jit::Module m = tiny_cnn();
  const std::string good = save(m, "good.pt");
  std::ifstream gin(good, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(gin)), std::istreambuf_iterator<char>());
  // The first tensor's data: its local header precedes the name "data/0".
  const auto name = all.find("data/0");
  ASSERT_NE(name, std::string::npos);
  const std::size_t local = all.rfind(std::string("PK\x03\x04", 4), name);
  ASSERT_NE(local, std::string::npos);
  auto u16 = [&](std::size_t at) {
    return static_cast<std::size_t>(static_cast<unsigned char>(all[at])) |
           (static_cast<std::size_t>(static_cast<unsigned char>(all[at + 1])) << 8);
  };
  const std::size_t data = local + 30 + u16(local + 26) + u16(local + 28);
  std::string flipped = all;
  flipped[data + 1] = static_cast<char>(flipped[data + 1] ^ 0x40);
  const std::string bad = write("flipped.pt", flipped);
  expect_input_error([&] { load_torchscript("flip", bad, sidecar(), "cpu", 0); },
                     {"flip: cannot load TorchScript file " + bad, "data/0", "CRC-32"});
  // The file as saved loads.
  EXPECT_TRUE(prh::models::zip_integrity_problem(good).empty())
      << prh::models::zip_integrity_problem(good);
}

TEST_F(TorchScriptTest, BadSidecarThroughTheLoader) {
  torch::jit::Module m = tiny_cnn();
  const std::string model = save(m);
  const std::string bad = write("bad.yaml", "input_size: 8\ncolour: yes\n");
  expect_input_error([&] { load_torchscript("cnn", model, bad, "cpu", 0); },
                     {bad, "unknown field 'colour'"});
  const std::string none = (dir_ / "none.yaml").string();
  expect_input_error([&] { load_torchscript("cnn", model, none, "cpu", 0); },
                     {none, "no such file"});
}

TEST_F(TorchScriptTest, Devices) {
  torch::jit::Module m = tiny_cnn();
  const std::string model = save(m);
  expect_input_error([&] { load_torchscript("cnn", model, sidecar(), "tpu", 0); },
                     {"cnn", "unknown device 'tpu'"});
  if (!torch::cuda::is_available()) {
    expect_input_error([&] { load_torchscript("cnn", model, sidecar(), "cuda", 3); },
                       {"cnn", "CUDA is not available"});
  } else {
    const auto gpu = load_torchscript("cnn", model, sidecar(), "cuda", 3);
    const auto cpu = load_torchscript("cnn", model, sidecar(), "cpu", 0);
    std::vector<float> in = make_input(kBatch, 3, kSize);
    const Output a = gpu->forward(in, kBatch);
    const Output b = cpu->forward(in, kBatch);
    for (std::size_t l = 0; l < a.layers.size(); ++l)
      EXPECT_TRUE(torch::allclose(layer(a, l), layer(b, l), 1e-4, 1e-5));
  }
}

// Models written by tools/export_torchvision.py or tools/export_timm.py:
// PRH_TEST_EXPORTED_MODELS=a.pt,b.pt (sidecars beside them, .yaml). Skipped
// when unset: the unit tests need neither Python nor a network.
TEST(ExportedModels, LoadAndForward) {
  const char* env = std::getenv("PRH_TEST_EXPORTED_MODELS");
  if (!env || !*env) GTEST_SKIP() << "PRH_TEST_EXPORTED_MODELS not set";
  std::string list = env;
  for (std::size_t pos = 0; pos <= list.size();) {
    std::size_t end = list.find(',', pos);
    if (end == std::string::npos) end = list.size();
    const std::string path = list.substr(pos, end - pos);
    pos = end + 1;
    if (path.empty()) continue;
    SCOPED_TRACE(path);
    const std::string side = fs::path(path).replace_extension(".yaml").string();
    const auto model = load_torchscript(fs::path(path).stem().string(), path, side, "cpu", 0);
    const auto& sc = model->sidecar();
    EXPECT_GT(model->parameter_count(), 0);
    std::vector<float> in = make_input(2, sc.transform.channels, sc.input_size);
    const Output a = model->forward(in, 2);
    const Output b = model->forward(in, 2);
    EXPECT_EQ(a.layers, b.layers);
    EXPECT_EQ(a.logits, b.logits);
    EXPECT_EQ(a.layers.size(), sc.layer_names.size());
    // Each image's features do not depend on the rest of its batch.
    const std::size_t per = in.size() / 2;
    const Output one = model->forward(std::vector<float>(in.begin(), in.begin() + per), 1);
    for (std::size_t l = 0; l < a.layers.size(); ++l) {
      EXPECT_TRUE(torch::allclose(layer(one, l), layer(a, l).slice(0, 0, 1), 1e-3, 1e-4))
          << "layer " << l;
      for (float v : a.layers[l]) ASSERT_TRUE(std::isfinite(v)) << "layer " << l;
    }
    std::printf("  %s: %zu layers, dims", path.c_str(), a.layers.size());
    for (auto d : a.dims) std::printf(" %lld", static_cast<long long>(d));
    std::printf(", %lld classes, %lld parameters\n", static_cast<long long>(a.classes),
                static_cast<long long>(model->parameter_count()));
  }
}

TEST(TorchThreads, SetExplicitly) {
  prh::models::set_torch_threads(1);
  EXPECT_EQ(at::get_num_threads(), 1);
  prh::models::set_torch_threads(2);
  EXPECT_EQ(at::get_num_threads(), 2);
  prh::models::set_torch_threads(1);
  EXPECT_THROW(prh::models::set_torch_threads(0), prh::InputError);
}

}  // namespace
