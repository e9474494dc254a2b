#include "prh/metrics/engine.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <optional>

#include "prh/core/error.hpp"
#include "prh/metrics/cknna.hpp"
#include "prh/metrics/hsic.hpp"
#include "prh/metrics/knn_metrics.hpp"
#include "prh/metrics/svcca.hpp"
#include "prh/metrics/tiles.hpp"

namespace prh::metrics {

std::vector<Representation> make_representations(std::vector<MatrixF> layers,
                                                 const PreprocessOptions& pre,
                                                 const std::vector<MetricSpec>& specs,
                                                 const std::string& what, const Backend& backend) {
  const Requirements req = Requirements::of(specs);
  std::vector<Representation> reps(layers.size());
  for (std::size_t l = 0; l < layers.size(); ++l) {
    check_finite(layers[l], layers.size() > 1 ? fmt::format("{} (layer {})", what, l) : what);
    reps[l].x = std::move(layers[l]);
    preprocess(reps[l].x, pre);
    prepare(reps[l], req, backend);
  }
  return reps;
}

namespace {

// The kNN metrics, on the two sides' neighbour lists.
double knn_score(const MetricSpec& s, const Representation& a, const Representation& b) {
  PRH_ASSERT(a.neighbors && b.neighbors, "{}: neighbour lists not prepared", s.name());
  const NeighborLists& la = *a.neighbors;
  const NeighborLists& lb = *b.neighbors;
  switch (s.kind) {
    case MetricKind::MutualKnn:
      return mutual_knn(la, lb, s.k);
    case MetricKind::CycleKnn:
      return cycle_knn(la, lb, s.k);
    case MetricKind::LcsKnn:
      return lcs_knn(la, lb, s.k);
    case MetricKind::EditDistanceKnn:
      return edit_distance_knn(la, lb, s.k);
    case MetricKind::Cknna:
      return cknna(a.by_column(s.k), lb, s.k, a.cknna_self_of(s.k), b.cknna_self_of(s.k));
    default:
      PRH_ASSERT(false, "{}: not a kNN metric", s.name());
      return std::nan("");
  }
}

// One layer pair's metrics, with what several of them share computed once:
// the cross product Xc_A^T Xc_B (linear CKA, unbiased CKA, SVCCA) and the
// RBF HSIC sums (one tile pass per sigma).
class PairScorer {
 public:
  PairScorer(const Representation& a, const Representation& b, const Backend& backend)
      : a_(a), b_(b), backend_(backend) {}

  double score(const MetricSpec& s) {
    if (s.uses_knn()) return knn_score(s, a_, b_);
    if (s.kind == MetricKind::Svcca) return svcca_score(s);
    return cka_score(s);
  }

 private:
  double cka_score(const MetricSpec& s) {
    HsicSet h;
    if (s.kernel == Kernel::Linear) {
      PRH_ASSERT(a_.moments && b_.moments, "{}: moments not prepared", s.name());
      h = hsic_linear(*a_.moments, *b_.moments, cross());
    } else {
      h = rbf(s.sigma);
    }
    return s.kind == MetricKind::Cka ? cka_ratio(h.biased_kl, h.biased_kk, h.biased_ll)
                                     : cka_ratio(h.unbiased_kl, h.unbiased_kk, h.unbiased_ll);
  }

  double svcca_score(const MetricSpec& s) {
    const auto ia = a_.svcca.find(s.cca_dim), ib = b_.svcca.find(s.cca_dim);
    PRH_ASSERT(ia != a_.svcca.end() && ib != b_.svcca.end(), "{}: bases not prepared", s.name());
    if (!ia->second.problem.empty() || !ib->second.problem.empty()) return std::nan("");
    return svcca(ia->second, ib->second, cross());
  }

  const MatrixD& cross() {
    if (!cross_) cross_ = backend_.cross_product(a_.moments->centred, b_.moments->centred);
    return *cross_;
  }

  const HsicSet& rbf(double sigma) {
    auto it = rbf_.find(sigma);
    if (it == rbf_.end()) it = rbf_.emplace(sigma, backend_.hsic_rbf(a_.x, b_.x, sigma)).first;
    return it->second;
  }

  const Representation& a_;
  const Representation& b_;
  const Backend& backend_;
  std::optional<MatrixD> cross_;   // Xc_A^T Xc_B
  std::map<double, HsicSet> rbf_;  // by sigma
};

}  // namespace

std::vector<double> score_layer_pair(const Representation& a, const Representation& b,
                                     const std::vector<MetricSpec>& specs, const Backend& backend) {
  PRH_CHECK_INPUT(a.n() == b.n(), "the two feature sets have different N ({} vs {})", a.n(), b.n());
  PairScorer scorer(a, b, backend);
  std::vector<double> out;
  out.reserve(specs.size());
  for (const auto& s : specs) out.push_back(scorer.score(s));
  return out;
}

namespace {

std::string nan_reason(const MetricSpec& s, const Representation& a, const Representation& b) {
  if (s.kind == MetricKind::Svcca) {
    const auto& pa = a.svcca.at(s.cca_dim).problem;
    const auto& pb = b.svcca.at(s.cca_dim).problem;
    if (!pa.empty()) return "A: " + pa;
    if (!pb.empty()) return "B: " + pb;
  }
  return "the normaliser HSIC(K,K) * HSIC(L,L) is <= 0";
}

}  // namespace

std::vector<LayerScores> compare_layers(const std::vector<Representation>& a,
                                        const std::vector<Representation>& b,
                                        const std::vector<MetricSpec>& specs,
                                        const NanHandler& on_nan, const Backend& backend) {
  PRH_CHECK_INPUT(!a.empty() && !b.empty(), "a model has no layers");
  for (const auto& s : specs) validate(s, a[0].n(), a[0].d(), b[0].d());
  for (const auto& s : specs)
    for (const auto& rb : b) validate(s, rb.n(), a[0].d(), rb.d());
  std::vector<LayerScores> out(specs.size());
  for (auto& o : out) {
    o.rows = static_cast<int>(a.size());
    o.cols = static_cast<int>(b.size());
    o.v.assign(a.size() * b.size(), std::numeric_limits<double>::quiet_NaN());
  }
  for (std::size_t l = 0; l < a.size(); ++l) {
    for (std::size_t m = 0; m < b.size(); ++m) {
      const auto scores = score_layer_pair(a[l], b[m], specs, backend);
      for (std::size_t s = 0; s < specs.size(); ++s) {
        if (std::isnan(scores[s]) && on_nan)
          on_nan(specs[s], static_cast<int>(l), static_cast<int>(m),
                 nan_reason(specs[s], a[l], b[m]));
        out[s].v[l * b.size() + m] = scores[s];
      }
    }
  }
  return out;
}

LayerMax layer_max(const LayerScores& s, const std::vector<int>& rows,
                   const std::vector<int>& cols) {
  LayerMax best;
  best.score = -std::numeric_limits<double>::infinity();
  for (int l : rows) {
    PRH_ASSERT(l >= 0 && l < s.rows, "layer_max: row {} of {}", l, s.rows);
    for (int m : cols) {
      PRH_ASSERT(m >= 0 && m < s.cols, "layer_max: column {} of {}", m, s.cols);
      const double x = s.at(l, m);
      if (std::isnan(x)) continue;
      if (x > best.score) best = {x, l, m};
    }
  }
  if (best.layer_a < 0) best.score = std::nan("");
  return best;
}

std::vector<LayerMax> compare_models(const std::vector<Representation>& a,
                                     const std::vector<Representation>& b,
                                     const std::vector<MetricSpec>& specs, const NanHandler& on_nan,
                                     const Backend& backend) {
  const auto all = compare_layers(a, b, specs, on_nan, backend);
  std::vector<int> rows(a.size()), cols(b.size());
  for (std::size_t l = 0; l < rows.size(); ++l) rows[l] = static_cast<int>(l);
  for (std::size_t m = 0; m < cols.size(); ++m) cols[m] = static_cast<int>(m);
  std::vector<LayerMax> best;
  best.reserve(specs.size());
  for (const auto& s : all) best.push_back(layer_max(s, rows, cols));
  return best;
}

}  // namespace prh::metrics
