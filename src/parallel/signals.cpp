#include "prh/parallel/signals.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

namespace prh::parallel {

namespace {

std::atomic<int> g_signal{0};

extern "C" void on_stop(int sig) {
  // A second termination request does not wait for the current item.
  if (g_signal.load() != 0 && sig != SIGUSR1) std::_Exit(128 + sig);
  g_signal.store(sig);
}

}  // namespace

namespace {

void install(int sig) {
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(sig, &sa, nullptr);
}

}  // namespace

void install_usr1_handler() {
  static std::atomic<bool> installed{false};
  if (installed.exchange(true)) return;
  install(SIGUSR1);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_UNBLOCK, &usr1, nullptr);
}

void block_usr1() {
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, nullptr);
}

void install_stop_handlers() {
  static std::atomic<bool> installed{false};
  if (installed.exchange(true)) return;
  install_usr1_handler();
  install(SIGTERM);
  install(SIGINT);
}

bool stop_requested() {
  return g_signal.load() != 0;
}

int stop_signal() {
  return g_signal.load();
}

namespace {

struct HoldSpec {
  std::string stage, file;
  long long after = -1;
};

// PRH_TEST_HOLD=STAGE:N:FILE, parsed once; a malformed value is ignored with
// a warning (it is a test hook, never part of a user's run).
const HoldSpec& hold_spec() {
  static const HoldSpec spec = [] {
    HoldSpec h;
    const char* env = std::getenv("PRH_TEST_HOLD");
    if (env == nullptr || *env == '\0') return h;
    const std::string v(env);
    const auto a = v.find(':');
    const auto b = a == std::string::npos ? a : v.find(':', a + 1);
    try {
      if (b == std::string::npos) throw std::invalid_argument("missing ':'");
      std::size_t used = 0;
      const std::string n = v.substr(a + 1, b - a - 1);
      h.after = std::stoll(n, &used);
      if (used != n.size() || h.after < 1 || b + 1 >= v.size())
        throw std::invalid_argument("bad N or FILE");
      h.stage = v.substr(0, a);
      h.file = v.substr(b + 1);
    } catch (const std::exception&) {
      spdlog::warn("PRH_TEST_HOLD='{}' ignored: expected STAGE:N:FILE with N >= 1", v);
      h = HoldSpec{};
    }
    return h;
  }();
  return spec;
}

}  // namespace

void hold_for_test(const char* stage, long long done_here, long long todo_here) {
  const auto& h = hold_spec();
  if (h.after < 1 || done_here != h.after || h.stage != stage) return;
  if (std::filesystem::exists(h.file)) return;
  spdlog::info("test hold: {} after {} of {} units on this rank ({} left); waiting for {}", stage,
               done_here, todo_here, todo_here - done_here, h.file);
  spdlog::default_logger()->flush();
  while (!stop_requested() && !std::filesystem::exists(h.file))
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  spdlog::info("test hold: {} released ({})", stage,
               stop_requested() ? "stop requested" : "file exists");
  spdlog::default_logger()->flush();
}

}  // namespace prh::parallel
