#include "prh/pipeline/export.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "export_tables.hpp"
#include "prh/core/error.hpp"
#include "prh/store/results_groups.hpp"
#include "prh/store/results_layers.hpp"
#include "prh/store/results_reader.hpp"

namespace prh::pipeline {

namespace {

namespace fs = std::filesystem;
// Records keep their keys in column order.
using json = nlohmann::ordered_json;
using store::ResultsData;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One table cell: null (NaN, absent), boolean, integer, number or text.
using Cell = std::variant<std::monostate, bool, std::int64_t, double, std::string>;

struct Table {
  std::string name;
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;
};

Cell number(double x) {
  if (std::isnan(x)) return Cell{};
  return Cell{x};
}
Cell at(const std::vector<double>& v, std::size_t i) {
  return i < v.size() ? number(v[i]) : Cell{};
}
Cell at(const std::vector<std::int64_t>& v, std::size_t i) {
  return i < v.size() ? Cell{v[i]} : Cell{};
}
Cell integer(std::int64_t x) {
  return Cell{x};
}
Cell text(const std::string& s) {
  return Cell{s};
}

// --- Writers ------------------------------------------------------------------

// Shortest text that reads back as the same double, always with a '.' or an
// exponent so that readers keep the column floating-point.
std::string double_text(double x) {
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{}", x);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

// RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes doubled.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_cell(const Cell& c) {
  struct Visitor {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return double_text(d); }
    std::string operator()(const std::string& s) const { return csv_field(s); }
  };
  return std::visit(Visitor{}, c);
}

json json_cell(const Cell& c) {
  struct Visitor {
    json operator()(std::monostate) const { return nullptr; }
    json operator()(bool b) const { return b; }
    json operator()(std::int64_t i) const { return i; }
    // JSON has no infinity: "inf" (a breaking level never reached), NaN null.
    json operator()(double d) const {
      if (std::isinf(d)) return d > 0 ? json("inf") : json("-inf");
      return std::isfinite(d) ? json(d) : json(nullptr);
    }
    json operator()(const std::string& s) const { return s; }
  };
  return std::visit(Visitor{}, c);
}

void write_text(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  PRH_CHECK_INPUT(out.good(), "{}: cannot write", path.string());
  out << content;
  out.close();
  PRH_CHECK_INPUT(!out.fail(), "{}: cannot write", path.string());
}

std::string to_csv(const Table& t) {
  std::string s;
  for (std::size_t c = 0; c < t.columns.size(); ++c) s += (c ? "," : "") + csv_field(t.columns[c]);
  s += '\n';
  for (const auto& row : t.rows) {
    for (std::size_t c = 0; c < row.size(); ++c) s += (c ? "," : "") + csv_cell(row[c]);
    s += '\n';
  }
  return s;
}

// An array of records, one record per line.
std::string to_json(const Table& t) {
  std::string s = "[";
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    json rec = json::object();
    for (std::size_t c = 0; c < t.columns.size(); ++c) rec[t.columns[c]] = json_cell(t.rows[r][c]);
    s += (r ? ",\n" : "\n") + rec.dump();
  }
  return s + (t.rows.empty() ? "]\n" : "\n]\n");
}

// --- Tables -------------------------------------------------------------------

Table alignment_table(const ResultsData& r) {
  Table t{"alignment", schema::columns("alignment"), {}};
  const std::size_t m = r.models.size();
  for (const auto& s : r.sets) {
    for (const auto& a : s.configurations) {
      for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = i; j < m; ++j) {
          const bool done = a.pair_done(i, j, m);
          const std::size_t ij = i * m + j, ji = j * m + i;
          auto layer = [&](std::size_t k) { return integer(done ? a.layers[k] : -1); };
          t.rows.push_back({text(s.name), text(a.name), text(a.metric), text(r.models[i]),
                            text(r.models[j]), integer(static_cast<std::int64_t>(i)),
                            integer(static_cast<std::int64_t>(j)), Cell{i == j},
                            number(done ? a.scores[ij] : kNaN), number(done ? a.scores[ji] : kNaN),
                            layer(ij * 2), layer(ij * 2 + 1), layer(ji * 2 + 1), layer(ji * 2)});
        }
      }
    }
  }
  return t;
}

Table correlations_table(const ResultsData& r) {
  Table t{"correlations", schema::columns("correlations"), {}};
  for (const auto& s : r.sets) {
    if (!s.correlation) continue;
    const auto& names = s.correlation->configurations;
    const std::size_t k = names.size();
    for (const auto& cm : s.correlation->by_method)
      for (std::size_t a = 0; a < k; ++a)
        for (std::size_t b = a + 1; b < k; ++b) {
          const std::size_t ab = a * k + b;
          t.rows.push_back({text(s.name), text(cm.name), text(names[a]), text(names[b]),
                            at(cm.r, ab), at(cm.p, ab), at(cm.n, ab), at(cm.ci_low, ab),
                            at(cm.ci_high, ab), at(cm.mantel_p, ab), at(cm.null_mean, ab),
                            at(cm.null_q95, ab), at(cm.null_p, ab)});
        }
  }
  return t;
}

// The permutation calibration, when the file has one: pairs i < j for
// symmetric configurations, both orientations for asymmetric ones (the
// pairs that the q-values are computed over; docs/results.md).
Table calibration_table(const ResultsData& r) {
  Table t{"calibration", schema::columns("calibration"), {}};
  const std::size_t m = r.models.size();
  for (const auto& s : r.sets)
    for (const auto& c : s.calibration) {
      const auto* a = s.find(c.name);
      const bool sym = a ? a->symmetric : true;
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < m; ++j) {
          if (i == j || (sym && j < i)) continue;
          const std::size_t ij = i * m + j;
          t.rows.push_back(
              {text(s.name), text(c.name), text(r.models[i]), text(r.models[j]),
               integer(static_cast<std::int64_t>(i)), integer(static_cast<std::int64_t>(j)),
               integer(c.permutations), number(c.alpha), at(c.pvalue, ij), at(c.qvalue, ij),
               at(c.threshold, ij), at(c.calibrated, ij), at(c.null_mean, ij), at(c.null_sd, ij)});
        }
    }
  return t;
}

Table accuracy_correlation_table(const ResultsData& r) {
  Table t{"accuracy_correlation", schema::columns("accuracy_correlation"), {}};
  for (const auto& s : r.sets) {
    if (!s.correlation) continue;
    const auto& names = s.correlation->configurations;
    for (const auto& cm : s.correlation->by_method) {
      if (cm.accuracy_r.empty()) continue;
      for (std::size_t c = 0; c < names.size(); ++c)
        t.rows.push_back({text(s.name), text(cm.name), text(names[c]), at(cm.accuracy_r, c),
                          at(cm.accuracy_p, c), at(cm.accuracy_n, c)});
    }
  }
  return t;
}

Table predictions_table(const ResultsData& r) {
  Table t{"predictions", schema::columns("predictions"), {}};
  for (const auto& s : r.sets) {
    if (!s.predictions) continue;
    const auto& p = *s.predictions;
    for (std::size_t i = 0; i < r.models.size(); ++i)
      t.rows.push_back({text(s.name), text(r.models[i]), at(p.accuracy, i), at(p.mean_prob, i),
                        at(p.mean_prob_wrong, i)});
  }
  return t;
}

Table agreement_table(const ResultsData& r) {
  Table t{"agreement", schema::columns("agreement"), {}};
  const std::size_t m = r.models.size();
  for (const auto& s : r.sets) {
    if (!s.predictions) continue;
    const auto& p = *s.predictions;
    if (p.agreement.empty() && p.both_wrong.empty() && p.agreement_both_wrong.empty()) continue;
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = i + 1; j < m; ++j)
        t.rows.push_back({text(s.name), text(r.models[i]), text(r.models[j]),
                          at(p.agreement, i * m + j), at(p.both_wrong, i * m + j),
                          at(p.agreement_both_wrong, i * m + j)});
  }
  return t;
}

// r[a, b] of `method` in a set's correlation, by configuration names; NaN
// when the set has no such correlation.
double correlation_of(const ResultsData& r, const std::string& set, const std::string& method,
                      const std::string& a, const std::string& b) {
  const auto* s = r.find_set(set);
  if (!s || !s->correlation) return kNaN;
  const auto* cm = s->correlation->find(method);
  if (!cm) return kNaN;
  const auto& names = s->correlation->configurations;
  const auto ia = std::find(names.begin(), names.end(), a) - names.begin();
  const auto ib = std::find(names.begin(), names.end(), b) - names.begin();
  const auto k = static_cast<std::ptrdiff_t>(names.size());
  if (ia >= k || ib >= k) return kNaN;
  const auto idx = static_cast<std::size_t>(ia * k + ib);
  return idx < cm->r.size() ? cm->r[idx] : kNaN;
}

Table comparison_table(const ResultsData& r) {
  Table t{"comparison", schema::columns("comparison"), {}};
  for (const auto& c : r.comparisons) {
    const auto& names = c.configurations;
    const std::size_t k = names.size();
    for (const auto& cm : c.by_method)
      for (std::size_t a = 0; a < k; ++a)
        for (std::size_t b = a + 1; b < k; ++b) {
          const std::size_t ab = a * k + b;
          t.rows.push_back(
              {text(c.set_a), text(c.set_b), text(cm.name), text(names[a]), text(names[b]),
               number(correlation_of(r, c.set_a, cm.name, names[a], names[b])),
               number(correlation_of(r, c.set_b, cm.name, names[a], names[b])), at(cm.diff, ab),
               at(cm.ci_low, ab), at(cm.ci_high, ab), at(cm.pvalue, ab)});
        }
  }
  return t;
}

// One row per (sweep, level, configuration); the breaking level (per
// configuration) repeats on every level's row.
Table sweeps_table(const ResultsData& r) {
  Table t{"sweeps", schema::columns("sweeps"), {}};
  const std::size_t k = r.configurations.size();
  for (const auto& w : r.sweeps)
    for (std::size_t l = 0; l < w.levels.size(); ++l)
      for (std::size_t c = 0; c < k; ++c) {
        const std::size_t lc = l * k + c;
        t.rows.push_back({text(w.name),
                          text(w.family),
                          text(w.base),
                          text(w.parameter),
                          number(w.levels[l]),
                          text(w.sets[l]),
                          text(r.configurations[c]),
                          at(w.mean, lc),
                          at(w.mean_ci_low, lc),
                          at(w.mean_ci_high, lc),
                          at(w.calibrated_mean, lc),
                          at(w.significant_fraction, lc),
                          at(w.significant_ci_low, lc),
                          at(w.significant_ci_high, lc),
                          at(w.breaking_level, c),
                          at(w.breaking_level_low, c),
                          at(w.breaking_level_high, c),
                          at(w.breaking_agreement, c),
                          l < w.images.size() ? integer(w.images[l]) : Cell{},
                          at(w.relative, lc),
                          at(w.relative_ci_low, lc),
                          at(w.relative_ci_high, lc),
                          at(w.relative_breaking_level, c),
                          at(w.relative_breaking_level_low, c),
                          at(w.relative_breaking_level_high, c),
                          at(w.relative_breaking_agreement, c),
                          at(w.chance_share, lc)});
      }
  return t;
}

// Per sweep and configuration pair: the first level at which the correlation
// no longer exceeds its null, and the test that says it.
Table sweep_correlations_table(const ResultsData& r) {
  Table t{"sweep_correlations", schema::columns("sweep_correlations"), {}};
  const std::size_t k = r.configurations.size();
  for (const auto& w : r.sweeps)
    for (std::size_t a = 0; a < k; ++a)
      for (std::size_t b = a + 1; b < k; ++b) {
        const std::size_t ab = a * k + b;
        const std::int64_t test = ab < w.correlation_test.size() ? w.correlation_test[ab] : 0;
        t.rows.push_back({text(w.name), text(w.method), text(r.configurations[a]),
                          text(r.configurations[b]),
                          text(test == 1 ? "calibration null" : "not tested"),
                          at(w.correlation_breaking_level, ab)});
      }
  return t;
}

// The models with their labels (training distribution, family, objective).
Table models_table(const ResultsData& r, const store::GroupsData& g) {
  Table t{"models", schema::columns("models"), {}};
  auto label = [](const std::vector<std::string>& v, std::size_t i) {
    return i < v.size() && !v[i].empty() ? text(v[i]) : Cell{};
  };
  for (std::size_t i = 0; i < r.models.size(); ++i)
    t.rows.push_back({integer(static_cast<std::int64_t>(i)), text(r.models[i]),
                      label(g.training_data, i), label(g.family, i), label(g.objective, i),
                      i < r.classes.size() ? integer(r.classes[i]) : Cell{}});
  return t;
}

// /groups: within vs across per set, factor and configuration; in the sets'
// order of the file.
std::vector<const store::SetGroups*> groups_in_order(const ResultsData& r,
                                                     const store::GroupsData& g) {
  std::vector<const store::SetGroups*> out;
  for (const auto& s : r.sets)
    for (const auto& x : g.groups.sets)
      if (x.set == s.name) out.push_back(&x);
  return out;
}

Table groups_table(const ResultsData& r, const store::GroupsData& g) {
  Table t{"groups", schema::columns("groups"), {}};
  const auto& cf = g.groups.configurations;
  auto at = [](const std::vector<double>& v, std::size_t k) {
    return number(k < v.size() ? v[k] : kNaN);
  };
  for (const auto* s : groups_in_order(r, g))
    for (const auto& f : s->factors)
      for (std::size_t k = 0; k < cf.size(); ++k)
        t.rows.push_back({text(s->set), text(f.factor), text(cf[k]), at(f.within, k),
                          at(f.within_low, k), at(f.within_high, k), at(f.across, k),
                          at(f.across_low, k), at(f.across_high, k), at(f.gap, k), at(f.gap_low, k),
                          at(f.gap_high, k), integer(f.n_within[k]), integer(f.n_across[k]),
                          at(f.effect, k), at(f.effect_low, k), at(f.effect_high, k),
                          at(f.effect_pvalue, k), at(f.effect_qvalue, k)});
  return t;
}

Table groups_correlations_table(const ResultsData& r, const store::GroupsData& g) {
  Table t{"groups_correlations", schema::columns("groups_correlations"), {}};
  const auto& cf = g.groups.configurations;
  const std::size_t K = cf.size();
  auto at = [](const std::vector<double>& v, std::size_t k) {
    return number(k < v.size() ? v[k] : kNaN);
  };
  for (const auto* s : groups_in_order(r, g))
    for (const auto& c : s->correlations)
      for (std::size_t a = 0; a < K; ++a)
        for (std::size_t b = a + 1; b < K; ++b) {
          const std::size_t x = a * K + b;
          t.rows.push_back({text(s->set), text(c.name), text(cf[a]), text(cf[b]), at(c.r, x),
                            at(c.p, x), integer(c.n[x]), at(c.ci_low, x), at(c.ci_high, x)});
        }
  return t;
}

// /layers (layer_profile on): one row per set, configuration, ordered model
// pair (i, j), i == j included, and layer pair (layer_a < L_i, layer_b <
// L_j): /layers/S/C[i, j, layer_a, layer_b]; padding and absent models
// (no layers) have no rows, a pair not scored an empty score.
Table layers_table(const std::string& path, const ResultsData& r, const store::LayersLayout& ll) {
  Table t{"layers", schema::columns("layers"), {}};
  const std::size_t m = r.models.size();
  PRH_CHECK_INPUT(ll.layer_counts.size() == m, "{}: /layers has {} layer counts for {} models",
                  path, ll.layer_counts.size(), m);
  for (const auto& s : r.sets)
    for (const auto& a : s.configurations) {
      int lmax = 0;
      const auto v = store::read_layer_matrices(path, s.name, a.name, lmax);
      const auto L = static_cast<std::size_t>(lmax);
      for (std::size_t i = 0; i < m; ++i)
        PRH_CHECK_INPUT(ll.layer_counts[i] >= 0 && ll.layer_counts[i] <= lmax,
                        "{}: /layers/{}/{}: model {} has {} layers, more than {}", path, s.name,
                        a.name, r.models[i], ll.layer_counts[i], lmax);
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < m; ++j)
          for (std::int64_t la = 0; la < ll.layer_counts[i]; ++la)
            for (std::int64_t lb = 0; lb < ll.layer_counts[j]; ++lb) {
              const auto x = ((i * m + j) * L + static_cast<std::size_t>(la)) * L +
                             static_cast<std::size_t>(lb);
              t.rows.push_back({text(s.name), text(a.name), text(r.models[i]), text(r.models[j]),
                                integer(static_cast<std::int64_t>(i)),
                                integer(static_cast<std::int64_t>(j)), integer(la), integer(lb),
                                number(v[x])});
            }
    }
  return t;
}

// The tables of a results file: the six always written, then those of its
// optional parts (calibration, sweeps, model labels and groups) when it has
// them.
std::vector<Table> export_tables(const ResultsData& r, const std::string& results_path) {
  std::vector<Table> tables = {
      alignment_table(r),   correlations_table(r), accuracy_correlation_table(r),
      predictions_table(r), agreement_table(r),    comparison_table(r)};
  bool calibrated = false;
  for (const auto& s : r.sets) calibrated = calibrated || !s.calibration.empty();
  if (calibrated) tables.push_back(calibration_table(r));  // only when the file has one
  if (!r.sweeps.empty()) {
    tables.push_back(sweeps_table(r));
    tables.push_back(sweep_correlations_table(r));
  }
  const auto groups = store::read_groups(results_path);
  // The models' labels and the group analysis, only when the file has them.
  if (!groups.training_data.empty() || !groups.family.empty() || !groups.objective.empty())
    tables.push_back(models_table(r, groups));
  if (!groups.groups.factors.empty()) {
    tables.push_back(groups_table(r, groups));
    tables.push_back(groups_correlations_table(r, groups));
  }
  // The layer-by-layer scores, only when the file has them (layer_profile on).
  const auto layers = store::read_layers_layout(results_path);
  if (layers.enabled) tables.push_back(layers_table(results_path, r, layers));
  return tables;
}

// meta.json: what was exported from which file.
json export_meta(const ResultsData& r, const std::string& results_path, const std::string& format,
                 const json& files) {
  json sets = json::array();
  for (const auto& s : r.sets) sets.push_back(s.name);
  return {{"results", results_path},
          {"format", r.format},
          {"prh_version", r.prh_version},
          {"config_hash", r.config_hash},
          {"models", r.models},
          {"configurations", r.configurations},
          {"sets", sets},
          {"complete", r.complete},
          {"export_format", format},
          {"tables", files}};
}

}  // namespace

void export_results(const std::string& results_path, const std::string& format,
                    const std::string& out_dir) {
  PRH_CHECK_INPUT(format == "csv" || format == "json",
                  "export format must be csv or json, got '{}'", format);
  const ResultsData r = store::read_results(results_path);
  if (!r.complete)
    spdlog::warn("{}: incomplete results file (complete != 1); exporting what it has",
                 results_path);

  const fs::path dir(out_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  PRH_CHECK_INPUT(!ec && fs::is_directory(dir), "{}: cannot create directory{}", out_dir,
                  ec ? ": " + ec.message() : std::string());

  std::vector<std::string> written;
  json files = json::array();
  for (const auto& t : export_tables(r, results_path)) {
    for (const auto& row : t.rows)  // the rows follow the declared columns (export_tables.cpp)
      PRH_ASSERT(row.size() == t.columns.size(), "export table {}: a row of {} cells, {} columns",
                 t.name, row.size(), t.columns.size());
    const fs::path path = dir / (t.name + "." + format);
    write_text(path, format == "csv" ? to_csv(t) : to_json(t));
    written.push_back(path.string());
    files.push_back(path.filename().string());
  }
  const fs::path meta_path = dir / "meta.json";
  write_text(meta_path, export_meta(r, results_path, format, files).dump(2) + "\n");
  written.push_back(meta_path.string());

  for (const auto& p : written) std::cout << p << '\n';
  std::cout.flush();
}

}  // namespace prh::pipeline
