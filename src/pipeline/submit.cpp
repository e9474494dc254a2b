#include "prh/pipeline/submit.hpp"

#include <unistd.h>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <regex>
#include <sstream>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "prh/core/error.hpp"
#include "prh/core/files.hpp"

namespace prh::pipeline {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// The program NAME on PATH, or "".
std::string find_program(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path p = fs::path(dir) / name;
    if (::access(p.c_str(), X_OK) == 0 && fs::is_regular_file(p)) return p.string();
  }
  return "";
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs argv through the shell; returns (exit status, stdout). stderr passes through.
std::pair<int, std::string> capture(const std::vector<std::string>& argv, bool merge_stderr) {
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + quote(a);
  if (merge_stderr) cmd += " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {-1, ""};
  std::string out;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int st = ::pclose(p);
  const int rc = st == -1 ? -1 : (WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
  return {rc, out};
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// "--key=value", "--key value", "-p value" -> "--key" / "-p".
std::string option_key(const std::string& opt) {
  const auto e = opt.find_first_of("= \t");
  return e == std::string::npos ? opt : opt.substr(0, e);
}

// A value written into a job script's #SBATCH line: one line, no control
// characters (a newline would inject a command into every job script).
void check_one_line(const std::string& flag, const std::string& value) {
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    PRH_CHECK_INPUT(c >= 0x20 && c != 0x7F,
                    "{} '{}': holds a {} (byte 0x{:02x}); an sbatch option is one line of text",
                    flag, value, c == '\n' || c == '\r' ? "line break" : "control character", c);
  }
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// SLURM's time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S, or UNLIMITED /
// infinite.
bool slurm_time(const std::string& t) {
  if (t == "UNLIMITED" || t == "unlimited" || t == "infinite" || t == "INFINITE") return true;
  std::string rest = t;
  bool days = false;
  if (const auto dash = t.find('-'); dash != std::string::npos) {
    if (!all_digits(t.substr(0, dash))) return false;
    rest = t.substr(dash + 1);
    days = true;
  }
  std::vector<std::string> parts;
  std::size_t from = 0;
  while (true) {
    const auto colon = rest.find(':', from);
    parts.push_back(
        rest.substr(from, colon == std::string::npos ? std::string::npos : colon - from));
    if (colon == std::string::npos) break;
    from = colon + 1;
  }
  if (parts.size() > 3) return false;
  for (const auto& p : parts)
    if (!all_digits(p) || p.size() > 9) return false;
  return !days || !parts.empty();
}

void check_time(const std::string& flag, const std::string& t) {
  PRH_CHECK_INPUT(slurm_time(t),
                  "{} '{}': not a SLURM time (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, "
                  "D-HH:MM:SS or UNLIMITED)",
                  flag, t);
}

std::string normalize_sbatch_line(std::string line) {
  check_one_line("--sbatch", line);
  line = trim(line);
  if (line.rfind("#SBATCH", 0) == 0) line = trim(line.substr(7));
  PRH_CHECK_INPUT(!line.empty() && line[0] == '-',
                  "--sbatch '{}': expected an sbatch option such as --qos=normal", line);
  const std::string key = option_key(line);
  if (key == "--time" || key == "-t" || key == "--time-min") {
    const auto e = line.find_first_of("= \t");
    check_time("--sbatch " + key, e == std::string::npos ? "" : trim(line.substr(e + 1)));
  }
  return line;
}

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  std::array<char, 64> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%S%z", &tm);
  return buf.data();
}

std::string self_exe() {
  std::error_code ec;
  const auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("prh") : p.string();
}

// `scontrol show job -o ID` as key -> value.
std::map<std::string, std::string> parse_job(const std::string& text) {
  std::map<std::string, std::string> kv;
  std::stringstream ss(text);
  std::string tok;
  while (ss >> tok) {
    const auto e = tok.find('=');
    if (e != std::string::npos && !kv.count(tok.substr(0, e)))
      kv[tok.substr(0, e)] = tok.substr(e + 1);
  }
  return kv;
}

// Every record of `scontrol show job -o ID`: one line per job, or per task
// (and pending remainder) of a job array.
std::vector<std::map<std::string, std::string>> parse_jobs(const std::string& text) {
  std::vector<std::map<std::string, std::string>> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    auto kv = parse_job(line);
    if (kv.count("JobState")) out.push_back(std::move(kv));
  }
  return out;
}

// Tasks named by an ArrayTaskId value: "3", "0-7", "2-5%2", "1,3-4".
int count_tasks(std::string ids) {
  ids = ids.substr(0, ids.find('%'));
  int n = 0;
  std::stringstream ss(ids);
  std::string part;
  while (std::getline(ss, part, ',')) {
    const auto dash = part.find('-');
    try {
      n += dash == std::string::npos
               ? 1
               : std::stoi(part.substr(dash + 1)) - std::stoi(part.substr(0, dash)) + 1;
    } catch (const std::exception&) {
      n += 1;
    }
  }
  return n;
}

bool running_or_done(const std::string& state) {
  return state == "COMPLETED" || state == "RUNNING" || state == "COMPLETING" ||
         state == "CONFIGURING" || state == "REQUEUED";
}

}  // namespace

std::pair<int, int> parse_array(const std::string& spec) {
  static const std::regex re(R"(^([0-9]{1,6})(%([0-9]{1,6}))?$)");
  std::smatch m;
  PRH_CHECK_INPUT(std::regex_match(spec, m, re) && std::stoi(m[1]) > 0 &&
                      (!m[3].matched || std::stoi(m[3]) > 0),
                  "--array '{}': expected the number of tasks N, or N%M to run at most M at once "
                  "(N, M >= 1)",
                  spec);
  return {std::stoi(m[1]), m[3].matched ? std::stoi(m[3]) : 0};
}

std::string jobs_record_path(const std::string& store) {
  return store + ".jobs.json";
}

std::string render_job(const std::string& template_text, const std::vector<std::string>& sbatch,
                       const std::vector<std::string>& exports) {
  std::vector<std::string> lines;
  {
    std::stringstream ss(template_text);
    std::string l;
    while (std::getline(ss, l)) lines.push_back(l);
  }
  std::vector<std::string> keys;
  for (const auto& o : sbatch) keys.push_back(option_key(o));
  // The leading block: the shebang, #SBATCH lines, comments and blank lines up
  // to the first command (sbatch reads #SBATCH lines only there).
  std::vector<std::string> out;
  std::size_t i = 0, last_sbatch = 0;
  bool any = false;
  for (; i < lines.size(); ++i) {
    const std::string t = trim(lines[i]);
    if (i == 0 && t.rfind("#!", 0) == 0) {
      out.push_back(lines[i]);
      continue;
    }
    if (!t.empty() && t[0] != '#') break;
    if (t.rfind("#SBATCH", 0) == 0) {
      const std::string opt = trim(t.substr(7));
      bool overridden = false;
      for (const auto& k : keys) overridden = overridden || option_key(opt) == k;
      if (overridden) continue;  // the option given wins over the template's default
      out.push_back(lines[i]);
      last_sbatch = out.size();
      any = true;
      continue;
    }
    out.push_back(lines[i]);
  }
  if (!any) last_sbatch = out.empty() ? 0 : 1;
  std::vector<std::string> added;
  for (const auto& o : sbatch) added.push_back("#SBATCH " + o);
  out.insert(out.begin() + static_cast<std::ptrdiff_t>(last_sbatch), added.begin(), added.end());
  out.push_back("# Added by prh submit:");
  for (const auto& e : exports) out.push_back(e);
  for (; i < lines.size(); ++i) out.push_back(lines[i]);
  std::string text;
  for (const auto& l : out) text += l + "\n";
  return text;
}

namespace {

// One job of the chain: its script, log pattern and the script's text.
struct Job {
  std::string name, script, log, text;
};

// What a submission needs, resolved and checked once.
struct Chain {
  fs::path jobs_dir, dir;  // the templates; where scripts and logs go
  std::string config, store, prh, cwd;
  std::vector<std::string> common, compute;  // sbatch options of every job / of the compute jobs
  std::vector<std::string> exports;
  int array_tasks = 0, array_limit = 0;
};

// The job templates: --jobs-dir, else jobs/ in the working directory (the
// source tree) when it holds them, else those installed beside this prh
// (P/bin/prh: P/share/prh/jobs).
fs::path default_jobs_dir() {
  if (fs::is_regular_file(fs::path("jobs") / "embed.sbatch")) return "jobs";
  const fs::path installed =
      fs::path(self_exe()).parent_path().parent_path() / "share" / "prh" / "jobs";
  return fs::is_regular_file(installed / "embed.sbatch") ? installed : fs::path("jobs");
}

Chain resolve(const config::Sweep& sweep, const SubmitOptions& opt) {
  Chain c;
  c.jobs_dir = fs::absolute(opt.jobs_dir.empty() ? default_jobs_dir() : fs::path(opt.jobs_dir));
  for (const char* n : {"embed.sbatch", "reduce.sbatch", "report.sbatch"})
    PRH_CHECK_INPUT(fs::is_regular_file(c.jobs_dir / n),
                    "job template {} not found: run prh submit from the prh source tree, use an "
                    "installed prh (P/share/prh/jobs) or give --jobs-dir DIR (the tree's jobs/ "
                    "directory)",
                    (c.jobs_dir / n).string());
  c.config = fs::absolute(opt.config).lexically_normal().string();
  const fs::path store = fs::absolute(sweep.store).lexically_normal();
  c.store = store.string();
  c.dir = store.parent_path() / "slurm";
  c.prh = fs::absolute(opt.prh.empty() ? self_exe() : opt.prh).string();
  PRH_CHECK_INPUT(::access(c.prh.c_str(), X_OK) == 0, "--prh {}: not an executable file", c.prh);
  const fs::path tools = (c.jobs_dir.parent_path() / "tools").lexically_normal();
  c.cwd = fs::current_path().string();

  check_one_line("--partition", opt.partition);
  check_one_line("--account", opt.account);
  check_one_line("--time", opt.time);
  if (!opt.time.empty()) check_time("--time", opt.time);
  c.common.push_back("--chdir=" + c.cwd);
  if (!opt.partition.empty()) c.common.push_back("--partition=" + opt.partition);
  if (!opt.account.empty()) c.common.push_back("--account=" + opt.account);
  for (const auto& l : opt.sbatch_lines) c.common.push_back(normalize_sbatch_line(l));
  if (!opt.time.empty()) c.compute.push_back("--time=" + opt.time);
  if (opt.nodes > 0) c.compute.push_back(fmt::format("--nodes={}", opt.nodes));
  if (opt.ntasks > 0) c.compute.push_back(fmt::format("--ntasks={}", opt.ntasks));
  if (opt.gpus_per_node >= 0)
    c.compute.push_back(fmt::format("--gpus-per-node={}", opt.gpus_per_node));
  std::tie(c.array_tasks, c.array_limit) =
      opt.array.empty() ? std::pair<int, int>{0, 0} : parse_array(opt.array);
  c.exports = {"export PRH=${PRH:-" + quote(c.prh) + "}"};
  if (fs::is_directory(tools))
    c.exports.push_back("export PRH_TOOLS=${PRH_TOOLS:-" + quote(tools.string()) + "}");
  return c;
}

// The job `name` (embed, reduce, report) rendered from its template.
Job render(const Chain& c, const std::string& name, const SubmitOptions& opt) {
  Job j;
  j.name = name;
  j.script = (c.dir / (name + ".sbatch")).string();
  const bool array = c.array_tasks > 0 && name == "embed";
  j.log = (c.dir / ("prh-" + name + (array ? "-%A_%a.out" : "-%j.out"))).string();
  std::vector<std::string> opts = c.common;
  // Options that only ask for the compute stages' resources skip report.
  if (name != "report") opts.insert(opts.end(), c.compute.begin(), c.compute.end());
  std::vector<std::string> job_exports = c.exports;
  if (array) {
    opts.push_back(fmt::format("--array=0-{}{}", c.array_tasks - 1,
                               c.array_limit > 0 ? fmt::format("%{}", c.array_limit) : ""));
    if (opt.ntasks <= 0) opts.push_back("--ntasks=1");  // one rank per task by default
  }
  if (c.array_tasks > 0 && name == "reduce") job_exports.push_back("export PRH_MERGE=1");
  opts.insert(opts.begin(), "--output=" + j.log);
  j.text = render_job(read_text((c.jobs_dir / (name + ".sbatch")).string(), "job template"), opts,
                      job_exports);
  return j;
}

void print_dry_run(const std::vector<Job>& jobs, const std::string& config, std::ostream& out) {
  for (const auto& j : jobs) {
    out << fmt::format("# ===== {} (would be {}; sbatch --parsable{} {} {})\n", j.name, j.script,
                       j.name == "embed" ? "" : " --dependency=afterok:<previous>", j.script,
                       config);
    out << j.text;
  }
  out << "# dry run: nothing written or submitted\n";
}

// An sbatch that failed: cancels the jobs already submitted (`ids`) and says so.
[[noreturn]] void sbatch_failed(const Job& j, int rc, const std::string& output, bool numeric,
                                const std::vector<std::string>& ids) {
  std::string cancelled;
  if (!ids.empty()) {
    std::vector<std::string> sc = {find_program("scancel")};
    if (!sc[0].empty()) {
      sc.insert(sc.end(), ids.begin(), ids.end());
      capture(sc, true);
      cancelled = "; cancelled the jobs already submitted: ";
      for (const auto& x : ids) cancelled += x + " ";
    }
  }
  throw InputError(fmt::format("sbatch of the {} job failed (exit {}{}){}", j.name, rc,
                               numeric || output.empty() ? "" : ", output: " + output, cancelled));
}

// The log of job `id` from its pattern (%j, %A: the id; %a: every task).
std::string log_of(std::string log, const std::string& id) {
  if (log.find("%j") != std::string::npos) log.replace(log.find("%j"), 2, id);
  if (log.find("%A") != std::string::npos) log.replace(log.find("%A"), 2, id);
  if (log.find("%a") != std::string::npos) log.replace(log.find("%a"), 2, "*");
  return log;
}

// Submits the jobs in order, each after the previous one succeeded; returns
// the record of what was submitted.
json submit_chain(const std::vector<Job>& jobs, const Chain& c, const std::string& sbatch,
                  std::ostream& out) {
  json record = {{"config", c.config},     {"store", c.store},    {"prh", c.prh},
                 {"submitted", now_iso()}, {"submit_dir", c.cwd}, {"jobs", json::array()}};
  std::vector<std::string> ids;
  for (const auto& j : jobs) {
    std::vector<std::string> argv = {sbatch, "--parsable"};
    if (!ids.empty()) argv.push_back("--dependency=afterok:" + ids.back());
    argv.push_back(j.script);
    argv.push_back(c.config);
    const auto [rc, text] = capture(argv, false);
    std::string id = trim(text);
    id = id.substr(0, id.find(';'));
    const bool numeric = !id.empty() && id.find_first_not_of("0123456789") == std::string::npos;
    if (rc != 0 || !numeric) sbatch_failed(j, rc, trim(text), numeric, ids);
    ids.push_back(id);
    json entry = {{"name", j.name},           {"id", id},
                  {"script", j.script},       {"log_pattern", j.log},
                  {"log", log_of(j.log, id)}, {"submitted", now_iso()}};
    if (j.name == "embed" && c.array_tasks > 0) entry["array_tasks"] = c.array_tasks;
    record["jobs"].push_back(entry);
    out << j.name << " " << id << std::endl;
  }
  return record;
}

using Record = std::map<std::string, std::string>;

std::string field(const Record& r, const std::string& key, const std::string& def) {
  const auto it = r.find(key);
  return it == r.end() ? def : it->second;
}

// `scontrol show job -o ID`: its exit status and records, array tasks in
// task order (scontrol lists the newest first).
std::pair<int, std::vector<Record>> query_job(const std::string& scontrol, const std::string& id) {
  const auto [rc, text] = capture({scontrol, "show", "job", "-o", id}, true);
  auto records = parse_jobs(text);
  std::stable_sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
    auto first = [](const Record& r) {
      try {
        return r.count("ArrayTaskId") ? std::stol(r.at("ArrayTaskId")) : 0L;
      } catch (const std::exception&) {
        return 0L;
      }
    };
    return first(a) < first(b);
  });
  return {rc, records};
}

// A job array's line: its tasks' states counted; `failed` gets its failed
// tasks with their logs; `broken` (an earlier job failed) is updated.
std::string array_state(const std::vector<Record>& records, bool& broken,
                        std::vector<std::string>& failed) {
  std::map<std::string, int> counts;
  int tasks = 0, restarts = 0;
  bool never = false;
  for (const auto& r : records) {
    const std::string state = field(r, "JobState", "?"), reason = field(r, "Reason", "");
    const int n = count_tasks(field(r, "ArrayTaskId", "0"));
    tasks += n;
    counts[state] += n;
    never = never || reason == "DependencyNeverSatisfied" ||
            (state == "PENDING" && reason == "Dependency" && broken);
    try {
      restarts += std::stoi(field(r, "Restarts", "0"));
    } catch (const std::exception&) {
    }
    if (!running_or_done(state) && state != "PENDING")
      failed.push_back(fmt::format("    task {}: {} (exit {}, {}); log {}",
                                   field(r, "ArrayTaskId", "?"), state, field(r, "ExitCode", "?"),
                                   reason, field(r, "StdOut", "?")));
  }
  std::string shown;
  if (counts.size() == 1 && counts.count("COMPLETED")) {
    shown = fmt::format("COMPLETED (array of {})", tasks);
  } else if (never) {
    shown = fmt::format("will not run (dependency failed; array of {})", tasks);
  } else {
    shown = fmt::format("array of {}:", tasks);
    for (const auto& [st, n] : counts) shown += fmt::format(" {} {}", n, st);
  }
  if (restarts > 0) shown += fmt::format(", restarts {}", restarts);
  broken = broken || never || !failed.empty();
  return shown;
}

// A single job's state; `broken` (an earlier job failed) is updated.
std::string job_state(const Record& kv, bool& broken) {
  const std::string state = field(kv, "JobState", ""), reason = field(kv, "Reason", "");
  const std::string restarts = field(kv, "Restarts", "0");
  std::string shown;
  if (state == "PENDING" &&
      (reason == "DependencyNeverSatisfied" || (reason == "Dependency" && broken))) {
    shown = "will not run (dependency failed)";
    broken = true;
  } else if (state == "PENDING") {
    shown = fmt::format("PENDING ({})", reason);
  } else if (running_or_done(state)) {
    shown = state;
  } else {
    shown = fmt::format("{} (exit {}, {})", state, field(kv, "ExitCode", "?"), reason);
    broken = true;
  }
  if (restarts != "0") shown += fmt::format(", restarts {}", restarts);
  return shown;
}

// One job of the record, as a line (and its failed tasks).
void print_job(std::ostream& os, const json& j, const std::string& scontrol, bool& broken) {
  const std::string name = j.value("name", "?"), id = j.value("id", "?");
  const auto [rc, records] = query_job(scontrol, id);
  std::string log = j.value("log", "");
  if (rc != 0 || records.empty()) {
    os << fmt::format("  {:<7} {:<8} unknown to slurmctld (finished long ago?); log {}\n", name, id,
                      log);
    return;
  }
  if (j.contains("array_tasks") || records.size() > 1 || records[0].count("ArrayTaskId")) {
    std::vector<std::string> failed;
    const std::string shown = array_state(records, broken, failed);
    os << fmt::format("  {:<7} {:<8} {:<36} log {}\n", name, id, shown, log);
    for (const auto& f : failed) os << f << "\n";
    return;
  }
  const std::string out = field(records[0], "StdOut", "");
  if (!out.empty()) log = out;
  const std::string shown = job_state(records[0], broken);
  os << fmt::format("  {:<7} {:<8} {:<36} log {}\n", name, id, shown, log);
}

}  // namespace

void submit(const config::Sweep& sweep, const SubmitOptions& opt, std::ostream& out) {
  const Chain c = resolve(sweep, opt);
  std::vector<Job> jobs;
  for (const std::string name : {"embed", "reduce", "report"}) jobs.push_back(render(c, name, opt));
  if (opt.dry_run) {
    print_dry_run(jobs, c.config, out);
    return;
  }
  const std::string sbatch = find_program("sbatch");
  PRH_CHECK_INPUT(!sbatch.empty(),
                  "sbatch not found on PATH: prh submit needs a SLURM client (source your site's "
                  "environment, or slurm/local/start.sh's env.sh)");
  fs::create_directories(c.dir);
  for (const auto& j : jobs) {
    write_text_atomically(j.script, j.text);
    fs::permissions(j.script, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
  }
  const json record = submit_chain(jobs, c, sbatch, out);
  write_text_atomically(jobs_record_path(c.store), record.dump(2) + "\n");
}

void print_jobs(std::ostream& os, const std::string& store) {
  const std::string path = jobs_record_path(store);
  if (!fs::exists(path)) return;
  json record;
  try {
    record = json::parse(read_text(path, "jobs record"));
  } catch (const std::exception& e) {
    os << fmt::format("SLURM jobs: cannot read {}: {}\n", path, e.what());
    return;
  }
  os << fmt::format("SLURM jobs (submitted {}; {}):\n", record.value("submitted", "?"), path);
  const std::string scontrol = find_program("scontrol");
  if (scontrol.empty()) {
    os << "  scontrol not found: job states unknown (jobs:";
    for (const auto& j : record["jobs"])
      os << " " << j.value("name", "?") << " " << j.value("id", "?");
    os << ")\n";
    return;
  }
  bool broken = false;  // an earlier job of the chain failed or will not run
  for (const auto& j : record["jobs"]) print_job(os, j, scontrol, broken);
}

}  // namespace prh::pipeline
