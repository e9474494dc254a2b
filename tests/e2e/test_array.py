#!/usr/bin/python3
"""End-to-end test of the job-array mode of `prh embed` (no SLURM needed).

usage: test_array.py PRH MAKE_TEST_MODELS MPIEXEC

- three array tasks run at the same time (one of them with 2 MPI ranks) write
  part files only, never the store; `prh status` counts the parts, `prh
  reduce` refuses naming them; re-running a task does nothing; `prh embed`
  (2 ranks) merges them: the store equals, dataset for dataset and bit for
  bit, the one `mpirun -n 2 prh embed` makes (skipped bad images included),
  and the parts are gone;
- kill -9 of a task mid-way: every part left opens with h5py (no partial
  part); the re-run does only what is left; a plain `prh embed` then merges
  the parts and embeds the other task's items itself: same store again;
- a changed configuration is refused naming the part and what changed, both
  when merging and when a task resumes; a store made with another
  configuration is refused by a task; bad --array-task / --array-size values
  exit 2.
"""
import glob
import json
import os
import re
import sys

import h5py

import harness  # noqa: E402
from harness import check, fashion, kill_held, read_h5, same_h5, why_no_hold  # noqa: E402
from pngs import write_png  # noqa: E402

PRH, MAKE_MODELS, MPIEXEC = sys.argv[1:4]
ENV = harness.mpi_env()
prh = harness.Prh(PRH, MPIEXEC, ENV)
run, start = prh.mpi, prh.start
harness.verbose = True


def config(tmp, name, sets, **extra):
    params = {"store": f"{tmp}/{name}/store.h5", "results": f"{tmp}/{name}/results.h5",
              "shard_size": 32, "batch_size": 8, "on_bad_image": "skip"}
    params.update(extra)
    return harness.write_config(os.path.join(tmp, name + ".yaml"), params, sets,
                                [(m, f"{tmp}/models/{m}.pt") for m in ("dict_model", "tuple_model")])


def parts(store):
    return sorted(glob.glob(f"{store}.parts/*/*/*.h5"))


def main(tmp):
    harness.make_models(MAKE_MODELS, f"{tmp}/models")
    os.makedirs(f"{tmp}/imgs/cls")
    for i in range(40):
        write_png(f"{tmp}/imgs/cls/img{i:02d}.png", [[(i * 7 + r * 3 + c) % 256 for c in range(28)]
                                                    for r in range(28)])
    with open(f"{tmp}/imgs/cls/img05.png", "wb") as f:  # a corrupt image: skipped
        f.write(b"\x89PNG\r\n\x1a\n" + os.urandom(100))
    sets = f"""
  - name: id
    source: {fashion(150, classes=None)}
  - name: files
    source: {{kind: folder, root: {tmp}/imgs}}
  - name: noise
    source: {{kind: noise, count: 70, height: 28, width: 28, channels: 1, seed: 3}}
"""
    # Items: 2 models x (5 + 2 + 3 shards) = 20.
    ref = config(tmp, "ref", sets)
    r = run(2, "embed", ref)
    check(r.returncode == 0, f"reference: mpirun -n 2 prh embed (rc {r.returncode}) "
                             f"{r.stderr[-1500:]}")

    # --- three tasks at once, one with two ranks -------------------------------------------
    arr = config(tmp, "arr", sets)
    store = f"{tmp}/arr/store.h5"
    procs = [start(0 if t != 1 else 2, "embed", arr, "--array-task", str(t), "--array-size", "3")
             for t in range(3)]
    outs = [p.communicate(timeout=600) for p in procs]
    for t, (p, (_, err)) in enumerate(zip(procs, outs)):
        check(p.returncode == 0, f"array task {t} of 3: rc {p.returncode} {err[-1500:]}")
    check(not os.path.exists(store), "array tasks do not create or write the store")
    check(len(parts(store)) == 20, f"one part per work item: {len(parts(store))} of 20")
    todo = [re.search(r"array task \d+ of 3: (\d+) of the 20 work items, (\d+) to do", e)
            for _, e in outs]
    check(all(todo) and sum(int(m.group(1)) for m in todo) == 20
          and all(m.group(1) == m.group(2) for m in todo),
          f"the tasks split the 20 items: {[m.groups() if m else None for m in todo]}")
    with h5py.File(parts(store)[0], "r") as f:
        check("features" in f and f.attrs["format"] == "prh-store-part-1",
              "a part is a readable HDF5 file with features")
    r = run(0, "status", arr, "--verbose")
    per = re.findall(r"^(id|files|noise)\s+(dict_model|tuple_model)\s+\d+/\S+\s+(\d+)\s", r.stdout,
                     re.M)
    check(r.returncode == 0 and "20 work items embedded by a job array" in r.stdout
          and "20 work items wait in part files, not merged yet" in r.stdout
          and sorted((a, b, int(c)) for a, b, c in per) ==
          sorted((s, m, n) for s, n in (("id", 5), ("files", 2), ("noise", 3))
                 for m in ("dict_model", "tuple_model")),
          f"prh status counts the parts:\n{r.stdout}")
    r = run(0, "status", arr, "--json")
    j = json.loads(r.stdout) if r.returncode == 0 else {}
    check(j.get("embed", {}).get("parts_waiting") == 20 and
          j.get("next", {}).get("command", "").startswith("prh run"),
          f"prh status --json: 20 parts waiting, `prh run` next: {r.stdout[-1500:]}")
    r = run(0, "reduce", arr)
    check(r.returncode == 2 and "20 work items of a job array wait in" in r.stderr,
          f"prh reduce refuses, naming the parts (rc {r.returncode}): {r.stderr.strip()[-400:]}")
    r = run(0, "embed", arr, "--array-task", "2", "--array-size", "3")
    check(r.returncode == 0 and re.search(r"work items, 0 to do", r.stderr),
          f"a finished task re-run does nothing: {r.stderr[-400:]}")

    r = run(2, "embed", arr)
    check(r.returncode == 0 and "merged 20 work items" in r.stderr
          and "0 to do" in r.stderr,
          f"prh embed merges the 20 parts and embeds nothing (rc {r.returncode}): "
          f"{r.stderr[-1500:]}")
    same_h5(store, f"{tmp}/ref/store.h5", "merged array store vs mpirun -n 2 prh embed")
    check(not os.path.exists(f"{store}.parts"), "the parts directory is gone after the merge")
    if os.path.exists(store):
        sk = read_h5(store)["sets/files/skipped"]
        check(int(sk.sum()) == 1, f"the corrupt image is recorded as skipped ({int(sk.sum())})")

    # --- kill -9 mid-task, resume, then a plain embed merges and finishes ----------------
    big_sets = """
  - name: noise
    source: {kind: noise, count: 6000, height: 28, width: 28, channels: 1, seed: 5}
"""
    bref = config(tmp, "bigref", big_sets, batch_size=1)
    big = config(tmp, "big", big_sets, batch_size=1)
    bstore = f"{tmp}/big/store.h5"
    # The task holds after its 20th item (PRH_TEST_HOLD, tests/e2e/harness.py): the
    # kill lands mid-way every time.
    holds = kill_held([PRH, "embed", big, "--array-task", "0", "--array-size", "2"], ENV,
                      "embed", 20, f"{tmp}/kill.log")
    had = len(parts(bstore))
    check(holds == [(20, 188, 168)] and had == 20,
          f"task 0 of 2 killed mid-way ({had} parts of its 188; holds {holds}, "
          f"{'' if holds else why_no_hold(f'{tmp}/kill.log')})")
    bad = []
    for path in parts(bstore):
        try:
            with h5py.File(path, "r") as f:
                f["features"][()]
        except Exception as e:  # noqa: BLE001
            bad.append(f"{path}: {e}")
    check(not bad, f"every part left by kill -9 is whole ({len(parts(bstore))}): {bad[:2]}")
    before = len(parts(bstore))
    r = run(0, "embed", big, "--array-task", "0", "--array-size", "2")
    m = re.search(r"(\d+) of the 376 work items, (\d+) to do", r.stderr)
    check(r.returncode == 0 and m and int(m.group(2)) == int(m.group(1)) - before,
          f"resumed task does only what is left ({before} parts kept): "
          f"{m.groups() if m else r.stderr[-800:]}")
    leftovers = [f for f in glob.glob(f"{bstore}.parts/**/*", recursive=True)
                 if os.path.isfile(f) and not f.endswith(".h5")]
    check(not leftovers, f"no temporary files left after the resume: {leftovers[:3]}")
    r = run(0, "embed", bref)
    check(r.returncode == 0, f"reference (one process): {r.stderr[-800:]}")
    r = run(2, "embed", big)
    m = re.search(r"embed: (\d+) work items in all, (\d+) to do", r.stderr)
    check(r.returncode == 0 and "merged 188 work items" in r.stderr and m
          and m.groups() == ("376", "188"),
          f"plain embed merges task 0's 188 parts and embeds task 1's 188 items: "
          f"{m.groups() if m else ''} {r.stderr[-800:]}")
    same_h5(bstore, f"{tmp}/bigref/store.h5", "killed+resumed array task, merged")

    # --- configuration changes ----------------------------------------------------------------
    c8 = config(tmp, "chg", sets)
    r = run(0, "embed", c8, "--array-task", "0", "--array-size", "4")
    check(r.returncode == 0, f"task 0 of 4: {r.stderr[-500:]}")
    c4 = config(tmp, "chg", sets, batch_size=4)
    r = run(0, "embed", c4)
    check(r.returncode == 2 and ".parts/" in r.stderr and "another configuration" in r.stderr
          and "batch_size" in r.stderr,
          f"merging parts of another config: exit 2 naming part and change "
          f"(rc {r.returncode}): {r.stderr.strip()[-600:]}")
    check(not os.path.exists(f"{tmp}/chg/store.h5"),
          "the refused merge did not create a store for the new config")
    r = run(0, "embed", c4, "--array-task", "0", "--array-size", "4")
    check(r.returncode == 2 and "another configuration" in r.stderr and "batch_size" in r.stderr,
          f"resuming a task with another config: exit 2 (rc {r.returncode}): "
          f"{r.stderr.strip()[-600:]}")
    r = run(0, "embed", arr, "--array-task", "0",
            "--array-size", "2")
    check(r.returncode == 0 and "0 to do" in r.stderr,
          f"a task on a finished store does nothing: {r.stderr[-400:]}")
    c_arr4 = config(tmp, "arr", sets, batch_size=4)
    r = run(0, "embed", c_arr4, "--array-task", "0", "--array-size", "2")
    check(r.returncode == 2 and "different result-relevant configuration" in r.stderr,
          f"a task refuses a store made with another config (rc {r.returncode}): "
          f"{r.stderr.strip()[-400:]}")
    arr = config(tmp, "arr", sets)
    for args, what in ((["--array-task", "3", "--array-size", "3"], "task >= size"),
                       (["--array-task", "0"], "task without size"),
                       (["--array-size", "2"], "size without task"),
                       (["--array-task", "-1", "--array-size", "2"], "negative task"),
                       (["--array-task", "0", "--array-size", "0"], "size 0")):
        r = run(0, "embed", arr, *args)
        check(r.returncode == 2 and "--array-" in r.stderr and len(r.stderr) < 400,
              f"bad {what}: exit 2 with a message (rc {r.returncode}): {r.stderr.strip()[-200:]}")


if __name__ == "__main__":
    harness.run_test("array", main)
