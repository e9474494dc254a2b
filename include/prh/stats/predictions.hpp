#pragma once
// Classifier predictions of the models on one image set, summarised: top-1
// accuracy, confidence, and how often two models agree (overall, and on the
// images both get wrong: do they fail together?). Pure functions; the layout
// of the results file is in docs/results.md (/predictions).

#include <cstdint>
#include <string>
#include <vector>

namespace prh::stats {

// What a classifier's outputs or a set's labels mean: a domain (e.g.
// "fashion-mnist", "shapes"; "" = not known) and the class values (sorted,
// distinct). A model's are the classes it was trained to predict (a Fashion
// 5-9 member: 5..9 of fashion-mnist, although it has 10 logits); a set's are
// the label values its images carry.
struct LabelSpace {
  std::string domain;
  std::vector<std::int64_t> classes;
};

// "domain:c1,c2,..." ("" when the domain is not known).
std::string label_space_text(const LabelSpace& s);

// A model's label space matches a set's when both are known, the domains are
// equal and every class of the set is one the model was trained on (a
// 10-class model matches a set of 5 of its classes; a 5-class model does not
// match a set of the other 5, nor one of another domain with the same class
// values).
bool label_spaces_match(const LabelSpace& model, const LabelSpace& set);

// One model's predictions on the N images of a set.
struct ModelPredictions {
  bool has_head = false;
  std::int64_t classes = 0;        // number of logits
  std::vector<std::int64_t> top1;  // [N] predicted class (empty if !has_head)
  std::vector<float> prob;         // [N] its softmax probability
  // false: the set's labels are not in this model's label space
  // (label_spaces_match): its label-based statistics are NaN (accuracy,
  // mean_prob_wrong) or 0 (both_wrong), as for a set without labels; its
  // agreement with other models (no labels needed) is unaffected.
  bool labels_match = true;
};

struct PredictionSummary {
  int M = 0;
  std::int64_t n = 0, labelled = 0;                          // images; images with label >= 0
  std::vector<double> accuracy, mean_prob, mean_prob_wrong;  // [M]
  std::vector<double> agreement, agreement_both_wrong;       // [M*M] row-major
  std::vector<std::int64_t> both_wrong;                      // [M*M] row-major
};

// labels[i]: the class of image i, or a negative value (-1) where unknown; an
// image is labelled when its label is >= 0. A model gets a labelled image wrong
// when its top1 differs from the label; a label outside the model's classes
// [0, classes) always counts as wrong (an out-of-distribution set of other
// classes).
// - accuracy[m]: share of the labelled images the model gets right; NaN without
//   a head, without labelled images, or when some label lies outside [0, classes).
// - mean_prob[m]: mean prob over all N images (NaN without a head or images).
// - mean_prob_wrong[m]: mean prob over the labelled images it gets wrong (NaN
//   if none, or without a head).
// - agreement[i][j]: share of the N images with equal top1 (NaN if either has
//   no head or N = 0; 1 on the diagonal of a model with a head).
// - both_wrong[i][j]: labelled images both get wrong (0 if either has no head);
//   agreement_both_wrong[i][j]: share of those with equal top1, NaN where
//   both_wrong = 0.
// Throws InputError when a model with a head has top1 or prob of a length other
// than labels.size().
PredictionSummary summarize_predictions(const std::vector<ModelPredictions>& models,
                                        const std::vector<std::int64_t>& labels);

}  // namespace prh::stats
