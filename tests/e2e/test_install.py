#!/usr/bin/python3
"""End-to-end test of the cluster install (README, "Cluster install"): the
default's small case run from an installed prefix, with nothing from the
source tree or the build folder.

usage: test_install.py CMAKE BUILD MAKE_TEST_MODELS MPIEXEC

- `cmake --install BUILD --prefix P` into a fresh folder installs P/bin/prh and
  prh-models, the job scripts (P/share/prh/jobs), the SLURM profiles, the
  configs, the report tools, the Python package (P/lib/python3/dist-packages/prh,
  every module of the source tree's python/prh) and a module file; the module
  file, evaluated by tclsh with modules' commands stubbed, puts P/bin on PATH,
  sets PRH_SHARE and puts the package on PYTHONPATH;
- in a folder holding only test models (prh-make-test-models) and a config
  made from the *installed* configs/default.yaml (the test models in place of
  the zoo, 100 images per set, each sweep's end points, k <= 99, 100
  bootstrap resamples and 50 permutations), with PATH = P/bin and the
  system's, and no PRH_TOOLS, PRH_MODELS or PYTHONPATH: `prh run` under
  mpiexec -n 2 writes a complete results.h5 (every set, configuration,
  calibration, /groups; finite scores), bit for bit the results of the build
  folder's prh on the same config; `prh export` writes the tables;
  `prh report` runs P/share/prh/tools/prh_report.py (its debug line says so)
  and writes index.html with its figures, with the installed package (the
  source tree's python/ on no path: PYTHONPATH cleared); the installed
  prh_results.py --brief prints the summary; with PYTHONPATH as the module
  file sets it, `import prh.results` (a notebook on the cluster) finds the
  installed package and reads the results;
- the job scripts from the prefix: embed.sbatch run by bash with a stand-in
  srun and P/bin not on PATH finds the prh beside it; report.sbatch (P/bin on
  PATH, as `module load prh` leaves it) writes the CSV tables and the report;
  sweep.sh with a stand-in sbatch hands P/bin/prh and P/share/prh/tools to the
  jobs; `prh submit --dry-run` outside any source tree renders the installed
  templates with P/bin/prh.
"""
import os
import re
import shutil
import stat
import subprocess
import sys

import h5py
import numpy as np

import harness  # noqa: E402
from harness import check  # noqa: E402

CMAKE, BUILD, MAKE_MODELS, MPIEXEC = sys.argv[1:5]
N = 100
# The test models in place of the zoo; labels so that /groups has both kinds of pairs.
PYTHONDIR = "lib/python3/dist-packages"  # CMakeLists.txt PRH_PYTHONDIR
MODELS = {"dict_model": ("fashion04", "mlp"), "wide_0": ("fashion04", "wide"),
          "wide_1": ("shapes", "wide"), "wide_2": ("shapes", "mlp")}


def small_config(default_yaml, models_dir, path):
    """The installed default with the test models, N images per set, the sweeps' end points."""
    text = open(default_yaml).read()
    text = re.sub(r"limit: 1000", f"limit: {N}", text)
    text = re.sub(r"count: 1000", f"count: {N}", text)
    text = re.sub(r"limit: 500", f"limit: {N}", text)
    text = text.replace("levels: [0, 0.25, 0.5, 0.75, 1.0]", "levels: [0, 1.0]")
    text = text.replace("levels: [28, 14, 7, 4, 2, 1]", "levels: [28, 1]")
    # The N axis: one level, N itself (the scaled k = N - 1 needs all N images).
    text = text.replace("levels: [125, 250, 500, 1000]", f"levels: [{N}]")
    head, _, rest = text.partition("\nmodels:")
    _, _, tail = rest.partition("\n# --- Reduction")
    models = "\nmodels:\n" + "".join(
        f"  - {{name: {m}, path: {models_dir}/{m}.pt, training_data: {td}, family: {fam}, "
        f"objective: supervised}}\n" for m, (td, fam) in MODELS.items())
    tail = re.sub(r"k=(\d+)", lambda m: f"k={min(int(m.group(1)), N - 1)}", tail)
    lines, seen = [], set()
    for line in ("# --- Reduction" + tail).splitlines():
        if line.strip().startswith("- ") and line.strip() in seen:
            continue  # the scaled k list repeats k = 99
        seen.add(line.strip())
        lines.append(line)
    text = head + models + "\n" + "\n".join(lines) + "\n"
    text = re.sub(r"bootstrap: \d+", "bootstrap: 100", text)
    text = re.sub(r"permutations: \d+", "permutations: 50", text)
    return harness.write_text(path, text)


def executable(path):
    return os.path.isfile(path) and os.access(path, os.X_OK)


def stand_in(folder, name, body):
    """An executable shell script folder/name."""
    os.makedirs(folder, exist_ok=True)
    p = harness.write_text(os.path.join(folder, name), "#!/bin/bash\n" + body)
    os.chmod(p, os.stat(p).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return p


def check_install(prefix):
    share = f"{prefix}/share/prh"
    for exe in ("bin/prh", "bin/prh-models", "share/prh/jobs/embed.sbatch",
                "share/prh/jobs/reduce.sbatch", "share/prh/jobs/report.sbatch",
                "share/prh/jobs/sweep.sh", "share/prh/tools/prh_report.py",
                "share/prh/tools/prh_results.py", "share/prh/tools/prh_permutations.py"):
        check(executable(f"{prefix}/{exe}"), f"installed, executable: {exe}")
    for f in ("slurm/profiles/cpu.sh", "slurm/profiles/gpu.sh", "slurm/local/start.sh",
              "configs/default.yaml", "configs/default-full.yaml"):
        check(os.path.isfile(f"{share}/{f}"), f"installed: share/prh/{f}")
    versions = os.listdir(f"{share}/modulefiles/prh") if os.path.isdir(
        f"{share}/modulefiles/prh") else []
    check(len(versions) == 1, f"one module file in share/prh/modulefiles/prh: {versions}")
    if not versions:
        return
    module = f"{share}/modulefiles/prh/{versions[0]}"
    check(open(module).readline().startswith("#%Module"), "module file starts with #%Module")
    # The module file evaluated by Tcl with the commands of environment modules stubbed.
    tcl = """
proc prepend-path {var value} { puts "prepend $var $value" }
proc setenv {var value} { puts "setenv $var $value" }
proc module-whatis {args} {}
proc conflict {args} {}
source [lindex $argv 0]
"""
    r = subprocess.run(["tclsh", "/dev/stdin", module], input=tcl, capture_output=True,
                       text=True)
    check(r.returncode == 0, f"tclsh evaluates the module file: {r.stderr}")
    lines = r.stdout.splitlines()
    check(f"prepend PATH {prefix}/bin" in lines, f"module file: PATH gets P/bin: {lines}")
    check(f"setenv PRH_SHARE {share}" in lines, f"module file: PRH_SHARE=P/share/prh: {lines}")
    check(f"prepend PYTHONPATH {prefix}/{PYTHONDIR}" in lines,
          f"module file: PYTHONPATH gets P/{PYTHONDIR}: {lines}")


def check_package(prefix):
    """P/lib/python3/dist-packages/prh holds every module of python/prh and the results
    schema prh.results reads (and no cache); P/share/prh the schema too."""
    src = os.path.join(harness.REPO, "python")
    want = sorted(os.path.relpath(os.path.join(d, f), src) for d, _, fs in os.walk(src)
                  for f in fs if (f.endswith(".py") or f == "results_schema.json")
                  and "__pycache__" not in d)
    check(os.path.isfile(os.path.join(prefix, "share/prh/results_schema.json")),
          "installed: share/prh/results_schema.json")
    dest = os.path.join(prefix, PYTHONDIR)
    got = sorted(os.path.relpath(os.path.join(d, f), dest) for d, _, fs in os.walk(dest) for f in fs)
    check(want and got == want, f"installed package P/{PYTHONDIR}: {got}, want {want}")


def check_results(path, cfg):
    check(os.path.isfile(path), f"results file {path}")
    if not os.path.isfile(path):
        return
    configs = [m for m in re.findall(r"^  - ([a-z_]+(?::k=\d+)?)$", open(cfg).read(), re.M)]
    with h5py.File(path, "r") as f:
        check(int(f.attrs.get("complete", 0)) == 1, "results.h5 complete = 1")
        sets = sorted(f["alignment"].keys())
        check(len(sets) == 11, f"11 sets (6 listed, 2 + 2 + 1 sweep levels): {sets}")
        models = [m.decode() if isinstance(m, bytes) else str(m) for m in f["models"][()]]
        check(models == list(MODELS), f"models {models}")
        check("groups" in f and "calibration" in f and "correlation" in f,
              f"groups, calibration, correlation: {list(f.keys())}")
        n_cfg = 0
        for s in sets:
            for c in f[f"alignment/{s}"]:
                S = f[f"alignment/{s}/{c}/scores"][()]
                n_cfg += 1
                off = S[~np.eye(len(MODELS), dtype=bool)]
                check(S.shape == (4, 4) and np.all(np.isfinite(off)),
                      f"alignment {s}/{c}: 4 x 4, finite off the diagonal")
        check(n_cfg == 11 * len(configs) and len(configs) >= 10,
              f"{n_cfg} alignment matrices for {len(configs)} configurations x 11 sets")


def main(tmp):
    prefix = os.path.join(tmp, "prefix")
    r = subprocess.run([CMAKE, "--install", BUILD, "--prefix", prefix], capture_output=True,
                       text=True)
    check(r.returncode == 0, f"cmake --install: {r.stdout[-600:]} {r.stderr[-600:]}")
    if r.returncode != 0:
        return
    check_install(prefix)
    check_package(prefix)
    share = f"{prefix}/share/prh"
    prh = f"{prefix}/bin/prh"

    # A folder with nothing of the source tree: the test models and a config.
    work = os.path.join(tmp, "work")
    harness.make_models(MAKE_MODELS, os.path.join(work, "models"))
    subprocess.run([MAKE_MODELS, os.path.join(work, "models"), "--wide", "3"], check=True,
                   capture_output=True)
    cfg = small_config(f"{share}/configs/default.yaml", "models", os.path.join(work, "small.yaml"))
    env = {k: v for k, v in harness.mpi_env(locking=False).items()
           if k not in ("PRH_TOOLS", "PRH_MODELS", "PRH_PYTHON", "PYTHONPATH", "PRH")}
    system_path = "/usr/local/bin:/usr/bin:/bin"
    env["PATH"] = f"{prefix}/bin:{system_path}"

    def run(cmd, **kw):
        return subprocess.run(cmd, cwd=kw.pop("cwd", work), env=kw.pop("env", env),
                              capture_output=True, text=True, **kw)

    r = run([MPIEXEC, "-n", "2", "--oversubscribe", prh, "run", "small.yaml"])
    check(r.returncode == 0, f"installed prh run: exit {r.returncode}: {r.stderr[-1500:]}")
    results = os.path.join(work, "out/default/results.h5")
    check_results(results, cfg)

    # The same config with the build folder's prh: the same results bit for bit.
    ref = os.path.join(tmp, "ref")
    os.makedirs(ref)
    shutil.copytree(os.path.join(work, "models"), os.path.join(ref, "models"))
    shutil.copy(cfg, ref)
    r = subprocess.run([MPIEXEC, "-n", "2", "--oversubscribe", os.path.join(BUILD, "prh"), "run",
                        "small.yaml"], cwd=ref, env=harness.mpi_env(locking=False),
                       capture_output=True, text=True)
    check(r.returncode == 0, f"build prh run: {r.stderr[-800:]}")
    harness.same_h5(results, os.path.join(ref, "out/default/results.h5"),
                    "results of the installed prh and of the build's prh")

    r = run([prh, "export", results, "--format", "csv", "--out", "csv"])
    check(r.returncode == 0, f"prh export: {r.stderr[-800:]}")
    for t in ("alignment", "correlations"):
        check(os.path.isfile(os.path.join(work, "csv", t + ".csv")), f"export: {t}.csv")

    r = run([prh, "report", results, "--out", "report"], env=dict(env, PRH_LOG_LEVEL="debug"))
    check(r.returncode == 0, f"prh report: exit {r.returncode}: {r.stderr[-1500:]}")
    script = f"{share}/tools/prh_report.py"
    check(f"report: /usr/bin/python3 {script}" in r.stderr,
          f"prh report runs the installed {script}: {r.stderr[-800:]}")
    index = os.path.join(work, "report", "index.html")
    check(os.path.isfile(index) and os.path.getsize(index) > 1000, "report/index.html written")
    figures = os.path.join(work, "report", "figures")
    svgs = [f for f in os.listdir(figures) if f.endswith(".svg")] if os.path.isdir(figures) else []
    check(len(svgs) >= 3, f"report figures: {svgs}")
    r = run(["/usr/bin/python3", f"{share}/tools/prh_results.py", "--brief", results])
    check(r.returncode == 0 and len(r.stdout.splitlines()) > 5,
          f"installed prh_results.py --brief: {r.stdout[-400:]} {r.stderr[-800:]}")
    # A notebook on the cluster: module load prh (PYTHONPATH = P/lib/python3/dist-packages).
    code = ("import prh.results, prh.report.cli; r = prh.results.load('results.h5'); "
            "print(prh.results.__file__); print(prh.report.cli.__file__); print(len(r.models))")
    r = run(["/usr/bin/python3", "-c", code], cwd=os.path.dirname(results),
            env=dict(env, PYTHONPATH=f"{prefix}/{PYTHONDIR}"))
    out = r.stdout.splitlines()
    check(r.returncode == 0 and len(out) == 3 and all(x.startswith(f"{prefix}/{PYTHONDIR}/prh/")
                                                      for x in out[:2]) and out[2] == str(len(MODELS)),
          f"import prh.results from the installed prefix: {out} {r.stderr[-800:]}")

    # The job scripts from the prefix, run by bash with a stand-in srun that
    # drops its options and runs the command.
    fake = os.path.join(tmp, "fakebin")
    stand_in(fake, "srun", 'while [[ "$1" == -* ]]; do [ "$1" = -n ] && shift; shift; done\n'
             'exec "$@"\n')
    no_prh = dict(env, PATH=f"{fake}:{system_path}")
    r = run(["bash", f"{share}/jobs/embed.sbatch", "small.yaml"], env=no_prh)
    check(r.returncode == 0 and f"): {prh} embed small.yaml" in r.stdout,
          f"embed.sbatch from the prefix finds the prh beside it: {r.stdout[-600:]} "
          f"{r.stderr[-600:]}")
    on_path = dict(env, PATH=f"{prefix}/bin:{fake}:{system_path}")
    r = run(["bash", f"{share}/jobs/report.sbatch", "small.yaml"], env=on_path)
    html = os.path.join(work, "out/default/results-report/index.html")
    check(r.returncode == 0 and os.path.isfile(html)
          and os.path.isfile(os.path.join(work, "out/default/results-csv/alignment.csv")),
          f"report.sbatch from the prefix: CSV and report: {r.stdout[-600:]} {r.stderr[-600:]}")

    # sweep.sh with a stand-in sbatch that records what each job would get.
    record = os.path.join(tmp, "sbatch.log")
    stand_in(fake, "sbatch", f'echo "PRH=$PRH PRH_TOOLS=$PRH_TOOLS ${{@: -2}}" >> {record}\n'
             'echo $((100 + $(wc -l < ' + record + ')))\n')
    r = run([f"{share}/jobs/sweep.sh", "small.yaml"], env=no_prh)
    lines = open(record).read().splitlines() if os.path.exists(record) else []
    want = f"PRH={prh} PRH_TOOLS={share}/tools"
    check(r.returncode == 0 and len(lines) == 3 and all(line.startswith(want) for line in lines)
          and lines[0].endswith(f"{share}/jobs/embed.sbatch small.yaml"),
          f"sweep.sh from the prefix submits its jobs with the prefix's prh and tools: "
          f"{lines} {r.stderr[-600:]}")

    r = run([prh, "submit", "small.yaml", "--dry-run"])
    check(r.returncode == 0 and f"export PRH=${{PRH:-'{prh}'}}" in r.stdout
          and f"export PRH_TOOLS=${{PRH_TOOLS:-'{share}/tools'}}" in r.stdout,
          f"prh submit --dry-run renders the installed templates: {r.stdout[-800:]} "
          f"{r.stderr[-600:]}")


harness.run_test("install", main)
