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

std::string normalize_sbatch_line(std::string line) {
  line = trim(line);
  if (line.rfind("#SBATCH", 0) == 0) line = trim(line.substr(7));
  PRH_CHECK_INPUT(!line.empty() && line[0] == '-',
                  "--sbatch '{}': expected an sbatch option such as --qos=normal", line);
  return line;
}

void write_text(const fs::path& p, const std::string& text) {
  const fs::path tmp = p.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    PRH_CHECK_INPUT(f.good(), "cannot write {}", tmp.string());
    f << text;
    PRH_CHECK_INPUT(f.good(), "cannot write {}", tmp.string());
  }
  fs::rename(tmp, p);
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

void submit(const config::Sweep& sweep, const SubmitOptions& opt, std::ostream& out) {
  const fs::path jobs_dir = fs::absolute(opt.jobs_dir);
  for (const char* n : {"embed.sbatch", "reduce.sbatch", "report.sbatch"})
    PRH_CHECK_INPUT(fs::is_regular_file(jobs_dir / n),
                    "job template {} not found: run prh submit from the prh source tree or give "
                    "--jobs-dir DIR (the tree's jobs/ directory)",
                    (jobs_dir / n).string());
  const std::string config = fs::absolute(opt.config).lexically_normal().string();
  const fs::path store = fs::absolute(sweep.store).lexically_normal();
  const fs::path dir = store.parent_path() / "slurm";
  const std::string prh = fs::absolute(opt.prh.empty() ? self_exe() : opt.prh).string();
  PRH_CHECK_INPUT(::access(prh.c_str(), X_OK) == 0, "--prh {}: not an executable file", prh);
  const fs::path tools = (jobs_dir.parent_path() / "tools").lexically_normal();
  const std::string cwd = fs::current_path().string();

  std::vector<std::string> common, compute;
  common.push_back("--chdir=" + cwd);
  if (!opt.partition.empty()) common.push_back("--partition=" + opt.partition);
  if (!opt.account.empty()) common.push_back("--account=" + opt.account);
  for (const auto& l : opt.sbatch_lines) common.push_back(normalize_sbatch_line(l));
  if (!opt.time.empty()) compute.push_back("--time=" + opt.time);
  if (opt.nodes > 0) compute.push_back(fmt::format("--nodes={}", opt.nodes));
  if (opt.ntasks > 0) compute.push_back(fmt::format("--ntasks={}", opt.ntasks));
  if (opt.gpus_per_node >= 0)
    compute.push_back(fmt::format("--gpus-per-node={}", opt.gpus_per_node));
  const auto [array_tasks, array_limit] =
      opt.array.empty() ? std::pair<int, int>{0, 0} : parse_array(opt.array);
  std::vector<std::string> exports = {"export PRH=${PRH:-" + quote(prh) + "}"};
  if (fs::is_directory(tools))
    exports.push_back("export PRH_TOOLS=${PRH_TOOLS:-" + quote(tools.string()) + "}");

  struct Job {
    std::string name, script, log, text;
  };
  std::vector<Job> jobs;
  for (const std::string name : {"embed", "reduce", "report"}) {
    Job j;
    j.name = name;
    j.script = (dir / (name + ".sbatch")).string();
    const bool array = array_tasks > 0 && name == "embed";
    j.log = (dir / ("prh-" + name + (array ? "-%A_%a.out" : "-%j.out"))).string();
    std::vector<std::string> opts = common;
    // Options that only ask for the compute stages' resources skip report.
    if (name != "report") opts.insert(opts.end(), compute.begin(), compute.end());
    std::vector<std::string> job_exports = exports;
    if (array) {
      opts.push_back(fmt::format("--array=0-{}{}", array_tasks - 1,
                                 array_limit > 0 ? fmt::format("%{}", array_limit) : ""));
      if (opt.ntasks <= 0) opts.push_back("--ntasks=1");  // one rank per task by default
    }
    if (array_tasks > 0 && name == "reduce") job_exports.push_back("export PRH_MERGE=1");
    opts.insert(opts.begin(), "--output=" + j.log);
    j.text = render_job(read_text((jobs_dir / (name + ".sbatch")).string(), "job template"), opts,
                        job_exports);
    jobs.push_back(std::move(j));
  }

  if (opt.dry_run) {
    for (const auto& j : jobs) {
      out << fmt::format("# ===== {} (would be {}; sbatch --parsable{} {} {})\n", j.name, j.script,
                         j.name == "embed" ? "" : " --dependency=afterok:<previous>", j.script,
                         config);
      out << j.text;
    }
    out << "# dry run: nothing written or submitted\n";
    return;
  }

  const std::string sbatch = find_program("sbatch");
  PRH_CHECK_INPUT(!sbatch.empty(),
                  "sbatch not found on PATH: prh submit needs a SLURM client (source your site's "
                  "environment, or slurm/local/start.sh's env.sh)");
  fs::create_directories(dir);
  for (const auto& j : jobs) {
    write_text(j.script, j.text);
    fs::permissions(j.script, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
  }

  json record = {{"config", config},       {"store", store.string()}, {"prh", prh},
                 {"submitted", now_iso()}, {"submit_dir", cwd},       {"jobs", json::array()}};
  std::vector<std::string> ids;
  for (const auto& j : jobs) {
    std::vector<std::string> argv = {sbatch, "--parsable"};
    if (!ids.empty()) argv.push_back("--dependency=afterok:" + ids.back());
    argv.push_back(j.script);
    argv.push_back(config);
    const auto [rc, text] = capture(argv, false);
    std::string id = trim(text);
    id = id.substr(0, id.find(';'));
    const bool numeric = !id.empty() && id.find_first_not_of("0123456789") == std::string::npos;
    if (rc != 0 || !numeric) {
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
                                   numeric || trim(text).empty() ? "" : ", output: " + trim(text),
                                   cancelled));
    }
    ids.push_back(id);
    std::string log = j.log;
    if (log.find("%j") != std::string::npos) log.replace(log.find("%j"), 2, id);
    if (log.find("%A") != std::string::npos) log.replace(log.find("%A"), 2, id);
    if (log.find("%a") != std::string::npos) log.replace(log.find("%a"), 2, "*");
    json entry = {{"name", j.name},       {"id", id},   {"script", j.script},
                  {"log_pattern", j.log}, {"log", log}, {"submitted", now_iso()}};
    if (j.name == "embed" && array_tasks > 0) entry["array_tasks"] = array_tasks;
    record["jobs"].push_back(entry);
    out << j.name << " " << id << std::endl;
  }
  write_text(jobs_record_path(store.string()), record.dump(2) + "\n");
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
  for (const auto& j : record["jobs"]) {
    const std::string name = j.value("name", "?"), id = j.value("id", "?");
    const auto [rc, text] = capture({scontrol, "show", "job", "-o", id}, true);
    auto records = parse_jobs(text);
    // Array tasks in task order (scontrol lists the newest first).
    std::stable_sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
      auto first = [](const std::map<std::string, std::string>& r) {
        try {
          return r.count("ArrayTaskId") ? std::stol(r.at("ArrayTaskId")) : 0L;
        } catch (const std::exception&) {
          return 0L;
        }
      };
      return first(a) < first(b);
    });
    std::string log = j.value("log", "");
    if (rc != 0 || records.empty()) {
      os << fmt::format("  {:<7} {:<8} unknown to slurmctld (finished long ago?); log {}\n", name,
                        id, log);
      continue;
    }
    if (j.contains("array_tasks") || records.size() > 1 || records[0].count("ArrayTaskId")) {
      // A job array: its tasks' states counted, failed tasks listed with their logs.
      std::map<std::string, int> counts;
      std::vector<std::string> failed;
      int tasks = 0, restarts = 0;
      bool never = false;
      for (const auto& r : records) {
        const std::string state = r.count("JobState") ? r.at("JobState") : "?";
        const std::string reason = r.count("Reason") ? r.at("Reason") : "";
        const int n = count_tasks(r.count("ArrayTaskId") ? r.at("ArrayTaskId") : "0");
        tasks += n;
        counts[state] += n;
        never = never || reason == "DependencyNeverSatisfied" ||
                (state == "PENDING" && reason == "Dependency" && broken);
        try {
          restarts += std::stoi(r.count("Restarts") ? r.at("Restarts") : "0");
        } catch (const std::exception&) {
        }
        if (!running_or_done(state) && state != "PENDING")
          failed.push_back(fmt::format("    task {}: {} (exit {}, {}); log {}",
                                       r.count("ArrayTaskId") ? r.at("ArrayTaskId") : "?", state,
                                       r.count("ExitCode") ? r.at("ExitCode") : "?", reason,
                                       r.count("StdOut") ? r.at("StdOut") : std::string("?")));
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
      os << fmt::format("  {:<7} {:<8} {:<36} log {}\n", name, id, shown, log);
      for (const auto& f : failed) os << f << "\n";
      continue;
    }
    auto kv = records[0];
    if (kv.count("StdOut") && !kv["StdOut"].empty()) log = kv["StdOut"];
    const std::string state = kv["JobState"], reason = kv["Reason"];
    const std::string exit = kv.count("ExitCode") ? kv["ExitCode"] : "?";
    const std::string restarts = kv.count("Restarts") ? kv["Restarts"] : "0";
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
      shown = fmt::format("{} (exit {}, {})", state, exit, reason);
      broken = true;
    }
    if (restarts != "0") shown += fmt::format(", restarts {}", restarts);
    os << fmt::format("  {:<7} {:<8} {:<36} log {}\n", name, id, shown, log);
  }
}

}  // namespace prh::pipeline
