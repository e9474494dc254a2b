// Writes small TorchScript models and their sidecars for the embedding tests,
// with no network and no Python: modules defined in TorchScript source through
// torch::jit::Module::define, weights from a fixed seed.
//
//   prh-make-test-models OUTDIR [--wide N]
//
// writes: dict_model.pt (1 channel 28x28, {"layers": [B, 2, 32], "logits": [B, 5]}),
// tuple_model.pt (3 channels 16x16, (h1 [B, 24], h2 [B, 12]), no logits),
// bad_output.pt (returns a rank-1 tensor), broad_model.pt (1 channel 28x28,
// {"layers": [B, 1, 24304]}), and a sidecar .yaml for each.
// --wide N also writes wide_0.pt .. wide_{N-1}.pt for the reduction benchmark:
// 1 channel 28x28, {"layers": [B, 1, 768]} = a random two-layer ReLU network
// per seed (different weights, the same images: alike, not identical), and
// 10 logits.

#include <torch/script.h>

#include <fstream>
#include <iostream>
#include <string>

namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

torch::jit::Module make(const std::string& name, const std::string& source,
                        const std::vector<std::pair<std::string, torch::Tensor>>& params) {
  torch::jit::Module m(name);
  for (const auto& [n, t] : params) m.register_parameter(n, t, false);
  m.define(source);
  m.eval();
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && !(argc == 4 && std::string(argv[2]) == "--wide")) {
    std::cerr << "usage: prh-make-test-models OUTDIR [--wide N]\n";
    return 2;
  }
  const std::string dir = argv[1];
  torch::manual_seed(1234);

  auto dict_model = make("DictModel", R"JIT(
def forward(self, x):
    b = x.size(0)
    h = x.reshape([b, 784])
    h1 = torch.tanh(torch.mm(h, self.w1))
    h2 = torch.tanh(torch.mm(h1, self.w2))
    logits = torch.mm(h2, self.w3)
    return {"layers": torch.stack([h1, h2], 1), "logits": logits}
)JIT",
                         {{"w1", torch::randn({784, 32}) / 28.0},
                          {"w2", torch::randn({32, 32}) / 5.0},
                          {"w3", torch::randn({32, 5})}});
  dict_model.save(dir + "/dict_model.pt");
  write(dir + "/dict_model.yaml",
        "input_size: 28\nresize: 28\ncrop: 28\ninterpolation: bilinear\nchannels: 1\n"
        "mean: [0.5]\nstd: [0.5]\nlayer_names: [hidden1, hidden2]\n");

  auto tuple_model =
      make("TupleModel", R"JIT(
def forward(self, x):
    b = x.size(0)
    h = x.reshape([b, 768])
    h1 = torch.relu(torch.mm(h, self.w1))
    h2 = torch.mm(h1, self.w2)
    return (h1, h2)
)JIT",
           {{"w1", torch::randn({768, 24}) / 27.0}, {"w2", torch::randn({24, 12}) / 5.0}});
  tuple_model.save(dir + "/tuple_model.pt");
  write(dir + "/tuple_model.yaml",
        "input_size: 16\nresize: 18\ncrop: 16\ninterpolation: bicubic\nchannels: 3\n");

  auto bad = make("BadOutput", R"JIT(
def forward(self, x):
    return torch.sum(x, [1, 2, 3])
)JIT",
                  {});
  bad.save(dir + "/bad_output.pt");
  write(dir + "/bad_output.yaml", "input_size: 28\nchannels: 1\nmean: [0.5]\nstd: [0.5]\n");
  // A model with one very broad layer (24304 = 31 x 784 features, no
  // weights): its D x D Gram matrix (4.7 GB) cannot be allocated under an
  // address-space limit of a few GB (e2e.bad_input: out of memory inside
  // `prh reduce`).
  auto broad = make("BroadModel", R"JIT(
def forward(self, x):
    b = x.size(0)
    return {"layers": x.reshape([b, 784]).repeat([1, 31]).unsqueeze(1)}
)JIT",
                    {});
  broad.save(dir + "/broad_model.pt");
  write(dir + "/broad_model.yaml",
        "input_size: 28\nchannels: 1\nmean: [0.5]\nstd: [0.5]\nlayer_names: [broad]\n");
  // The dict model with a sidecar that disagrees with its input shape.
  dict_model.save(dir + "/wrong_shape.pt");
  write(dir + "/wrong_shape.yaml", "input_size: 32\nchannels: 1\nmean: [0.5]\nstd: [0.5]\n");
  const int wide = argc == 4 ? std::stoi(argv[3]) : 0;
  for (int i = 0; i < wide; ++i) {
    torch::manual_seed(1000 + i);
    auto w = make("WideModel", R"JIT(
def forward(self, x):
    b = x.size(0)
    h = torch.relu(torch.mm(x.reshape([b, 784]), self.w1))
    f = torch.mm(h, self.w2)
    return {"layers": f.unsqueeze(1), "logits": torch.mm(f, self.w3)}
)JIT",
                  {{"w1", torch::randn({784, 1024}) / 28.0},
                   {"w2", torch::randn({1024, 768}) / 32.0},
                   {"w3", torch::randn({768, 10}) / 27.7}});
    const std::string name = dir + "/wide_" + std::to_string(i);
    w.save(name + ".pt");
    write(name + ".yaml",
          "input_size: 28\nresize: 28\ncrop: 28\ninterpolation: bilinear\nchannels: 1\n"
          "mean: [0.5]\nstd: [0.5]\nlayer_names: [features]\n");
  }
  std::cout << "wrote test models to " << dir << "\n";
  return 0;
}
