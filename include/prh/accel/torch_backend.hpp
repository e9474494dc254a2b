#pragma once
// The heavy metric steps (metrics/backend.hpp) on a LibTorch device
// (docs/gpu.md): Gram tiles of rows x N similarities and top-k for the kNN
// lists, the double-accumulated feature products of linear CKA, unbiased CKA
// and SVCCA, and the RBF-kernel HSIC pass. Float32 matrix products with TF32
// off; sums that the CPU path accumulates in double are accumulated in double
// on the device too. The results equal the CPU path's within the tolerance
// stated in docs/gpu.md (neighbour lists may differ only at ties).
//
// This header is torch-free; LibTorch is linked into prh_accel, which only
// prh-models (and its tests) link.

#include <memory>
#include <string>

#include "prh/metrics/backend.hpp"

namespace prh::accel {

// How a device was asked for, for error messages: `asked` names the setting
// as the user wrote it ("configs/x.yaml: reduce_device: cuda", "--device
// cuda") and `instead` says how to ask for the CPU ("set reduce_device: cpu").
struct DeviceRequest {
  std::string device;  // "cpu" or "cuda"
  std::string asked;
  std::string instead;
};

// Whether LibTorch has CUDA and sees at least one GPU.
bool cuda_usable();

// Throws InputError (exit 2) naming the request when device is "cuda" and
// LibTorch has no CUDA support or sees no GPU, or when device is neither
// "cpu" nor "cuda". Cheap: starts no CUDA context.
void check_device(const DeviceRequest& request);

// A backend on LibTorch's device: "cuda" is GPU local_rank % count (the
// context is created here, with a first product), "cpu" is LibTorch on the
// CPU (what the tests compare against the Eigen path where no GPU is). Checks
// the request first (check_device).
std::unique_ptr<metrics::Backend> make_torch_backend(const DeviceRequest& request, int local_rank);

}  // namespace prh::accel
