#pragma once
// Models: a TorchScript file plus a YAML sidecar giving its preprocessing.
// Forward gives per-layer features and, where the model has a classifier head,
// logits. Only src/models/ includes torch headers.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "prh/data/transform.hpp"

namespace prh::models {

// The sidecar (YAML next to the model file, docs/models.md):
//   input_size: 224        # model input is channels x input_size x input_size
//   resize: 248            # shorter side resized to this (default: input_size)
//   crop: 224              # centre crop (default: input_size)
//   interpolation: bicubic # or bilinear
//   channels: 3            # 1 or 3
//   mean: [0.485, 0.456, 0.406]
//   std: [0.229, 0.224, 0.225]
//   layer_names: [...]     # optional, for the store's metadata
struct Sidecar {
  int input_size = 224;
  data::Transform transform;
  std::vector<std::string> layer_names;
};

// Parses and validates a sidecar file; InputError naming the file and field.
Sidecar load_sidecar(const std::string& path);

// What is wrong with the zip archive at `path` (a TorchScript file): a
// member whose CRC-32 differs from the one the archive records (flipped
// bytes), a damaged directory; "" when every member checks out.
std::string zip_integrity_problem(const std::string& path);

// What one forward pass returns: layers [B][L][D_l] flattened per layer, and
// logits [B][C] (empty when the model has none).
struct Output {
  std::int64_t batch = 0;
  std::vector<std::vector<float>> layers;  // layers[l]: [batch * dims[l]] row-major
  std::vector<std::int64_t> dims;          // D of each layer
  std::vector<float> logits;               // [batch * classes]
  std::int64_t classes = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  // input: [batch, channels, size, size] float, row-major (CHW per image).
  virtual Output forward(const std::vector<float>& input, std::int64_t batch) = 0;
  virtual const Sidecar& sidecar() const = 0;
  virtual std::int64_t parameter_count() const = 0;
};

// Loads a TorchScript model (torch::jit::load) and its sidecar; `name` names
// it in errors. device: "cpu" or "cuda" (cuda: GPU local_rank % count).
// Throws InputError for a missing/corrupt file or sidecar.
// Forward throws InputError naming the model when its output breaks the
// contract: a tensor [B, D]; a tuple/list of [B, D] tensors (one per layer);
// or a dict with "layers" ([B, L, D] tensor or list of [B, D]) and optional
// "logits" [B, C]. The input shape must match the sidecar (else InputError).
std::unique_ptr<Model> load_torchscript(const std::string& name, const std::string& path,
                                        const std::string& sidecar_path, const std::string& device,
                                        int local_rank);

// Sets LibTorch's intra-op threads (explicitly: default 1 per rank).
void set_torch_threads(int n);

// Imported features saved with torch.save({"feats": tensor[N, L, D] or
// [N, D], ...}) (the PRH reference layout; zip format, the default since
// PyTorch 1.6), read with LibTorch (no Python). `shape` as saved, `data` the
// tensor converted to float32 (float32 bit for bit), C order. InputError
// naming the file for a missing or damaged file, no "feats" key, a
// non-floating-point tensor or another rank.
struct TorchFeatures {
  std::vector<std::int64_t> shape;
  std::vector<float> data;
};
TorchFeatures read_torch_features(const std::string& path);

// A short checksum of a file's bytes (FNV-1a 64, hex), for the store.
std::string file_checksum(const std::string& path);

}  // namespace prh::models
