#!/usr/bin/python3
"""Times the calibrate stage of `prh reduce` on a synthetic store.

usage: calibrate_bench.py PRH MAKE_TEST_MODELS MPIEXEC [RANKS] [K] [MODELS] [N]

`prh embed` makes a store with the small test model (2 layers of 32 dims),
whose features are then replaced by clustered random ones (h5py); reduce runs
once without calibration (the alignment) and once with `calibration:
{permutations: K}` added, so the second run is the calibrate stage alone
(plus the preparation it needs and the derive step). Metrics: the default
sweep's configurations with k <= 100 plus cka, unbiased_cka, svcca (or
PRH_BENCH_METRICS=a,b,...; PRH_BENCH_CALIBRATE=a,b,... sets calibration.metrics);
last_layer_only, as configs/default.yaml. Prints the seconds of each run.
"""
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

PRH, MAKE, MPIEXEC = sys.argv[1:4]
RANKS = int(sys.argv[4]) if len(sys.argv) > 4 else 2
K = int(sys.argv[5]) if len(sys.argv) > 5 else 100
M = int(sys.argv[6]) if len(sys.argv) > 6 else 13
N = int(sys.argv[7]) if len(sys.argv) > 7 else 1000
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_btl="self,vader",
           OMPI_MCA_btl_vader_single_copy_mechanism="none", HDF5_USE_FILE_LOCKING="FALSE")
METRICS = ["mutual_knn:k=10", "mutual_knn:k=50", "mutual_knn:k=100", "cknna:k=10",
           "cknna:k=50", "cknna:k=100", "cycle_knn:k=10", "lcs_knn:k=10",
           "edit_distance_knn:k=10", "cka", "unbiased_cka", "svcca"]
if os.environ.get("PRH_BENCH_METRICS"):  # e.g. "cka,unbiased_cka": time a subset
    METRICS = os.environ["PRH_BENCH_METRICS"].split(",")


def config(tmp, calibration):
    lines = [f"store: {tmp}/store.h5", f"results: {tmp}/results.h5", "last_layer_only: true",
             "bootstrap: 1000", "mantel: 999",
             "metrics: [" + ", ".join(METRICS) + "]", "image_sets:",
             f"  - {{name: noise, source: {{kind: noise, count: {N}, height: 28, width: 28, "
             "channels: 1, seed: 3}}", "models:"]
    if calibration:
        pick = os.environ.get("PRH_BENCH_CALIBRATE")  # calibration.metrics, comma-separated
        extra = f", metrics: [{pick}]" if pick else ""
        lines.insert(3, f"calibration: {{permutations: {K}, alpha: 0.05, seed: 1{extra}}}")
    lines += [f"  - {{name: m{i}, path: {tmp}/models/dict_model.pt}}" for i in range(M)]
    path = f"{tmp}/bench{int(calibration)}.yaml"
    open(path, "w").write("\n".join(lines) + "\n")
    return path


def mpi(*args):
    t0 = time.time()
    r = subprocess.run([MPIEXEC, "-n", str(RANKS), "--oversubscribe", PRH, *args],
                       capture_output=True, text=True, env=ENV)
    if r.returncode:
        sys.exit(f"{args}: exit {r.returncode}\n{r.stderr[-3000:]}")
    return time.time() - t0, r.stdout + r.stderr


tmp = tempfile.mkdtemp(prefix="prh-calbench-")
os.makedirs(f"{tmp}/models")
subprocess.run([MAKE, f"{tmp}/models"], check=True, capture_output=True)
mpi("embed", config(tmp, False))
rng = np.random.default_rng(0)
with h5py.File(f"{tmp}/store.h5", "r+") as f:
    for m in f["sets/noise/models"]:
        ds = f[f"sets/noise/models/{m}/features"]
        centres = rng.standard_normal((10,) + ds.shape[1:]) * 2
        lab = rng.integers(0, 10, ds.shape[0])
        ds[...] = (centres[lab] + rng.standard_normal(ds.shape)).astype(np.float32)
t1, _ = mpi("reduce", config(tmp, False))
t2, log = mpi("reduce", config(tmp, True))
print(f"models {M}, N {N}, dims 32 (last layer), {len(METRICS)} configurations, ranks {RANKS}, "
      f"K {K}: reduce without calibration {t1:.1f} s; adding calibration {t2:.1f} s")
print("\n".join(line for line in log.splitlines() if "calibrat" in line or "done in" in line))
