// The LibTorch backend of the metric engine (include/prh/accel/torch_backend.hpp).
// The only file of prh_accel that includes torch headers (each costs ~25 s to
// compile); written against the ATen API common to LibTorch 1.13 and 2.x.

#include "prh/accel/torch_backend.hpp"

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "prh/core/error.hpp"
#include "prh/metrics/hsic.hpp"
#include "prh/metrics/knn.hpp"

namespace prh::accel {

namespace {

using metrics::Index;
using metrics::MatrixD;
using metrics::MatrixF;

// Elements of one rows x N tile (64 MB in float, 128 MB in double): a block
// of rows small enough for any device, large enough to keep it busy.
constexpr Index kTileElements = Index{1} << 24;
// Rows of the chunks whose float products are accumulated in double: the
// CPU path's chunk (tiles.cpp), so that the two round alike.
constexpr Index kProductChunk = 256;
// Candidates beyond k that the top-k keeps, so that the CPU's tie rule
// (lower index first) can be applied on the host; a row whose ties reach
// past them is redone from its whole row of similarities.
constexpr int kTieMargin = 8;

Index block_rows(Index n) {
  return std::max<Index>(1, std::min(n, kTileElements / n));
}

// (s1, j1) ranks before (s2, j2): larger similarity, then lower index (knn.cpp).
bool better(const std::pair<float, std::int64_t>& a, const std::pair<float, std::int64_t>& b) {
  return a.first > b.first || (a.first == b.first && a.second < b.second);
}

class TorchBackend final : public metrics::Backend {
 public:
  explicit TorchBackend(at::Device device) : device_(device) {
    // Float32 products must be IEEE float32 products: TF32 (10-bit mantissa)
    // would move scores by ~1e-3. Off by default since LibTorch 1.12; set
    // explicitly (the same call exists in 1.13 and 2.x).
    at::globalContext().setAllowTF32CuBLAS(false);
    // Create the context and the BLAS handle now, not in the first step.
    const auto one = at::ones({8, 8}, at::TensorOptions().dtype(at::kFloat).device(device_));
    PRH_ASSERT(one.mm(one).sum().item<double>() == 512.0, "{}: first product failed", name());
  }

  std::string name() const override {
    if (device_.is_cuda()) return "cuda:" + std::to_string(static_cast<int>(device_.index()));
    return "torch:cpu";
  }

  metrics::NeighborLists knn(const MatrixF& x, int k) const override {
    const Index n = x.rows();
    metrics::check_k(k, n, "knn");
    PRH_CHECK_INPUT(n <= std::numeric_limits<std::int32_t>::max(), "too many rows: {}", n);
    const at::Tensor xs = upload(x);
    const int kk = static_cast<int>(std::min<Index>(n - 1, Index{k} + kTieMargin));
    const Index rows = block_rows(n);
    metrics::NeighborLists out;
    out.n = n;
    out.k = k;
    out.index.resize(static_cast<std::size_t>(n * k));
    out.sim.resize(static_cast<std::size_t>(n * k));
    auto put = [&](Index i, std::vector<std::pair<float, std::int64_t>>& cand) {
      for (int c = 0; c < k; ++c) {
        out.index[static_cast<std::size_t>(i * k + c)] =
            static_cast<std::int32_t>(cand[static_cast<std::size_t>(c)].second);
        out.sim[static_cast<std::size_t>(i * k + c)] = cand[static_cast<std::size_t>(c)].first;
      }
    };
    std::vector<std::pair<float, std::int64_t>> cand(static_cast<std::size_t>(kk));
    for (Index i0 = 0; i0 < n; i0 += rows) {
      const Index b = std::min(rows, n - i0);
      at::Tensor s = xs.narrow(0, i0, b).mm(xs.t());  // [b, n] similarities
      s.narrow(1, i0, b).diagonal().fill_(-std::numeric_limits<float>::infinity());  // self
      const auto top = s.topk(kk, 1, /*largest=*/true, /*sorted=*/true);
      const at::Tensor vals = std::get<0>(top).to(at::kCPU).contiguous();
      const at::Tensor idx = std::get<1>(top).to(at::kCPU).contiguous();
      const float* v = vals.data_ptr<float>();
      const std::int64_t* j = idx.data_ptr<std::int64_t>();
      std::vector<std::int64_t> redo;
      for (Index r = 0; r < b; ++r) {
        for (int c = 0; c < kk; ++c)
          cand[static_cast<std::size_t>(c)] = {v[r * kk + c], j[r * kk + c]};
        // Equal similarities in any order from topk: the CPU's tie rule.
        std::sort(cand.begin(), cand.end(), better);
        // Rows outside the window have similarity <= the last candidate; if
        // that ties with the k-th, the tie may reach past the window.
        if (kk < n - 1 && cand[static_cast<std::size_t>(kk) - 1].first ==
                              cand[static_cast<std::size_t>(k) - 1].first)
          redo.push_back(r);
        else
          put(i0 + r, cand);
      }
      if (redo.empty()) continue;
      const at::Tensor which = at::tensor(redo, at::TensorOptions().dtype(at::kLong)).to(device_);
      const at::Tensor full = s.index_select(0, which).to(at::kCPU).contiguous();
      const float* f = full.data_ptr<float>();
      std::vector<std::pair<float, std::int64_t>> row(static_cast<std::size_t>(n - 1));
      for (std::size_t q = 0; q < redo.size(); ++q) {
        const Index i = i0 + redo[q];
        std::size_t m = 0;
        for (Index c = 0; c < n; ++c)
          if (c != i) row[m++] = {f[static_cast<Index>(q) * n + c], c};
        std::partial_sort(row.begin(), row.begin() + k, row.end(), better);
        put(i, row);
      }
    }
    return out;
  }

  MatrixD self_product(const MatrixF& x) const override {
    const at::Tensor xs = upload(x);
    MatrixD m = product(xs, xs);
    // Symmetric exactly, as the CPU path's (upper triangle mirrored).
    for (Index i = 0; i < m.rows(); ++i)
      for (Index j = 0; j < i; ++j) m(i, j) = m(j, i);
    return m;
  }

  MatrixD cross_product(const MatrixF& x, const MatrixF& y) const override {
    PRH_ASSERT(x.rows() == y.rows(), "cross_product: row counts differ");
    return product(upload(x), upload(y));
  }

  metrics::HsicSet hsic_rbf(const MatrixF& a, const MatrixF& b, double sigma) const override {
    PRH_ASSERT(a.rows() == b.rows(), "hsic_rbf: row counts differ");
    const Index n = a.rows();
    const double gamma = 1.0 / (2.0 * sigma * sigma);
    // Squared norms in double on the host, exactly as the CPU path.
    metrics::VectorD na(n), nb(n);
    for (Index i = 0; i < n; ++i) {
      na(i) = a.row(i).cast<double>().squaredNorm();
      nb(i) = b.row(i).cast<double>().squaredNorm();
    }
    const auto dopt = at::TensorOptions().dtype(at::kDouble).device(device_);
    const at::Tensor as = upload(a), bs = upload(b);
    const at::Tensor nad = upload(na), nbd = upload(nb);
    at::Tensor s_kl = at::zeros({1}, dopt), s_kk = at::zeros({1}, dopt),
               s_ll = at::zeros({1}, dopt);
    at::Tensor rk = at::zeros({n}, dopt), rl = at::zeros({n}, dopt);
    // Kernel tile: exp(-gamma max(0, |x_i|^2 + |x_j|^2 - 2 <x_i, x_j>)), the
    // product in float32 (as the CPU's sgemm), the rest in double; the
    // diagonal (exactly 1) is left out of the sums.
    auto kernel = [&](const at::Tensor& xs, const at::Tensor& norms, Index i0, Index rows) {
      const at::Tensor g = xs.narrow(0, i0, rows).mm(xs.t()).to(at::kDouble);
      at::Tensor d = (norms.narrow(0, i0, rows).unsqueeze(1) + norms.unsqueeze(0)) - g * 2.0;
      at::Tensor kv = (d.clamp_min(0.0) * -gamma).exp();
      kv.narrow(1, i0, rows).diagonal().zero_();
      return kv;
    };
    const Index rows = block_rows(n);
    for (Index i0 = 0; i0 < n; i0 += rows) {
      const Index r = std::min(rows, n - i0);
      const at::Tensor kv = kernel(as, nad, i0, r);
      const at::Tensor lv = kernel(bs, nbd, i0, r);
      s_kl += (kv * lv).sum();
      s_kk += (kv * kv).sum();
      s_ll += (lv * lv).sum();
      rk.narrow(0, i0, r).copy_(kv.sum(1));
      rl.narrow(0, i0, r).copy_(lv.sum(1));
    }
    return metrics::hsic_from_sums(n, s_kl.item<double>(), s_kk.item<double>(), s_ll.item<double>(),
                                   download_vector(rk), download_vector(rl));
  }

  metrics::Eigenpairs top_eigenpairs(const MatrixD& g, int count) const override {
    const Index d = g.rows();
    PRH_ASSERT(g.cols() == d && count >= 1 && count <= d, "top_eigenpairs: {} of a {}x{} matrix",
               count, g.rows(), g.cols());
    // A full symmetric eigendecomposition in double (cuSOLVER on a GPU),
    // from the lower triangle as the CPU path; eigenvalues ascend.
    const at::Tensor t =
        at::from_blob(const_cast<double*>(g.data()), {d, d}, at::TensorOptions().dtype(at::kDouble))
            .to(device_);
    const auto vv = at::linalg_eigh(t, "L");
    const at::Tensor values = std::get<0>(vv).narrow(0, d - count, count).to(at::kCPU).contiguous();
    const at::Tensor vectors =
        std::get<1>(vv).narrow(1, d - count, count).to(at::kCPU).contiguous();
    metrics::Eigenpairs e;
    e.values.assign(values.data_ptr<double>(), values.data_ptr<double>() + count);
    e.vectors.resize(d, count);
    std::memcpy(e.vectors.data(), vectors.data_ptr<double>(),
                sizeof(double) * static_cast<std::size_t>(d * count));
    return e;
  }

 private:
  // Host to device (a copy; on LibTorch's CPU device a view of the matrix,
  // which is only read).
  at::Tensor upload(const MatrixF& x) const {
    const at::Tensor t = at::from_blob(const_cast<float*>(x.data()), {x.rows(), x.cols()},
                                       at::TensorOptions().dtype(at::kFloat));
    return t.to(device_);
  }
  at::Tensor upload(const metrics::VectorD& v) const {
    const at::Tensor t = at::from_blob(const_cast<double*>(v.data()), {v.size()},
                                       at::TensorOptions().dtype(at::kDouble));
    return t.to(device_);
  }
  static metrics::VectorD download_vector(const at::Tensor& t) {
    const at::Tensor h = t.to(at::kCPU).contiguous();
    metrics::VectorD v(h.size(0));
    std::memcpy(v.data(), h.data_ptr<double>(),
                sizeof(double) * static_cast<std::size_t>(v.size()));
    return v;
  }

  // X^T Y: float32 products over chunks of rows, accumulated in double on
  // the device, then copied to the host.
  MatrixD product(const at::Tensor& xs, const at::Tensor& ys) const {
    const Index n = xs.size(0);
    at::Tensor acc =
        at::zeros({xs.size(1), ys.size(1)}, at::TensorOptions().dtype(at::kDouble).device(device_));
    for (Index r0 = 0; r0 < n; r0 += kProductChunk) {
      const Index nr = std::min(kProductChunk, n - r0);
      acc += xs.narrow(0, r0, nr).t().mm(ys.narrow(0, r0, nr)).to(at::kDouble);
    }
    const at::Tensor h = acc.to(at::kCPU).contiguous();
    MatrixD m(h.size(0), h.size(1));
    std::memcpy(m.data(), h.data_ptr<double>(),
                sizeof(double) * static_cast<std::size_t>(m.size()));
    return m;
  }

  at::Device device_;
};

}  // namespace

bool cuda_usable() {
  return torch::cuda::is_available() && torch::cuda::device_count() > 0;
}

void check_device(const DeviceRequest& request) {
  if (request.device == "cpu") return;
  PRH_CHECK_INPUT(request.device == "cuda", "{}: unknown device '{}' (expected cpu or cuda)",
                  request.asked, request.device);
  PRH_CHECK_INPUT(
      cuda_usable(),
      "{}: CUDA is not available to prh-models: its LibTorch was built without CUDA (Debian's "
      "libtorch is CPU-only) or no GPU is visible (check nvidia-smi, CUDA_VISIBLE_DEVICES and "
      "the job's GPU request). Either {}, or run on a GPU node with prh built against a CUDA "
      "LibTorch (docs/gpu.md)",
      request.asked, request.instead);
}

std::unique_ptr<metrics::Backend> make_torch_backend(const DeviceRequest& request, int local_rank) {
  check_device(request);
  if (request.device == "cpu") return std::make_unique<TorchBackend>(at::Device(at::kCPU));
  const auto count = static_cast<int>(torch::cuda::device_count());
  const int r = local_rank < 0 ? 0 : local_rank;
  return std::make_unique<TorchBackend>(
      at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(r % count)));
}

}  // namespace prh::accel
