// `subsample` sources: the first `count` images of one seeded permutation of
// the base (docs/config.md, "Image sources"; docs/sweeps.md, family
// `subsample`). The permutation depends only on (seed, the base's size), so
// subsamples of one base and seed are nested: the n images of a smaller
// count are the first n of a larger one, in the same order.

#include <random>
#include <utility>

#include <fmt/format.h>

#include "detail.hpp"
#include "prh/core/error.hpp"

namespace prh::data::detail {

std::vector<std::int64_t> subsample_permutation(std::int64_t size, std::uint64_t seed) {
  PRH_ASSERT(size >= 0, "subsample_permutation: size {} < 0", size);
  std::vector<std::int64_t> p(static_cast<std::size_t>(size));
  for (std::int64_t i = 0; i < size; ++i) p[static_cast<std::size_t>(i)] = i;
  std::mt19937_64 rng(splitmix64(seed));
  for (std::int64_t k = size - 1; k > 0; --k) {
    const auto j = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(k + 1));
    std::swap(p[static_cast<std::size_t>(k)], p[static_cast<std::size_t>(j)]);
  }
  return p;
}

namespace {

class SubsampleSource final : public Source {
 public:
  SubsampleSource(std::unique_ptr<Source> base, std::int64_t count, std::uint64_t seed)
      : base_(std::move(base)), prefix_(fmt::format("subsample({}):", count)) {
    rows_ = subsample_permutation(base_->size(), seed);
    rows_.resize(static_cast<std::size_t>(count));
  }

  std::int64_t size() const override { return static_cast<std::int64_t>(rows_.size()); }
  Item get(std::int64_t i) const override {
    Item item = base_->get(row(i));
    item.id = prefix_ + item.id;
    return item;
  }
  std::int64_t label(std::int64_t i) const override { return base_->label(row(i)); }
  std::string id(std::int64_t i) const override { return prefix_ + base_->id(row(i)); }

 private:
  std::int64_t row(std::int64_t i) const {
    PRH_ASSERT(i >= 0 && i < size(), "subsample: image {} of {}", i, size());
    return rows_[static_cast<std::size_t>(i)];
  }

  std::unique_ptr<Source> base_;
  std::string prefix_;
  std::vector<std::int64_t> rows_;  // image i = the base's image rows_[i]
};

}  // namespace

std::unique_ptr<Source> make_subsample_source(const nlohmann::json& spec, const std::string& what) {
  const Spec sp(spec, "subsample", what);
  const std::int64_t count = sp.integer("count");
  auto base = sp.base();
  const std::int64_t have = base->size();
  PRH_CHECK_INPUT(count <= have,
                  "{}: subsample of {} images, but its base has only {} images (a subsample "
                  "level must be at most the base's image count)",
                  what, count, have);
  return std::make_unique<SubsampleSource>(std::move(base), count, sp.seed());
}

}  // namespace prh::data::detail
