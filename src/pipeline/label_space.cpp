#include "prh/pipeline/label_space.hpp"

#include <algorithm>
#include <filesystem>

namespace prh::pipeline {

stats::LabelSpace model_label_space(const config::Model& m) {
  const auto& t = m.training_data;
  if (t == "fashion04") return {"fashion-mnist", {0, 1, 2, 3, 4}};
  if (t == "fashion59") return {"fashion-mnist", {5, 6, 7, 8, 9}};
  if (t == "fashion10") return {"fashion-mnist", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}};
  if (t == "shapes") return {"shapes", {0, 1, 2, 3, 4}};
  return {};
}

namespace {

std::string set_domain(const config::Sweep& sweep, const std::string& set, int depth) {
  for (const auto& is : sweep.image_sets) {
    if (is.name != set) continue;
    if (is.sweep) return depth < 8 ? set_domain(sweep, is.sweep->base, depth + 1) : "";
    const auto& k = is.source.kind;
    if (k == "shapes") return "shapes";
    if (k == "idx" && is.source.spec.contains("labels") && is.source.spec["labels"].is_string())
      return std::filesystem::path(is.source.spec["labels"].get<std::string>())
          .parent_path()
          .filename()
          .string();
    return "";
  }
  return "";
}

}  // namespace

stats::LabelSpace set_label_space(const config::Sweep& sweep, const std::string& set,
                                  const std::vector<std::int64_t>& labels) {
  stats::LabelSpace s;
  for (auto l : labels)
    if (l >= 0) s.classes.push_back(l);
  std::sort(s.classes.begin(), s.classes.end());
  s.classes.erase(std::unique(s.classes.begin(), s.classes.end()), s.classes.end());
  if (!s.classes.empty()) s.domain = set_domain(sweep, set, 0);
  return s;
}

int label_match(const stats::LabelSpace& model, const stats::LabelSpace& set) {
  if (model.domain.empty()) return -1;
  return stats::label_spaces_match(model, set) ? 1 : 0;
}

}  // namespace prh::pipeline
