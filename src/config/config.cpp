#include "prh/config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "prh/core/error.hpp"
#include "prh/core/files.hpp"

namespace prh::config {

namespace {

using json = nlohmann::json;

// YAML -> JSON, keeping scalars' natural types.
json to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted
      if (s == "true" || s == "True") return true;
      if (s == "false" || s == "False") return false;
      if (s == "null" || s == "~") return nullptr;
      static const std::regex integer("[-+]?[0-9]+");
      static const std::regex number("[-+]?([0-9]*\\.[0-9]+|[0-9]+\\.?[0-9]*)([eE][-+]?[0-9]+)?");
      if (std::regex_match(s, integer)) return std::stoll(s);
      if (std::regex_match(s, number)) return std::stod(s);
      return s;
    }
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& e : n) a.push_back(to_json(e));
      return a;
    }
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = to_json(kv.second);
      return o;
    }
    default:
      return nullptr;
  }
}

std::string type_name(const json& j) {
  if (j.is_boolean()) return "a boolean";
  if (j.is_number_integer()) return "an integer";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "a list";
  if (j.is_object()) return "a mapping";
  return "empty";
}

// Reads fields of one mapping, recording problems instead of throwing.
class Fields {
 public:
  Fields(const json& obj, std::string where, std::vector<std::string>& problems)
      : obj_(obj), where_(std::move(where)), problems_(problems) {
    if (!obj_.is_object())
      problems_.push_back(fmt::format("{}: must be a mapping, got {}", where_, type_name(obj_)));
  }
  ~Fields() = default;

  bool has(const std::string& key) {
    seen_.insert(key);
    return obj_.is_object() && obj_.contains(key) && !obj_.at(key).is_null();
  }
  std::string path(const std::string& key) const {
    return where_.empty() ? key : where_ + "." + key;
  }

  std::string str(const std::string& key, const std::string& def, bool required = false,
                  const std::vector<std::string>& allowed = {}) {
    if (!has(key)) {
      if (required) problems_.push_back(fmt::format("{}: required (a string)", path(key)));
      return def;
    }
    const json& v = obj_.at(key);
    if (!v.is_string()) {
      problems_.push_back(fmt::format("{}: must be a string, got {}", path(key), type_name(v)));
      return def;
    }
    std::string s = v.get<std::string>();
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      problems_.push_back(fmt::format("{}: '{}' is not allowed (allowed: {})", path(key), s, list));
      return def;
    }
    if (required && s.empty()) problems_.push_back(fmt::format("{}: must not be empty", path(key)));
    return s;
  }

  std::int64_t integer(const std::string& key, std::int64_t def, std::int64_t lo, std::int64_t hi,
                       bool required = false) {
    if (!has(key)) {
      if (required) problems_.push_back(fmt::format("{}: required (an integer)", path(key)));
      return def;
    }
    const json& v = obj_.at(key);
    if (!v.is_number_integer()) {
      problems_.push_back(fmt::format("{}: must be an integer, got {}", path(key), type_name(v)));
      return def;
    }
    const auto x = v.get<std::int64_t>();
    if (x < lo || x > hi) {
      problems_.push_back(fmt::format("{}: must be in [{}, {}], got {}", path(key), lo, hi, x));
      return def;
    }
    return x;
  }

  double number(const std::string& key, double def, double lo, double hi) {
    if (!has(key)) return def;
    const json& v = obj_.at(key);
    if (!v.is_number()) {
      problems_.push_back(fmt::format("{}: must be a number, got {}", path(key), type_name(v)));
      return def;
    }
    const double x = v.get<double>();
    if (!(x >= lo && x <= hi)) {
      problems_.push_back(fmt::format("{}: must be in [{}, {}], got {}", path(key), lo, hi, x));
      return def;
    }
    return x;
  }

  bool boolean(const std::string& key, bool def) {
    if (!has(key)) return def;
    const json& v = obj_.at(key);
    if (!v.is_boolean()) {
      problems_.push_back(
          fmt::format("{}: must be true or false, got {}", path(key), type_name(v)));
      return def;
    }
    return v.get<bool>();
  }

  const json* node(const std::string& key) {
    if (!has(key)) return nullptr;
    return &obj_.at(key);
  }

  // Unknown keys are errors.
  void finish() {
    if (!obj_.is_object()) return;
    for (const auto& [k, v] : obj_.items()) {
      (void)v;
      if (!seen_.count(k)) {
        std::string list;
        for (const auto& s : seen_) list += (list.empty() ? "" : ", ") + s;
        problems_.push_back(fmt::format("{}: unknown key (allowed here: {})", path(k), list));
      }
    }
  }

 private:
  const json& obj_;
  std::string where_;
  std::vector<std::string>& problems_;
  std::set<std::string> seen_;
};

// Names become HDF5 group names and directory names (the parts of job
// arrays): no '/', and not '.' or '..' (or any name of dots only).
const std::regex kName("(?!\\.+$)[A-Za-z0-9_.-]+");

// --- Sweeps: families of image sets generated from one base -------------------

// A family: the source kind that makes one level, the spec key its level goes
// to, and its levels' type and range. A new family is a row here plus its
// source kind in the data layer; later stages group sets by the recorded
// (sweep, family, level), never by family name.
struct Family {
  const char* name;
  const char* kind;
  const char* level_key;
  bool integer_levels;  // else numbers in [0, 1]
};
const Family kFamilies[] = {
    {"blend", "blend", "alpha", false},
    {"patch_shuffle", "patch_shuffle", "patch", true},
    {"phase_scramble", "phase_scramble", "amount", false},
};

const Family* find_family(const std::string& name) {
  for (const auto& f : kFamilies)
    if (name == f.name) return &f;
  return nullptr;
}

// spec restricted to its first n images (n > 0): the limit of a file source
// (or count of a noise source) becomes min(its own, n); a derived source
// (blend, patch_shuffle, phase_scramble) limits its base.
json limited(json spec, std::int64_t n) {
  const std::string kind = spec.value("kind", "");
  if (kind == "noise" || kind == "shapes" || kind == "patches") {
    spec["count"] = std::min(spec["count"].get<std::int64_t>(), n);
  } else if (spec.contains("base")) {
    spec["base"] = limited(spec["base"], n);
  } else if (spec.contains("limit")) {
    const auto lim = spec["limit"].get<std::int64_t>();
    spec["limit"] = lim == 0 ? n : std::min(lim, n);
  }
  return spec;
}

// The level as it appears in the generated set's name: the shortest decimal
// that reads back as the same double (0.1, 1, 0.25), or the integer.
std::string level_text(const json& level) {
  if (level.is_number_integer()) return fmt::format("{}", level.get<std::int64_t>());
  return fmt::format("{}", level.get<double>());
}

// Parses sweeps[i] and appends its generated image sets to s.image_sets
// (`listed`: how many sets the config lists; only those may be bases).
void parse_sweep(const json& node, std::size_t i, std::size_t listed, Sweep& s,
                 std::set<std::string>& names, std::vector<std::string>& problems) {
  const std::string where = fmt::format("sweeps[{}]", i);
  const std::int64_t big = std::int64_t{1} << 40;
  Fields f(node, where, problems);
  SweepSpec sw;
  sw.name = f.str("name", "", true);
  if (!sw.name.empty() && !std::regex_match(sw.name, kName))
    problems.push_back(
        fmt::format("{}.name: '{}' may hold only letters, digits, '_', '.', '-' (not dots only)",
                    where, sw.name));
  if (!sw.name.empty() && !names.insert("sweep:" + sw.name).second)
    problems.push_back(fmt::format("{}.name: '{}' is used twice", where, sw.name));
  sw.base = f.str("base", "", true);
  const ImageSet* base = nullptr;
  for (std::size_t k = 0; k < listed; ++k)
    if (s.image_sets[k].name == sw.base) base = &s.image_sets[k];
  if (!sw.base.empty() && !base) {
    std::string known;
    for (std::size_t k = 0; k < listed; ++k)
      known += (known.empty() ? "" : ", ") + s.image_sets[k].name;
    problems.push_back(
        fmt::format("{}.base: '{}' is not an image set of this config (image_sets: {})", where,
                    sw.base, known));
  }
  std::vector<std::string> family_names;
  for (const auto& fam : kFamilies) family_names.emplace_back(fam.name);
  sw.family = f.str("family", "", true, family_names);
  const Family* fam = find_family(sw.family);
  const std::int64_t limit = f.integer("limit", 0, 0, big);
  const std::int64_t seed = f.integer("seed", 0, 0, big);
  json extra = json::object();  // family parameters shared by every level
  if (fam && std::string(fam->name) == "blend") {
    extra["distribution"] = f.str("noise", "uniform", false, {"uniform", "gaussian"});
    extra["mean"] = f.number("mean", 127.5, 0, 255);
    extra["std"] = f.number("std", 64.0, 0, 1e6);
  }
  std::vector<json> levels;
  if (const json* lv = f.node("levels")) {
    if (!lv->is_array() || lv->empty()) {
      problems.push_back(fmt::format("{}.levels: must be a non-empty list, got {}", where,
                                     lv->is_array() ? "an empty list" : type_name(*lv)));
    } else if (fam) {
      std::set<std::string> seen;
      for (std::size_t j = 0; j < lv->size(); ++j) {
        const json& e = (*lv)[j];
        const std::string at = fmt::format("{}.levels[{}]", where, j);
        json level;
        if (fam->integer_levels) {
          if (!e.is_number_integer() || e.get<std::int64_t>() < 1 ||
              e.get<std::int64_t>() > 65536) {
            problems.push_back(
                fmt::format("{}: a {} level is a patch size, an integer in [1, 65536], got {}", at,
                            fam->name, e.is_number() ? e.dump() : type_name(e)));
            continue;
          }
          level = e.get<std::int64_t>();
        } else {
          if (!e.is_number() || !(e.get<double>() >= 0.0 && e.get<double>() <= 1.0)) {
            problems.push_back(fmt::format("{}: a {} level is a number in [0, 1], got {}", at,
                                           fam->name, e.is_number() ? e.dump() : type_name(e)));
            continue;
          }
          level = e.get<double>();
        }
        if (!seen.insert(level_text(level)).second) {
          problems.push_back(fmt::format("{}: level {} is listed twice", at, level_text(level)));
          continue;
        }
        levels.push_back(level);
      }
    }
  } else {
    problems.push_back(fmt::format("{}.levels: required (a non-empty list)", where));
  }
  f.finish();
  // Expanded only from a config without problems so far (the base's spec is
  // then canonical).
  if (!problems.empty() || !base || !fam) return;
  sw.levels = levels;
  const json base_spec = limit > 0 ? limited(base->source.spec, limit) : base->source.spec;
  for (std::size_t j = 0; j < levels.size(); ++j) {
    ImageSet g;
    g.name = fmt::format("{}@{}={}", sw.base, sw.family, level_text(levels[j]));
    json node_j = extra;
    node_j["kind"] = fam->kind;
    node_j["base"] = base_spec;
    node_j[fam->level_key] = levels[j];
    node_j["seed"] = seed;
    g.source = parse_source(node_j, fmt::format("{}.levels[{}]", where, j), problems);
    g.sweep = SweepLevel{sw.name, sw.family, sw.base, levels[j], static_cast<int>(j)};
    if (!names.insert("set:" + g.name).second) {
      problems.push_back(fmt::format(
          "{}.levels[{}]: generates image set '{}', which another sweep also generates (two "
          "sweeps of one base and family must not share a level)",
          where, j, g.name));
      continue;
    }
    sw.sets.push_back(g.name);
    s.image_sets.push_back(std::move(g));
  }
  s.sweeps.push_back(std::move(sw));
}

}  // namespace

SourceSpec parse_source(const json& node, const std::string& where,
                        std::vector<std::string>& problems) {
  SourceSpec out;
  Fields f(node, where, problems);
  out.kind = f.str("kind", "", true,
                   {"idx", "folder", "list", "hdf5", "noise", "shapes", "patches", "blend",
                    "patch_shuffle", "phase_scramble"});
  json& s = out.spec;
  s["kind"] = out.kind;
  const std::int64_t big = std::int64_t{1} << 40;
  if (out.kind == "idx") {
    s["images"] = f.str("images", "", true);
    s["labels"] = f.str("labels", "");
    json classes = json::array();
    if (const json* c = f.node("classes")) {
      if (!c->is_array()) {
        problems.push_back(fmt::format("{}.classes: must be a list of integers", where));
      } else {
        for (const auto& e : *c) {
          if (!e.is_number_integer())
            problems.push_back(fmt::format("{}.classes: must be a list of integers", where));
          else
            classes.push_back(e);
        }
      }
      if (s["labels"].get<std::string>().empty())
        problems.push_back(fmt::format("{}.classes: needs {}.labels", where, where));
    }
    s["classes"] = classes;
    s["offset"] = f.integer("offset", 0, 0, big);
    s["limit"] = f.integer("limit", 0, 0, big);
  } else if (out.kind == "folder") {
    s["root"] = f.str("root", "", true);
    s["limit"] = f.integer("limit", 0, 0, big);
  } else if (out.kind == "list") {
    s["file"] = f.str("file", "", true);
    s["root"] = f.str("root", "");
    s["limit"] = f.integer("limit", 0, 0, big);
  } else if (out.kind == "hdf5") {
    s["file"] = f.str("file", "", true);
    s["dataset"] = f.str("dataset", "", true);
    s["labels"] = f.str("labels", "");
    s["limit"] = f.integer("limit", 0, 0, big);
  } else if (out.kind == "noise") {
    s["count"] = f.integer("count", 0, 1, big, true);
    s["height"] = f.integer("height", 0, 1, 65536, true);
    s["width"] = f.integer("width", 0, 1, 65536, true);
    s["channels"] = f.integer("channels", 3, 1, 3);
    if (s["channels"] == 2) problems.push_back(fmt::format("{}.channels: must be 1 or 3", where));
    s["distribution"] = f.str("distribution", "uniform", false, {"uniform", "gaussian"});
    s["mean"] = f.number("mean", 127.5, 0, 255);
    s["std"] = f.number("std", 64.0, 0, 1e6);
    s["seed"] = f.integer("seed", 0, 0, big);
  } else if (out.kind == "shapes") {
    s["count"] = f.integer("count", 0, 1, big, true);
    s["size"] = f.integer("size", 28, 8, 1024);
    s["seed"] = f.integer("seed", 0, 0, big);
  } else if (out.kind == "patches") {
    json files = json::array();
    if (const json* fl = f.node("files")) {
      if (!fl->is_array() || fl->empty()) {
        problems.push_back(fmt::format("{}.files: must be a non-empty list of image paths", where));
      } else {
        for (const auto& e : *fl) {
          if (!e.is_string() || e.get<std::string>().empty())
            problems.push_back(
                fmt::format("{}.files: must be a list of image paths, got {}", where, e.dump()));
          else
            files.push_back(e);
        }
      }
    } else {
      problems.push_back(fmt::format("{}.files: required (a list of photographs)", where));
    }
    s["files"] = files;
    s["count"] = f.integer("count", 0, 1, big, true);
    s["size"] = f.integer("size", 28, 1, 4096);
    s["min_crop"] = f.integer("min_crop", 32, 1, 65536);
    s["max_crop"] = f.integer("max_crop", 96, 1, 65536);
    if (s["min_crop"].get<std::int64_t>() > s["max_crop"].get<std::int64_t>())
      problems.push_back(fmt::format("{}: min_crop {} is larger than max_crop {}", where,
                                     s["min_crop"].get<std::int64_t>(),
                                     s["max_crop"].get<std::int64_t>()));
    s["seed"] = f.integer("seed", 0, 0, big);
  } else if (out.kind == "blend") {
    if (const json* base = f.node("base")) {
      s["base"] = parse_source(*base, where + ".base", problems).spec;
    } else {
      problems.push_back(fmt::format("{}.base: required (the source to blend)", where));
    }
    s["alpha"] = f.number("alpha", 0.5, 0.0, 1.0);
    s["distribution"] = f.str("distribution", "uniform", false, {"uniform", "gaussian"});
    s["mean"] = f.number("mean", 127.5, 0, 255);
    s["std"] = f.number("std", 64.0, 0, 1e6);
    s["seed"] = f.integer("seed", 0, 0, big);
  } else if (out.kind == "patch_shuffle" || out.kind == "phase_scramble") {
    if (const json* base = f.node("base")) {
      s["base"] = parse_source(*base, where + ".base", problems).spec;
    } else {
      problems.push_back(fmt::format("{}.base: required (the source to transform)", where));
    }
    if (out.kind == "patch_shuffle")
      s["patch"] = f.integer("patch", 0, 1, 65536, true);
    else
      s["amount"] = f.number("amount", 0.5, 0.0, 1.0);
    s["seed"] = f.integer("seed", 0, 0, big);
  }
  f.finish();
  return out;
}

json Sweep::embed_params() const {
  return {{"batch_size", batch_size},       {"shard_size", shard_size},
          {"feature_dtype", feature_dtype}, {"device", device},
          {"on_bad_image", on_bad_image},   {"seed", seed}};
}

json Sweep::image_set_json(const ImageSet& s) {
  json j = {{"name", s.name}, {"source", s.source.spec}};
  if (s.sweep)
    j["sweep"] = {{"name", s.sweep->sweep},
                  {"family", s.sweep->family},
                  {"base", s.sweep->base},
                  {"level", s.sweep->level},
                  {"index", s.sweep->index}};
  return j;
}

json Sweep::model_json(const Model& m) {
  return {{"name", m.name}, {"path", m.path}, {"sidecar", m.sidecar}};
}

Sweep parse(const std::string& text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}: not valid YAML: {}", origin, e.what()));
  }
  const json j = to_json(root);
  std::vector<std::string> problems;
  Sweep s;
  s.file = origin;
  Fields f(j, "", problems);
  s.store = f.str("store", "", true);
  s.results = f.str("results", "");
  if (s.results.empty() && !s.store.empty())
    s.results = (std::filesystem::path(s.store).parent_path() / "results.h5").string();
  s.seed = static_cast<std::uint64_t>(f.integer("seed", 0, 0, std::int64_t{1} << 62));
  s.batch_size = static_cast<int>(f.integer("batch_size", 64, 1, 1 << 20));
  s.shard_size = static_cast<int>(f.integer("shard_size", 256, 1, 1 << 30));
  s.device = f.str("device", "cpu", false, {"cpu", "cuda"});
  s.threads_per_rank = static_cast<int>(f.integer("threads_per_rank", 1, 1, 1024));
  s.feature_dtype = f.str("feature_dtype", "float32", false, {"float32", "float16"});
  s.on_bad_image = f.str("on_bad_image", "error", false, {"error", "skip"});
  s.last_layer_only = f.boolean("last_layer_only", false);
  if (const json* p = f.node("preprocess")) {
    Fields pf(*p, "preprocess", problems);
    s.preprocess.clamp = pf.boolean("clamp", true);
    s.preprocess.q = pf.number("q", 0.95, 1e-9, 1.0);
    s.preprocess.exact = pf.boolean("exact", false);
    s.preprocess.normalize = pf.boolean("normalize", true);
    pf.finish();
  }
  if (const json* m = f.node("metrics")) {
    if (!m->is_array())
      problems.push_back("metrics: must be a list of metric configurations");
    else
      for (const auto& e : *m) {
        if (!e.is_string())
          problems.push_back(fmt::format(
              "metrics: entries must be strings like 'mutual_knn:k=10', got {}", type_name(e)));
        else
          s.metrics.push_back(e.get<std::string>());
      }
  }
  if (const json* c = f.node("correlations")) {
    static const std::vector<std::string> kMethods{"spearman", "pearson", "kendall"};
    if (!c->is_array() || c->empty()) {
      problems.push_back(fmt::format(
          "correlations: must be a non-empty list of spearman, pearson, kendall, got {}",
          c->is_array() ? "an empty list" : type_name(*c)));
    } else {
      std::vector<std::string> methods;
      for (const auto& e : *c) {
        if (!e.is_string()) {
          problems.push_back(fmt::format(
              "correlations: entries must be spearman, pearson or kendall, got {}", type_name(e)));
          continue;
        }
        const std::string m = e.get<std::string>();
        if (std::find(kMethods.begin(), kMethods.end(), m) == kMethods.end())
          problems.push_back(fmt::format(
              "correlations: '{}' is not allowed (allowed: spearman, pearson, kendall)", m));
        else if (std::find(methods.begin(), methods.end(), m) != methods.end())
          problems.push_back(fmt::format("correlations: '{}' is listed twice", m));
        else
          methods.push_back(m);
      }
      s.correlations = methods;
    }
  }
  s.bootstrap = static_cast<int>(f.integer("bootstrap", 1000, 0, 1 << 30));
  s.mantel = static_cast<int>(f.integer("mantel", 999, 0, 1 << 30));
  if (const json* c = f.node("confidence")) {
    if (!c->is_number())
      problems.push_back(fmt::format("confidence: must be a number, got {}", type_name(*c)));
    else if (const double x = c->get<double>(); !(x > 0.0 && x < 1.0))
      problems.push_back(fmt::format("confidence: must be in (0, 1), got {}", x));
    else
      s.confidence = x;
  }
  if (const json* c = f.node("calibration")) {
    Fields cf(*c, "calibration", problems);
    s.calibration.permutations =
        static_cast<int>(cf.integer("permutations", 0, 1, 1 << 24, /*required=*/true));
    if (const json* a = cf.node("alpha")) {
      if (!a->is_number())
        problems.push_back(
            fmt::format("calibration.alpha: must be a number, got {}", type_name(*a)));
      else if (const double x = a->get<double>(); !(x > 0.0 && x < 1.0))
        problems.push_back(fmt::format("calibration.alpha: must be in (0, 1), got {}", x));
      else
        s.calibration.alpha = x;
    }
    s.calibration.seed =
        static_cast<std::uint64_t>(cf.integer("seed", 0, 0, std::int64_t{1} << 62));
    if (const json* m = cf.node("metrics")) {
      if (!m->is_array())
        problems.push_back("calibration.metrics: must be a list of metric configurations");
      else
        for (const auto& e : *m) {
          if (!e.is_string())
            problems.push_back(fmt::format(
                "calibration.metrics: entries must be strings like 'mutual_knn:k=10', got {}",
                type_name(e)));
          else
            s.calibration.metrics.push_back(e.get<std::string>());
        }
    }
    cf.finish();
  }
  std::set<std::string> names;
  if (const json* sets = f.node("image_sets"); sets && sets->is_array() && !sets->empty()) {
    for (std::size_t i = 0; i < sets->size(); ++i) {
      const std::string where = fmt::format("image_sets[{}]", i);
      Fields sf((*sets)[i], where, problems);
      ImageSet is;
      is.name = sf.str("name", "", true);
      if (!is.name.empty() && !std::regex_match(is.name, kName))
        problems.push_back(fmt::format(
            "{}.name: '{}' may hold only letters, digits, '_', '.', '-' (not dots only)", where,
            is.name));
      if (!is.name.empty() && !names.insert("set:" + is.name).second)
        problems.push_back(fmt::format("{}.name: '{}' is used twice", where, is.name));
      if (const json* src = sf.node("source"))
        is.source = parse_source(*src, where + ".source", problems);
      else
        problems.push_back(fmt::format("{}.source: required", where));
      sf.finish();
      s.image_sets.push_back(is);
    }
  } else {
    problems.push_back("image_sets: required (a non-empty list of {name, source})");
  }
  if (const json* sweeps = f.node("sweeps")) {
    if (!sweeps->is_array()) {
      problems.push_back(fmt::format(
          "sweeps: must be a list of {{name, base, family, levels}}, got {}", type_name(*sweeps)));
    } else {
      const std::size_t listed = s.image_sets.size();
      for (std::size_t i = 0; i < sweeps->size(); ++i)
        parse_sweep((*sweeps)[i], i, listed, s, names, problems);
    }
  }
  if (const json* models = f.node("models"); models && models->is_array() && !models->empty()) {
    for (std::size_t i = 0; i < models->size(); ++i) {
      const std::string where = fmt::format("models[{}]", i);
      Fields mf((*models)[i], where, problems);
      Model m;
      m.name = mf.str("name", "", true);
      if (!m.name.empty() && !std::regex_match(m.name, kName))
        problems.push_back(fmt::format(
            "{}.name: '{}' may hold only letters, digits, '_', '.', '-' (not dots only)", where,
            m.name));
      if (!m.name.empty() && !names.insert("model:" + m.name).second)
        problems.push_back(fmt::format("{}.name: '{}' is used twice", where, m.name));
      m.path = mf.str("path", "", true);
      m.sidecar = mf.str("sidecar", "");
      if (m.sidecar.empty() && !m.path.empty())
        m.sidecar = std::filesystem::path(m.path).replace_extension(".yaml").string();
      m.training_data = mf.str("training_data", "");
      m.family = mf.str("family", "");
      m.objective = mf.str("objective", "");
      mf.finish();
      s.models.push_back(m);
    }
  } else {
    problems.push_back("models: required (a non-empty list of {name, path})");
  }
  f.finish();
  if (!problems.empty()) {
    std::string msg = fmt::format("{}: {} problem{} in the config:", origin, problems.size(),
                                  problems.size() == 1 ? "" : "s");
    for (const auto& p : problems) msg += "\n  - " + p;
    throw InputError(msg);
  }
  return s;
}

Sweep load(const std::string& path) {
  return parse(read_text(path, "config file"), path);
}

std::string hash_json(const json& j) {
  const std::string s = j.dump();
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return fmt::format("{:016x}", h);
}

}  // namespace prh::config
