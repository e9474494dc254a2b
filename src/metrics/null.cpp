#include "prh/metrics/null.hpp"

#include "prh/core/error.hpp"
#include "prh/metrics/cknna.hpp"

namespace prh::metrics {

namespace {

Permutation inverse(const Permutation& perm, Index n) {
  PRH_CHECK_INPUT(static_cast<Index>(perm.size()) == n,
                  "permutation of {} rows for features of {} rows", perm.size(), n);
  Permutation inv(perm.size(), -1);
  for (std::size_t i = 0; i < perm.size(); ++i) {
    const auto v = perm[i];
    PRH_CHECK_INPUT(v >= 0 && v < n && inv[static_cast<std::size_t>(v)] < 0,
                    "not a permutation of 0..{}: entry {} is {}", n - 1, i, v);
    inv[static_cast<std::size_t>(v)] = static_cast<std::int32_t>(i);
  }
  return inv;
}

template <typename V>
V permute_vector(const V& v, const Permutation& perm) {
  V out(v.size());
  for (std::size_t i = 0; i < perm.size(); ++i)
    out[static_cast<Index>(i)] = v[static_cast<Index>(perm[i])];
  return out;
}

}  // namespace

NeighborLists relabel(const NeighborLists& b, const Permutation& perm, const Permutation& inv) {
  NeighborLists out;
  out.n = b.n;
  out.k = b.k;
  out.index.resize(b.index.size());
  out.sim.resize(b.sim.size());
  const auto k = static_cast<std::size_t>(b.k);
  for (std::size_t i = 0; i < perm.size(); ++i) {
    const std::int32_t* src = b.row(perm[i]);
    const float* src_sim = b.row_sim(perm[i]);
    for (std::size_t c = 0; c < k; ++c) {
      out.index[i * k + c] = inv[static_cast<std::size_t>(src[c])];
      out.sim[i * k + c] = src_sim[c];
    }
  }
  return out;
}

Representation permute(const Representation& b, const Permutation& perm) {
  const Permutation inv = inverse(perm, b.n());
  Representation out;
  // x keeps its shape (validate() and n() read it) but no values are copied:
  // no null reads them (check_calibratable rules out the RBF kernel).
  out.x.resize(b.x.rows(), b.x.cols());
  if (b.neighbors) out.neighbors = relabel(*b.neighbors, perm, inv);
  if (b.moments) {
    const LinearMoments& m = *b.moments;
    LinearMoments p;
    p.centred.resize(m.centred.rows(), m.centred.cols());
    for (std::size_t i = 0; i < perm.size(); ++i)
      p.centred.row(static_cast<Index>(i)) = m.centred.row(perm[i]);
    p.gram = m.gram;
    p.sq_norms = permute_vector(m.sq_norms, perm);
    p.col_sum = m.col_sum;
    p.row_dot = permute_vector(m.row_dot, perm);
    p.hsic_b_self = m.hsic_b_self;
    p.hsic_u_self = m.hsic_u_self;
    out.moments = std::move(p);
  }
  out.svcca = b.svcca;
  out.cknna_self = b.cknna_self;
  return out;
}

void check_calibratable(const std::vector<MetricSpec>& specs) {
  for (const auto& s : specs)
    PRH_CHECK_INPUT(!((s.kind == MetricKind::Cka || s.kind == MetricKind::UnbiasedCka) &&
                      s.kernel == Kernel::Rbf),
                    "calibration of {} is not supported: the permutation null of an RBF kernel "
                    "needs the N x N Gram matrix kept per layer (linear kernels only)",
                    s.name());
}

std::vector<double> null_layer_max(const std::vector<Representation>& a,
                                   const std::vector<Representation>& b,
                                   const std::vector<MetricSpec>& specs, const Permutation& perm) {
  check_calibratable(specs);
  // The cknna self terms are invariant: computed once on B (a memo that
  // every permuted copy inherits), never per permutation.
  for (const auto& s : specs)
    if (s.kind == MetricKind::Cknna)
      for (const auto& layer : b)
        if (layer.neighbors && !layer.cknna_self.count(s.k))
          layer.cknna_self.emplace(s.k, cknna_self(*layer.neighbors, s.k));
  std::vector<Representation> pb;
  pb.reserve(b.size());
  for (const auto& layer : b) pb.push_back(permute(layer, perm));
  const auto best = compare_models(a, pb, specs);
  std::vector<double> out;
  out.reserve(best.size());
  for (const auto& m : best) out.push_back(m.score);
  return out;
}

}  // namespace prh::metrics
