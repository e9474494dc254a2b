#include "prh/metrics/representation.hpp"

#include <algorithm>
#include <cmath>

#include "prh/core/error.hpp"
#include "prh/metrics/cknna.hpp"
#include "prh/metrics/svcca.hpp"
#include "prh/metrics/tiles.hpp"

namespace prh::metrics {

double Representation::cknna_self_of(int k) const {
  auto it = cknna_self.find(k);
  if (it == cknna_self.end()) it = cknna_self.emplace(k, metrics::cknna_self(by_column(k))).first;
  return it->second;
}

const ColumnOrderedLists& Representation::by_column(int k) const {
  PRH_ASSERT(neighbors, "by_column: neighbour lists not prepared");
  auto& memo = neighbors_by_column[k];
  if (!memo) memo = std::make_shared<const ColumnOrderedLists>(column_ordered(*neighbors, k));
  return *memo;
}

const MatrixF& Representation::centred_gram() const {
  PRH_ASSERT(moments, "centred_gram: moments not prepared");
  if (!centred_rows_gram)
    centred_rows_gram = std::make_shared<const MatrixF>(row_gram(moments->centred));
  return *centred_rows_gram;
}

Requirements Requirements::of(const std::vector<MetricSpec>& specs) {
  Requirements r;
  for (const auto& s : specs) {
    if (s.uses_knn()) r.max_k = std::max(r.max_k, s.k);
    const bool linear_cka = (s.kind == MetricKind::Cka || s.kind == MetricKind::UnbiasedCka) &&
                            s.kernel == Kernel::Linear;
    if (linear_cka || s.kind == MetricKind::Svcca) r.moments = true;
    if (s.kind == MetricKind::Svcca &&
        std::find(r.svcca_dims.begin(), r.svcca_dims.end(), s.cca_dim) == r.svcca_dims.end())
      r.svcca_dims.push_back(s.cca_dim);
  }
  return r;
}

LinearMoments make_moments(const MatrixF& x, const MatrixD* gram, const Backend& backend) {
  const Index n = x.rows(), d = x.cols();
  LinearMoments m;
  // Column means in double, then centre.
  VectorD mean = VectorD::Zero(d);
  for (Index i = 0; i < n; ++i) mean += x.row(i).transpose().cast<double>();
  mean /= static_cast<double>(n);
  m.centred.resize(n, d);
  for (Index i = 0; i < n; ++i)
    m.centred.row(i) = (x.row(i).cast<double>() - mean.transpose()).cast<float>();
  if (gram) {
    PRH_ASSERT(gram->rows() == d && gram->cols() == d, "make_moments: gram is {}x{}, D = {}",
               gram->rows(), gram->cols(), d);
    m.gram = *gram;
  } else {
    m.gram = backend.self_product(m.centred);
  }
  m.sq_norms.resize(n);
  m.col_sum = VectorD::Zero(d);
  for (Index i = 0; i < n; ++i) {
    const auto row = m.centred.row(i).cast<double>();
    m.sq_norms(i) = row.squaredNorm();
    m.col_sum += row.transpose();
  }
  m.row_dot.resize(n);
  for (Index i = 0; i < n; ++i) m.row_dot(i) = m.centred.row(i).cast<double>().dot(m.col_sum);
  m.hsic_b_self = m.gram.squaredNorm();
  m.hsic_u_self = n >= 4 ? hsic_unbiased_linear(m, m, m.hsic_b_self) : std::nan("");
  return m;
}

double hsic_unbiased_linear(const LinearMoments& a, const LinearMoments& b, double cross_sq_frob) {
  // HSIC_u is invariant to K -> K + v 1^T + 1 v^T + c 1 1^T, so centring the
  // features first changes nothing but the rounding (which it improves).
  const auto n = static_cast<double>(a.sq_norms.size());
  const double t1 = cross_sq_frob - a.sq_norms.dot(b.sq_norms);     // sum_ij K~_ij L~_ji
  const double sum_k = a.col_sum.squaredNorm() - a.sq_norms.sum();  // sum K~
  const double sum_l = b.col_sum.squaredNorm() - b.sq_norms.sum();
  const double t3 = (a.row_dot - a.sq_norms).dot(b.row_dot - b.sq_norms);  // (K~1).(L~1)
  return (t1 + sum_k * sum_l / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * t3) / (n * (n - 3));
}

void prepare(Representation& rep, const Requirements& req, const Backend& backend) {
  if (req.max_k > 0 && (!rep.neighbors || rep.neighbors->k < req.max_k))
    rep.neighbors = backend.knn(rep.x, req.max_k);
  if ((req.moments || !req.svcca_dims.empty()) && !rep.moments)
    rep.moments = make_moments(rep.x, nullptr, backend);
  for (int dim : req.svcca_dims)
    if (!rep.svcca.count(dim)) rep.svcca.emplace(dim, svcca_basis(*rep.moments, dim, backend));
}

}  // namespace prh::metrics
