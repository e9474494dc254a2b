// What a unit of `prh reduce` holds in memory, in words (reduce_parts.hpp):
// the message of a unit that runs out of memory (UnitPlan::describe).

#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "prh/metrics/null.hpp"
#include "reduce_parts.hpp"

namespace prh::pipeline::reduce_parts {

namespace {

// The bytes of model `model`'s features of set `s` on `layers`, as float32.
std::uint64_t feature_bytes(const Plan& plan, int s, int model, const std::vector<int>& layers) {
  std::uint64_t b = 0;
  const auto& m = plan.models[static_cast<std::size_t>(model)];
  for (int l : layers)
    b += static_cast<std::uint64_t>(plan.sets[static_cast<std::size_t>(s)].n) *
         static_cast<std::uint64_t>(m.layer_dims[static_cast<std::size_t>(l)]) * sizeof(float);
  return b;
}

}  // namespace

std::string describe_unit(const Plan& plan, const store::PrepUnit& u) {
  const auto n = static_cast<std::uint64_t>(u.n), d = static_cast<std::uint64_t>(u.dim);
  return fmt::format(
      "image set '{}', model '{}', layer {} ({} images x {} features: {} bytes as float32, read "
      "and preprocessed, plus {} bytes for its {} x {} Gram matrix)",
      plan.sets[static_cast<std::size_t>(u.set)].name,
      plan.models[static_cast<std::size_t>(u.model)].name, u.layer, n, d, n * d * sizeof(float),
      d * d * sizeof(double), d, d);
}

std::string describe_pair(const Plan& plan, int s, int i, int j, bool scored) {
  const auto& mi = plan.models[static_cast<std::size_t>(i)];
  const auto& mj = plan.models[static_cast<std::size_t>(j)];
  const auto& li = scored ? mi.scored_layers() : mi.layers;
  const auto& lj = scored ? mj.scored_layers() : mj.layers;
  const std::uint64_t bi = feature_bytes(plan, s, i, li), bj = feature_bytes(plan, s, j, lj);
  return fmt::format(
      "image set '{}' ({} images), models '{}' and '{}' ({} and {} layers held at once: {} bytes "
      "of float32 features, {} + {}, plus their neighbour lists (and CKNNA's column-ordered "
      "copies of them) and moments{})",
      plan.sets[static_cast<std::size_t>(s)].name, plan.sets[static_cast<std::size_t>(s)].n,
      mi.name, mj.name, li.size(), lj.size(), i == j ? bi : bi + bj, bi, i == j ? 0 : bj,
      scored ? std::string()
             : fmt::format(", and for a linear CKA null on at most {} images a float32 N x N "
                           "Gram matrix per layer",
                           metrics::kGramNullMaxRows));
}

}  // namespace prh::pipeline::reduce_parts
