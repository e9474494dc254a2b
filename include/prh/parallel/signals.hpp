#pragma once
// Stop requests: SIGUSR1 (what SLURM sends before a time limit with
// --signal=B:USR1@SECONDS, forwarded to the tasks by the job script),
// SIGTERM (preemption, scancel) and SIGINT (Ctrl-C) set a flag that the
// stages check between work items: they finish or abandon the current item,
// keep everything already done, and end with prh::Stopped (exit code 75).
// A second SIGTERM or SIGINT ends the process at once.

namespace prh::parallel {

// Installs the handlers (idempotent).
void install_stop_handlers();
// True once a stop was requested on this process.
bool stop_requested();
// The signal that requested it (0: none).
int stop_signal();
// For tests: request a stop as if a signal had arrived.
void request_stop(int signal);

}  // namespace prh::parallel
