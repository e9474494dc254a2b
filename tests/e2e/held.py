"""Runs a prh command that holds at a known point, for kill and signal tests.

PRH_TEST_HOLD=STAGE:N:FILE (docs/testing.md) makes each rank of a stage wait
after its N-th finished unit until FILE exists or a stop is requested. A test
starts the command with a FILE that never appears, waits for the hold line in
the log, and then kills or signals it: the kill lands mid-work every time,
however fast or loaded the machine, and the hold line says how much was left.
"""
import os
import re
import signal
import subprocess
import time

HOLD = re.compile(r"test hold: (\w+) after (\d+) of (\d+) units on this rank \((\d+) left\)")


def start_held(cmd, env, stage, after, log, timeout=300):
    """Starts cmd (its own process group) holding after `after` units of `stage`.

    Returns (process, holds): holds lists (done, todo, left) of each hold line
    seen in `log` (the command's stdout and stderr) by the time the first
    appeared; empty if the command ended or `timeout` passed first.
    """
    out = open(log, "w")
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                         env=dict(env, PRH_TEST_HOLD=f"{stage}:{after}:{log}.never"),
                         start_new_session=True)
    out.close()
    t0 = time.time()
    while time.time() - t0 < timeout and p.poll() is None:
        with open(log) as f:
            found = [(int(d), int(t), int(l)) for s, d, t, l in HOLD.findall(f.read())
                     if s == stage]
        if found:
            return p, found
        time.sleep(0.02)
    return p, []


def kill_held(cmd, env, stage, after, log, timeout=300):
    """kill -9 of the whole process group once a rank holds; returns the holds seen."""
    p, holds = start_held(cmd, env, stage, after, log, timeout)
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    return holds


def why_no_hold(log):
    """One line on why a command never held, from its log."""
    text = open(log).read() if os.path.exists(log) else ""
    return f"it never held; its log ends: {text[-600:]!r}"
