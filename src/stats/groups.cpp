#include "prh/stats/groups.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "prh/core/error.hpp"
#include "prh/stats/nan.hpp"
#include "prh/stats/permutation.hpp"

namespace prh::stats {

namespace {

void check_shape(const std::vector<double>& s, int M, const std::vector<int>& labels) {
  PRH_CHECK_INPUT(M >= 0 && s.size() == static_cast<std::size_t>(M) * static_cast<std::size_t>(M),
                  "group analysis: a score matrix of {} entries is not {} x {}", s.size(), M, M);
  PRH_CHECK_INPUT(labels.size() == static_cast<std::size_t>(M),
                  "group analysis: {} labels for {} models", labels.size(), M);
}

double pair_score(const std::vector<double>& s, int M, int i, int j) {
  return (s[static_cast<std::size_t>(i) * M + j] + s[static_cast<std::size_t>(j) * M + i]) / 2;
}

// Within and across means over the pairs (a, b), a < b, of the models
// `drawn` (drawn[a] != drawn[b]), with label lab[a].
GroupGap gap_of(const std::vector<double>& s, int M, const std::vector<int>& drawn,
                const std::vector<int>& lab) {
  double sw = 0, sa = 0;
  GroupGap g;
  const int n = static_cast<int>(drawn.size());
  for (int a = 0; a < n; ++a) {
    if (lab[static_cast<std::size_t>(a)] < 0) continue;
    for (int b = a + 1; b < n; ++b) {
      const int i = drawn[static_cast<std::size_t>(a)], j = drawn[static_cast<std::size_t>(b)];
      if (i == j || lab[static_cast<std::size_t>(b)] < 0) continue;
      const double x = pair_score(s, M, i, j);
      if (!std::isfinite(x)) continue;
      if (lab[static_cast<std::size_t>(a)] == lab[static_cast<std::size_t>(b)]) {
        sw += x;
        ++g.n_within;
      } else {
        sa += x;
        ++g.n_across;
      }
    }
  }
  g.within = g.n_within ? sw / static_cast<double>(g.n_within) : kNaN;
  g.across = g.n_across ? sa / static_cast<double>(g.n_across) : kNaN;
  g.gap = g.within - g.across;
  return g;
}

// The percentile interval of the finite values, NaN when fewer than half of
// `total` are finite.
std::pair<double, double> interval(std::vector<double> v, int total, double confidence) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  if (total == 0 || 2 * v.size() < static_cast<std::size_t>(total)) return {kNaN, kNaN};
  std::sort(v.begin(), v.end());
  return {quantile_sorted(v, (1 - confidence) / 2), quantile_sorted(v, (1 + confidence) / 2)};
}

}  // namespace

GroupGap group_gap(const std::vector<double>& s, int M, const std::vector<int>& labels) {
  check_shape(s, M, labels);
  std::vector<int> all(static_cast<std::size_t>(M));
  for (int i = 0; i < M; ++i) all[static_cast<std::size_t>(i)] = i;
  return gap_of(s, M, all, labels);
}

GroupTest group_test(const std::vector<double>& s, int M, const std::vector<int>& labels,
                     int permutations, std::uint64_t permutation_seed, const BootstrapOptions& bo) {
  GroupTest t;
  t.observed = group_gap(s, M, labels);
  std::vector<int> all(static_cast<std::size_t>(M)), labelled;
  for (int i = 0; i < M; ++i) {
    all[static_cast<std::size_t>(i)] = i;
    if (labels[static_cast<std::size_t>(i)] >= 0) labelled.push_back(i);
  }
  // Permutation test: relabel the labelled models.
  t.pvalue = kNaN;
  if (std::isfinite(t.observed.gap) && permutations > 0) {
    std::int64_t ge = 0, valid = 0;
    std::vector<int> lab = labels;
    for (int k = 0; k < permutations; ++k) {
      const auto perm = seeded_permutation(permutation_seed, static_cast<std::uint64_t>(k),
                                           static_cast<std::int64_t>(labelled.size()));
      for (std::size_t a = 0; a < labelled.size(); ++a)
        lab[static_cast<std::size_t>(labelled[a])] =
            labels[static_cast<std::size_t>(labelled[static_cast<std::size_t>(perm[a])])];
      const double g = gap_of(s, M, all, lab).gap;
      if (!std::isfinite(g)) continue;
      ++valid;
      ge += g >= t.observed.gap;
    }
    if (valid > 0) t.pvalue = static_cast<double>(1 + ge) / static_cast<double>(1 + valid);
  }
  // Bootstrap over models.
  t.within_low = t.within_high = t.across_low = t.across_high = t.gap_low = t.gap_high = kNaN;
  if (bo.resamples > 0) {
    std::mt19937_64 rng(bo.seed);
    std::vector<double> w, a, g;
    for (int r = 0; r < bo.resamples; ++r) {
      const auto drawn = resample_models(rng, M);
      std::vector<int> lab(drawn.size());
      for (std::size_t k = 0; k < drawn.size(); ++k)
        lab[k] = labels[static_cast<std::size_t>(drawn[k])];
      const auto x = gap_of(s, M, drawn, lab);
      w.push_back(x.within);
      a.push_back(x.across);
      g.push_back(x.gap);
    }
    std::tie(t.within_low, t.within_high) = interval(w, bo.resamples, bo.confidence);
    std::tie(t.across_low, t.across_high) = interval(a, bo.resamples, bo.confidence);
    std::tie(t.gap_low, t.gap_high) = interval(g, bo.resamples, bo.confidence);
  }
  return t;
}

std::vector<double> keep_pairs(const std::vector<double>& s, int M, const std::vector<int>& labels,
                               bool across) {
  check_shape(s, M, labels);
  std::vector<double> out(s.size(), kNaN);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < M; ++j) {
      const int li = labels[static_cast<std::size_t>(i)], lj = labels[static_cast<std::size_t>(j)];
      if (i == j || li < 0 || lj < 0 || (li != lj) != across) continue;
      out[static_cast<std::size_t>(i) * M + j] = s[static_cast<std::size_t>(i) * M + j];
    }
  return out;
}

}  // namespace prh::stats
