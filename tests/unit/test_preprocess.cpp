#include <gtest/gtest.h>

#include <cmath>

#include "naive.hpp"
#include "prh/core/error.hpp"
#include "prh/metrics/preprocess.hpp"

using namespace prh::metrics;

TEST(Preprocess, RowQuantileThresholdByHand) {
  // Row 0: |x| = 1, 2, 3, 4, 5 -> 0.95-quantile at position 3.8: 4 + 0.8 * 1 = 4.8.
  // Row 1: |x| = 0, 0, 0, 0, 10 -> position 3.8: 0 + 0.8 * 10 = 8.
  MatrixF x(2, 5);
  x << 1, -2, 3, -4, 5, 0, 0, 10, 0, 0;
  EXPECT_NEAR(outlier_threshold(x, 0.95, false), (4.8 + 8.0) / 2, 1e-12);
  // q = 0.5: positions 2 -> row 0: 3, row 1: 0.
  EXPECT_NEAR(outlier_threshold(x, 0.5, false), 1.5, 1e-12);
}

TEST(Preprocess, ExactThresholdIsGlobalOrderStatistic) {
  MatrixF x(2, 5);
  x << 1, -2, 3, -4, 5, 0, 0, 10, 0, 0;
  // sorted |x|: 0 0 0 0 1 2 3 4 5 10; index floor(0.95 * 10) = 9 -> 10; floor(0.5*10)=5 -> 2.
  EXPECT_EQ(outlier_threshold(x, 0.95, true), 10.0);
  EXPECT_EQ(outlier_threshold(x, 0.5, true), 2.0);
}

TEST(Preprocess, ClampThenNormalize) {
  MatrixF x(2, 3);
  x << 10, 0, 0, 1, 1, 0;
  PreprocessOptions p;
  p.q = 0.5;  // row quantiles: 0 and 1 -> t = 0.5
  preprocess(x, p);
  EXPECT_FLOAT_EQ(x(0, 0), 1.0f);
  EXPECT_FLOAT_EQ(x(1, 0), static_cast<float>(1 / std::sqrt(2.0)));
  EXPECT_FLOAT_EQ(x(1, 1), static_cast<float>(1 / std::sqrt(2.0)));
}

TEST(Preprocess, ZeroRowStaysZeroWithoutNaN) {
  MatrixF x = MatrixF::Zero(3, 4);
  x(1, 2) = 3;
  preprocess(x, PreprocessOptions{});
  for (Index j = 0; j < 4; ++j) {
    EXPECT_EQ(x(0, j), 0.0f);
    EXPECT_FALSE(std::isnan(x(2, j)));
  }
}

TEST(Preprocess, SwitchesAreHonoured) {
  MatrixF x = naive::random_matrix(20, 8, 3) * 5;
  MatrixF y = x;
  PreprocessOptions off;
  off.clamp = false;
  off.normalize = false;
  preprocess(y, off);
  EXPECT_EQ(x, y);
  PreprocessOptions q1;  // q = 1 disables the clamp
  q1.q = 1.0;
  q1.normalize = false;
  preprocess(y, q1);
  EXPECT_EQ(x, y);
}

TEST(Preprocess, NonFiniteValueNamesTheRow) {
  MatrixF x = MatrixF::Ones(5, 3);
  x(3, 1) = std::nanf("");
  try {
    check_finite(x, "a.h5:/feats");
    FAIL() << "no error";
  } catch (const prh::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("row 3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("a.h5:/feats"), std::string::npos) << e.what();
  }
  x(3, 1) = INFINITY;
  EXPECT_THROW(check_finite(x, "x"), prh::InputError);
}
