#include <gtest/gtest.h>

#include <cmath>

#include <fmt/format.h>
#include "helpers.hpp"

#include "naive.hpp"
#include "prh/core/error.hpp"
#include "prh/metrics/svcca.hpp"

using namespace prh::metrics;
using testing_helpers::raw;
using testing_helpers::score;

TEST(Svcca, OneDimensionalIsAbsoluteCorrelation) {
  // cca_dim = 1 on 1-D features: U_A, U_B are the standardised columns; the one
  // canonical correlation is |corr(a, b)| = |4 / 5|.
  MatrixF a(4, 1), b(4, 1);
  a << 1, 2, 3, 4;
  b << 1, 3, 2, 4;
  EXPECT_NEAR(score(a, b, "svcca:cca_dim=1", raw()), 0.8, 1e-9);
  b << 4, 2, 3, 1;  // corr = -0.8
  EXPECT_NEAR(score(a, b, "svcca:cca_dim=1", raw()), 0.8, 1e-9);
}

TEST(Svcca, EqualsMeanSingularValueOfUaTUb) {
  const auto [a, b] = naive::related_pair(300, 40, 25, 13);
  for (int dim : {1, 5, 10, 25}) {
    EXPECT_NEAR(score(a, b, fmt::format("svcca:cca_dim={}", dim), raw()), naive::svcca(a, b, dim),
                1e-6)
        << "cca_dim = " << dim;
  }
}

TEST(Svcca, IsDeterministic) {
  const auto [a, b] = naive::related_pair(500, 64, 64, 3);
  const double first = score(a, b, "svcca");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(score(a, b, "svcca"), first);
}

TEST(Svcca, IdenticalInputsGiveOne) {
  const MatrixF x = naive::random_matrix(100, 20, 2);
  EXPECT_NEAR(score(x, x, "svcca"), 1.0, 1e-7);
}

TEST(Svcca, RankTooLowIsNaNNotACrash) {
  // Rank-2 features cannot give 5 singular vectors.
  const MatrixF z = naive::random_matrix(50, 2, 1);
  const MatrixF a = z * naive::random_matrix(2, 8, 2);
  const MatrixF b = naive::random_matrix(50, 8, 3);
  EXPECT_TRUE(std::isnan(score(a, b, "svcca:cca_dim=5", raw())));
}

TEST(Svcca, CcaDimLargerThanDIsAClearError) {
  const MatrixF a = naive::random_matrix(50, 4, 1), b = naive::random_matrix(50, 8, 2);
  EXPECT_THROW(score(a, b, "svcca:cca_dim=5"), prh::InputError);
}
