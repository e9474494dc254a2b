#include "prh/store/done_flags.hpp"

#include <algorithm>

#include "h5.hpp"
#include "prh/core/error.hpp"

namespace prh::store {

struct DoneFlags::Impl {
  h5::Id file = h5::kInvalid;  // not owned: the writer that holds the file owns it
  h5::Handle dataset;
  h5::Id dxpl = h5::kDefault;
  Durability durability = Durability::kWritesReachFile;
  std::string name;
};

DoneFlags::DoneFlags(const h5::Handle& file, const std::string& dataset, Durability durability,
                     const h5::Handle* dxpl)
    : impl_(std::make_unique<Impl>()) {
  impl_->file = file.id();
  impl_->dataset = h5::open_dataset(file.id(), dataset);
  impl_->dxpl = dxpl != nullptr ? dxpl->id() : h5::kDefault;
  impl_->durability = durability;
  impl_->name = dataset;
  const auto shape = h5::dataset_shape(impl_->dataset);
  PRH_ASSERT(shape.size() == 1, "done dataset {}: rank {}, expected 1", dataset, shape.size());
  flags_.assign(static_cast<std::size_t>(shape[0]), 0);
  if (!flags_.empty())
    h5::read_box(impl_->dataset.id(), h5::native_uint8(), {0}, {shape[0]}, flags_.data(),
                 impl_->dxpl);
}

DoneFlags::~DoneFlags() = default;
DoneFlags::DoneFlags(DoneFlags&&) noexcept = default;
DoneFlags& DoneFlags::operator=(DoneFlags&&) noexcept = default;

std::int64_t DoneFlags::count() const {
  return static_cast<std::int64_t>(std::count(flags_.begin(), flags_.end(), std::uint8_t{1}));
}

void DoneFlags::flush_data() {
  if (impl_->durability != Durability::kFlushFile) return;
  h5::flush(impl_->file);
}

void DoneFlags::mark(std::size_t unit) {
  PRH_ASSERT(unit < flags_.size(), "done flag {} of {} in {}", unit, flags_.size(), impl_->name);
  flush_data();
  const std::uint8_t one = 1;
  h5::write_box(impl_->dataset.id(), h5::native_uint8(), {static_cast<h5::hsize>(unit)}, {1}, &one,
                impl_->dxpl);
  flush_data();
  flags_[unit] = 1;
}

}  // namespace prh::store
