#include "prh/parallel/signals.hpp"

#include <atomic>
#include <csignal>
#include <cstdlib>

namespace prh::parallel {

namespace {

std::atomic<int> g_signal{0};

extern "C" void on_stop(int sig) {
  // A second termination request does not wait for the current item.
  if (g_signal.load() != 0 && sig != SIGUSR1) std::_Exit(128 + sig);
  g_signal.store(sig);
}

}  // namespace

void install_stop_handlers() {
  static std::atomic<bool> installed{false};
  if (installed.exchange(true)) return;
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

bool stop_requested() {
  return g_signal.load() != 0;
}

int stop_signal() {
  return g_signal.load();
}

void request_stop(int signal) {
  g_signal.store(signal);
}

}  // namespace prh::parallel
