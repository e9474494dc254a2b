#include "prh/config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "prh/config/source_kinds.hpp"
#include "prh/config/yaml_documents.hpp"
#include "prh/core/error.hpp"
#include "prh/core/files.hpp"
#include "prh/core/limits.hpp"

namespace prh::config {

namespace {

using json = nlohmann::json;

// Limits of the config reader (docs/config.md, "Limits"): a config is a
// small hand-written file; anything beyond these is a mistake or an attack
// (a YAML alias bomb expands exponentially), refused with the line named.
constexpr std::size_t kMaxConfigBytes = std::size_t{4} << 20;  // the file
constexpr std::size_t kMaxScalar = 4096;                       // bytes of one value or key
constexpr std::size_t kMaxNodes = 100000;                      // values, aliases expanded
constexpr int kMaxDepth = 64;                                  // nesting of lists and mappings

bool is_digits(const std::string& s, std::size_t from, std::size_t to) {
  if (from >= to) return false;
  for (std::size_t i = from; i < to; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

// [-+]?[0-9]+ (no regex: std::regex recurses per character and overflows
// the stack on long input).
bool is_integer(const std::string& s) {
  const std::size_t b = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
  return is_digits(s, b, s.size());
}

// [-+]?([0-9]*\.[0-9]+|[0-9]+\.?[0-9]*)([eE][-+]?[0-9]+)?
bool is_number(const std::string& s) {
  std::size_t i = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
  std::size_t e = s.find_first_of("eE", i);
  if (e == std::string::npos) e = s.size();
  const std::size_t dot = s.find('.', i);
  bool mantissa = false;
  if (dot == std::string::npos || dot > e) {
    mantissa = is_digits(s, i, e);
  } else {
    const bool before = dot == i || is_digits(s, i, dot);
    const bool after = dot + 1 == e || is_digits(s, dot + 1, e);
    mantissa = before && after && (dot > i || dot + 1 < e);
  }
  if (!mantissa) return false;
  if (e == s.size()) return true;
  std::size_t x = e + 1;
  if (x < s.size() && (s[x] == '-' || s[x] == '+')) ++x;
  return is_digits(s, x, s.size());
}

// YAML -> JSON, keeping scalars' natural types; every problem recorded with
// the field's path and line.
class YamlToJson {
 public:
  explicit YamlToJson(std::vector<std::string>& problems) : problems_(problems) {}

  json convert(const YAML::Node& n, const std::string& path, int depth) {
    const std::string where = path.empty() ? "(top level)" : path;
    if (++nodes_ > kMaxNodes)
      throw InputError(fmt::format(
          "{} (line {}): the config has more than {} values (aliases expanded): a YAML alias "
          "bomb, or far more than a sweep needs",
          where, n.Mark().line + 1, kMaxNodes));
    if (depth > kMaxDepth)
      throw InputError(fmt::format("{} (line {}): nested more than {} levels deep", where,
                                   n.Mark().line + 1, kMaxDepth));
    switch (n.Type()) {
      case YAML::NodeType::Null:
        return nullptr;
      case YAML::NodeType::Scalar:
        return scalar(n, where);
      case YAML::NodeType::Sequence: {
        json a = json::array();
        std::size_t i = 0;
        for (const auto& e : n)
          a.push_back(convert(e, fmt::format("{}[{}]", path, i++), depth + 1));
        return a;
      }
      case YAML::NodeType::Map: {
        json o = json::object();
        for (const auto& kv : n) {
          const int line = kv.first.Mark().line + 1;
          if (!kv.first.IsScalar()) {
            problems_.push_back(fmt::format("{} (line {}): a key must be a plain string, got {}",
                                            where, line,
                                            kv.first.IsNull()       ? "nothing (null)"
                                            : kv.first.IsSequence() ? "a list"
                                                                    : "a mapping"));
            continue;
          }
          const std::string key = kv.first.Scalar();
          const std::string kpath = path.empty() ? key : path + "." + key;
          if (!text_ok(key, kpath, line)) continue;
          if (o.contains(key)) {
            problems_.push_back(fmt::format(
                "{} (line {}): given twice (YAML keeps only one of them silently; prh refuses)",
                kpath, line));
            continue;
          }
          o[key] = convert(kv.second, kpath, depth + 1);
        }
        return o;
      }
      default:
        return nullptr;
    }
  }

 private:
  // A scalar's text: at most kMaxScalar bytes, valid UTF-8.
  bool text_ok(const std::string& s, const std::string& where, int line) {
    if (s.size() > kMaxScalar) {
      problems_.push_back(
          fmt::format("{} (line {}): {} bytes long, longer than the {} a value may "
                      "have (starts '{}...')",
                      where, line, s.size(), kMaxScalar, s.substr(0, 40)));
      return false;
    }
    if (const auto i = s.find('\0'); i != std::string::npos) {
      problems_.push_back(fmt::format(
          "{} (line {}): holds a NUL byte (at {}); no path or name may hold one", where, line, i));
      return false;
    }
    if (const auto i = first_invalid_utf8(s); i != std::string::npos) {
      problems_.push_back(fmt::format(
          "{} (line {}): not valid UTF-8 (byte {} is 0x{:02x}: '{}'); prh records paths and names "
          "in UTF-8 (rename the file or folder)",
          where, line, i, static_cast<unsigned char>(s[i]), s));
      return false;
    }
    return true;
  }

  json scalar(const YAML::Node& n, const std::string& where) {
    const std::string s = n.Scalar();
    const int line = n.Mark().line + 1;
    if (!text_ok(s, where, line)) return nullptr;
    if (n.Tag() == "!") return s;  // quoted
    if (s == "true" || s == "True") return true;
    if (s == "false" || s == "False") return false;
    if (s == "null" || s == "~") return nullptr;
    if (is_integer(s)) {
      errno = 0;
      char* end = nullptr;
      const long long v = std::strtoll(s.c_str(), &end, 10);
      if (errno == ERANGE) {
        problems_.push_back(fmt::format(
            "{} (line {}): the integer {} is out of range (at most {} digits, |x| < 2^63)", where,
            line, s.size() > 40 ? s.substr(0, 40) + "..." : s, 18));
        return nullptr;
      }
      return static_cast<std::int64_t>(v);
    }
    if (is_number(s)) {
      errno = 0;
      const double v = std::strtod(s.c_str(), nullptr);
      if (errno == ERANGE && std::isinf(v)) {
        problems_.push_back(
            fmt::format("{} (line {}): the number {} is out of range (beyond "
                        "1.8e308)",
                        where, line, s.size() > 40 ? s.substr(0, 40) + "..." : s));
        return nullptr;
      }
      return v;  // underflow to 0 or a subnormal: a number all the same
    }
    return s;
  }

  std::vector<std::string>& problems_;
  std::size_t nodes_ = 0;
};

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
    const json* v = typed(key, required, "a string", &json::is_string);
    if (!v) return def;
    std::string s = v->get<std::string>();
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
    const json* v = typed(key, required, "an integer", &json::is_number_integer);
    if (!v) return def;
    const auto x = v->get<std::int64_t>();
    return in_range(key, x, lo, hi) ? x : def;
  }

  double number(const std::string& key, double def, double lo, double hi) {
    const json* v = typed(key, false, "a number", &json::is_number);
    if (!v) return def;
    const double x = v->get<double>();
    return in_range(key, x, lo, hi) ? x : def;
  }

  bool boolean(const std::string& key, bool def) {
    const json* v = typed(key, false, "true or false", &json::is_boolean);
    return v ? v->get<bool>() : def;
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
  // The value at key when it is present and `is` of it holds; else null, with
  // a problem when it is required but absent ("required (a string)") or of
  // another type ("must be a string, got ...").
  const json* typed(const std::string& key, bool required, const char* a,
                    bool (json::*is)() const noexcept) {
    if (!has(key)) {
      if (required) problems_.push_back(fmt::format("{}: required ({})", path(key), a));
      return nullptr;
    }
    const json& v = obj_.at(key);
    if (!(v.*is)()) {
      problems_.push_back(fmt::format("{}: must be {}, got {}", path(key), a, type_name(v)));
      return nullptr;
    }
    return &v;
  }

  // Whether lo <= x <= hi (false for NaN), with a problem if not.
  template <typename T>
  bool in_range(const std::string& key, T x, T lo, T hi) {
    if (x >= lo && x <= hi) return true;
    problems_.push_back(fmt::format("{}: must be in [{}, {}], got {}", path(key), lo, hi, x));
    return false;
  }

  const json& obj_;
  std::string where_;
  std::vector<std::string>& problems_;
  std::set<std::string> seen_;
};

// Names become HDF5 group names and directory names (the parts of job
// arrays): no '/', and not '.' or '..' (or any name of dots only).
constexpr std::size_t kMaxName = 128;  // characters of a name

// Letters, digits, '_', '.', '-', not dots only, at most kMaxName long.
bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxName) return false;
  bool dots_only = true;
  for (const char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
    dots_only = dots_only && c == '.';
  }
  return !dots_only;
}

// Largest count, offset, limit or seed a source or sweep accepts.
constexpr std::int64_t kBig = kMaxSourceInteger;

// `where`.name: required, a valid name, not used before by a `kind` (set,
// model, sweep) of this config.
std::string name_field(Fields& f, const std::string& where, const std::string& kind,
                       std::set<std::string>& names, std::vector<std::string>& problems) {
  const std::string name = f.str("name", "", true);
  if (!name.empty() && !valid_name(name))
    problems.push_back(fmt::format(
        "{}.name: '{}' may hold only letters, digits, '_', '.', '-' (not dots only), at most {} "
        "characters",
        where, name.size() > 60 ? name.substr(0, 60) + "..." : name, kMaxName));
  if (!name.empty() && !names.insert(kind + ":" + name).second)
    problems.push_back(fmt::format("{}.name: '{}' is used twice", where, name));
  return name;
}

// A list of metric configurations as written ("mutual_knn:k=10").
std::vector<std::string> metric_list(const json& node, const std::string& where,
                                     std::vector<std::string>& problems) {
  std::vector<std::string> out;
  if (!node.is_array()) {
    problems.push_back(where + ": must be a list of metric configurations");
    return out;
  }
  for (const auto& e : node) {
    if (!e.is_string())
      problems.push_back(fmt::format("{}: entries must be strings like 'mutual_knn:k=10', got {}",
                                     where, type_name(e)));
    else
      out.push_back(e.get<std::string>());
  }
  return out;
}

// A number in (0, 1) (a confidence, a level); `def` if it is not one.
double open_unit(const json& v, const std::string& where, double def,
                 std::vector<std::string>& problems) {
  if (!v.is_number()) {
    problems.push_back(fmt::format("{}: must be a number, got {}", where, type_name(v)));
    return def;
  }
  const double x = v.get<double>();
  if (!(x > 0.0 && x < 1.0)) {
    problems.push_back(fmt::format("{}: must be in (0, 1), got {}", where, x));
    return def;
  }
  return x;
}

// --- Sweeps: families of image sets generated from one base -------------------

// A family: the source kind that makes one level and the field of that kind
// its level goes to (whose declaration, source_kinds.hpp, gives the levels'
// type and range). A new family is a row here plus its source kind;
// later stages group sets by the recorded (sweep, family, level), never by
// family name.
struct Family {
  const char* name;
  const char* kind;
  const char* level_key;
  const SourceField& level() const { return find_source_kind(kind)->field(level_key); }
};
const Family kFamilies[] = {
    {"blend", "blend", "alpha"},
    {"patch_shuffle", "patch_shuffle", "patch"},
    {"phase_scramble", "phase_scramble", "amount"},
    {"subsample", "subsample", "count"},
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
  if (spec.contains("count")) {  // noise, shapes, patches
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

// One sweep as read, before its sets are generated.
struct SweepDraft {
  SweepSpec spec;
  const ImageSet* base = nullptr;  // among the listed sets
  const Family* family = nullptr;
  std::int64_t limit = 0, seed = 0;
  json extra = json::object();  // family parameters shared by every level
  std::vector<json> levels;
};

// The listed set (one of the first `listed`) a sweep starts from, or null.
const ImageSet* find_base(const Sweep& s, std::size_t listed, const std::string& name,
                          const std::string& where, std::vector<std::string>& problems) {
  const ImageSet* base = nullptr;
  for (std::size_t k = 0; k < listed; ++k)
    if (s.image_sets[k].name == name) base = &s.image_sets[k];
  if (!name.empty() && !base) {
    std::string known;
    for (std::size_t k = 0; k < listed; ++k)
      known += (known.empty() ? "" : ", ") + s.image_sets[k].name;
    problems.push_back(fmt::format(
        "{}.base: '{}' is not an image set of this config (image_sets: {})", where, name, known));
  }
  return base;
}

// levels[j] of a sweep of family `fam`, canonical; null json if it is not one.
json parse_level(const json& e, const Family& fam, const std::string& at,
                 std::vector<std::string>& problems) {
  const SourceField& lv = fam.level();
  if (lv.type == FieldType::kInteger) {
    if (e.is_number_integer() && e.get<std::int64_t>() >= lv.int_min &&
        e.get<std::int64_t>() <= lv.int_max)
      return e.get<std::int64_t>();
    problems.push_back(fmt::format("{}: a {} level is a {}, an integer in [{}, {}], got {}", at,
                                   fam.name, lv.doc, lv.int_min, lv.int_max,
                                   e.is_number() ? e.dump() : type_name(e)));
    return nullptr;
  }
  if (e.is_number() && e.get<double>() >= lv.num_min && e.get<double>() <= lv.num_max)
    return e.get<double>();
  problems.push_back(fmt::format("{}: a {} level is a number in [{}, {}], got {}", at, fam.name,
                                 lv.num_min, lv.num_max, e.is_number() ? e.dump() : type_name(e)));
  return nullptr;
}

// A sweep's levels: a non-empty list, each valid for the family and listed once.
std::vector<json> parse_levels(const json* lv, const Family* fam, const std::string& where,
                               std::vector<std::string>& problems) {
  std::vector<json> levels;
  if (!lv) {
    problems.push_back(fmt::format("{}.levels: required (a non-empty list)", where));
    return levels;
  }
  if (!lv->is_array() || lv->empty()) {
    problems.push_back(fmt::format("{}.levels: must be a non-empty list, got {}", where,
                                   lv->is_array() ? "an empty list" : type_name(*lv)));
    return levels;
  }
  if (!fam) return levels;
  std::set<std::string> seen;
  for (std::size_t j = 0; j < lv->size(); ++j) {
    const std::string at = fmt::format("{}.levels[{}]", where, j);
    const json level = parse_level((*lv)[j], *fam, at, problems);
    if (level.is_null()) continue;
    if (!seen.insert(level_text(level)).second) {
      problems.push_back(fmt::format("{}: level {} is listed twice", at, level_text(level)));
      continue;
    }
    levels.push_back(level);
  }
  return levels;
}

// Reads sweeps[i] (`listed`: how many sets the config lists; only those may be bases).
SweepDraft read_sweep(const json& node, const std::string& where, std::size_t listed,
                      const Sweep& s, std::set<std::string>& names,
                      std::vector<std::string>& problems) {
  Fields f(node, where, problems);
  SweepDraft d;
  d.spec.name = name_field(f, where, "sweep", names, problems);
  d.spec.base = f.str("base", "", true);
  d.base = find_base(s, listed, d.spec.base, where, problems);
  std::vector<std::string> family_names;
  for (const auto& fam : kFamilies) family_names.emplace_back(fam.name);
  d.spec.family = f.str("family", "", true, family_names);
  d.family = find_family(d.spec.family);
  d.limit = f.integer("limit", 0, 0, kBig);
  d.seed = f.integer("seed", 0, 0, kBig);
  if (const json* rb = f.node("relative_breaking"))
    d.spec.relative_breaking =
        open_unit(*rb, where + ".relative_breaking", d.spec.relative_breaking, problems);
  if (d.family && std::string(d.family->name) == "blend") {
    // The blend kind's own fields (source_kinds.hpp); `noise` names its distribution.
    const SourceKind& blend = *find_source_kind("blend");
    const SourceField& dist = blend.field("distribution");
    d.extra["distribution"] = f.str("noise", dist.text_default, false, dist.choices);
    for (const char* key : {"mean", "std"}) {
      const SourceField& x = blend.field(key);
      d.extra[key] = f.number(key, x.num_default, x.num_min, x.num_max);
    }
  }
  d.levels = parse_levels(f.node("levels"), d.family, where, problems);
  f.finish();
  return d;
}

// Generates a sweep's image sets into s.image_sets and records the sweep.
void expand_sweep(SweepDraft d, const std::string& where, Sweep& s, std::set<std::string>& names,
                  std::vector<std::string>& problems) {
  SweepSpec& sw = d.spec;
  sw.levels = d.levels;
  const json base_spec = d.limit > 0 ? limited(d.base->source.spec, d.limit) : d.base->source.spec;
  for (std::size_t j = 0; j < d.levels.size(); ++j) {
    ImageSet g;
    g.name = fmt::format("{}@{}={}", sw.base, sw.family, level_text(d.levels[j]));
    json node_j = d.extra;
    node_j["kind"] = d.family->kind;
    node_j["base"] = base_spec;
    node_j[d.family->level_key] = d.levels[j];
    node_j["seed"] = d.seed;
    g.source = parse_source(node_j, fmt::format("{}.levels[{}]", where, j), problems);
    g.sweep = SweepLevel{sw.name, sw.family, sw.base, d.levels[j], static_cast<int>(j)};
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

// The sweeps: each generates its image sets after the listed ones.
void parse_sweeps(const json& node, Sweep& s, std::set<std::string>& names,
                  std::vector<std::string>& problems) {
  if (!node.is_array()) {
    problems.push_back(fmt::format(
        "sweeps: must be a list of {{name, base, family, levels}}, got {}", type_name(node)));
    return;
  }
  const std::size_t listed = s.image_sets.size();
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string where = fmt::format("sweeps[{}]", i);
    SweepDraft d = read_sweep(node[i], where, listed, s, names, problems);
    // Expanded only from a config without problems so far (the base's spec is
    // then canonical).
    if (!problems.empty() || !d.base || !d.family) continue;
    expand_sweep(std::move(d), where, s, names, problems);
  }
}

// --- Sources (their fields: config/source_kinds.hpp) ---------------------------

// A list of integers (idx `classes`); [] when absent.
json int_list(Fields& f, const char* key, const std::string& where,
              std::vector<std::string>& problems) {
  json out = json::array();
  const json* c = f.node(key);
  if (!c) return out;
  if (!c->is_array()) {
    problems.push_back(fmt::format("{}.{}: must be a list of integers", where, key));
    return out;
  }
  for (const auto& e : *c) {
    if (!e.is_number_integer())
      problems.push_back(fmt::format("{}.{}: must be a list of integers", where, key));
    else
      out.push_back(e);
  }
  return out;
}

// A non-empty list of paths (patches `files`).
json path_list(Fields& f, const SourceField& d, const std::string& where,
               std::vector<std::string>& problems) {
  json out = json::array();
  const json* fl = f.node(d.key);
  if (!fl)
    problems.push_back(fmt::format("{}.{}: required (a list of {})", where, d.key, d.doc));
  else if (!fl->is_array() || fl->empty())
    problems.push_back(fmt::format("{}.{}: must be a non-empty list of image paths", where, d.key));
  else
    for (const auto& e : *fl) {
      if (!e.is_string() || e.get<std::string>().empty())
        problems.push_back(
            fmt::format("{}.{}: must be a list of image paths, got {}", where, d.key, e.dump()));
      else
        out.push_back(e);
    }
  return out;
}

// One declared field into the canonical spec s: its value, or its default.
void read_field(const SourceField& d, Fields& f, json& s, const std::string& where,
                std::vector<std::string>& problems) {
  switch (d.type) {
    case FieldType::kString:
      s[d.key] = f.str(d.key, d.text_default, d.required, d.choices);
      break;
    case FieldType::kInteger:
      s[d.key] = f.integer(d.key, d.int_default, d.int_min, d.int_max, d.required);
      break;
    case FieldType::kNumber:
      s[d.key] = f.number(d.key, d.num_default, d.num_min, d.num_max);
      break;
    case FieldType::kIntList:
      s[d.key] = int_list(f, d.key, where, problems);
      break;
    case FieldType::kPathList:
      s[d.key] = path_list(f, d, where, problems);
      break;
    case FieldType::kSource:
      if (const json* base = f.node(d.key))
        s[d.key] = parse_source(*base, where + "." + d.key, problems).spec;
      else
        problems.push_back(fmt::format("{}.{}: required ({})", where, d.key, d.doc));
      break;
  }
}

// The checks that tie a kind's fields together (the table declares each alone).
void check_source(const std::string& kind, const json& node, const json& s,
                  const std::string& where, std::vector<std::string>& problems) {
  if (kind == "idx" && node.contains("classes") && !node["classes"].is_null() &&
      s["labels"].get<std::string>().empty())
    problems.push_back(fmt::format("{}.classes: needs {}.labels", where, where));
  if (kind == "noise") {
    const auto h = s["height"].get<std::int64_t>(), w = s["width"].get<std::int64_t>();
    if (h * w > kMaxImagePixels)
      problems.push_back(fmt::format("{}: images of {} x {} pixels: at most {} pixels an image",
                                     where, h, w, kMaxImagePixels));
    if (s["channels"] == 2) problems.push_back(fmt::format("{}.channels: must be 1 or 3", where));
  }
  if (kind == "patches" && s["min_crop"].get<std::int64_t>() > s["max_crop"].get<std::int64_t>())
    problems.push_back(fmt::format("{}: min_crop {} is larger than max_crop {}", where,
                                   s["min_crop"].get<std::int64_t>(),
                                   s["max_crop"].get<std::int64_t>()));
}

// --- The config's sections ----------------------------------------------------

void throw_problems(const std::vector<std::string>& problems, const std::string& origin) {
  if (problems.empty()) return;
  std::string msg = fmt::format("{}: {} problem{} in the config:", origin, problems.size(),
                                problems.size() == 1 ? "" : "s");
  for (const auto& p : problems) msg += "\n  - " + p;
  throw InputError(msg);
}

json load_yaml(const std::string& text, const std::string& origin) {
  YAML::Node doc;
  std::size_t documents = 0;
  try {
    doc = load_first_yaml_document(text, documents);  // not LoadAll: it can loop forever
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}: not valid YAML: {}", origin, e.what()));
  }
  PRH_CHECK_INPUT(documents <= 1,
                  "{}: holds {} YAML documents (separated by '---'); a config is one document, "
                  "and prh would silently ignore the others",
                  origin, documents);
  if (documents == 0) return nullptr;
  std::vector<std::string> problems;
  json out;
  try {
    out = YamlToJson(problems).convert(doc, "", 0);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", origin, e.what()));
  }
  throw_problems(problems, origin);
  return out;
}

// An output path the file system can hold: every folder or file name of at
// most 255 bytes (NAME_MAX). Checked before anything is created, so that
// embed never leaves a stray folder behind a path it cannot finish.
void check_output_path(const std::string& field, const std::string& path,
                       std::vector<std::string>& problems) {
  std::size_t from = 0;
  while (from <= path.size()) {
    auto slash = path.find('/', from);
    if (slash == std::string::npos) slash = path.size();
    if (slash - from > 255) {
      problems.push_back(fmt::format(
          "{}: a folder or file name of {} bytes (starts '{}...'); at most 255 (NAME_MAX)", field,
          slash - from, path.substr(from, 40)));
      return;
    }
    from = slash + 1;
  }
}

// Where the files go and how the embedding runs.
void parse_embedding(Fields& f, Sweep& s, std::vector<std::string>& problems) {
  s.store = f.str("store", "", true);
  check_output_path("store", s.store, problems);
  s.results = f.str("results", "");
  check_output_path("results", s.results, problems);
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
  // Default: on whenever every layer pair is scored anyway (no extra cost).
  s.layer_profile = f.boolean("layer_profile", !s.last_layer_only);
}

Preprocess parse_preprocess(const json& node, std::vector<std::string>& problems) {
  Preprocess p;
  Fields pf(node, "preprocess", problems);
  p.clamp = pf.boolean("clamp", true);
  p.q = pf.number("q", 0.95, 1e-9, 1.0);
  p.exact = pf.boolean("exact", false);
  p.normalize = pf.boolean("normalize", true);
  pf.finish();
  return p;
}

// correlations: a non-empty list of distinct methods; s.correlations is kept
// when the value is not a list.
void parse_correlations(const json& c, Sweep& s, std::vector<std::string>& problems) {
  static const std::vector<std::string> kMethods{"spearman", "pearson", "kendall"};
  if (!c.is_array() || c.empty()) {
    problems.push_back(
        fmt::format("correlations: must be a non-empty list of spearman, pearson, kendall, got {}",
                    c.is_array() ? "an empty list" : type_name(c)));
    return;
  }
  std::vector<std::string> methods;
  for (const auto& e : c) {
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

Calibration parse_calibration(const json& node, std::vector<std::string>& problems) {
  Calibration cal;
  Fields cf(node, "calibration", problems);
  cal.permutations = static_cast<int>(cf.integer("permutations", 0, 1, 1 << 24, /*required=*/true));
  if (const json* a = cf.node("alpha"))
    cal.alpha = open_unit(*a, "calibration.alpha", cal.alpha, problems);
  cal.seed = static_cast<std::uint64_t>(cf.integer("seed", 0, 0, std::int64_t{1} << 62));
  if (const json* m = cf.node("metrics"))
    cal.metrics = metric_list(*m, "calibration.metrics", problems);
  cf.finish();
  return cal;
}

// The metric configurations, correlations, statistics and calibration.
void parse_reduction(Fields& f, Sweep& s, std::vector<std::string>& problems) {
  if (const json* p = f.node("preprocess")) s.preprocess = parse_preprocess(*p, problems);
  if (const json* m = f.node("metrics")) s.metrics = metric_list(*m, "metrics", problems);
  if (const json* c = f.node("correlations")) parse_correlations(*c, s, problems);
  s.bootstrap = static_cast<int>(f.integer("bootstrap", 1000, 0, 1 << 30));
  s.mantel = static_cast<int>(f.integer("mantel", 999, 0, 1 << 30));
  if (const json* c = f.node("confidence"))
    s.confidence = open_unit(*c, "confidence", s.confidence, problems);
  if (const json* c = f.node("calibration")) s.calibration = parse_calibration(*c, problems);
  s.reduce_device = f.str("reduce_device", "cpu", false, {"cpu", "cuda"});
}

ImageSet parse_image_set(const json& node, std::size_t i, std::set<std::string>& names,
                         std::vector<std::string>& problems) {
  const std::string where = fmt::format("image_sets[{}]", i);
  Fields sf(node, where, problems);
  ImageSet is;
  is.name = name_field(sf, where, "set", names, problems);
  if (const json* src = sf.node("source"))
    is.source = parse_source(*src, where + ".source", problems);
  else
    problems.push_back(fmt::format("{}.source: required", where));
  sf.finish();
  return is;
}

Model parse_model(const json& node, std::size_t i, std::set<std::string>& names,
                  std::vector<std::string>& problems) {
  const std::string where = fmt::format("models[{}]", i);
  Fields mf(node, where, problems);
  Model m;
  m.name = name_field(mf, where, "model", names, problems);
  if (mf.has("features")) {
    // Imported features: a mapping image set -> file; no model file.
    const json& fm = node.at("features");
    if (!fm.is_object() || fm.empty())
      problems.push_back(
          fmt::format("{}.features: must be a non-empty mapping of image set -> feature file "
                      "(FILE.h5:/dataset, FILE.npy or FILE.pt), got {}",
                      where, fm.is_object() ? "an empty mapping" : type_name(fm)));
    else
      for (const auto& [set, v] : fm.items()) {
        const std::string at = fmt::format("{}.features.{}", where, set);
        if (!v.is_string() || v.get<std::string>().empty()) {
          problems.push_back(fmt::format("{}: must be a non-empty string (a feature file)", at));
          continue;
        }
        const std::string spec = v.get<std::string>();
        const std::string ext = std::filesystem::path(spec).extension().string();
        if (ext != ".npy" && ext != ".pt" && ext != ".pth" && spec.rfind(":/") == std::string::npos)
          problems.push_back(fmt::format(
              "{}: '{}' is not a feature file: give FILE.h5:/dataset (HDF5), FILE.npy (NumPy) "
              "or FILE.pt (torch.save of {{\"feats\": tensor}})",
              at, spec));
        m.features[set] = spec;
      }
    if (mf.has("path"))
      problems.push_back(
          fmt::format("{}: give either path (a TorchScript model) or features "
                      "(imported features), not both",
                      where));
    if (mf.has("sidecar"))
      problems.push_back(
          fmt::format("{}.sidecar: a model with imported features has no sidecar", where));
  } else {
    m.path = mf.str("path", "", true);  // or features: (docs/config.md)
    m.sidecar = mf.str("sidecar", "");
    if (m.sidecar.empty() && !m.path.empty())
      m.sidecar = std::filesystem::path(m.path).replace_extension(".yaml").string();
  }
  m.training_data = mf.str("training_data", "");
  m.family = mf.str("family", "");
  m.objective = mf.str("objective", "");
  mf.finish();
  return m;
}

// A non-empty list at `node`, or null (a problem recorded with `required`).
const json* nonempty_list(const json* node, const char* required,
                          std::vector<std::string>& problems) {
  if (node && node->is_array() && !node->empty()) return node;
  problems.push_back(required);
  return nullptr;
}

// The image sets, the sweeps' generated sets after them, and the models;
// names unique within each kind.
void parse_inputs(Fields& f, Sweep& s, std::vector<std::string>& problems) {
  std::set<std::string> names;
  if (const json* sets =
          nonempty_list(f.node("image_sets"),
                        "image_sets: required (a non-empty list of {name, source})", problems))
    for (std::size_t i = 0; i < sets->size(); ++i)
      s.image_sets.push_back(parse_image_set((*sets)[i], i, names, problems));
  if (const json* sweeps = f.node("sweeps")) parse_sweeps(*sweeps, s, names, problems);
  if (const json* models = nonempty_list(
          f.node("models"), "models: required (a non-empty list of {name, path})", problems))
    for (std::size_t i = 0; i < models->size(); ++i)
      s.models.push_back(parse_model((*models)[i], i, names, problems));
  // Imported features name image sets of this config (listed or generated).
  std::set<std::string> sets;
  for (const auto& is : s.image_sets) sets.insert(is.name);
  for (std::size_t i = 0; i < s.models.size(); ++i)
    for (const auto& [set, file] : s.models[i].features)
      if (!sets.count(set)) {
        std::string list;
        for (const auto& is : s.image_sets) list += (list.empty() ? "" : ", ") + is.name;
        problems.push_back(fmt::format("models[{}].features.{}: no image set '{}' (image sets: {})",
                                       i, set, set, list));
      }
}

// Every problem at once, one a line.

}  // namespace

SourceSpec parse_source(const json& node, const std::string& where,
                        std::vector<std::string>& problems) {
  SourceSpec out;
  Fields f(node, where, problems);
  out.kind = f.str("kind", "", true, source_kind_names());
  json& s = out.spec;
  s["kind"] = out.kind;
  if (const SourceKind* kind = find_source_kind(out.kind)) {
    for (const auto& d : kind->fields) read_field(d, f, s, where, problems);
    check_source(out.kind, node, s, where, problems);
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
  if (m.imported()) return {{"name", m.name}, {"features", m.features}};
  return {{"name", m.name}, {"path", m.path}, {"sidecar", m.sidecar}};
}

Sweep parse(const std::string& text, const std::string& origin) {
  const json j = load_yaml(text, origin);
  std::vector<std::string> problems;
  Sweep s;
  s.file = origin;
  Fields f(j, "", problems);
  parse_embedding(f, s, problems);
  parse_reduction(f, s, problems);
  parse_inputs(f, s, problems);
  f.finish();
  throw_problems(problems, origin);
  return s;
}

Sweep load(const std::string& path) {
  return parse(read_text(path, "config file", kMaxConfigBytes), path);
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
