#pragma once
// Matrix types of the metric engine: features are row-major float [N, D]
// (row i = image i); accumulations that are long are done in double.

#include <cstdint>

#include <Eigen/Core>

namespace prh::metrics {

using MatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using VectorD = Eigen::VectorXd;
using Index = std::int64_t;

}  // namespace prh::metrics
