"""A serial-HDF5 prh against a parallel-HDF5 prh (docs/store.md, "Serial HDF5").

usage: test_serial_parity.py PRH_SERIAL PRH_PARALLEL MAKE_TEST_MODELS MPIEXEC

Registered in a serial-HDF5 build configured with PRH_PARALLEL_PRH (the
parallel build's prh; tools/test.sh does it). The same config (three image
sets, one a sweep; four models; eight metric configurations; calibration;
correlations, bootstrap) is run with `prh run`:

- parallel build, 2 ranks; serial build, 2 and 3 ranks: the stores and the
  results files hold the same datasets, bit for bit;
- serial build, kill -9 while the ranks hold mid-embedding (items in parts),
  then mid-scoring (units in journals), then a resumed `prh run`: bit for
  bit the same again, with nothing left in parts or journals, and the
  resumed run does not redo the work the killed ones finished.
"""
import os
import re
import subprocess
import sys

import harness  # noqa: E402
from harness import check, fashion  # noqa: E402

SERIAL, PARALLEL, MAKE_MODELS, MPIEXEC = sys.argv[1:5]
ENV = harness.mpi_env(locking=False)
serial = harness.Prh(SERIAL, MPIEXEC, ENV)
parallel = harness.Prh(PARALLEL, MPIEXEC, ENV)

METRICS = ["mutual_knn:k=10", "cknna:k=10", "cycle_knn:k=10", "lcs_knn:k=10",
           "edit_distance_knn:k=10", "cka", "unbiased_cka", "svcca:cca_dim=4"]


def config(tmp, name):
    sets = f"""
  - name: id
    source: {fashion(160)}
  - name: uniform
    source: {{kind: noise, count: 120, height: 28, width: 28, channels: 1, seed: 3}}
"""
    tail = """sweeps:
  - name: fade
    base: id
    family: blend
    levels: [0.5, 1.0]
metrics: [""" + ", ".join(METRICS) + """]
correlations: [spearman]
mantel: 49
bootstrap: 40
calibration: {permutations: 19, alpha: 0.05, seed: 3, metrics: [mutual_knn:k=10, cka]}
"""
    params = {"store": f"{tmp}/{name}.store.h5", "results": f"{tmp}/{name}.results.h5",
              "shard_size": 16, "batch_size": 8}
    models = [(m, f"{tmp}/models/{m}.pt") for m in ("dict_model", "tuple_model")]
    models += [(f"wide_{i}", f"{tmp}/models/wide_{i}.pt", f"{tmp}/models/wide_{i}.yaml")
               for i in range(2)]
    return harness.write_config(os.path.join(tmp, name + ".yaml"), params, sets, models, tail)


def same_run(tmp, a, b, what):
    harness.same_h5(f"{tmp}/{a}.store.h5", f"{tmp}/{b}.store.h5", f"{what}: store")
    harness.same_h5(f"{tmp}/{a}.results.h5", f"{tmp}/{b}.results.h5", f"{what}: results")


def main(tmp):
    harness.make_models(MAKE_MODELS, f"{tmp}/models")
    subprocess.run([MAKE_MODELS, f"{tmp}/models", "--wide", "2"], check=True,
                   capture_output=True)  # wide_0, wide_1
    r = serial("--version")
    check("(serial HDF5)" in r.stdout, f"the serial build says so: {r.stdout!r}")
    r = parallel("--version")
    check("(parallel HDF5)" in r.stdout, f"the parallel build says so: {r.stdout!r}")

    runs = [("par2", parallel, 2), ("ser2", serial, 2), ("ser3", serial, 3)]
    for name, prh, n in runs:
        r = prh.mpi(n, "run", config(tmp, name))
        check(r.returncode == 0, f"{name}: prh run: {r.stderr[-2000:]}")
        if name.startswith("ser"):
            check("merged the" in r.stderr, f"{name}: rank 0 merged the parts: {r.stderr[-800:]}")
            check(not os.path.exists(f"{tmp}/{name}.store.h5.parts"), f"{name}: no parts left")
            check(not os.path.exists(f"{tmp}/{name}.results.h5.journal"),
                  f"{name}: no journal left")
    same_run(tmp, "par2", "ser2", "parallel 2 ranks vs serial 2 ranks")
    same_run(tmp, "par2", "ser3", "parallel 2 ranks vs serial 3 ranks")

    # kill -9 mid-embedding, then mid-scoring; resume.
    cfg = config(tmp, "killed")
    cmd = serial.cmd(2, "run", cfg)
    log = f"{tmp}/kill-embed.log"
    holds = harness.kill_held(cmd, ENV, "embed", 3, log)
    check(holds and all(left > 0 for _, _, left in holds),
          f"killed mid-embedding: {holds} ({harness.why_no_hold(log)})")
    check(harness.wait_gone(cfg), "the killed ranks are gone")
    parts = harness.parts_waiting(f"{tmp}/killed.store.h5")
    check(parts >= 3, f"the killed ranks' finished items wait in parts: {parts}")
    r = serial.mpi(2, "embed", cfg)
    check(r.returncode == 0, f"resumed embed: {r.stderr[-2000:]}")
    m = re.search(r"merged (\d+) work items from parts", r.stderr)
    todo = re.search(r"(\d+) work items in all, (\d+) to do", r.stderr)
    check(m is not None and int(m.group(1)) == parts and todo is not None and
          int(todo.group(2)) == int(todo.group(1)) - int(m.group(1)),
          f"the resume merges the {parts} parts first and does not redo them: "
          f"{m.group(0) if m else ''} {todo.group(0) if todo else r.stderr[-800:]}")
    log = f"{tmp}/kill-score.log"
    holds = harness.kill_held(cmd, ENV, "score", 2, log)
    check(holds and all(left > 0 for _, _, left in holds),
          f"killed mid-scoring: {holds} ({harness.why_no_hold(log)})")
    check(harness.wait_gone(cfg), "the killed ranks are gone")
    waiting = sum(len(v) for v in harness.journal_flags(f"{tmp}/killed.results.h5").values())
    check(waiting >= 2 * len(METRICS), f"finished pairs wait in journals: {waiting} flags")
    r = serial("status", cfg, "--verbose")
    check(r.returncode == 0 and f"journals: {waiting} scored or calibrated" in r.stdout and
          f"{waiting} units wait in serial-HDF5 journals, counted as done" in r.stdout,
          f"prh status counts the {waiting} units waiting in journals: {r.stdout[-800:]}")
    r = serial.mpi(2, "run", cfg)
    check(r.returncode == 0, f"resumed run: {r.stderr[-2000:]}")
    m = re.search(r"(\d+) pairs scored", r.stderr)
    total = 4 * (4 * 5 // 2)  # sets (two listed, two sweep levels) x pairs i <= j of 4 models
    check(m is not None and int(m.group(1)) <= total - waiting // len(METRICS),
          f"the resume scores only the pairs not finished before the kill ({waiting} flags "
          f"waited): {m.group(0) if m else r.stderr[-800:]}")
    same_run(tmp, "par2", "killed", "parallel vs serial killed twice and resumed")
    check(not os.path.exists(f"{tmp}/killed.results.h5.journal"), "no journal left")


if __name__ == "__main__":
    harness.run_test("serial_parity", main)
