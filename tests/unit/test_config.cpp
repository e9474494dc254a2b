#include <gtest/gtest.h>

#include "prh/config/config.hpp"
#include "prh/config/source_kinds.hpp"
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

TEST(Config, ReduceDevice) {
  EXPECT_EQ(parse(kMinimal, "test.yaml").reduce_device, "cpu");
  const auto c = parse(std::string(kMinimal) + "reduce_device: cuda\n", "test.yaml");
  EXPECT_EQ(c.reduce_device, "cuda");
  EXPECT_EQ(c.device, "cpu");  // the embedding's device is another key
  // Not result-relevant for the store.
  EXPECT_EQ(c.embed_params(), parse(kMinimal, "test.yaml").embed_params());
  EXPECT_NE(error_of(std::string(kMinimal) + "reduce_device: gpu\n")
                .find("reduce_device: 'gpu' is not allowed (allowed: cpu, cuda)"),
            std::string::npos);
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

// --- Sweeps: families of image sets generated from one base -------------------

namespace {

const char* kSweepBase = R"(
store: s.h5
image_sets:
  - {name: id, source: {kind: idx, images: i.gz, labels: l.gz, classes: [0, 1], limit: 1000}}
  - {name: u, source: {kind: noise, count: 50, height: 8, width: 8, channels: 1, seed: 1}}
models: [{name: m, path: m.pt}]
)";

}  // namespace

TEST(ConfigSweeps, ExpandIntoNamedImageSetsAfterTheListedOnes) {
  const auto s = parse(std::string(kSweepBase) + R"(
sweeps:
  - {name: towards_noise, base: id, family: blend, noise: uniform, levels: [0, 0.1, 0.5, 1.0], limit: 500, seed: 1}
  - {name: shuffle, base: id, family: patch_shuffle, levels: [28, 14, 7, 1]}
  - {name: phase, base: u, family: phase_scramble, levels: [0, 0.25, 1], limit: 100, relative_breaking: 0.4}
)",
                       "t");
  ASSERT_EQ(s.image_sets.size(), 2u + 4u + 4u + 3u);
  std::vector<std::string> names;
  for (const auto& set : s.image_sets) names.push_back(set.name);
  EXPECT_EQ(names, (std::vector<std::string>{"id", "u", "id@blend=0", "id@blend=0.1",
                                             "id@blend=0.5", "id@blend=1", "id@patch_shuffle=28",
                                             "id@patch_shuffle=14", "id@patch_shuffle=7",
                                             "id@patch_shuffle=1", "u@phase_scramble=0",
                                             "u@phase_scramble=0.25", "u@phase_scramble=1"}));
  EXPECT_FALSE(s.image_sets[0].sweep.has_value());
  // The blend levels: the base limited to 500, the level as alpha, the noise.
  const auto& b = s.image_sets[3];
  ASSERT_TRUE(b.sweep.has_value());
  EXPECT_EQ(b.sweep->sweep, "towards_noise");
  EXPECT_EQ(b.sweep->family, "blend");
  EXPECT_EQ(b.sweep->base, "id");
  EXPECT_EQ(b.sweep->index, 1);
  EXPECT_DOUBLE_EQ(b.sweep->level.get<double>(), 0.1);
  EXPECT_EQ(b.source.kind, "blend");
  EXPECT_DOUBLE_EQ(b.source.spec["alpha"].get<double>(), 0.1);
  EXPECT_EQ(b.source.spec["distribution"], "uniform");
  EXPECT_EQ(b.source.spec["seed"], 1);
  EXPECT_EQ(b.source.spec["base"]["limit"], 500);
  EXPECT_EQ(b.source.spec["base"]["classes"], nlohmann::json::array({0, 1}));
  // Without a limit: the base as it is.
  const auto& p = s.image_sets[8];
  EXPECT_EQ(p.source.kind, "patch_shuffle");
  EXPECT_EQ(p.source.spec["patch"], 7);
  EXPECT_EQ(p.source.spec["base"], s.image_sets[0].source.spec);
  EXPECT_EQ(p.sweep->level, 7);
  // A noise base: the limit caps its count.
  const auto& ph = s.image_sets[11];
  EXPECT_EQ(ph.source.kind, "phase_scramble");
  EXPECT_DOUBLE_EQ(ph.source.spec["amount"].get<double>(), 0.25);
  EXPECT_EQ(ph.source.spec["base"]["count"], 50);  // min(50, 100)
  // The sweeps, and the record the store keeps per generated set.
  ASSERT_EQ(s.sweeps.size(), 3u);
  EXPECT_EQ(s.sweeps[1].name, "shuffle");
  EXPECT_DOUBLE_EQ(s.sweeps[1].relative_breaking, 0.5);  // the default
  EXPECT_DOUBLE_EQ(s.sweeps[2].relative_breaking, 0.4);
  EXPECT_EQ(s.sweeps[1].sets.size(), 4u);
  EXPECT_EQ(s.sweeps[1].sets[3], "id@patch_shuffle=1");
  const auto j = prh::config::Sweep::image_set_json(b);
  EXPECT_EQ(j["name"], "id@blend=0.1");
  EXPECT_EQ(j["sweep"]["name"], "towards_noise");
  EXPECT_EQ(j["sweep"]["family"], "blend");
  EXPECT_EQ(j["sweep"]["base"], "id");
  EXPECT_EQ(j["sweep"]["index"], 1);
  // Listed sets keep their canonical form (stores made before sweeps resume).
  EXPECT_FALSE(prh::config::Sweep::image_set_json(s.image_sets[0]).contains("sweep"));
}

TEST(ConfigSweeps, GeneratedSpecsAreCanonicalSources) {
  // A generated set's source is what the same source written by hand gives.
  const auto s = parse(std::string(kSweepBase) + R"(
sweeps: [{name: n, base: u, family: blend, levels: [0.5], noise: gaussian, mean: 100, std: 20}]
)",
                       "t");
  const auto t = parse(R"(
store: s.h5
image_sets:
  - {name: x, source: {kind: blend, alpha: 0.5, distribution: gaussian, mean: 100, std: 20,
                       base: {kind: noise, count: 50, height: 8, width: 8, channels: 1, seed: 1}}}
models: [{name: m, path: m.pt}]
)",
                       "t");
  EXPECT_EQ(s.image_sets[2].source.spec, t.image_sets[0].source.spec);
}

TEST(ConfigSweeps, ProblemsNamed) {
  const std::string base(kSweepBase);
  auto has = [](const std::string& e, const std::string& what) {
    return e.find(what) != std::string::npos;
  };
  std::string e =
      error_of(base + "sweeps: [{name: a, base: nope, family: blend, levels: [0.5]}]\n");
  EXPECT_TRUE(
      has(e, "sweeps[0].base: 'nope' is not an image set of this config (image_sets: id, u)"))
      << e;
  e = error_of(base + "sweeps: [{name: a, base: id, family: jpeg, levels: [0.5]}]\n");
  EXPECT_TRUE(has(e,
                  "sweeps[0].family: 'jpeg' is not allowed (allowed: blend, patch_shuffle, "
                  "phase_scramble, subsample)"))
      << e;
  e = error_of(base + "sweeps: [{name: a, base: id, family: blend, levels: [0.5, 1.5, x]}]\n");
  EXPECT_TRUE(has(e, "sweeps[0].levels[1]: a blend level is a number in [0, 1], got 1.5")) << e;
  EXPECT_TRUE(has(e, "sweeps[0].levels[2]: a blend level is a number in [0, 1], got a string"))
      << e;
  e = error_of(base + "sweeps: [{name: a, base: id, family: blend, levels: []}]\n");
  EXPECT_TRUE(has(e, "sweeps[0].levels: must be a non-empty list, got an empty list")) << e;
  e = error_of(base + "sweeps: [{name: a, base: id, family: blend}]\n");
  EXPECT_TRUE(has(e, "sweeps[0].levels: required")) << e;
  e = error_of(base + "sweeps: [{name: a, base: id, family: blend, levels: [0.5, 0.50]}]\n");
  EXPECT_TRUE(has(e, "sweeps[0].levels[1]: level 0.5 is listed twice")) << e;
  e = error_of(base +
               "sweeps: [{name: a, base: id, family: patch_shuffle, levels: [28, 0, 2.5]}]\n");
  EXPECT_TRUE(has(e,
                  "sweeps[0].levels[1]: a patch_shuffle level is a patch size, an integer in "
                  "[1, 65536], got 0"))
      << e;
  EXPECT_TRUE(has(e, "sweeps[0].levels[2]: a patch_shuffle level is a patch size")) << e;
  e = error_of(base +
               "sweeps: [{name: a, base: id, family: patch_shuffle, noise: uniform, "
               "levels: [2]}]\n");
  EXPECT_TRUE(has(e, "sweeps[0].noise: unknown key")) << e;
  e = error_of(base + "sweeps: [{name: a, base: id, family: blend, noise: pink, levels: [1]}]\n");
  EXPECT_TRUE(has(e, "sweeps[0].noise: 'pink' is not allowed (allowed: uniform, gaussian)")) << e;
  e = error_of(base + "sweeps: [{name: a, base: id, family: blend, levels: [1], limit: -1}]\n");
  EXPECT_TRUE(has(e, "sweeps[0].limit: must be in [0,")) << e;
  e = error_of(base + "sweeps: {name: a}\n");
  EXPECT_TRUE(has(e, "sweeps: must be a list")) << e;
  for (const char* bad : {"0", "1", "1.5", "-0.2"}) {
    e = error_of(base +
                 "sweeps: [{name: a, base: id, family: blend, levels: [1], "
                 "relative_breaking: " +
                 bad + "}]\n");
    EXPECT_TRUE(has(e, "sweeps[0].relative_breaking: must be in (0, 1), got")) << e;
  }
  e = error_of(base +
               "sweeps: [{name: a, base: id, family: blend, levels: [1], "
               "relative_breaking: x}]\n");
  EXPECT_TRUE(has(e, "sweeps[0].relative_breaking: must be a number, got a string")) << e;
  // Two sweeps may not share a name, nor generate the same set.
  e = error_of(base + R"(
sweeps:
  - {name: a, base: id, family: blend, levels: [0.5]}
  - {name: a, base: u, family: blend, levels: [0.5]}
  - {name: c, base: id, family: blend, noise: gaussian, levels: [0.2, 0.5]}
)");
  EXPECT_TRUE(has(e, "sweeps[1].name: 'a' is used twice")) << e;
  e = error_of(base + R"(
sweeps:
  - {name: a, base: id, family: blend, levels: [0.5]}
  - {name: c, base: id, family: blend, noise: gaussian, levels: [0.2, 0.5]}
)");
  EXPECT_TRUE(has(e,
                  "sweeps[1].levels[1]: generates image set 'id@blend=0.5', which another sweep "
                  "also generates"))
      << e;
  // A sweep's base is a listed set, not a generated one.
  e = error_of(base + R"(
sweeps:
  - {name: a, base: id, family: blend, levels: [0.5]}
  - {name: b, base: "id@blend=0.5", family: patch_shuffle, levels: [2]}
)");
  EXPECT_TRUE(has(e, "sweeps[1].base: 'id@blend=0.5' is not an image set of this config")) << e;
}

TEST(ConfigSweeps, GeneratedNameCharactersOnlyForGeneratedSets) {
  // '@' and '=' are how generated sets are named; a listed set may not use them.
  const auto e = error_of(R"(
store: s.h5
image_sets:
  - {name: "id@blend=0.5", source: {kind: noise, count: 3, height: 2, width: 2}}
models: [{name: m, path: m.pt}]
)");
  EXPECT_NE(e.find("image_sets[0].name: 'id@blend=0.5' may hold only"), std::string::npos) << e;
}

TEST(ConfigSweeps, SourceKindsWrittenByHand) {
  const auto s = parse(R"(
store: s.h5
image_sets:
  - {name: p, source: {kind: patch_shuffle, patch: 4, base: {kind: noise, count: 3, height: 8, width: 8}}}
  - {name: q, source: {kind: phase_scramble, base: {kind: noise, count: 3, height: 8, width: 8}}}
models: [{name: m, path: m.pt}]
)",
                       "t");
  EXPECT_EQ(s.image_sets[0].source.spec["seed"], 0);
  EXPECT_DOUBLE_EQ(s.image_sets[1].source.spec["amount"].get<double>(), 0.5);
  const auto e = error_of(R"(
store: s.h5
image_sets:
  - {name: p, source: {kind: patch_shuffle, base: {kind: noise, count: 3, height: 8, width: 8}}}
  - {name: q, source: {kind: phase_scramble, amount: 2}}
models: [{name: m, path: m.pt}]
)");
  EXPECT_NE(e.find("image_sets[0].source.patch: required"), std::string::npos) << e;
  EXPECT_NE(e.find("image_sets[1].source.base: required"), std::string::npos) << e;
  EXPECT_NE(e.find("image_sets[1].source.amount: must be in [0, 1]"), std::string::npos) << e;
}

// --- Image-source kinds: one declaration (config/source_kinds.hpp; issue 26) ----------

namespace {

using nlohmann::json;
using prh::config::FieldType;
using prh::config::source_kinds;

// The smallest valid node of a kind: its required fields only.
json minimal_source(const prh::config::SourceKind& kind) {
  json node = {{"kind", kind.name}};
  for (const auto& f : kind.fields) {
    if (!f.required) continue;
    switch (f.type) {
      case FieldType::kString:
        node[f.key] = f.choices.empty() ? "x" : f.choices[0];
        break;
      case FieldType::kInteger:
        node[f.key] = f.int_min;
        break;
      case FieldType::kNumber:
        node[f.key] = f.num_min;
        break;
      case FieldType::kIntList:
        node[f.key] = json::array({0});
        break;
      case FieldType::kPathList:
        node[f.key] = json::array({"a.png"});
        break;
      case FieldType::kSource:
        node[f.key] = {{"kind", "noise"}, {"count", 2}, {"height", 4}, {"width", 4}};
        break;
    }
  }
  return node;
}

}  // namespace

TEST(ConfigSourceKinds, EveryKindIsDeclaredAndParsed) {
  std::vector<std::string> names;
  for (const auto& k : source_kinds()) names.emplace_back(k.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"idx", "folder", "list", "hdf5", "noise", "shapes", "patches",
                                      "blend", "patch_shuffle", "phase_scramble", "subsample"}));
  for (const auto& k : source_kinds())
    EXPECT_EQ(k.derived(),
              std::string(k.name) == "blend" || std::string(k.name) == "patch_shuffle" ||
                  std::string(k.name) == "phase_scramble" || std::string(k.name) == "subsample")
        << k.name;
}

// What the reader fills in for a field left out is the declared default, and
// the canonical spec holds exactly the declared fields.
TEST(ConfigSourceKinds, ReaderAppliesTheDeclaredDefaults) {
  for (const auto& k : source_kinds()) {
    std::vector<std::string> problems;
    const auto out = prh::config::parse_source(minimal_source(k), "s", problems);
    ASSERT_TRUE(problems.empty()) << k.name << ": " << problems[0];
    EXPECT_EQ(out.spec.size(), k.fields.size() + 1) << k.name << ": " << out.spec.dump();
    for (const auto& f : k.fields) {
      ASSERT_TRUE(out.spec.contains(f.key)) << k.name << "." << f.key;
      if (f.required) continue;
      const json& v = out.spec[f.key];
      switch (f.type) {
        case FieldType::kString:
          EXPECT_EQ(v, f.text_default) << k.name << "." << f.key;
          break;
        case FieldType::kInteger:
          ASSERT_TRUE(v.is_number_integer()) << k.name << "." << f.key;
          EXPECT_EQ(v.get<std::int64_t>(), f.int_default) << k.name << "." << f.key;
          break;
        case FieldType::kNumber:
          ASSERT_TRUE(v.is_number_float()) << k.name << "." << f.key;
          EXPECT_EQ(v.get<double>(), f.num_default) << k.name << "." << f.key;
          break;
        case FieldType::kIntList:
          EXPECT_EQ(v, json::array()) << k.name << "." << f.key;
          break;
        default:
          ADD_FAILURE() << k.name << "." << f.key << ": an optional field of this type";
      }
    }
  }
  // The documented defaults (docs/config.md): phase_scramble's amount is 0.5.
  EXPECT_EQ(prh::config::find_source_kind("phase_scramble")->field("amount").num_default, 0.5);
  EXPECT_EQ(prh::config::find_source_kind("blend")->field("alpha").num_default, 0.5);
}

// The reader takes the declared range's ends and refuses what lies beyond.
TEST(ConfigSourceKinds, ReaderAppliesTheDeclaredRanges) {
  for (const auto& k : source_kinds()) {
    for (const auto& f : k.fields) {
      if (f.type != FieldType::kInteger && f.type != FieldType::kNumber) continue;
      const bool integer = f.type == FieldType::kInteger;
      const std::string at = "s." + std::string(f.key);
      for (int end = 0; end < 2; ++end) {
        json inside = minimal_source(k), outside = minimal_source(k);
        if (integer) {
          inside[f.key] = end == 0 ? f.int_min : f.int_max;
          outside[f.key] = end == 0 ? f.int_min - 1 : f.int_max + 1;
        } else {
          inside[f.key] = end == 0 ? f.num_min : f.num_max;
          outside[f.key] = end == 0 ? f.num_min - 0.25 : f.num_max + 0.25;
        }
        // patches' min_crop <= max_crop ties two fields together: keep the
        // partner compatible.
        if (at == "s.min_crop") inside["max_crop"] = 65536;
        if (at == "s.max_crop") inside["min_crop"] = 1;
        std::vector<std::string> problems;
        const auto in = prh::config::parse_source(inside, "s", problems);
        EXPECT_TRUE(problems.empty())
            << k.name << "." << f.key << ": " << (problems.empty() ? "" : problems[0]);
        problems.clear();
        prh::config::parse_source(outside, "s", problems);
        ASSERT_FALSE(problems.empty()) << k.name << "." << f.key << " " << outside.dump();
        EXPECT_NE(problems[0].find(at + ": must be in ["), std::string::npos)
            << k.name << ": " << problems[0];
      }
    }
  }
}

// --- The reader's limits (issue 24; docs/config.md "Limits") ---------------------------

namespace {

std::string with(const std::string& head, const std::string& name = "id",
                 const std::string& count = "10") {
  return head + "store: out/s.h5\nimage_sets:\n  - name: " + name +
         "\n    source: {kind: noise, count: " + count +
         ", height: 8, width: 8}\nmodels:\n  - {name: m1, path: zoo/m1.pt}\n";
}

bool has(const std::string& msg, const std::string& needle) {
  return msg.find(needle) != std::string::npos;
}

}  // namespace

TEST(ConfigLimits, LongScalarsAreRefusedNotRecursedOver) {
  // std::regex recursed once per character: these crashed with SIGSEGV.
  auto e = error_of(with("", std::string(50000, 'a')));
  EXPECT_TRUE(has(e, "image_sets[0].name") && has(e, "longer than the 4096")) << e.substr(0, 300);
  e = error_of(with("", "id", std::string(100000, '9')));
  EXPECT_TRUE(has(e, "image_sets[0].source.count") && has(e, "longer than")) << e.substr(0, 300);
  // A long name within the scalar limit: the name rule's own limit.
  e = error_of(with("", std::string(200, 'a')));
  EXPECT_TRUE(has(e, "at most 128 characters")) << e;
  EXPECT_NO_THROW(parse(with("", std::string(128, 'a')), "t.yaml"));
}

TEST(ConfigLimits, NumbersOutOfRangeAreFieldErrors) {
  auto e = error_of(with("", "id", "99999999999999999999"));
  EXPECT_TRUE(has(e, "image_sets[0].source.count (line 4)") && has(e, "out of range")) << e;
  e = error_of(with("seed: 1e999\n"));
  EXPECT_TRUE(has(e, "seed (line 1)") && has(e, "out of range")) << e;
  e = error_of(with("seed: -99999999999999999999\n"));
  EXPECT_TRUE(has(e, "seed") && has(e, "out of range")) << e;
  // Numbers as before: integers, decimals, exponents, underflow to 0.
  const auto s = parse(with("seed: 12\nbatch_size: +8\n"), "t.yaml");
  EXPECT_EQ(s.seed, 12u);
  EXPECT_EQ(s.batch_size, 8);
  e = error_of(with("batch_size: 1e-999\n"));
  EXPECT_TRUE(has(e, "batch_size: must be an integer")) << e;
  e = error_of(with("batch_size: 1.5\n"));
  EXPECT_TRUE(has(e, "batch_size: must be an integer")) << e;
  e = error_of(with("batch_size: .5e3\n"));
  EXPECT_TRUE(has(e, "batch_size: must be an integer, got a number")) << e;
}

TEST(ConfigLimits, AliasBombIsRefusedQuickly) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    const std::string p(1, static_cast<char>(c - 1));
    bomb += std::string(1, c) + ": &" + c + " [*" + p + ", *" + p + ", *" + p + ", *" + p + ", *" +
            p + ", *" + p + ", *" + p + ", *" + p + ", *" + p + ", *" + p + "]\n";
  }
  const auto e = error_of(with(bomb));
  EXPECT_TRUE(has(e, "more than 100000 values")) << e;
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_TRUE(has(error_of(with("x: " + deep + "\n")), "nested more than 64 levels"));
}

TEST(ConfigLimits, SilentYamlIsRefused) {
  auto e = error_of(with("batch_size: 8\n") + "batch_size: 16\n");
  EXPECT_TRUE(has(e, "batch_size (line 8): given twice")) << e;
  e = error_of(with("") + "---\nstore: other.h5\n");
  EXPECT_TRUE(has(e, "holds 2 YAML documents")) << e;
  e = error_of(with("[a, b]: 1\n"));
  EXPECT_TRUE(has(e, "a key must be a plain string")) << e;
  e = error_of(with("{a: 1}: 1\n"));
  EXPECT_TRUE(has(e, "a key must be a plain string")) << e;
}

// yaml-cpp's LoadAll loops forever (and grows without bound) on a document
// that starts with ',' (the fuzzer's tests/fuzz/config/crash-comma-loop):
// refused at once as invalid YAML, with the line and column.
TEST(ConfigLimits, YamlThatWouldLoopForeverIsRefused) {
  auto e = error_of(",e3-5 A, 3rue]");
  EXPECT_TRUE(has(e, "test.yaml: not valid YAML") && has(e, "line 1, column 1") &&
              has(e, "unexpected ','"))
      << e;
  e = error_of("\"a\",b]");
  EXPECT_TRUE(has(e, "not valid YAML") && has(e, "line 1, column 4")) << e;
  e = error_of(with("") + "---\n,\n");
  EXPECT_TRUE(has(e, "not valid YAML") && has(e, "unexpected ','")) << e;
}

// A non-UTF-8 byte anywhere in the text (the fuzzer's crash-invalid-utf8: the
// embedded default with one byte of a model path flipped): an InputError
// naming the file, the bytes escaped; never nlohmann::json's type_error.316.
TEST(ConfigLimits, NotUtf8AnywhereIsAnInputError) {
  for (const std::string& bad : {with("").replace(with("").find("zoo/m1.pt"), 9,
                                                  "zoo/m1\xf4"
                                                  "256.pt"),
                                 with("") + "# a comment \xff\n", with("") + "ke\xffy: 1\n",
                                 with("").replace(with("").find("name: m1"), 8, "name: m\xc3"),
                                 std::string("store: \"\xe0\x80\"\n")}) {
    std::string e;
    try {
      const auto s = parse(bad, "test.yaml");
      for (const auto& m : s.models)
        (void)prh::config::hash_json(prh::config::Sweep::model_json(m));
      continue;  // a comment may hold any bytes
    } catch (const prh::InputError& x) {
      e = x.what();
    }
    EXPECT_TRUE(has(e, "test.yaml")) << e;
    EXPECT_EQ(prh::first_invalid_utf8(e), std::string::npos) << e;
  }
}

TEST(ConfigLimits, PathsTheFileSystemCannotHold) {
  auto e = error_of(
      with("").replace(0, std::string("store: out/s.h5").size(), "store: \"out/a\\0b/s.h5\""));
  EXPECT_TRUE(has(e, "store (line 1): holds a NUL byte")) << e;
  e = error_of(with("").replace(0, std::string("store: out/s.h5").size(),
                                "store: out/" + std::string(300, 'd') + "/s.h5"));
  EXPECT_TRUE(has(e, "store: a folder or file name of 300 bytes")) << e;
  e = error_of(with("").replace(0, std::string("store: out/s.h5").size(),
                                "store: out/" + std::string(5000, 'd') + "/s.h5"));
  EXPECT_TRUE(has(e, "store (line 1)") && has(e, "longer than")) << e;
  // Not UTF-8: named, with the bytes escaped (the message is UTF-8).
  e = error_of(with("").replace(with("").find("zoo/m1.pt"), 9, "zoo/m\xff.pt"));
  EXPECT_TRUE(has(e, "models[0].path") && has(e, "not valid UTF-8") && has(e, "zoo/m\\xff.pt"))
      << e;
  EXPECT_EQ(prh::first_invalid_utf8(e), std::string::npos);
}

TEST(ConfigLimits, GeneratedSetSizes) {
  auto e = error_of(with("", "id", std::to_string(std::int64_t{1} << 40)));
  EXPECT_TRUE(has(e, "image_sets[0].source.count: must be in [1, 10000000]")) << e;
  e = error_of(
      "store: s.h5\nimage_sets:\n  - name: n\n    source: {kind: noise, count: 2, height: "
      "60000, width: 60000}\nmodels:\n  - {name: m1, path: m.pt}\n");
  EXPECT_TRUE(has(e, "60000 x 60000 pixels")) << e;
}

TEST(ConfigLimits, OnlyRegularFilesOfBoundedSize) {
  EXPECT_THROW(prh::config::load("/dev/zero"), prh::InputError);
  try {
    prh::config::load("/dev/zero");
  } catch (const prh::InputError& e) {
    EXPECT_TRUE(has(e.what(), "not a regular file")) << e.what();
  }
}

TEST(Config, ImportedFeatures) {
  const auto s = parse(R"(
store: out/s.h5
image_sets:
  - name: id
    source: {kind: noise, count: 10, height: 8, width: 8}
  - name: ood
    source: {kind: noise, count: 10, height: 8, width: 8, seed: 1}
models:
  - name: vit
    features: {id: "f/vit_id.h5:/feats", ood: f/vit_ood.npy}
    family: vit
  - name: ref
    features: {ood: f/ref_ood.pt}
  - {name: m1, path: zoo/m1.pt}
)",
                       "test.yaml");
  ASSERT_EQ(s.models.size(), 3u);
  EXPECT_TRUE(s.models[0].imported());
  EXPECT_EQ(s.models[0].path, "");
  EXPECT_EQ(s.models[0].sidecar, "");
  EXPECT_EQ(s.models[0].features.at("id"), "f/vit_id.h5:/feats");
  EXPECT_TRUE(s.models[1].has_set("ood"));
  EXPECT_FALSE(s.models[1].has_set("id"));
  EXPECT_TRUE(s.models[2].has_set("id"));
  EXPECT_FALSE(s.models[2].imported());
  EXPECT_EQ(prh::config::Sweep::model_json(s.models[1]).dump(),
            R"({"features":{"ood":"f/ref_ood.pt"},"name":"ref"})");
  // A TorchScript model's identity is unchanged.
  EXPECT_EQ(prh::config::Sweep::model_json(s.models[2]).dump(),
            R"({"name":"m1","path":"zoo/m1.pt","sidecar":"zoo/m1.yaml"})");
}

TEST(Config, ImportedFeaturesProblems) {
  const std::string head = R"(
store: out/s.h5
image_sets:
  - name: id
    source: {kind: noise, count: 10, height: 8, width: 8}
models:
)";
  auto err = error_of(head + "  - {name: a, path: a.pt, features: {id: a.npy}}\n");
  EXPECT_NE(err.find("models[0]: give either path"), std::string::npos) << err;
  err = error_of(head + "  - {name: a, features: {id: a.npy}, sidecar: a.yaml}\n");
  EXPECT_NE(err.find("models[0].sidecar"), std::string::npos) << err;
  err = error_of(head + "  - {name: a, features: {nope: a.npy}}\n");
  EXPECT_NE(err.find("models[0].features.nope: no image set 'nope' (image sets: id)"),
            std::string::npos)
      << err;
  err = error_of(head + "  - {name: a, features: {id: a.h5}}\n");
  EXPECT_NE(err.find("models[0].features.id: 'a.h5' is not a feature file"), std::string::npos)
      << err;
  err = error_of(head + "  - {name: a, features: {id: 3}}\n");
  EXPECT_NE(err.find("models[0].features.id: must be a non-empty string"), std::string::npos)
      << err;
  err = error_of(head + "  - {name: a, features: {}}\n");
  EXPECT_NE(err.find("models[0].features: must be a non-empty mapping"), std::string::npos) << err;
  err = error_of(head + "  - {name: a}\n");
  EXPECT_NE(err.find("models[0].path: required"), std::string::npos) << err;
}
