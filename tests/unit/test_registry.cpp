#include <gtest/gtest.h>

#include "prh/core/error.hpp"
#include "prh/metrics/registry.hpp"

using namespace prh::metrics;

namespace {
std::string error_of(const std::string& spec) {
  try {
    parse_metric(spec);
  } catch (const prh::InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Registry, ParsesSpecsAndDefaults) {
  EXPECT_EQ(parse_metric("mutual_knn").name(), "mutual_knn@k=10");
  EXPECT_EQ(parse_metric("mutual_knn:k=10").k, 10);
  EXPECT_EQ(parse_metric("cknna:k=100").name(), "cknna@k=100");
  EXPECT_EQ(parse_metric("svcca:cca_dim=10").name(), "svcca@cca_dim=10");
  const auto rbf = parse_metric("cka:kernel=rbf,sigma=0.5");
  EXPECT_EQ(rbf.kernel, Kernel::Rbf);
  EXPECT_DOUBLE_EQ(rbf.sigma, 0.5);
  EXPECT_EQ(rbf.name(), "cka@kernel=rbf,sigma=0.5");
  EXPECT_EQ(parse_metric("cka").name(), "cka@kernel=linear");
  EXPECT_EQ(parse_metric("unbiased_cka:kernel=rbf").name(), "unbiased_cka@kernel=rbf,sigma=1");
}

TEST(Registry, CanonicalNamesRoundTrip) {
  for (const auto& s :
       {"mutual_knn:k=7", "cycle_knn:k=3", "lcs_knn", "edit_distance_knn:k=50",
        "cka:kernel=rbf,sigma=0.25", "unbiased_cka", "cknna:k=2", "svcca:cca_dim=3"}) {
    const auto spec = parse_metric(s);
    EXPECT_EQ(parse_metric(spec.name()).name(), spec.name());
  }
}

TEST(Registry, DefaultsAreTheEightMetrics) {
  const auto d = default_metrics();
  ASSERT_EQ(d.size(), 8u);
  EXPECT_EQ(d[0].name(), "mutual_knn@k=10");
  EXPECT_EQ(d[7].name(), "svcca@cca_dim=10");
  EXPECT_EQ(metric_names().size(), 8u);
}

TEST(Registry, ClearErrors) {
  EXPECT_NE(error_of("mutual_nn").find("unknown metric 'mutual_nn'"), std::string::npos);
  EXPECT_NE(error_of("mutual_knn:kk=3").find("unknown parameter 'kk'"), std::string::npos);
  EXPECT_NE(error_of("svcca:k=3").find("unknown parameter 'k'"), std::string::npos);
  EXPECT_NE(error_of("mutual_knn:k=ten").find("must be an integer"), std::string::npos);
  EXPECT_NE(error_of("mutual_knn:k=0").find("k must be >= 1"), std::string::npos);
  EXPECT_NE(error_of("cknna:k=1").find("k >= 2"), std::string::npos);
  EXPECT_NE(error_of("cka:kernel=poly").find("kernel must be"), std::string::npos);
  EXPECT_NE(error_of("cka:sigma=2").find("kernel=rbf only"), std::string::npos);
  EXPECT_NE(error_of("cka:kernel=rbf,sigma=-1").find("sigma must be > 0"), std::string::npos);
  EXPECT_NE(error_of("mutual_knn:k=3,k=4").find("given twice"), std::string::npos);
  EXPECT_NE(error_of("mutual_knn:").find("no parameters"), std::string::npos);
  EXPECT_NE(error_of("mutual_knn:k").find("key=value"), std::string::npos);
}

TEST(Registry, ValidateAgainstData) {
  EXPECT_THROW(validate(parse_metric("mutual_knn:k=100"), 100, 5, 5), prh::InputError);
  EXPECT_NO_THROW(validate(parse_metric("mutual_knn:k=99"), 100, 5, 5));
  EXPECT_THROW(validate(parse_metric("unbiased_cka"), 3, 5, 5), prh::InputError);
  EXPECT_THROW(validate(parse_metric("cknna:k=2"), 3, 5, 5), prh::InputError);
  EXPECT_THROW(validate(parse_metric("svcca"), 100, 5, 50), prh::InputError);
  EXPECT_NO_THROW(validate(parse_metric("cka"), 2, 5, 5));
}
