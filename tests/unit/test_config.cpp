#include <gtest/gtest.h>

#include "prh/config/config.hpp"
#include "prh/core/error.hpp"

using prh::config::parse;

namespace {

const char* kMinimal = R"(
store: out/s.h5
image_sets:
  - name: id
    source: {kind: noise, count: 10, height: 8, width: 8}
models:
  - {name: m1, path: zoo/m1.pt}
)";

std::string error_of(const std::string& yaml) {
  try {
    parse(yaml, "test.yaml");
  } catch (const prh::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Config, DefaultsFilledIn) {
  const auto s = parse(kMinimal, "test.yaml");
  EXPECT_EQ(s.store, "out/s.h5");
  EXPECT_EQ(s.results, "out/results.h5");
  EXPECT_EQ(s.batch_size, 64);
  EXPECT_EQ(s.shard_size, 256);
  EXPECT_EQ(s.device, "cpu");
  EXPECT_EQ(s.threads_per_rank, 1);
  EXPECT_EQ(s.feature_dtype, "float32");
  EXPECT_EQ(s.on_bad_image, "error");
  ASSERT_EQ(s.models.size(), 1u);
  EXPECT_EQ(s.models[0].sidecar, "zoo/m1.yaml");
  const auto& src = s.image_sets[0].source.spec;
  EXPECT_EQ(src["channels"], 3);
  EXPECT_EQ(src["distribution"], "uniform");
  EXPECT_EQ(src["seed"], 0);
}

TEST(Config, SourcesOfEveryKind) {
  const auto s = parse(R"(
store: s.h5
image_sets:
  - {name: a, source: {kind: idx, images: i.gz, labels: l.gz, classes: [0, 1], limit: 5}}
  - {name: b, source: {kind: folder, root: /data/x}}
  - {name: c, source: {kind: list, file: val.txt, root: /data}}
  - {name: d, source: {kind: hdf5, file: x.h5, dataset: /images}}
  - {name: e, source: {kind: noise, count: 3, height: 4, width: 4, channels: 1, distribution: gaussian}}
  - {name: f, source: {kind: blend, alpha: 0.25, base: {kind: folder, root: /data/x}}}
models: [{name: m, path: m.pt, sidecar: m.sidecar.yaml}]
)",
                       "t");
  ASSERT_EQ(s.image_sets.size(), 6u);
  EXPECT_EQ(s.image_sets[0].source.spec["classes"], nlohmann::json::array({0, 1}));
  EXPECT_EQ(s.image_sets[5].source.spec["base"]["kind"], "folder");
  EXPECT_DOUBLE_EQ(s.image_sets[5].source.spec["alpha"].get<double>(), 0.25);
  EXPECT_EQ(s.models[0].sidecar, "m.sidecar.yaml");
}

TEST(Config, EveryProblemListedAtOnce) {
  const auto e = error_of(R"(
store: s.h5
batch_size: 0
device: tpu
colour: blue
image_sets:
  - {name: "bad name", source: {kind: noise, count: 0, height: 4, width: 4}}
  - {name: x, source: {kind: webdataset}}
  - {name: x, source: {kind: idx}}
  - {name: "..", source: {kind: noise, count: 1, height: 4, width: 4}}
models:
  - {name: m, path: m.pt, weights: w}
  - {name: ".", path: m.pt}
  - {name: "v1.2-b_3", path: m.pt}
)");
  EXPECT_NE(e.find("problems in the config"), std::string::npos) << e;
  EXPECT_NE(e.find("batch_size: must be in [1,"), std::string::npos) << e;
  EXPECT_NE(e.find("device: 'tpu' is not allowed (allowed: cpu, cuda)"), std::string::npos) << e;
  EXPECT_NE(e.find("colour: unknown key"), std::string::npos) << e;
  EXPECT_NE(e.find("image_sets[0].name: 'bad name' may hold only"), std::string::npos) << e;
  EXPECT_NE(e.find("image_sets[0].source.count: must be in [1,"), std::string::npos) << e;
  EXPECT_NE(e.find("image_sets[1].source.kind: 'webdataset' is not allowed"), std::string::npos)
      << e;
  EXPECT_NE(e.find("image_sets[2].name: 'x' is used twice"), std::string::npos) << e;
  EXPECT_NE(e.find("image_sets[2].source.images: required"), std::string::npos) << e;
  EXPECT_NE(e.find("models[0].weights: unknown key"), std::string::npos) << e;
  EXPECT_NE(e.find("image_sets[3].name: '..' may hold only"), std::string::npos) << e;
  EXPECT_NE(e.find("models[1].name: '.' may hold only"), std::string::npos) << e;
  EXPECT_EQ(e.find("models[2].name"), std::string::npos) << e;
}

TEST(Config, RequiredSections) {
  EXPECT_NE(error_of("store: s.h5\n").find("image_sets: required"), std::string::npos);
  EXPECT_NE(error_of("store: s.h5\n").find("models: required"), std::string::npos);
  EXPECT_NE(error_of("image_sets: []\n").find("store: required"), std::string::npos);
  EXPECT_NE(error_of("store: [1, 2\n").find("not valid YAML"), std::string::npos);
  EXPECT_NE(
      error_of(std::string(kMinimal) + "shard_size: many\n").find("shard_size: must be an integer"),
      std::string::npos);
}

TEST(Config, ClassesNeedLabels) {
  const auto e = error_of(R"(
store: s.h5
image_sets: [{name: a, source: {kind: idx, images: i.gz, classes: [1]}}]
models: [{name: m, path: m.pt}]
)");
  EXPECT_NE(e.find("classes: needs image_sets[0].source.labels"), std::string::npos) << e;
}

TEST(Config, CanonicalFormAndHash) {
  const auto a = parse(kMinimal, "a.yaml");
  const auto b = parse(std::string(kMinimal) + "threads_per_rank: 4\n", "b.yaml");
  // Threads and file names do not change results: same embedding parameters.
  EXPECT_EQ(a.embed_params(), b.embed_params());
  EXPECT_EQ(prh::config::hash_json(a.embed_params()), prh::config::hash_json(b.embed_params()));
  const auto c = parse(std::string(kMinimal) + "batch_size: 32\n", "c.yaml");
  EXPECT_NE(prh::config::hash_json(a.embed_params()), prh::config::hash_json(c.embed_params()));
  EXPECT_EQ(prh::config::hash_json(nlohmann::json{{"x", 1}}).size(), 16u);
}

TEST(Config, ReductionDefaults) {
  const auto s = parse(kMinimal, "test.yaml");
  EXPECT_EQ(s.correlations, std::vector<std::string>{"spearman"});
  EXPECT_EQ(s.bootstrap, 1000);
  EXPECT_EQ(s.mantel, 999);
  EXPECT_DOUBLE_EQ(s.confidence, 0.95);
  EXPECT_TRUE(s.metrics.empty());  // all eight metrics at their defaults
}

TEST(Config, Calibration) {
  const auto off = parse(kMinimal, "test.yaml");
  EXPECT_EQ(off.calibration.permutations, 0);  // off by default
  const auto s = parse(std::string(kMinimal) +
                           "calibration: {permutations: 999, alpha: 0.01, seed: 7, "
                           "metrics: ['mutual_knn:k=10', cka]}\n",
                       "test.yaml");
  EXPECT_EQ(s.calibration.permutations, 999);
  EXPECT_DOUBLE_EQ(s.calibration.alpha, 0.01);
  EXPECT_EQ(s.calibration.seed, 7u);
  EXPECT_EQ(s.calibration.metrics, (std::vector<std::string>{"mutual_knn:k=10", "cka"}));
  const auto d = parse(std::string(kMinimal) + "calibration: {permutations: 10}\n", "test.yaml");
  EXPECT_DOUBLE_EQ(d.calibration.alpha, 0.05);
  EXPECT_EQ(d.calibration.seed, 0u);
  const std::string base = kMinimal;
  auto has = [](const std::string& e, const std::string& what) {
    return e.find(what) != std::string::npos;
  };
  auto e = error_of(base + "calibration: {alpha: 0.1}\n");
  EXPECT_TRUE(has(e, "calibration.permutations: required")) << e;
  e = error_of(base + "calibration: {permutations: 0}\n");
  EXPECT_TRUE(has(e, "calibration.permutations: must be in [1,")) << e;
  for (const char* bad : {"0", "1", "-0.5", "2"}) {
    e = error_of(base + "calibration: {permutations: 5, alpha: " + bad + "}\n");
    EXPECT_TRUE(has(e, "calibration.alpha: must be in (0, 1)")) << bad << ": " << e;
  }
  e = error_of(base + "calibration: {permutations: 5, seed: -1}\n");
  EXPECT_TRUE(has(e, "calibration.seed: must be in [0,")) << e;
  e = error_of(base + "calibration: {permutations: 5, metrics: cka}\n");
  EXPECT_TRUE(has(e, "calibration.metrics: must be a list")) << e;
  e = error_of(base + "calibration: {permutations: 5, perms: 3}\n");
  EXPECT_TRUE(has(e, "perms")) << e;
  e = error_of(base + "calibration: 1000\n");
  EXPECT_TRUE(has(e, "calibration: must be a mapping")) << e;
}

TEST(Config, ReductionGoodValues) {
  const auto s =
      parse(std::string(kMinimal) +
                "correlations: [kendall, pearson]\nbootstrap: 0\nconfidence: 0.9\nmantel: 0\n",
            "test.yaml");
  EXPECT_EQ(s.mantel, 0);
  EXPECT_EQ(s.correlations, (std::vector<std::string>{"kendall", "pearson"}));
  EXPECT_EQ(s.bootstrap, 0);
  EXPECT_DOUBLE_EQ(s.confidence, 0.9);
  const auto t = parse(std::string(kMinimal) +
                           "correlations: [spearman, pearson, kendall]\nbootstrap: 250\n"
                           "confidence: 0.99\n",
                       "test.yaml");
  EXPECT_EQ(t.correlations.size(), 3u);
  EXPECT_EQ(t.bootstrap, 250);
  EXPECT_DOUBLE_EQ(t.confidence, 0.99);
}

TEST(Config, ReductionBadValues) {
  const std::string base(kMinimal);
  auto has = [](const std::string& e, const std::string& what) {
    return e.find(what) != std::string::npos;
  };
  std::string e = error_of(base + "correlations: [spearman, distance]\n");
  EXPECT_TRUE(has(e, "correlations: 'distance' is not allowed")) << e;
  e = error_of(base + "correlations: [spearman, kendall, spearman]\n");
  EXPECT_TRUE(has(e, "correlations: 'spearman' is listed twice")) << e;
  e = error_of(base + "correlations: []\n");
  EXPECT_TRUE(has(e, "correlations: must be a non-empty list")) << e;
  e = error_of(base + "correlations: spearman\n");
  EXPECT_TRUE(has(e, "correlations: must be a non-empty list")) << e;
  e = error_of(base + "correlations: [1]\n");
  EXPECT_TRUE(has(e, "correlations: entries must be")) << e;
  e = error_of(base + "bootstrap: -1\n");
  EXPECT_TRUE(has(e, "bootstrap: must be in [0,")) << e;
  e = error_of(base + "mantel: -1\n");
  EXPECT_TRUE(has(e, "mantel: must be in [0,")) << e;
  e = error_of(base + "bootstrap: 10.5\n");
  EXPECT_TRUE(has(e, "bootstrap: must be an integer")) << e;
  for (const char* bad : {"0", "1", "1.5", "-0.2", "0.0"}) {
    e = error_of(base + "confidence: " + bad + "\n");
    EXPECT_TRUE(has(e, "confidence: must be in (0, 1)")) << bad << ": " << e;
  }
  e = error_of(base + "confidence: high\n");
  EXPECT_TRUE(has(e, "confidence: must be a number")) << e;
  // All at once.
  e = error_of(base + "correlations: [tau]\nbootstrap: -5\nconfidence: 2\n");
  EXPECT_TRUE(has(e, "3 problems")) << e;
  EXPECT_TRUE(has(e, "correlations:") && has(e, "bootstrap:") && has(e, "confidence:")) << e;
}
