#pragma once
// prh's own model zoo (science.md, "The embedded default"): small networks of
// four families (MLP, CNN, ResNet-style, ViT), several widths and depths,
// three objectives (supervised classification, autoencoding, contrastive
// learning with augmentations) and repeated seeds, trained with LibTorch on
// 28 x 28 grey images. Each member is written as a TorchScript file that
// `prh embed` loads (docs/models.md output contract: a dict with "layers", a
// list of per-layer [B, D_l] features, and, for classifiers, "logits") with
// its sidecar. Training is deterministic for a given seed on one thread.

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace prh::models {

struct ZooMember {
  std::string name;       // file stem, e.g. "cnn_w16_s0"
  std::string family;     // mlp | cnn | resnet | vit
  std::string objective;  // supervised | autoencoder | contrastive
  int width = 0;          // hidden width / channels / embedding dim
  int depth = 0;          // hidden layers / stages / blocks
  std::uint64_t seed = 0;
  int epochs = 1;
  double lr = 1e-3;
  double epoch_seconds = 1;  // measured on one core here; balances members over ranks
  std::string data;  // training distribution: fashion04 | fashion59 | fashion10 | shapes | natural
};

// The default zoo, in a fixed order.
std::vector<ZooMember> default_zoo();

// Images [n, 28, 28] uint8 and labels in [0, classes).
struct ImageData {
  std::int64_t n = 0;
  std::vector<std::uint8_t> pixels;
  std::vector<std::int64_t> labels;
};

// How well a member does on held-out data of its own distribution: top-1
// accuracy (supervised), nearest-class-centroid accuracy of the last layer
// (contrastive; centroids from the training images), or reconstruction MSE on
// [0, 1] pixels (autoencoder), with a trivial baseline beside it (chance
// 1 / classes seen, or the MSE of the training images' mean image).
struct HeldOut {
  std::string metric;  // accuracy | centroid_accuracy | reconstruction_mse
  double value = std::nan("");
  double baseline = std::nan("");
  std::int64_t images = 0;
};

struct TrainReport {
  std::string name;
  double seconds = 0;
  double test_accuracy = -1;  // < 0: no classifier
  HeldOut held_out;
  double final_loss = 0;
  std::int64_t parameters = 0;
  int epochs = 0;
  std::int64_t train_images = 0;
};

// Trains `m` (epochs: m.epochs unless epochs_override > 0) on `train`, tests
// classifiers on `test`, and writes OUT_DIR/NAME.pt (atomically: a killed
// run leaves no partial file) and OUT_DIR/NAME.yaml. `classes`: logits.
// `progress` is called after every epoch with (epoch, loss).
TrainReport train_member(const ZooMember& m, const ImageData& train, const ImageData& test,
                         int classes, const std::string& out_dir, int epochs_override,
                         const std::function<void(int, double)>& progress = {});

}  // namespace prh::models
