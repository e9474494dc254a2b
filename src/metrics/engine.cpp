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

std::vector<double> score_layer_pair(const Representation& a, const Representation& b,
                                     const std::vector<MetricSpec>& specs, const Backend& backend) {
  PRH_CHECK_INPUT(a.n() == b.n(), "the two feature sets have different N ({} vs {})", a.n(), b.n());
  std::optional<MatrixD> cross;   // Xc_A^T Xc_B, shared by linear CKA, unbiased CKA, SVCCA
  std::map<double, HsicSet> rbf;  // one tile pass per sigma
  auto get_cross = [&]() -> const MatrixD& {
    if (!cross) cross = backend.cross_product(a.moments->centred, b.moments->centred);
    return *cross;
  };
  auto get_rbf = [&](double sigma) -> const HsicSet& {
    auto it = rbf.find(sigma);
    if (it == rbf.end()) it = rbf.emplace(sigma, backend.hsic_rbf(a.x, b.x, sigma)).first;
    return it->second;
  };
  std::vector<double> out;
  out.reserve(specs.size());
  for (const auto& s : specs) {
    if (s.uses_knn())
      PRH_ASSERT(a.neighbors && b.neighbors, "{}: neighbour lists not prepared", s.name());
    switch (s.kind) {
      case MetricKind::MutualKnn:
        out.push_back(mutual_knn(*a.neighbors, *b.neighbors, s.k));
        break;
      case MetricKind::CycleKnn:
        out.push_back(cycle_knn(*a.neighbors, *b.neighbors, s.k));
        break;
      case MetricKind::LcsKnn:
        out.push_back(lcs_knn(*a.neighbors, *b.neighbors, s.k));
        break;
      case MetricKind::EditDistanceKnn:
        out.push_back(edit_distance_knn(*a.neighbors, *b.neighbors, s.k));
        break;
      case MetricKind::Cknna: {
        auto self = [&s](const Representation& r) {
          auto it = r.cknna_self.find(s.k);
          if (it == r.cknna_self.end())
            it = r.cknna_self.emplace(s.k, cknna_self(*r.neighbors, s.k)).first;
          return it->second;
        };
        out.push_back(cknna(*a.neighbors, *b.neighbors, s.k, self(a), self(b)));
        break;
      }
      case MetricKind::Cka:
      case MetricKind::UnbiasedCka: {
        HsicSet h;
        if (s.kernel == Kernel::Linear) {
          PRH_ASSERT(a.moments && b.moments, "{}: moments not prepared", s.name());
          h = hsic_linear(*a.moments, *b.moments, get_cross());
        } else {
          h = get_rbf(s.sigma);
        }
        out.push_back(s.kind == MetricKind::Cka
                          ? cka_ratio(h.biased_kl, h.biased_kk, h.biased_ll)
                          : cka_ratio(h.unbiased_kl, h.unbiased_kk, h.unbiased_ll));
        break;
      }
      case MetricKind::Svcca: {
        const auto ia = a.svcca.find(s.cca_dim), ib = b.svcca.find(s.cca_dim);
        PRH_ASSERT(ia != a.svcca.end() && ib != b.svcca.end(), "{}: bases not prepared", s.name());
        if (!ia->second.problem.empty() || !ib->second.problem.empty())
          out.push_back(std::nan(""));
        else
          out.push_back(svcca(ia->second, ib->second, get_cross()));
        break;
      }
    }
  }
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
