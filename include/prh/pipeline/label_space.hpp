#pragma once
// Label spaces of models and image sets (issue 23; docs/results.md,
// /predictions): accuracy is computed only where a model's label space
// matches the set's (stats::label_spaces_match).
//
// - A model's label space is known for the zoo's training distributions,
//   named by the config's `training_data` (docs/zoo.md): fashion04 ->
//   fashion-mnist 0-4, fashion59 -> fashion-mnist 5-9 (10 logits, trained on
//   5-9 only), fashion10 -> fashion-mnist 0-9, shapes -> shapes 0-4; any other
//   model's is not known (domain "").
// - A set's domain comes from its source: idx -> the name of the folder
//   holding the labels file (Debian's /usr/share/datasets/fashion-mnist/...:
//   "fashion-mnist", where the zoo's Fashion members were trained from);
//   shapes -> "shapes"; a sweep level -> its base set's; any other kind: not
//   known. Its classes: the distinct label values >= 0 of its images.

#include <cstdint>
#include <string>
#include <vector>

#include "prh/config/config.hpp"
#include "prh/stats/predictions.hpp"

namespace prh::pipeline {

stats::LabelSpace model_label_space(const config::Model& m);

// `labels`: the set's image labels (-1: none).
stats::LabelSpace set_label_space(const config::Sweep& sweep, const std::string& set,
                                  const std::vector<std::int64_t>& labels);

// 1: the model's label space matches the set's; 0: it is known and does not
// (accuracy NaN); -1: the model's is not known (accuracy by the [0, classes)
// rule of stats::summarize_predictions, as before label spaces).
int label_match(const stats::LabelSpace& model, const stats::LabelSpace& set);

}  // namespace prh::pipeline
