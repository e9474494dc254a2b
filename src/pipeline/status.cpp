#include "prh/pipeline/status.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "prh/pipeline/reduce.hpp"
#include "prh/pipeline/submit.hpp"
#include "prh/store/embedding_store.hpp"
#include "prh/store/results_reader.hpp"
#include "prh/store/results_store.hpp"

namespace prh::pipeline {

namespace {

// At most this many lines of "left" in the summary (the rest: --verbose).
constexpr std::size_t kLeftLines = 8;

// One (image set, model) of the config in the store, part files counted.
struct Item {
  std::int64_t done = 0, total = -1;  // shards; total -1: not known yet
  std::int64_t parts = 0;             // of them, waiting in part files
  bool absent = false;  // imported features without this set: no item (docs/config.md)
};

struct EmbedSet {
  std::string name;
  std::vector<Item> items;  // config model order
  std::int64_t models = 0;  // models with an item in the set (imported ones may have none)
  // Shards over the models whose shard count is known; models whose count
  // is not (the set is not in the store yet): not begun, or with parts.
  std::int64_t models_done = 0, shards_done = 0, shards = 0, unknown = 0;
  std::int64_t not_begun = 0, parts_unknown = 0;  // of `unknown`
  // A view (docs/store.md, "Views"): the set whose rows it is. It has no
  // work items; models_done and not_begun are its base's.
  std::string view_of;
  std::int64_t left() const { return shards - shards_done; }
};

// What the store and the part files say of each (set, model), before the
// config's sets and models are walked.
struct Known {
  std::map<std::pair<std::string, std::string>, Item> by;
  std::map<std::string, std::int64_t> set_shards;  // shards of a set, from any of its items
  std::map<std::string, std::string> views;        // known once the store records them
};

Known known_items(const config::Sweep& sweep, const std::vector<std::string>& parts) {
  Known k;
  if (std::filesystem::exists(sweep.store)) {
    const auto summary = store::read_summary(sweep.store);
    for (const auto& p : summary.items) {
      k.by[{p.set, p.model}] = {p.done, p.total, 0};
      k.set_shards[p.set] = std::max(k.set_shards[p.set], p.total);
    }
    k.views = summary.views;
  }
  for (const auto& p : parts) {  // SET/MODEL/SHARD.h5
    const std::filesystem::path path(p);
    ++k.by[{path.parent_path().parent_path().filename().string(),
            path.parent_path().filename().string()}]
          .parts;
  }
  return k;
}

// A set's items, model by model, and its counts.
EmbedSet set_progress(const config::Sweep& sweep, const config::ImageSet& s, Known& k) {
  EmbedSet es;
  es.name = s.name;
  for (const auto& m : sweep.models) {
    if (!m.has_set(s.name)) {
      Item absent;
      absent.total = 0;
      absent.absent = true;
      es.items.push_back(absent);
      continue;
    }
    ++es.models;
    Item it = k.by.count({s.name, m.name}) ? k.by[{s.name, m.name}] : Item{};
    if (it.total < 0 && k.set_shards.count(s.name)) it.total = k.set_shards[s.name];
    it.done = it.total < 0 ? it.parts : std::min(it.total, it.done + it.parts);
    if (it.total < 0) {
      ++es.unknown;
      ++(it.parts > 0 ? es.parts_unknown : es.not_begun);
    } else {
      es.shards += it.total;
      es.shards_done += it.done;
      es.models_done += it.done == it.total && it.total > 0;
    }
    es.items.push_back(it);
  }
  return es;
}

std::vector<EmbedSet> embed_progress(const config::Sweep& sweep,
                                     const std::vector<std::string>& parts) {
  Known k = known_items(sweep, parts);
  std::vector<EmbedSet> out;
  for (const auto& s : sweep.image_sets) {
    if (k.views.count(s.name)) {
      const auto base = std::find_if(out.begin(), out.end(),
                                     [&](const EmbedSet& b) { return b.name == k.views[s.name]; });
      if (base != out.end()) {
        EmbedSet es;
        es.name = s.name;
        es.view_of = base->name;
        es.models = base->models;
        es.models_done = base->models_done;
        es.not_begun = base->not_begun;
        es.items.assign(sweep.models.size(), Item{0, 0, 0, false});
        out.push_back(std::move(es));
        continue;
      }
    }
    out.push_back(set_progress(sweep, s, k));
  }
  return out;
}

std::string plural(std::int64_t n, const std::string& one, const std::string& many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// The parts joined by ", ".
std::string comma_list(const std::vector<std::string>& parts) {
  std::string line;
  for (std::size_t k = 0; k < parts.size(); ++k) line += (k ? ", " : "") + parts[k];
  return line;
}

// Everything the three outputs print, computed once.
struct Status {
  std::vector<std::string> parts;
  std::vector<EmbedSet> embed;
  ReduceOutlook reduce;
  std::int64_t items_done = 0, items = 0, unknown = 0, parts_waiting = 0;
  std::int64_t items_left = 0, score_left = 0, calibrate_left = 0;
  std::int64_t score_done = 0, score_total = 0, calibrate_done = 0, calibrate_total = 0;
  std::int64_t store_journal_units = 0;
  std::vector<std::string> states, left, problems;
  std::vector<std::string> left_what;  // `left` without the set's name
  std::string next_command, next_text;
};

// What is left to embed of a set: items left, models not begun, in parts.
std::string embed_text(const EmbedSet& e) {
  std::vector<std::string> embed_what;
  if (e.left() > 0) embed_what.push_back(plural(e.left(), "work item", "work items") + " left");
  if (e.not_begun > 0) embed_what.push_back(plural(e.not_begun, "model", "models") + " not begun");
  if (e.parts_unknown > 0)
    embed_what.push_back(
        fmt::format("{} in part files", plural(e.parts_unknown, "model", "models")));
  return comma_list(embed_what);
}

// A set's state in one phrase.
std::string set_state(const EmbedSet& e, const ReduceOutlook::Set& r, const std::string& derived) {
  const auto M = e.models;
  const auto score_left = r.score_total - r.score_done;
  const auto cal_left = r.calibrate_total - r.calibrate_done;
  if (!e.view_of.empty() && e.models_done < M)
    return fmt::format("rows of '{}': waiting for its embedding", e.view_of);
  if (e.not_begun == M) return "not embedded";
  if (e.models_done < M) return "embedding: " + embed_text(e);
  if (score_left > 0 && r.score_done == 0 && r.calibrate_done == 0) return "embedded, not reduced";
  if (score_left > 0) return fmt::format("scoring: {} left", plural(score_left, "pair", "pairs"));
  if (cal_left > 0) return fmt::format("calibrating: {} left", plural(cal_left, "pair", "pairs"));
  return derived == "current" ? "done" : "aligned; derived tables left";
}

// The models of a set still embedding: at most three named, then a count.
std::string models_embedding(const config::Sweep& sweep, const EmbedSet& e) {
  std::vector<std::string> models;
  for (std::size_t m = 0; m < e.items.size(); ++m) {
    const auto& it = e.items[m];
    if (it.total < 0 || it.done < it.total)
      models.push_back(it.total >= 0
                           ? fmt::format("{} {}/{}", sweep.models[m].name, it.done, it.total)
                       : it.parts ? fmt::format("{} {} in parts", sweep.models[m].name, it.parts)
                                  : sweep.models[m].name + " not begun");
  }
  std::string list;
  for (std::size_t k = 0; k < models.size() && k < 3; ++k) list += (k ? ", " : "") + models[k];
  if (models.size() > 3) list += fmt::format(", {} more", models.size() - 3);
  return list;
}

// What is left of a set, stage by stage.
std::vector<std::string> set_left(const config::Sweep& sweep, const EmbedSet& e,
                                  const ReduceOutlook::Set& r, bool prepare_lower_bound) {
  const auto M = e.models;
  std::vector<std::string> what;
  if (!e.view_of.empty()) {
    if (e.models_done < M) what.push_back(fmt::format("rows of '{}', not embedded yet", e.view_of));
  } else if (e.not_begun == M) {
    what.push_back("not embedded");
  } else if (e.models_done < M) {
    what.push_back(fmt::format("embed: {} ({})", embed_text(e), models_embedding(sweep, e)));
  }
  const auto score_left = r.score_total - r.score_done;
  const auto cal_left = r.calibrate_total - r.calibrate_done;
  if (r.prepare_left > 0)
    what.push_back(fmt::format("prepare {}{}", prepare_lower_bound ? ">= " : "",
                               plural(r.prepare_left, "unit", "units")));
  if (score_left > 0) what.push_back(fmt::format("score {}/{} pairs", score_left, r.score_total));
  if (cal_left > 0)
    what.push_back(fmt::format("calibrate {}/{} pairs{}", cal_left, r.calibrate_total,
                               r.calibration_remade ? " (its calibration is made anew)" : ""));
  return what;
}

// Adds set s to the totals, its state and what is left of it.
void add_set(const config::Sweep& sweep, std::size_t s, Status& st) {
  const auto& e = st.embed[s];
  const auto& r = st.reduce.sets[s];
  st.items_done += e.shards_done;
  st.items += e.shards;
  st.unknown += e.unknown;
  st.score_done += r.score_done;
  st.score_total += r.score_total;
  st.calibrate_done += r.calibrate_done;
  st.calibrate_total += r.calibrate_total;
  st.states.push_back(set_state(e, r, st.reduce.derived));
  const auto what = set_left(sweep, e, r, st.reduce.prepare_lower_bound);
  if (!what.empty()) {
    const std::string line = comma_list(what);
    st.left.push_back(e.name + ": " + line);
    st.left_what.push_back(line);
  }
  // Work items left: known ones, plus at least one per model not begun.
  st.items_left += !e.view_of.empty() ? 0 : e.left() + e.not_begun;
  st.score_left += r.score_total - r.score_done;
  st.calibrate_left += r.calibrate_total - r.calibrate_done;
}

// The next command and what it would do.
void next_step(const config::Sweep& sweep, Status& st) {
  std::vector<std::string> work;
  const bool embedding =
      st.items_left > 0 || st.parts_waiting > 0 || !std::filesystem::exists(sweep.store);
  if (!std::filesystem::exists(sweep.store) && st.items == 0 && st.parts_waiting == 0) {
    work.push_back("embed every work item (no store yet)");
  } else {
    if (st.items_left > 0)
      work.push_back(fmt::format("embed {}{}", plural(st.items_left, "work item", "work items"),
                                 st.unknown ? " (or more: some not begun)" : ""));
    if (st.parts_waiting > 0)
      work.push_back(fmt::format("merge {}", plural(st.parts_waiting, "part file", "part files")));
  }
  const auto prep_left = st.reduce.prepare_needed - st.reduce.prepare_done;
  if (prep_left > 0)
    work.push_back(fmt::format("prepare {}{}", st.reduce.prepare_lower_bound ? ">= " : "",
                               plural(prep_left, "unit", "units")));
  if (st.score_left > 0)
    work.push_back(fmt::format("score {}", plural(st.score_left, "pair", "pairs")));
  if (st.calibrate_left > 0)
    work.push_back(fmt::format("calibrate {}", plural(st.calibrate_left, "pair", "pairs")));
  if (st.reduce.derived != "current") work.push_back("write the derived tables");
  if (!st.problems.empty()) {
    st.next_command = "";
    st.next_text = "fix the problems above first; then `prh run " + sweep.file + "`";
  } else if (work.empty()) {
    st.next_command = "";
    st.next_text = "nothing left: `prh run " + sweep.file + "` would find everything done";
  } else {
    st.next_command = (embedding ? "prh run " : "prh reduce ") + sweep.file;
    std::string list;
    for (std::size_t k = 0; k < work.size(); ++k)
      list += (k == 0 ? "" : k + 1 == work.size() ? " and " : ", ") + work[k];
    st.next_text = fmt::format("`{}` would {}", st.next_command, list);
    if (!embedding) st.next_text += fmt::format(" (as would `prh run {}`)", sweep.file);
  }
}

Status gather(const config::Sweep& sweep) {
  Status st;
  st.parts = store::list_parts(sweep.store);
  st.parts_waiting = static_cast<std::int64_t>(st.parts.size());
  st.embed = embed_progress(sweep, st.parts);
  st.reduce = reduce_outlook(sweep);
  for (std::size_t s = 0; s < st.embed.size(); ++s) add_set(sweep, s, st);
  if (!st.reduce.problem.empty()) st.problems.push_back(st.reduce.problem);
  st.store_journal_units = st.reduce.journal_units;
  next_step(sweep, st);
  return st;
}

// The detailed tables (--verbose): per (set, model), per set.
void print_details(std::ostream& os, const config::Sweep& sweep, const Status& st) {
  if (!st.parts.empty()) {
    os << fmt::format(
        "parts {}: {} work items embedded by a job array (or by the ranks of a serial-HDF5 "
        "prh), not merged yet (`prh embed {}` or `prh run` merges them)\n",
        store::parts_dir(sweep.store), st.parts.size(), sweep.file);
  }
  os << fmt::format("{:<24} {:<24} {:>12} {:>6}\n", "image set", "model", "shards done", "parts");
  for (std::size_t s = 0; s < st.embed.size(); ++s)
    for (std::size_t m = 0; m < sweep.models.size(); ++m) {
      const auto& it = st.embed[s].items[m];
      if (it.absent) {
        os << fmt::format("{:<24} {:<24} {:>12}\n", st.embed[s].name, sweep.models[m].name,
                          "absent (no imported features for this set)");
        continue;
      }
      os << fmt::format("{:<24} {:<24} {:>5}/{:<6} {:>6}{}\n", st.embed[s].name,
                        sweep.models[m].name, it.done,
                        it.total < 0 ? std::string("?") : std::to_string(it.total), it.parts,
                        it.total >= 0 && it.done == it.total ? "" : "  (incomplete)");
    }
  if (!std::filesystem::exists(sweep.results)) return;
  const auto waiting = store::journal_units(sweep.results);
  const auto prepared = store::journal_units(store::prep_cache_path(sweep.results));
  if (waiting + prepared > 0)
    os << fmt::format(
        "journals: {} scored or calibrated (pair, configuration) units and {} prepared "
        "representations finished but not merged yet (a serial-HDF5 `prh reduce` running, or "
        "cut off: the next one merges them first); counted as done above\n",
        waiting, prepared);
  os << fmt::format("{:<24} {:>8} {:>14} {:>16} {:>8}\n", "image set", "images", "prepare left",
                    "pairs scored", "calibrated");
  for (const auto& r : st.reduce.sets)
    os << fmt::format("{:<24} {:>8} {:>14} {:>9}/{:<6} {:>8}\n", r.name,
                      r.images < 0 ? std::string("?") : std::to_string(r.images), r.prepare_left,
                      r.score_done, r.score_total,
                      r.calibrate_total ? fmt::format("{}/{}", r.calibrate_done, r.calibrate_total)
                                        : std::string("-"));
}

// The table of image sets: models done, shards, images, state.
void print_sets(std::ostream& os, const Status& st) {
  const auto& r = st.reduce;
  os << fmt::format("{:<28} {:>7} {:>13} {:>7}  {}\n", "image set", "models", "shards", "images",
                    "state");
  for (std::size_t s = 0; s < st.embed.size(); ++s) {
    const auto& e = st.embed[s];
    os << fmt::format(
        "{:<28} {:>7} {:>13} {:>7}  {}\n", e.name, fmt::format("{}/{}", e.models_done, e.models),
        !e.view_of.empty()      ? std::string("view")
        : e.unknown == e.models ? std::string("?")
        : e.unknown > 0         ? fmt::format("{}/{}+?", e.shards_done, e.shards)
                                : fmt::format("{}/{}", e.shards_done, e.shards),
        r.sets[s].images < 0 ? std::string("?") : std::to_string(r.sets[s].images), st.states[s]);
  }
}

// The embed line: work items done, and those waiting in part files.
void print_embed(std::ostream& os, const config::Sweep& sweep, const Status& st) {
  const auto M = static_cast<std::int64_t>(sweep.models.size());
  if (st.items == 0)
    os << fmt::format("embed      nothing embedded yet ({} models x {} image sets){}\n", M,
                      st.embed.size(),
                      st.parts_waiting ? fmt::format("; {} work items wait in part files, not "
                                                     "merged yet",
                                                     st.parts_waiting)
                                       : "");
  else
    os << fmt::format(
        "embed      {}/{} work items (model, image set, shard) done{}{}\n", st.items_done, st.items,
        st.unknown ? " (more in image sets not begun)" : "",
        st.parts_waiting
            ? fmt::format("; {} work items wait in part files, not merged yet", st.parts_waiting)
            : "");
}

// The reduce lines: configurations, then prepare, score, calibrate, derived.
void print_reduce(std::ostream& os, const Status& st) {
  const auto& r = st.reduce;
  os << fmt::format("reduce     {} configurations, {} calibrated{}{}\n", r.configurations,
                    r.calibrated,
                    r.permutations ? fmt::format(" ({} permutations)", r.permutations) : "",
                    r.journal_units ? fmt::format("; {} units wait in serial-HDF5 journals, "
                                                  "counted as done (the next run merges them)",
                                                  r.journal_units)
                                    : "");
  if (r.prepare_needed == 0)
    os << "  prepare    nothing to prepare: no pair is left\n";
  else
    os << fmt::format("  prepare    {}/{}{} (set, model, layer) units that the pairs left need\n",
                      r.prepare_done, r.prepare_lower_bound ? ">=" : "", r.prepare_needed);
  os << fmt::format("  score      {}/{} model pairs (i <= j) in every configuration\n",
                    st.score_done, st.score_total);
  if (r.calibrated)
    os << fmt::format("  calibrate  {}/{} model pairs (i < j)\n", st.calibrate_done,
                      st.calibrate_total);
  else
    os << "  calibrate  off (no calibration in the config)\n";
  os << fmt::format("  derived    {}{}\n", r.derived,
                    r.derived_why.empty() ? "" : ": " + r.derived_why);
}

// What is left, set by set (one line when every set has the same left).
void print_left(std::ostream& os, const config::Sweep& sweep, const Status& st, bool verbose) {
  const bool all_alike =
      st.left.size() == st.embed.size() && st.left.size() > 1 &&
      std::all_of(st.left_what.begin(), st.left_what.end(),
                  [&](const std::string& w) { return w == st.left_what.front(); });
  if (all_alike && !verbose) {
    os << fmt::format("left:\n  every image set: {}\n", st.left_what.front());
  } else if (!st.left.empty()) {
    os << "left:\n";
    const auto shown = verbose ? st.left.size() : std::min(st.left.size(), kLeftLines);
    for (std::size_t k = 0; k < shown; ++k) os << "  " << st.left[k] << "\n";
    if (shown < st.left.size())
      os << fmt::format("  ... {} more image sets (prh status --verbose {})\n",
                        st.left.size() - shown, sweep.file);
  }
}

void print_summary(std::ostream& os, const config::Sweep& sweep, const Status& st, bool verbose) {
  os << fmt::format("{}: store {}{}, results {}{}\n", sweep.file, sweep.store,
                    std::filesystem::exists(sweep.store) ? "" : " (not created yet)", sweep.results,
                    st.reduce.results_exist ? "" : " (not created yet)");
  print_sets(os, st);
  print_embed(os, sweep, st);
  print_reduce(os, st);
  for (const auto& p : st.problems) os << "problem: " << p << "\n";
  print_left(os, sweep, st, verbose);
  os << "next: " << st.next_text << "\n";
}

using json = nlohmann::json;

json num(std::int64_t v) {
  return v < 0 ? json(nullptr) : json(v);
}

// One image set of `prh status --json`.
json set_json(const config::Sweep& sweep, const Status& st, std::size_t s) {
  const auto& e = st.embed[s];
  const auto& x = st.reduce.sets[s];
  json models_left = json::array();
  for (std::size_t m = 0; m < e.items.size(); ++m)
    if (e.items[m].total < 0 || e.items[m].done < e.items[m].total)
      models_left.push_back({{"model", sweep.models[m].name},
                             {"shards_done", e.items[m].done},
                             {"shards", num(e.items[m].total)},
                             {"parts", e.items[m].parts}});
  return {{"name", e.name},
          {"view_of", e.view_of.empty() ? json(nullptr) : json(e.view_of)},
          {"images", num(x.images)},
          {"models", e.models},
          {"models_done", e.models_done},
          {"shards", e.unknown ? json(nullptr) : json(e.shards)},
          {"shards_done", e.shards_done},
          {"models_left", models_left},
          {"prepare_left", x.prepare_left},
          {"score_done", x.score_done},
          {"score_total", x.score_total},
          {"calibrate_done", x.calibrate_done},
          {"calibrate_total", x.calibrate_total},
          {"calibration_remade", x.calibration_remade},
          {"state", st.states[s]}};
}

// The reduce part of `prh status --json`.
json reduce_json(const Status& st) {
  const auto& r = st.reduce;
  return {{"configurations", r.configurations},
          {"calibrated", r.calibrated},
          {"permutations", r.permutations},
          {"journal_units", r.journal_units},
          {"prepare",
           {{"done", r.prepare_done},
            {"needed", r.prepare_needed},
            {"lower_bound", r.prepare_lower_bound}}},
          {"score", {{"done", st.score_done}, {"total", st.score_total}}},
          {"calibrate", {{"done", st.calibrate_done}, {"total", st.calibrate_total}}},
          {"derived", {{"state", r.derived}, {"why", r.derived_why}}}};
}

json to_json(const config::Sweep& sweep, const Status& st) {
  const auto& r = st.reduce;
  json sets = json::array();
  for (std::size_t s = 0; s < st.embed.size(); ++s) sets.push_back(set_json(sweep, st, s));
  json next = {{"command", st.next_command.empty() ? json(nullptr) : json(st.next_command)},
               {"embed_items", st.items_left},
               {"embed_items_lower_bound", st.unknown > 0 || !std::filesystem::exists(sweep.store)},
               {"prepare_units", r.prepare_needed - r.prepare_done},
               {"prepare_units_lower_bound", r.prepare_lower_bound},
               {"score_pairs", st.score_left},
               {"calibrate_pairs", st.calibrate_left},
               {"derive", r.derived != "current"},
               {"text", st.next_text}};
  return {{"format", "prh-status-1"},
          {"config", sweep.file},
          {"store", sweep.store},
          {"store_exists", std::filesystem::exists(sweep.store)},
          {"results", sweep.results},
          {"results_exist", r.results_exist},
          {"complete", r.complete},
          {"models", sweep.models.size()},
          {"image_sets", sets},
          {"embed",
           {{"items_done", st.items_done},
            {"items", st.items},
            {"items_unknown_sets", st.unknown},
            {"parts_waiting", st.parts_waiting}}},
          {"reduce", reduce_json(st)},
          {"problems", st.problems},
          {"left", st.left},
          {"next", next}};
}

}  // namespace

void print_status(std::ostream& os, const config::Sweep& sweep, const StatusOptions& opt) {
  const Status st = gather(sweep);
  if (opt.json) {
    os << to_json(sweep, st).dump(1) << "\n";
    return;
  }
  print_jobs(os, sweep.store);  // SLURM jobs of `prh submit`, if any
  print_summary(os, sweep, st, opt.verbose);
  if (opt.verbose) print_details(os, sweep, st);
}

}  // namespace prh::pipeline
