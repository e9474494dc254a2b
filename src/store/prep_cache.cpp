// The preparation cache (RESULTS.prep.h5, docs/results.md): each (set,
// model, layer) unit's preprocessed features, neighbour lists, Gram matrix and
// SVCCA bases, written once by the prepare stage and read by score.
#include "prh/store/results_store.hpp"

#include <filesystem>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "h5.hpp"
#include "json_attr.hpp"
#include "paths.hpp"
#include "prh/core/error.hpp"
#include "prh/core/files.hpp"
#include "results_file.hpp"
#include "store_schema.hpp"
#include "unit_file.hpp"

namespace prh::store {

namespace {

using json = nlohmann::json;
using detail::create_file;
constexpr const char* kPrepFormat = paths::kPrepFormat;

json prep_identity(const std::vector<PrepUnit>& units, const metrics::Requirements& req,
                   const json& identity) {
  json u = json::array();
  for (const auto& x : units) u.push_back({x.set, x.model, x.layer, x.n, x.dim});
  return {{"results", identity},
          {"units", u},
          {"max_k", req.max_k},
          {"moments", req.moments},
          {"svcca_dims", req.svcca_dims}};
}

std::string unit_path(std::size_t u) {
  return schema::prep().path(schema::kPrepUnit, {{"unit", std::to_string(u)}});
}

// The name of dataset `name` ("x", "svcca_{dim}") of a unit.
std::string unit_child(std::string_view name, int dim = 0) {
  return schema::prep().child(schema::kPrepUnit, name, {{"dim", std::to_string(dim)}});
}

std::string prep_root_attr(std::string_view name) {
  return schema::prep().attr(schema::kPrepRoot, name);
}

std::string done_path() {
  return schema::prep().child(schema::kPrepRoot, "done");
}

// Whether the open file is a preparation cache prh made (its format attribute).
bool has_prep_format(h5::Id f) {
  return detail::string_attr_or(f, prep_root_attr("format"), "") == kPrepFormat;
}

// Whether the open cache was made for `ident` (its identity attribute).
bool has_identity(h5::Id f, const json& ident) {
  const std::string a = prep_root_attr("identity");
  return h5::has_attr(f, a) && json::parse(h5::read_attr_string(f, a)) == ident;
}

void create_prep(const std::string& path, const std::vector<PrepUnit>& units,
                 const metrics::Requirements& req, const json& ident) {
  auto file = create_file(path);
  const h5::Id f = file.id();
  h5::write_attr(f, prep_root_attr("format"), std::string(kPrepFormat));
  h5::create_group(f, schema::prep().path(schema::kPrepUnits, {}));
  for (std::size_t u = 0; u < units.size(); ++u) {
    const auto& x = units[u];
    auto g = h5::create_group(f, unit_path(u));
    const auto n = static_cast<h5::hsize>(x.n), d = static_cast<h5::hsize>(x.dim);
    h5::create_dataset(g.id(), unit_child("x"), h5::ieee_f32le(), {n, d}, false);
    if (req.max_k > 0) {
      const auto k = static_cast<h5::hsize>(req.max_k);
      h5::create_dataset(g.id(), unit_child("nbr_index"), h5::std_i32le(), {n, k}, false);
      h5::create_dataset(g.id(), unit_child("nbr_sim"), h5::ieee_f32le(), {n, k}, false);
    }
    if (req.moments || !req.svcca_dims.empty())
      h5::create_dataset(g.id(), unit_child("gram"), h5::ieee_f64le(), {d, d}, false);
    for (int dim : req.svcca_dims) {
      h5::create_dataset(g.id(), unit_child("svcca_{dim}", dim), h5::ieee_f64le(),
                         {d, static_cast<h5::hsize>(dim)}, true);
      // The basis's problem ("" = none), a fixed-size text slot written with the unit.
      h5::create_dataset(g.id(), unit_child("svcca_problem_{dim}", dim), h5::std_u8le(), {512},
                         true);
    }
  }
  h5::create_dataset(f, done_path(), h5::std_u8le(), {static_cast<h5::hsize>(units.size())}, true);
  // Written last: a cache without it is remade.
  h5::write_attr(f, prep_root_attr("identity"), ident.dump());
}

}  // namespace

struct PrepCache::Impl {
  std::vector<PrepUnit> units;
  metrics::Requirements req;
  std::unique_ptr<UnitFile> file;
  std::size_t done = 0;  // slot of the done flags
};

PrepCache::PrepCache(const std::string& path, const std::vector<PrepUnit>& units,
                     const metrics::Requirements& req, MPI_Comm comm)
    : impl_(std::make_unique<Impl>()) {
  impl_->units = units;
  impl_->req = req;
  impl_->file = std::make_unique<UnitFile>(path, comm);
  impl_->done = impl_->file->flags(done_path());
  PRH_ASSERT(impl_->file->flag_count(impl_->done) == units.size(), "{}: {} done flags for {} units",
             path, impl_->file->flag_count(impl_->done), units.size());
}

PrepCache::~PrepCache() = default;

bool PrepCache::done(std::size_t unit) const {
  return impl_->file->done(impl_->done, unit);
}

void PrepCache::write(std::size_t unit, const metrics::Representation& rep) {
  const auto& x = impl_->units[unit];
  auto& file = *impl_->file;
  const std::string g = unit_path(unit) + "/";
  const auto n = static_cast<h5::hsize>(x.n), d = static_cast<h5::hsize>(x.dim);
  PRH_ASSERT(rep.n() == x.n && rep.d() == x.dim, "prep unit {}: {}x{} vs {}x{}", unit, rep.n(),
             rep.d(), x.n, x.dim);
  file.write(g + unit_child("x"), h5::native_float(), {0, 0}, {n, d}, rep.x.data());
  if (impl_->req.max_k > 0) {
    PRH_ASSERT(rep.neighbors && rep.neighbors->k == impl_->req.max_k, "prep unit {}: neighbours",
               unit);
    const auto k = static_cast<h5::hsize>(impl_->req.max_k);
    file.write(g + unit_child("nbr_index"), h5::native_int32(), {0, 0}, {n, k},
               rep.neighbors->index.data());
    file.write(g + unit_child("nbr_sim"), h5::native_float(), {0, 0}, {n, k},
               rep.neighbors->sim.data());
  }
  if (impl_->req.moments || !impl_->req.svcca_dims.empty()) {
    PRH_ASSERT(rep.moments, "prep unit {}: moments", unit);
    file.write(g + unit_child("gram"), h5::native_double(), {0, 0}, {d, d},
               rep.moments->gram.data());
  }
  for (int dim : impl_->req.svcca_dims) {
    const auto& b = rep.svcca.at(dim);
    if (b.problem.empty())
      file.write(g + unit_child("svcca_{dim}", dim), h5::native_double(), {0, 0},
                 {d, static_cast<h5::hsize>(dim)}, b.w.data());
    std::string text = b.problem.empty() ? std::string() : b.problem.substr(0, 511);
    text.resize(512, '\0');
    file.write(g + unit_child("svcca_problem_{dim}", dim), h5::native_uint8(), {0}, {512},
               text.data());
  }
  file.mark(impl_->done, unit);
}

metrics::Representation PrepCache::read(std::size_t unit) const {
  const auto& x = impl_->units[unit];
  auto g = h5::open_group(impl_->file->file().id(), unit_path(unit));
  const auto n = static_cast<h5::hsize>(x.n), d = static_cast<h5::hsize>(x.dim);
  const h5::Id dx = impl_->file->dxpl();
  metrics::Representation rep;
  rep.x.resize(x.n, x.dim);
  auto xs = h5::open_dataset(g.id(), unit_child("x"));
  h5::read_box(xs.id(), h5::native_float(), {0, 0}, {n, d}, rep.x.data(), dx);
  if (impl_->req.max_k > 0) {
    metrics::NeighborLists nl;
    nl.n = x.n;
    nl.k = impl_->req.max_k;
    const auto k = static_cast<h5::hsize>(impl_->req.max_k);
    nl.index.resize(n * k);
    nl.sim.resize(n * k);
    auto idx = h5::open_dataset(g.id(), unit_child("nbr_index"));
    h5::read_box(idx.id(), h5::native_int32(), {0, 0}, {n, k}, nl.index.data(), dx);
    auto sim = h5::open_dataset(g.id(), unit_child("nbr_sim"));
    h5::read_box(sim.id(), h5::native_float(), {0, 0}, {n, k}, nl.sim.data(), dx);
    rep.neighbors = std::move(nl);
  }
  if (impl_->req.moments || !impl_->req.svcca_dims.empty()) {
    metrics::MatrixD gram(x.dim, x.dim);
    auto gs = h5::open_dataset(g.id(), unit_child("gram"));
    h5::read_box(gs.id(), h5::native_double(), {0, 0}, {d, d}, gram.data(), dx);
    rep.moments = metrics::make_moments(rep.x, &gram);
  }
  for (int dim : impl_->req.svcca_dims) {
    metrics::SvccaBasis b;
    std::string text(512, '\0');
    auto p = h5::open_dataset(g.id(), unit_child("svcca_problem_{dim}", dim));
    h5::read_box(p.id(), h5::native_uint8(), {0}, {512}, text.data(), dx);
    b.problem = text.substr(0, text.find('\0'));
    if (b.problem.empty()) {
      b.w.resize(x.dim, dim);
      auto w = h5::open_dataset(g.id(), unit_child("svcca_{dim}", dim));
      h5::read_box(w.id(), h5::native_double(), {0, 0}, {d, static_cast<h5::hsize>(dim)},
                   b.w.data(), dx);
    }
    rep.svcca.emplace(dim, std::move(b));
  }
  return rep;
}

std::string prep_cache_path(const std::string& results) {
  return results + ".prep.h5";
}

namespace {

// Whether `path` is a preparation cache prh made (its format attribute):
// only such a file is ever remade or deleted.
bool is_prep_cache(const std::string& path) {
  try {
    auto ro = h5::open_file_readonly(path);
    return has_prep_format(ro.id());
  } catch (const std::exception&) {
    return false;
  }
}

void refuse_foreign(const std::string& path) {
  throw InputError(fmt::format(
      "{}: exists but is not a prh preparation cache (no format attribute '{}'), and prh never "
      "overwrites a file it did not make. This is where the results file's preparation cache "
      "goes (RESULTS.prep.h5): move the file away, or use another `results` path",
      path, kPrepFormat));
}

}  // namespace

void prepare_prep_cache(const std::string& path, const std::vector<PrepUnit>& units,
                        const metrics::Requirements& req, const nlohmann::json& identity) {
  h5::quiet();
  std::error_code ec;
  const bool existed = std::filesystem::exists(path, ec);
  if (existed && !is_prep_cache(path)) refuse_foreign(path);
  try {
    replay_journals(path);  // units a serial-HDF5 run finished before it was cut off
  } catch (const std::exception& e) {
    spdlog::warn("{}: {}; the cache is remade", path, e.what());
    std::filesystem::remove_all(journal_dir(path), ec);
    if (is_prep_cache(path)) std::filesystem::remove(path, ec);
  }
  const json ident = prep_identity(units, req, identity);
  bool reuse = false;
  if (std::filesystem::exists(path, ec)) {
    if (!is_prep_cache(path)) refuse_foreign(path);
    try {
      auto ro = h5::open_file_readonly(path);
      reuse = has_identity(ro.id(), ident);
    } catch (const std::exception&) {
      reuse = false;  // a cache, damaged: remade
    }
  }
  if (reuse) return;
  // Made under a temporary name and renamed: a file at `path` is always a
  // whole cache (or not prh's, and refused above), never a cut-off creation.
  write_atomically(path, [&](const std::string& tmp) { create_prep(tmp, units, req, ident); });
}

void remove_prep_cache(const std::string& path) {
  h5::quiet();
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && is_prep_cache(path)) std::filesystem::remove(path, ec);
}

PrepProgress read_prep_progress(const std::string& results, const std::vector<PrepUnit>& units,
                                const metrics::Requirements& req, const nlohmann::json& identity) {
  PrepProgress out;
  const std::string path = prep_cache_path(results);
  const h5::Handle file = detail::open_if(path, out.exists, [&](h5::Id f) {
    return has_prep_format(f) && has_identity(f, prep_identity(units, req, identity));
  });
  out.matches = static_cast<bool>(file);
  const auto journal =
      out.matches ? journal_flags(path) : std::map<std::string, std::set<std::uint64_t>>{};
  for (const auto& [p, u] : journal) out.journal_units += static_cast<std::int64_t>(u.size());
  out.done =
      detail::progress_flags(out.matches ? file.id() : -1, done_path(), units.size(), journal);
  return out;
}

}  // namespace prh::store
