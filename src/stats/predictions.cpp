#include "prh/stats/predictions.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "prh/core/error.hpp"
#include "prh/stats/nan.hpp"

namespace prh::stats {

namespace {}  // namespace

std::string label_space_text(const LabelSpace& s) {
  if (s.domain.empty()) return "";
  std::string out = s.domain + ":";
  for (std::size_t k = 0; k < s.classes.size(); ++k)
    out += (k ? "," : "") + std::to_string(s.classes[k]);
  return out;
}

bool label_spaces_match(const LabelSpace& model, const LabelSpace& set) {
  if (model.domain.empty() || set.domain.empty() || model.domain != set.domain) return false;
  return std::all_of(set.classes.begin(), set.classes.end(), [&](std::int64_t c) {
    return std::find(model.classes.begin(), model.classes.end(), c) != model.classes.end();
  });
}

namespace {

void check_predictions(const std::vector<ModelPredictions>& models, std::size_t N) {
  for (std::size_t m = 0; m < models.size(); ++m) {
    const auto& p = models[m];
    if (!p.has_head) continue;
    PRH_CHECK_INPUT(p.top1.size() == N, "predictions of model {}: {} top-1 classes for {} images",
                    m, p.top1.size(), N);
    PRH_CHECK_INPUT(p.prob.size() == N, "predictions of model {}: {} probabilities for {} images",
                    m, p.prob.size(), N);
  }
}

// Model m's accuracy and mean probabilities into out; returns w[i]: model m
// gets labelled image i wrong.
std::vector<char> score_model(const ModelPredictions& p, std::size_t m,
                              const std::vector<std::int64_t>& labels, PredictionSummary& out) {
  const std::size_t N = labels.size();
  std::vector<char> w(N, 0);
  std::int64_t right = 0, n_wrong = 0;
  bool classes_match = true;
  double prob_sum = 0, prob_wrong_sum = 0;
  for (std::size_t i = 0; i < N; ++i) {
    prob_sum += p.prob[i];
    const auto l = labels[i];
    if (l < 0 || !p.labels_match) continue;
    const bool inside = l < p.classes;
    classes_match = classes_match && inside;
    if (inside && p.top1[i] == l) {
      ++right;
    } else {
      w[i] = 1;
      ++n_wrong;
      prob_wrong_sum += p.prob[i];
    }
  }
  if (N > 0) out.mean_prob[m] = prob_sum / static_cast<double>(N);
  if (out.labelled > 0 && classes_match && p.labels_match)
    out.accuracy[m] = static_cast<double>(right) / static_cast<double>(out.labelled);
  if (n_wrong > 0) out.mean_prob_wrong[m] = prob_wrong_sum / static_cast<double>(n_wrong);
  return w;
}

// The agreement of models a and b (both with a head) into out, both ways.
void score_pair(const std::vector<ModelPredictions>& models,
                const std::vector<std::vector<char>>& wrong, std::size_t a, std::size_t b,
                PredictionSummary& out) {
  const std::size_t M = models.size();
  const auto& ta = models[a].top1;
  const auto& tb = models[b].top1;
  const std::size_t N = ta.size();
  std::int64_t same = 0, both = 0, same_both = 0;
  for (std::size_t i = 0; i < N; ++i) {
    const bool eq = ta[i] == tb[i];
    if (eq) ++same;
    if (wrong[a][i] && wrong[b][i]) {
      ++both;
      if (eq) ++same_both;
    }
  }
  const double agree = N > 0 ? static_cast<double>(same) / static_cast<double>(N) : kNaN;
  const double agree_wrong =
      both > 0 ? static_cast<double>(same_both) / static_cast<double>(both) : kNaN;
  out.agreement[a * M + b] = out.agreement[b * M + a] = agree;
  out.both_wrong[a * M + b] = out.both_wrong[b * M + a] = both;
  out.agreement_both_wrong[a * M + b] = out.agreement_both_wrong[b * M + a] = agree_wrong;
}

}  // namespace

PredictionSummary summarize_predictions(const std::vector<ModelPredictions>& models,
                                        const std::vector<std::int64_t>& labels) {
  const std::size_t M = models.size();
  const std::size_t N = labels.size();
  check_predictions(models, N);

  PredictionSummary out;
  out.M = static_cast<int>(M);
  out.n = static_cast<std::int64_t>(N);
  for (auto l : labels)
    if (l >= 0) ++out.labelled;
  out.accuracy.assign(M, kNaN);
  out.mean_prob.assign(M, kNaN);
  out.mean_prob_wrong.assign(M, kNaN);
  out.agreement.assign(M * M, kNaN);
  out.agreement_both_wrong.assign(M * M, kNaN);
  out.both_wrong.assign(M * M, 0);

  std::vector<std::vector<char>> wrong(M);  // wrong[m][i]: see score_model
  for (std::size_t m = 0; m < M; ++m)
    if (models[m].has_head) wrong[m] = score_model(models[m], m, labels, out);
  for (std::size_t a = 0; a < M; ++a)
    for (std::size_t b = a; b < M; ++b)
      if (models[a].has_head && models[b].has_head) score_pair(models, wrong, a, b, out);
  return out;
}

}  // namespace prh::stats
