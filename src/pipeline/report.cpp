#include "prh/pipeline/report.hpp"

#include <unistd.h>

#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "prh/core/error.hpp"

#ifndef PRH_SOURCE_TOOLS_DIR
#define PRH_SOURCE_TOOLS_DIR ""
#endif

namespace prh::pipeline {

namespace fs = std::filesystem;

namespace {

constexpr const char* kScript = "prh_report.py";
constexpr const char* kDefaultPython = "/usr/bin/python3";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

}  // namespace

std::string find_report_script() {
  const std::string override_dir = env("PRH_TOOLS");
  if (!override_dir.empty()) {
    const fs::path p = fs::path(override_dir) / kScript;
    PRH_CHECK_INPUT(fs::is_regular_file(p), "PRH_TOOLS={}: no {} there", override_dir, kScript);
    return p.string();
  }
  // An installed prh (P/bin/prh) runs the tools installed with it
  // (P/share/prh/tools), whatever became of the source tree it was built from.
  std::vector<fs::path> dirs;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back(exe.parent_path().parent_path() / "share" / "prh" / "tools");
  if (std::strlen(PRH_SOURCE_TOOLS_DIR) > 0) dirs.emplace_back(PRH_SOURCE_TOOLS_DIR);
  if (!ec) dirs.push_back(exe.parent_path().parent_path() / "tools");
  std::string looked;
  for (const auto& d : dirs) {
    if (fs::is_regular_file(d / kScript)) return (d / kScript).string();
    looked += (looked.empty() ? "" : ", ") + d.string();
  }
  throw InputError(fmt::format(
      "the report script {} was not found (looked in: {}): set PRH_TOOLS to the tools/ directory "
      "of the prh source tree",
      kScript, looked));
}

int run_report(const ReportOptions& opt) {
  PRH_CHECK_INPUT(fs::exists(opt.results), "{}: no such file", opt.results);
  std::error_code ec;
  PRH_CHECK_INPUT(opt.out.empty() || !fs::exists(opt.out, ec) || fs::is_directory(opt.out, ec),
                  "--out {}: exists and is not a folder (the report is a folder of files)",
                  opt.out);
  std::string python = env("PRH_PYTHON");
  if (python.empty()) python = kDefaultPython;
  PRH_CHECK_INPUT(::access(python.c_str(), X_OK) == 0,
                  "prh report needs Debian's python3 with matplotlib, but {} is not an executable "
                  "(apt-get install python3 python3-matplotlib python3-h5py, or run "
                  "tools/bootstrap.sh; PRH_PYTHON=PATH names another interpreter)",
                  python);
  const std::string script = find_report_script();
  spdlog::debug("report: {} {}", python, script);

  std::vector<std::string> args = {python, script, opt.results};
  if (!opt.out.empty()) args.insert(args.end(), {"--out", opt.out});
  if (!opt.pair.empty()) args.insert(args.end(), {"--pair", opt.pair});
  for (const auto& c : opt.configs) args.insert(args.end(), {"--config", c});
  if (!opt.method.empty()) args.insert(args.end(), {"--method", opt.method});
  args.insert(args.end(), {"--alpha", fmt::format("{}", opt.alpha)});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) throw InternalError(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    ::execv(python.c_str(), argv.data());
    std::fprintf(stderr, "prh report: cannot run %s: %s\n", python.c_str(), std::strerror(errno));
    ::_exit(kExitBadInput);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw InternalError(fmt::format("waitpid: {}", std::strerror(errno)));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

}  // namespace prh::pipeline
