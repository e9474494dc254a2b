#pragma once
// Deliberately naive dense implementations of metrics.md for tests: N x N
// matrices in double, full sorts, the formulas written out literally.

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <vector>

#include <Eigen/Dense>

#include "prh/metrics/matrix.hpp"

namespace naive {

using prh::metrics::Index;
using prh::metrics::MatrixF;
using Dense = Eigen::MatrixXd;

inline MatrixF random_matrix(Index n, Index d, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g;
  MatrixF x(n, d);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = g(rng);
  return x;
}

// Row-normalised copy.
inline MatrixF normalized(MatrixF x) {
  for (Index i = 0; i < x.rows(); ++i) {
    const double nrm = x.row(i).cast<double>().norm();
    if (nrm > 0) x.row(i) /= static_cast<float>(nrm);
  }
  return x;
}

// Features sharing structure: a random linear map of a latent plus noise.
inline std::pair<MatrixF, MatrixF> related_pair(Index n, Index da, Index db, unsigned seed,
                                                float noise = 0.5f) {
  const MatrixF z = random_matrix(n, 8, seed);
  const MatrixF wa = random_matrix(8, da, seed + 1), wb = random_matrix(8, db, seed + 2);
  MatrixF a = z * wa + noise * random_matrix(n, da, seed + 3);
  MatrixF b = (z * wb).array().tanh().matrix() + noise * random_matrix(n, db, seed + 4);
  return {normalized(a), normalized(b)};
}

inline Dense gram(const MatrixF& x) {
  const Dense xd = x.cast<double>();
  return xd * xd.transpose();
}

// Neighbour lists from a full sort of each row of the float Gram matrix
// computed in double (ties: lower index first).
inline std::vector<std::vector<int>> knn(const MatrixF& x, int k) {
  const Dense g = gram(x);
  std::vector<std::vector<int>> out(static_cast<std::size_t>(x.rows()));
  for (Index i = 0; i < x.rows(); ++i) {
    std::vector<int> idx;
    for (Index j = 0; j < x.rows(); ++j)
      if (j != i) idx.push_back(static_cast<int>(j));
    std::stable_sort(idx.begin(), idx.end(), [&](int p, int q) { return g(i, p) > g(i, q); });
    idx.resize(static_cast<std::size_t>(k));
    out[static_cast<std::size_t>(i)] = idx;
  }
  return out;
}

inline double hsic_biased(const Dense& k, const Dense& l) {
  const Index n = k.rows();
  const Dense h = Dense::Identity(n, n) - Dense::Constant(n, n, 1.0 / static_cast<double>(n));
  return (k * h * l * h).trace();
}

inline double hsic_unbiased(Dense k, Dense l) {
  const auto m = static_cast<double>(k.rows());
  k.diagonal().setZero();
  l.diagonal().setZero();
  const double v = (k.array() * l.transpose().array()).sum() +
                   k.sum() * l.sum() / ((m - 1) * (m - 2)) - 2.0 * (k * l).sum() / (m - 2);
  return v / (m * (m - 3));
}

inline double ratio(double kl, double kk, double ll) {
  const double p = kk * ll;
  return p > 0 ? kl / (std::sqrt(p) + 1e-6) : std::nan("");
}

inline Dense rbf(const MatrixF& x, double sigma) {
  const Index n = x.rows();
  Dense k(n, n);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < n; ++j)
      k(i, j) = std::exp(-(x.row(i) - x.row(j)).cast<double>().squaredNorm() / (2 * sigma * sigma));
  return k;
}

inline double cka(const MatrixF& a, const MatrixF& b, bool unbiased, bool use_rbf = false,
                  double sigma = 1.0) {
  const Dense k = use_rbf ? rbf(a, sigma) : gram(a);
  const Dense l = use_rbf ? rbf(b, sigma) : gram(b);
  if (unbiased) return ratio(hsic_unbiased(k, l), hsic_unbiased(k, k), hsic_unbiased(l, l));
  return ratio(hsic_biased(k, l), hsic_biased(k, k), hsic_biased(l, l));
}

inline double cknna(const MatrixF& a, const MatrixF& b, int k) {
  const Index n = a.rows();
  auto mask = [&](const MatrixF& x) {
    Dense m = Dense::Zero(n, n);
    const auto nn = knn(x, k);
    for (Index i = 0; i < n; ++i)
      for (int j : nn[static_cast<std::size_t>(i)]) m(i, j) = 1;
    return m;
  };
  const Dense mk = mask(a), ml = mask(b), m = mk.cwiseProduct(ml);
  const Dense kk = gram(a), ll = gram(b);
  return ratio(hsic_unbiased(m.cwiseProduct(kk), m.cwiseProduct(ll)),
               hsic_unbiased(mk.cwiseProduct(kk), mk.cwiseProduct(kk)),
               hsic_unbiased(ml.cwiseProduct(ll), ml.cwiseProduct(ll)));
}

// SVCCA by full SVDs of the standardised features.
inline double svcca(const MatrixF& a, const MatrixF& b, int dim) {
  auto basis = [&](const MatrixF& x) {
    Dense xd = x.cast<double>();
    xd.rowwise() -= xd.colwise().mean();
    for (Index j = 0; j < xd.cols(); ++j) {
      const double sd = std::sqrt(xd.col(j).squaredNorm() / static_cast<double>(xd.rows() - 1));
      xd.col(j) /= sd + 1e-8;
    }
    Eigen::BDCSVD<Dense> svd(xd, Eigen::ComputeThinU);
    return Dense(svd.matrixU().leftCols(dim));
  };
  const Dense m = basis(a).transpose() * basis(b);
  return Eigen::JacobiSVD<Dense>(m).singularValues().mean();
}

inline int lcs_dp(const std::vector<int>& a, const std::vector<int>& b) {
  std::vector<std::vector<int>> dp(a.size() + 1, std::vector<int>(b.size() + 1, 0));
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j)
      dp[i][j] = a[i - 1] == b[j - 1] ? dp[i - 1][j - 1] + 1 : std::max(dp[i - 1][j], dp[i][j - 1]);
  return dp[a.size()][b.size()];
}

inline int lev_dp(const std::vector<int>& a, const std::vector<int>& b) {
  std::vector<std::vector<int>> dp(a.size() + 1, std::vector<int>(b.size() + 1, 0));
  for (std::size_t i = 0; i <= a.size(); ++i) dp[i][0] = static_cast<int>(i);
  for (std::size_t j = 0; j <= b.size(); ++j) dp[0][j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j)
      dp[i][j] = std::min(
          {dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
  return dp[a.size()][b.size()];
}

}  // namespace naive
