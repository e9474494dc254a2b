#include <gtest/gtest.h>

#include <cmath>

#include "prh/core/error.hpp"
#include "prh/stats/predictions.hpp"

using namespace prh::stats;

namespace {

ModelPredictions head(std::int64_t classes, std::vector<std::int64_t> top1,
                      std::vector<float> prob) {
  ModelPredictions p;
  p.has_head = true;
  p.classes = classes;
  p.top1 = std::move(top1);
  p.prob = std::move(prob);
  return p;
}

// Model 0: wrong on images 2 and 4; model 1: wrong on 0, 2 and 4; model 2: no head.
std::vector<ModelPredictions> three_models(std::int64_t classes1 = 3) {
  return {head(3, {0, 1, 1, 2, 2, 0}, {0.9f, 0.8f, 0.4f, 0.5f, 0.7f, 0.6f}),
          head(classes1, {1, 1, 0, 2, 2, 0}, {0.3f, 0.6f, 0.5f, 0.9f, 0.2f, 0.8f}),
          ModelPredictions{}};
}

}  // namespace

TEST(Predictions, ByHand) {
  const std::vector<std::int64_t> labels{0, 1, 2, -1, 1, 0};
  const auto s = summarize_predictions(three_models(), labels);
  EXPECT_EQ(s.M, 3);
  EXPECT_EQ(s.n, 6);
  EXPECT_EQ(s.labelled, 5);
  // Model 0: right on 0, 1, 5 of the 5 labelled; probs sum 3.9; wrong 2 (0.4), 4 (0.7).
  EXPECT_NEAR(s.accuracy[0], 3.0 / 5, 1e-12);
  EXPECT_NEAR(s.mean_prob[0], 3.9 / 6, 1e-6);
  EXPECT_NEAR(s.mean_prob_wrong[0], (0.4 + 0.7) / 2, 1e-6);
  // Model 1: right on 1, 5; probs sum 3.3; wrong 0 (0.3), 2 (0.5), 4 (0.2).
  EXPECT_NEAR(s.accuracy[1], 2.0 / 5, 1e-12);
  EXPECT_NEAR(s.mean_prob[1], 3.3 / 6, 1e-6);
  EXPECT_NEAR(s.mean_prob_wrong[1], 1.0 / 3, 1e-6);
  // Model 2: no head.
  EXPECT_TRUE(std::isnan(s.accuracy[2]));
  EXPECT_TRUE(std::isnan(s.mean_prob[2]));
  EXPECT_TRUE(std::isnan(s.mean_prob_wrong[2]));
  // Same top-1 on images 1, 3, 4, 5 (image 3 unlabelled counts too): 4/6.
  EXPECT_NEAR(s.agreement[0 * 3 + 1], 4.0 / 6, 1e-12);
  EXPECT_NEAR(s.agreement[1 * 3 + 0], 4.0 / 6, 1e-12);
  EXPECT_EQ(s.agreement[0], 1.0);
  EXPECT_EQ(s.agreement[4], 1.0);
  // Both wrong on images 2 (1 vs 0) and 4 (2 vs 2): 2, agreeing on one.
  EXPECT_EQ(s.both_wrong[0 * 3 + 1], 2);
  EXPECT_EQ(s.both_wrong[1 * 3 + 0], 2);
  EXPECT_NEAR(s.agreement_both_wrong[0 * 3 + 1], 0.5, 1e-12);
  EXPECT_EQ(s.both_wrong[0], 2);
  EXPECT_EQ(s.both_wrong[4], 3);
  EXPECT_EQ(s.agreement_both_wrong[0], 1.0);
  EXPECT_EQ(s.agreement_both_wrong[4], 1.0);
  // The model without a head: NaN row and column, no images both wrong.
  for (int j = 0; j < 3; ++j) {
    EXPECT_TRUE(std::isnan(s.agreement[2 * 3 + j])) << j;
    EXPECT_TRUE(std::isnan(s.agreement[j * 3 + 2])) << j;
    EXPECT_TRUE(std::isnan(s.agreement_both_wrong[2 * 3 + j])) << j;
    EXPECT_TRUE(std::isnan(s.agreement_both_wrong[j * 3 + 2])) << j;
    EXPECT_EQ(s.both_wrong[2 * 3 + j], 0) << j;
    EXPECT_EQ(s.both_wrong[j * 3 + 2], 0) << j;
  }
}

TEST(Predictions, LabelOutsideClasses) {
  // Image 2 has label 4: outside model 0's 3 classes (accuracy undefined, the
  // image counts as wrong), inside model 1's 5 classes, which predicts 4.
  auto models = three_models(5);
  models[1].top1[2] = 4;
  const auto s = summarize_predictions(models, {0, 1, 4, -1, 1, 0});
  EXPECT_TRUE(std::isnan(s.accuracy[0]));
  EXPECT_NEAR(s.mean_prob_wrong[0], (0.4 + 0.7) / 2, 1e-6);  // images 2 and 4
  EXPECT_NEAR(s.mean_prob[0], 3.9 / 6, 1e-6);
  // Model 1: right on 1, 2, 5; wrong on 0 (0.3) and 4 (0.2).
  EXPECT_NEAR(s.accuracy[1], 3.0 / 5, 1e-12);
  EXPECT_NEAR(s.mean_prob_wrong[1], 0.25, 1e-6);
  // Agreement on 1, 3, 4, 5; both wrong only on image 4, where they agree.
  EXPECT_NEAR(s.agreement[1], 4.0 / 6, 1e-12);
  EXPECT_EQ(s.both_wrong[1], 1);
  EXPECT_EQ(s.agreement_both_wrong[1], 1.0);
  EXPECT_EQ(s.both_wrong[0], 2);
}

TEST(Predictions, LabelSpaces) {
  using prh::stats::label_space_text;
  using prh::stats::label_spaces_match;
  using prh::stats::LabelSpace;
  const LabelSpace f04{"fashion-mnist", {0, 1, 2, 3, 4}}, f59{"fashion-mnist", {5, 6, 7, 8, 9}},
      f10{"fashion-mnist", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}, shapes{"shapes", {0, 1, 2, 3, 4}},
      unknown{"", {0, 1}};
  const LabelSpace id{"fashion-mnist", {0, 1, 2, 3, 4}}, ood{"fashion-mnist", {5, 6, 7, 8, 9}};
  EXPECT_TRUE(label_spaces_match(f04, id));
  EXPECT_TRUE(label_spaces_match(f10, id));
  EXPECT_TRUE(label_spaces_match(f10, ood));
  EXPECT_TRUE(label_spaces_match(f59, ood));
  EXPECT_FALSE(label_spaces_match(f59, id));     // 10 logits, but never trained on 0-4
  EXPECT_FALSE(label_spaces_match(f04, ood));    // other classes
  EXPECT_FALSE(label_spaces_match(shapes, id));  // the same values, another domain
  EXPECT_TRUE(label_spaces_match(shapes, LabelSpace{"shapes", {0, 1, 2, 3, 4}}));
  EXPECT_FALSE(label_spaces_match(unknown, id));
  EXPECT_FALSE(label_spaces_match(f04, LabelSpace{"", {0}}));
  EXPECT_EQ(label_space_text(f59), "fashion-mnist:5,6,7,8,9");
  EXPECT_EQ(label_space_text(unknown), "");
  // A model outside the set's label space: accuracy NaN, no image "wrong",
  // agreement unchanged.
  auto models = three_models();
  const std::vector<std::int64_t> labels = {0, 1, 2, -1, 1, 0};
  const auto all = summarize_predictions(models, labels);
  models[0].labels_match = false;
  const auto s = summarize_predictions(models, labels);
  EXPECT_TRUE(std::isnan(s.accuracy[0]));
  EXPECT_TRUE(std::isnan(s.mean_prob_wrong[0]));
  EXPECT_EQ(s.both_wrong[0 * 3 + 1], 0);
  EXPECT_TRUE(std::isnan(s.agreement_both_wrong[0 * 3 + 1]));
  EXPECT_EQ(s.agreement[0 * 3 + 1], all.agreement[0 * 3 + 1]);
  EXPECT_EQ(s.accuracy[1], all.accuracy[1]);
  EXPECT_EQ(s.mean_prob[0], all.mean_prob[0]);
}

TEST(Predictions, NoLabels) {
  const auto s = summarize_predictions(three_models(), std::vector<std::int64_t>(6, -1));
  EXPECT_EQ(s.labelled, 0);
  EXPECT_TRUE(std::isnan(s.accuracy[0]));
  EXPECT_TRUE(std::isnan(s.mean_prob_wrong[0]));
  EXPECT_NEAR(s.mean_prob[0], 3.9 / 6, 1e-6);
  EXPECT_EQ(s.both_wrong[1], 0);
  EXPECT_TRUE(std::isnan(s.agreement_both_wrong[1]));
  EXPECT_TRUE(std::isnan(s.agreement_both_wrong[0]));
  EXPECT_NEAR(s.agreement[1], 4.0 / 6, 1e-12);
}

TEST(Predictions, SizeMismatch) {
  const std::vector<std::int64_t> labels{0, 1, 2, -1, 1, 0};
  auto models = three_models();
  models[1].top1.pop_back();
  try {
    summarize_predictions(models, labels);
    FAIL() << "expected InputError";
  } catch (const prh::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("model 1"), std::string::npos) << e.what();
  }
  models = three_models();
  models[0].prob.push_back(0.5f);
  EXPECT_THROW(summarize_predictions(models, labels), prh::InputError);
  // A model without a head needs no predictions.
  models = three_models();
  EXPECT_NO_THROW(summarize_predictions(models, labels));
}
