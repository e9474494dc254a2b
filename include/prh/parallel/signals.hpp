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
// Installs the SIGUSR1 handler alone (idempotent), then unblocks SIGUSR1:
// `main` calls it first, so that a USR1 forwarded by a job script while MPI
// starts is a stop request and does not end the process (USR1's default
// action); SIGTERM and SIGINT keep their defaults until a stage installs the
// rest. A USR1 that came while it was blocked (block_usr1) is delivered now.
void install_usr1_handler();
// Blocks SIGUSR1 for this process and what it execs: `prh` calls it before it
// replaces itself with `prh-models`, so a USR1 during prh-models' start-up
// waits (pending, not lost) until its handler is installed.
void block_usr1();
// True once a stop was requested on this process.
bool stop_requested();
// The signal that requested it (0: none).
int stop_signal();

// Test-only hook, off unless the environment sets PRH_TEST_HOLD=STAGE:N:FILE
// (docs/testing.md). A stage calls it after each finished unit; after this
// process's N-th finished unit of STAGE in this run it logs one line
// "test hold: STAGE after N of TODO units on this rank (LEFT left) ..." and
// waits until FILE exists or a stop is requested. Tests use it to signal or
// kill a stage at a known point with work provably left, instead of racing
// it. FILE already there: no hold (a requeued or resumed run goes on).
void hold_for_test(const char* stage, long long done_here, long long todo_here);

}  // namespace prh::parallel
