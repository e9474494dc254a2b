#!/usr/bin/python3
"""`prh submit` on a local single-node SLURM cluster (slurm/local/start.sh).

usage: test_submit.py PRH MAKE_TEST_MODELS MPIEXEC SOURCE_DIR

Runs its own cluster in PRH_SLURM_SUBMIT_TEST_DIR (default
/tmp/prh-slurm-submit-test, wiped first) on ports 6837/6838, stopped at the
end (also on failure). Checked:

- --dry-run prints the three rendered scripts with the options and submits
  nothing;
- a small sweep submitted with --ntasks 2 runs embed -> reduce -> report;
  its results equal (bit for bit, every dataset) those of `mpirun -n 2 prh run`
  on a copy of the config; the jobs record <store>.jobs.json names the three
  jobs; `prh status` shows them COMPLETED;
- requeue: `scancel --signal=USR1 --batch` on a running embed job: prh stops
  (exit 75), the job requeues itself (Restarts >= 1), resumes only what is
  left, and the chain completes with results equal to an uninterrupted run.
  The signal lands while work is provably left: the job runs with
  PRH_TEST_HOLD=embed:3:FILE (docs/testing.md), so each rank holds after its
  third item until FILE exists or a stop comes; the test signals once the log
  shows the hold and creates FILE once the job has requeued (the second run
  then goes on without holding). A failure says from the job's log which of
  the ways it went wrong (never held, finished before the signal, signal not
  delivered to prh, not requeued);
- USR1 in the windows before prh catches it: while the batch script has not
  started srun yet (PRH_TEST_HOLD_LAUNCH), and while prh is starting (PRH is
  a wrapper script that waits before exec'ing prh, as a loading prh would:
  the forwarded USR1 ends it): both requeue and then complete;
- failure: a wrong model path: embed FAILED, reduce and report never run,
  `prh status` says so and names the embed log;
- job array (`--array 3`, tasks of 2 ranks): each task embeds its slice into
  part files, the reduce job (`prh run`) merges all 24; results equal the
  mpirun ones; `prh status` shows "COMPLETED (array of 3)";
- job array requeue: USR1 to task 0 of 2 mid-embed: that task requeues and
  redoes only what is left, the chain completes with results equal to the
  uninterrupted run; a failing array: both tasks FAILED in `prh status`, each
  with its log, the dependent jobs will not run; jobs/sweep.sh with
  PRH_EMBED_ARRAY=2 gives the same results; a stepped array (0-2:2) fails
  with a clear log line.
Exit 0 on success, 1 with FAIL lines, 77 when not root.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

PRH, MAKE_MODELS, MPIEXEC, SRC = sys.argv[1:5]
FASHION = "/usr/share/datasets/fashion-mnist"
SLURM_DIR = os.environ.get("PRH_SLURM_SUBMIT_TEST_DIR", "/tmp/prh-slurm-submit-test")
START, STOP = f"{SRC}/slurm/local/start.sh", f"{SRC}/slurm/local/stop.sh"
failures = []
STARTED_EXIT = re.compile(r"prh ended \(exit \d+\)")

ENV = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
ENV.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_btl="self,vader",
           OMPI_MCA_btl_vader_single_copy_mechanism="none", HDF5_USE_FILE_LOCKING="FALSE",
           PRH_SLURM_DIR=SLURM_DIR, PRH_SLURM_CTLD_PORT="6837", PRH_SLURMD_PORT="6838",
           SLURM_CONF=f"{SLURM_DIR}/slurm.conf",
           PATH=os.environ.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin")


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def sh(*args, cwd=None, timeout=300):
    return subprocess.run(list(args), capture_output=True, text=True, env=ENV, cwd=cwd,
                          timeout=timeout)


def records(jid):
    """`scontrol show job -o ID`: one dict per line (a job array: one per task)."""
    r = sh("scontrol", "show", "job", "-o", str(jid))
    out = []
    for line in r.stdout.splitlines():
        kv = {}
        for tok in line.split():
            k, _, v = tok.partition("=")
            kv.setdefault(k, v)
        if "JobState" in kv:
            out.append(kv)
    return out


def job(jid):
    recs = records(jid)
    return recs[0] if recs else {}


FAILED = ("FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY")


def state(jid):
    """A job's state; a job array's: COMPLETED when every task is, else the worst."""
    states = [r.get("JobState", "?") for r in records(jid)] or ["?"]
    if all(s == "COMPLETED" for s in states):
        return "COMPLETED"
    return next((s for s in states if s in FAILED), next(s for s in states if s != "COMPLETED"))


def wait_chain(ids, timeout):
    """Waits until every job finished, or one failed; returns their states."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        states = [state(i) for i in ids]
        if all(s == "COMPLETED" for s in states):
            return states
        if any(s in FAILED for s in states):
            return states
        time.sleep(2)
    return [state(i) for i in ids]


def config(tmp, name, sets, models_path, **extra):
    params = {"shard_size": 32, "batch_size": 16, "bootstrap": 50,
              "metrics": "[mutual_knn:k=5, cknna:k=5, cka, svcca:cca_dim=4]",
              "correlations": "[spearman, kendall]"}
    params.update(extra)
    lines = [f"store: {name}/store.h5", f"results: {name}/results.h5"]
    lines += [f"{k}: {v}" for k, v in params.items()]
    lines.append("image_sets:" + sets)
    lines.append("models:")
    for m in ("a", "b", "c"):
        lines.append(f"  - {{name: {m}, path: {models_path}}}")
    os.makedirs(os.path.join(tmp, name), exist_ok=True)
    path = os.path.join(tmp, name + ".yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset)
                     else None)
    return out


def same_results(a, b, what):
    ra, rb = datasets(a), datasets(b)
    check(sorted(ra) == sorted(rb) and len(ra) > 0, f"{what}: same datasets ({len(ra)})")
    diff = [k for k in ra if k in rb and (np.asarray(ra[k]).shape != np.asarray(rb[k]).shape or
                                          np.asarray(ra[k]).tobytes() != np.asarray(rb[k]).tobytes())]
    check(not diff, f"{what}: every dataset bit for bit equal (differ: {diff[:5]})")
    check(any("alignment" in k for k in ra) and any("correlation" in k for k in ra),
          f"{what}: alignment and correlation datasets present")


def submit(tmp, cfg, *extra, ntasks=2, env=None):
    r = subprocess.run([PRH, "submit", cfg, "--ntasks", str(ntasks), "--time", "00:20:00",
                        "--jobs-dir", f"{SRC}/jobs", *extra], capture_output=True, text=True,
                       cwd=tmp, env=dict(ENV, **(env or {})), timeout=300)
    ids = dict(line.split() for line in r.stdout.splitlines() if line.strip())
    check(r.returncode == 0 and list(ids) == ["embed", "reduce", "report"],
          f"prh submit {os.path.basename(cfg)}: three job ids (rc {r.returncode}, {r.stdout!r}"
          f" {r.stderr[-500:]!r})")
    return ids


def read(path):
    return open(path).read() if os.path.exists(path) else ""


def wait_for(path, text, timeout):
    """Waits until the file at path contains text; True if it did in time."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if text in read(path):
            return True
        time.sleep(0.2)
    return False


def stop_diagnosis(log, stage="embed"):
    """Why a signalled job did not stop and requeue, read from its log."""
    text = read(log)
    first = text.split(" run 2 ")[0]
    if "test hold:" not in first:
        return "the stage never reached its test hold (it failed or started late)"
    if re.search(rf"{stage}: (done|array task \d+ of \d+ done)", first):
        return "the stage finished its work before the signal arrived"
    if "released (stop requested)" not in first:
        return ("the signal did not reach prh: the batch script did not forward it, or srun "
                "did not pass it on")
    if "requeueing job" not in first:
        return "prh stopped but the batch script did not requeue the job"
    return "the job stopped and requeued as expected"


def signal_held(jid, log, release, what):
    """USR1 to a job whose stage holds (PRH_TEST_HOLD), then lets the requeued run go on."""
    held = wait_for(log, "test hold:", 300)
    check(held, f"{what}: the stage holds with work left"
          + ("" if held else f" ({stop_diagnosis(log)})"))
    m = re.search(r"test hold: \w+ after (\d+) of (\d+) units on this rank \((\d+) left\)",
                  read(log))
    check(m is not None and int(m.group(3)) > 0, f"{what}: work left at the hold: "
          f"{m.group(0) if m else read(log)[-500:]}")
    r = sh("scancel", "--signal=USR1", "--batch", jid)
    check(r.returncode == 0, f"scancel --signal=USR1 --batch {jid} ({r.stderr})")
    requeued = wait_for(log, "requeueing job", 120)
    check(requeued, f"{what}: stopped and requeued: {stop_diagnosis(log)}")
    open(release, "w").close()


def reference(tmp, cfg, name):
    text = open(cfg).read()
    base = os.path.splitext(os.path.basename(cfg))[0]
    ref = os.path.join(tmp, name + ".yaml")
    os.makedirs(os.path.join(tmp, name), exist_ok=True)
    with open(ref, "w") as f:
        f.write(text.replace(f"{base}/store.h5", f"{name}/store.h5")
                    .replace(f"{base}/results.h5", f"{name}/results.h5"))
    r = subprocess.run([MPIEXEC, "-n", "2", "--oversubscribe", PRH, "run", ref],
                       capture_output=True, text=True, env=ENV, cwd=tmp, timeout=600)
    check(r.returncode == 0, f"mpirun -n 2 prh run {name}: rc {r.returncode} {r.stderr[-500:]}")
    return os.path.join(tmp, name, "results.h5")


def main(tmp):
    os.makedirs(f"{tmp}/models")
    subprocess.run([MAKE_MODELS, f"{tmp}/models"], check=True, capture_output=True)
    model = f"{tmp}/models/dict_model.pt"
    small_sets = f"""
  - name: id
    source: {{kind: idx, images: {FASHION}/t10k-images-idx3-ubyte.gz, labels: {FASHION}/t10k-labels-idx1-ubyte.gz, limit: 100}}
  - name: noise
    source: {{kind: noise, count: 100, height: 28, width: 28, channels: 1, seed: 3}}
"""
    cfg = config(tmp, "small", small_sets, model)

    # --- --dry-run -----------------------------------------------------------------
    r = sh(PRH, "submit", cfg, "--ntasks", "2", "--partition", "debug", "--sbatch",
           "--comment=prh-test", "--jobs-dir", f"{SRC}/jobs", "--dry-run", cwd=tmp)
    out = r.stdout
    check(r.returncode == 0 and out.count("#!/bin/bash") == 3
          and out.count("#SBATCH --ntasks=2") == 2 and "#SBATCH --ntasks=2\n" in out
          and out.count("#SBATCH --partition=debug") == 3
          and out.count("#SBATCH --comment=prh-test") == 3
          and "#SBATCH --ntasks=1" in out  # the report keeps its one task
          and out.count(f"#SBATCH --output={tmp}/small/slurm/prh-") == 3,
          f"--dry-run renders three scripts with the options (rc {r.returncode})")
    check(not os.path.exists(f"{tmp}/small/store.h5.jobs.json")
          and sh("squeue", "-h").stdout.strip() == "", "--dry-run submits nothing")
    r = sh(PRH, "submit", cfg, "--jobs-dir", f"{tmp}/nowhere", cwd=tmp)
    check(r.returncode == 2 and "nowhere/embed.sbatch" in r.stderr,
          f"missing templates: exit 2 naming them ({r.returncode}, {r.stderr.strip()})")
    r = subprocess.run([PRH, "submit", cfg, "--jobs-dir", f"{SRC}/jobs"], capture_output=True,
                       text=True, cwd=tmp, env=dict(ENV, PATH="/nonexistent"))
    check(r.returncode == 2 and "sbatch not found" in r.stderr,
          f"no sbatch: exit 2, one clear line ({r.returncode}, {r.stderr.strip()})")

    # --- the small sweep through the chain ---------------------------------------------
    ids = submit(tmp, cfg)
    if len(ids) == 3:
        states = wait_chain(list(ids.values()), 400)
        check(states == ["COMPLETED"] * 3, f"chain embed -> reduce -> report: {states}")
        if states != ["COMPLETED"] * 3:
            for n, i in ids.items():
                log = f"{tmp}/small/slurm/prh-{n}-{i}.out"
                if os.path.exists(log):
                    print(f"----- {log}\n" + open(log).read()[-2000:])
        rec = json.load(open(f"{tmp}/small/store.h5.jobs.json"))
        check([(j["name"], j["id"]) for j in rec["jobs"]] == list(ids.items())
              and all(os.path.exists(j["script"]) and os.path.exists(j["log"])
                      for j in rec["jobs"]), "jobs record: names, ids, scripts, logs")
        dep = job(ids["reduce"]).get("Dependency", "")
        ref = reference(tmp, cfg, "small_ref")
        if os.path.exists(f"{tmp}/small/results.h5") and os.path.exists(ref):
            same_results(f"{tmp}/small/results.h5", ref, "submit vs mpirun -n 2 prh run")
        check(os.path.isdir(f"{tmp}/small/results-csv")
              and os.path.exists(f"{tmp}/small/results-csv/alignment.csv"),
              "report job exported CSV tables")
        check(os.path.exists(f"{tmp}/small/results-report/index.html")
              and os.path.exists(f"{tmp}/small/results-report/figures/correlation_matrices.svg"),
              "report job wrote the HTML report (prh report)")
        r = sh(PRH, "status", cfg, cwd=tmp)
        lines = [l for l in r.stdout.splitlines() if re.match(r"\s+(embed|reduce|report)\s", l)]
        check(r.returncode == 0 and len(lines) == 3 and all("COMPLETED" in l for l in lines),
              f"prh status: three jobs COMPLETED:\n{r.stdout}")

    small_ref = f"{tmp}/small_ref/results.h5"

    # --- job array: embed as 3 tasks of 2 ranks, the reduce job merges --------------------
    arr = config(tmp, "arr", small_sets, model)
    r = sh(PRH, "submit", arr, "--array", "0", "--jobs-dir", f"{SRC}/jobs", "--dry-run", cwd=tmp)
    check(r.returncode == 2 and "--array '0'" in r.stderr, f"--array 0: exit 2 ({r.stderr})")
    r = sh(PRH, "submit", arr, "--array", "4%2", "--jobs-dir", f"{SRC}/jobs", "--dry-run",
           cwd=tmp)
    check(r.returncode == 0 and "#SBATCH --array=0-3%2" in r.stdout
          and "#SBATCH --ntasks=1" in r.stdout and "export PRH_MERGE=1" in r.stdout
          and "prh-embed-%A_%a.out" in r.stdout,
          "--array 4%2 --dry-run: array of 4 (2 at once), one rank per task, merge in reduce")
    ids = submit(tmp, arr, "--array", "3")
    if len(ids) == 3:
        states = wait_chain(list(ids.values()), 400)
        check(states == ["COMPLETED"] * 3, f"array chain embed[3] -> reduce -> report: {states}")
        tasks = sorted(int(r["ArrayTaskId"]) for r in records(ids["embed"]))
        check(tasks == [0, 1, 2], f"the embed job is an array of 3 tasks: {tasks}")
        for t in range(3):
            log = f"{tmp}/arr/slurm/prh-embed-{ids['embed']}_{t}.out"
            text = open(log).read() if os.path.exists(log) else ""
            check(f"array task {t} of 3:" in text and "(2 ranks)" in text,
                  f"task {t} log {os.path.basename(log)}: its slice with 2 ranks")
        rlog = f"{tmp}/arr/slurm/prh-reduce-{ids['reduce']}.out"
        text = open(rlog).read() if os.path.exists(rlog) else ""
        check("merged 24 work items" in text and f"prh run {tmp}/arr.yaml" in text,
              f"the reduce job ran prh run and merged the 24 parts:\n{text[-1500:]}")
        check(not os.path.exists(f"{tmp}/arr/store.h5.parts"), "no parts left after the merge")
        if os.path.exists(f"{tmp}/arr/results.h5") and os.path.exists(small_ref):
            same_results(f"{tmp}/arr/results.h5", small_ref, "array submit vs mpirun -n 2 prh run")
        r = sh(PRH, "status", arr, cwd=tmp)
        check(r.returncode == 0 and "COMPLETED (array of 3)" in r.stdout
              and f"prh-embed-{ids['embed']}_*.out" in r.stdout,
              f"prh status: the array COMPLETED with its logs:\n{r.stdout}")

    # jobs/sweep.sh with PRH_EMBED_ARRAY: the same chain from the shell (logs in cwd).
    sw = config(tmp, "sweep", small_sets, model)
    r = subprocess.run(["bash", f"{SRC}/jobs/sweep.sh", sw], capture_output=True, text=True,
                       cwd=tmp, env=dict(ENV, PRH=PRH, PRH_EMBED_ARRAY="2", PRH_TIME="00:20:00"))
    ids = dict(line.split() for line in r.stdout.splitlines() if line.strip())
    check(r.returncode == 0 and list(ids) == ["embed", "reduce", "report"],
          f"PRH_EMBED_ARRAY=2 jobs/sweep.sh: three ids ({r.returncode}, {r.stderr[-300:]})")
    if len(ids) == 3:
        states = wait_chain(list(ids.values()), 400)
        tasks = sorted(int(r["ArrayTaskId"]) for r in records(ids["embed"]))
        rlog = f"{tmp}/prh-reduce-{ids['reduce']}.out"
        text = open(rlog).read() if os.path.exists(rlog) else ""
        check(states == ["COMPLETED"] * 3 and tasks == [0, 1] and "merged 24 work items" in text,
              f"sweep.sh array chain: {states}, tasks {tasks}, reduce merged the parts")
        if os.path.exists(f"{tmp}/sweep/results.h5") and os.path.exists(small_ref):
            same_results(f"{tmp}/sweep/results.h5", small_ref, "sweep.sh array vs mpirun")
    # A stepped array cannot be sliced: every task says so and fails.
    r = subprocess.run(["sbatch", "--parsable", "--array=0-2:2", "--ntasks=1", f"--chdir={tmp}",
                        f"--output={tmp}/stepped-%A_%a.out", f"{SRC}/jobs/embed.sbatch", sw],
                       capture_output=True, text=True, env=dict(ENV, PRH=PRH))
    jid = r.stdout.strip().split(";")[0]
    check(r.returncode == 0 and wait_chain([jid], 120) == ["FAILED"],
          f"sbatch --array=0-2:2 embed.sbatch: the tasks fail ({r.stderr})")
    log = f"{tmp}/stepped-{jid}_0.out"
    check(os.path.exists(log) and "not a contiguous range" in open(log).read(),
          "a stepped array's log says it is not a contiguous range")

    # --- requeue: USR1 to a running embed, held after its third item per rank -----------
    big_sets = """
  - name: noise
    source: {kind: noise, count: 8000, height: 28, width: 28, channels: 1, seed: 5}
"""
    big = config(tmp, "big", big_sets, model, shard_size=128, batch_size=16, bootstrap=0,
                 metrics="[cka]", correlations="[spearman]")
    release = f"{tmp}/big.release"
    ids = submit(tmp, big, env={"PRH_TEST_HOLD": f"embed:3:{release}"})
    if len(ids) == 3:
        log = f"{tmp}/big/slurm/prh-embed-{ids['embed']}.out"
        signal_held(ids["embed"], log, release, "embed job")
        states = wait_chain(list(ids.values()), 500)
        text = read(log)
        check(states == ["COMPLETED"] * 3, f"requeued chain completes: {states}")
        restarts = int(job(ids["embed"]).get("Restarts", "0") or 0)
        check(restarts >= 1, f"embed job requeued: Restarts={restarts} ({stop_diagnosis(log)})")
        check("requeueing job" in text and "run 2" in text,
              "embed log: stopped, requeued, ran again")
        m = re.findall(r"embed: (\d+) work items in all, (\d+) to do", text)
        check(len(m) >= 2 and int(m[0][1]) == int(m[0][0]) and 0 < int(m[-1][1]) < int(m[-1][0]),
              f"second run resumed: only what was left ({m})")
        r = sh(PRH, "status", big, cwd=tmp)
        check("restarts" in r.stdout, f"prh status shows the restart:\n{r.stdout}")
        ref = reference(tmp, big, "big_ref")
        if os.path.exists(f"{tmp}/big/results.h5") and os.path.exists(ref):
            same_results(f"{tmp}/big/results.h5", ref, "requeued vs uninterrupted")

        big_ref = ref

        # The same sweep as a job array of 2 one-rank tasks; USR1 to task 0 mid-embed.
        bigarr = config(tmp, "bigarr", big_sets, model, shard_size=128, batch_size=16,
                        bootstrap=0, metrics="[cka]", correlations="[spearman]")
        release = f"{tmp}/bigarr.release"
        ids = submit(tmp, bigarr, "--array", "2", ntasks=1,
                     env={"PRH_TEST_HOLD": f"embed:3:{release}"})
        if len(ids) == 3:
            log = f"{tmp}/bigarr/slurm/prh-embed-{ids['embed']}_0.out"
            signal_held(f"{ids['embed']}_0", log, release, "array task 0")
            states = wait_chain(list(ids.values()), 500)
            check(states == ["COMPLETED"] * 3, f"array with a requeued task completes: {states}")
            t0rec = [r for r in records(ids["embed"]) if r.get("ArrayTaskId") == "0"]
            restarts = int(t0rec[0].get("Restarts", "0") or 0) if t0rec else 0
            check(restarts >= 1,
                  f"array task 0 requeued: Restarts={restarts} ({stop_diagnosis(log)})")
            text = read(log)
            check("requeueing job" in text and "run 2" in text,
                  "task 0 log: stopped, requeued, ran again")
            m = re.findall(r"array task 0 of 2: (\d+) of the (\d+) work items, (\d+) to do", text)
            check(len(m) >= 2 and m[0][0] == m[0][2] and 0 < int(m[-1][2]) < int(m[-1][0]),
                  f"task 0's second run did only what was left: {m}")
            rlog = f"{tmp}/bigarr/slurm/prh-reduce-{ids['reduce']}.out"
            text = read(rlog)
            check("merged 189 work items" in text and "189 work items in all, 0 to do" in text,
                  f"reduce job merged every part, embedded nothing: {text[-800:]}")
            if os.path.exists(f"{tmp}/bigarr/results.h5") and os.path.exists(big_ref):
                same_results(f"{tmp}/bigarr/results.h5", big_ref,
                             "array with requeued task vs uninterrupted")

    # --- USR1 before prh catches it: before srun starts, and while prh starts ------------
    early = config(tmp, "early", small_sets, model)
    release = f"{tmp}/early.release"
    r = subprocess.run(["sbatch", "--parsable", "--ntasks=1", f"--chdir={tmp}",
                        f"--output={tmp}/early-%j.out", f"{SRC}/jobs/embed.sbatch", early],
                       capture_output=True, text=True,
                       env=dict(ENV, PRH=PRH, PRH_TEST_HOLD_LAUNCH=release))
    jid = r.stdout.strip().split(";")[0]
    log = f"{tmp}/early-{jid}.out"
    check(r.returncode == 0 and wait_for(log, "test hold before srun", 120),
          f"embed job held before srun ({r.stderr})")
    sh("scancel", "--signal=USR1", "--batch", jid)
    requeued = wait_for(log, "requeueing job", 120)
    check(requeued, "USR1 before srun: requeued" + ("" if requeued else f":\n{read(log)}"))
    open(release, "w").close()
    states = wait_chain([jid], 300)
    text = read(log)
    check(states == ["COMPLETED"] and "before prh started: not starting it" in text
          and int(job(jid).get("Restarts", "0") or 0) >= 1 and "embed: done" in text,
          f"USR1 before srun: not started, requeued, then completed ({states})")

    starting = config(tmp, "starting", small_sets, model)
    wrapper = f"{tmp}/prh-starting.sh"
    with open(wrapper, "w") as f:
        f.write(f"""#!/bin/bash
# Stands for prh while it loads (before its USR1 handler exists): a USR1 now
# ends this process by the signal's default action, as it would end prh.
touch {tmp}/starting.started
while [ ! -e {tmp}/starting.release ]; do sleep 0.05; done
exec {PRH} "$@"
""")
    os.chmod(wrapper, 0o755)
    r = subprocess.run(["sbatch", "--parsable", "--ntasks=2", f"--chdir={tmp}",
                        f"--output={tmp}/starting-%j.out", f"{SRC}/jobs/embed.sbatch", starting],
                       capture_output=True, text=True, env=dict(ENV, PRH=wrapper))
    jid = r.stdout.strip().split(";")[0]
    log = f"{tmp}/starting-{jid}.out"
    t0 = time.time()
    while time.time() - t0 < 120 and not os.path.exists(f"{tmp}/starting.started"):
        time.sleep(0.1)
    check(r.returncode == 0 and os.path.exists(f"{tmp}/starting.started"),
          f"wrapped prh started ({r.stderr})")
    sh("scancel", "--signal=USR1", "--batch", jid)
    requeued = wait_for(log, "requeueing job", 120)
    check(requeued, "USR1 while prh starts: requeued" + ("" if requeued else f":\n{read(log)}"))
    open(f"{tmp}/starting.release", "w").close()
    states = wait_chain([jid], 300)
    text = read(log)
    check(states == ["COMPLETED"] and "before it could catch it" in text
          and int(job(jid).get("Restarts", "0") or 0) >= 1 and "embed: done" in text,
          f"USR1 while prh starts: stop, requeue, then completed ({states}; "
          f"{STARTED_EXIT.findall(text)})")

    # --- failure: a wrong model path -----------------------------------------------------
    bad = config(tmp, "bad", small_sets, f"{tmp}/models/missing.pt")
    ids = submit(tmp, bad)
    if len(ids) == 3:
        t0 = time.time()
        while time.time() - t0 < 120:
            if job(ids["reduce"]).get("Reason") == "DependencyNeverSatisfied":
                break
            time.sleep(1)
        e, rd, rp = (job(ids[n]) for n in ("embed", "reduce", "report"))
        check(e.get("JobState") == "FAILED", f"bad model: embed FAILED ({e.get('JobState')})")
        check(rd.get("JobState") == "PENDING" and rp.get("JobState") == "PENDING",
              "reduce and report never run")
        r = sh(PRH, "status", bad, cwd=tmp)
        log = f"{tmp}/bad/slurm/prh-embed-{ids['embed']}.out"
        check(r.returncode == 0 and "FAILED" in r.stdout and log in r.stdout
              and r.stdout.count("will not run (dependency failed)") == 2
              and "not created yet" in r.stdout,
              f"prh status: embed FAILED with its log, the others will not run:\n{r.stdout}")
        check(os.path.exists(log) and "missing.pt" in open(log).read(),
              "the embed log names the missing model")
        sh("scancel", ids["reduce"], ids["report"])

    # The same failure in a job array: every task FAILED, listed with its log.
    badarr = config(tmp, "badarr", small_sets, f"{tmp}/models/missing.pt")
    ids = submit(tmp, badarr, "--array", "2", ntasks=1)
    if len(ids) == 3:
        t0 = time.time()
        while time.time() - t0 < 120:
            if job(ids["reduce"]).get("Reason") == "DependencyNeverSatisfied":
                break
            time.sleep(1)
        r = sh(PRH, "status", badarr, cwd=tmp)
        logs = [f"{tmp}/badarr/slurm/prh-embed-{ids['embed']}_{t}.out" for t in range(2)]
        check(state(ids["embed"]) == "FAILED" and r.stdout.count("FAILED (exit") == 2
              and all(l in r.stdout for l in logs)
              and r.stdout.count("will not run (dependency failed)") == 2,
              f"prh status: both array tasks FAILED with their logs, the rest will not run:\n"
              f"{r.stdout}")
        sh("scancel", ids["reduce"], ids["report"])


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("SKIP: needs root (slurm/local/start.sh)")
        sys.exit(77)
    subprocess.run(["bash", STOP], env=ENV, capture_output=True)
    shutil.rmtree(SLURM_DIR, ignore_errors=True)
    r = subprocess.run(["bash", START], env=ENV, capture_output=True, text=True)
    if r.returncode != 0:
        print("FAIL: start.sh:", r.stderr)
        sys.exit(1)
    tmp = tempfile.mkdtemp(prefix="prh-submit-test.")
    os.chmod(tmp, 0o755)
    try:
        main(tmp)
    except Exception as e:  # noqa: BLE001: report, then clean up
        check(False, f"exception: {e!r}")
    finally:
        subprocess.run(["bash", STOP], env=ENV, capture_output=True)
    if failures:
        print(f"test_submit: {len(failures)} FAILED (work dir kept: {tmp}; "
              f"daemon logs in {SLURM_DIR}/log)")
        sys.exit(1)
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(SLURM_DIR, ignore_errors=True)
    print("test_submit: all passed")
