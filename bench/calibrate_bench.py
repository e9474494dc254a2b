#!/usr/bin/python3
"""The calibrate stage of `prh reduce` side by side with a NumPy null.

usage: calibrate_bench.py PRH MAKE_TEST_MODELS MPIEXEC [RANKS] [K] [MODELS] [N] [NP_PAIRS] [NP_PERMS]

`prh embed` makes a store with the small test model (2 layers of 32 dims),
whose features are then replaced by clustered random ones (h5py); reduce runs
once without calibration (the alignment, --keep-cache), then once per group
of configurations with `calibration: {permutations: K, metrics: GROUP}` (the
calibrate stage alone: its time is the "alignment done in" of the log), and
once with every group. Metrics: the default sweep's configurations with
k <= 100 plus cka, unbiased_cka, svcca; last_layer_only, as
configs/default.yaml.

The NumPy side computes the same nulls the straightforward way, from what
prh's preparation cache holds (preprocessed features, neighbour lists): for
each pair and permutation it relabels B's cached neighbour lists
(inv[nbr[perm]]) and recomputes the metric from them as the published code
does (N x N masks for mutual_knn and cknna, cknna's HSIC_u from the masked
cached Grams K = X X^T with the permuted L[perm][:, perm]; the self terms
computed once per model); lcs / edit distance by a DP vectorised over the
rows; cka, unbiased_cka from the permuted cross-covariance Xc_A^T Xc_B[perm]
(the same algorithm as prh's: for D = 32 it beats the N x N Gram), svcca from
the cached bases U_B[perm]. It runs NP_PAIRS pairs x NP_PERMS permutations
(the permutations of prh, drawn in Python) and checks every value against
prh's /calibration/S/C/null_scores; the ratio compares the time per (pair,
permutation) in CPU seconds, robust to a loaded machine: prh's is the CPU
time of every rank of the calibrating reduce less that of a rerun that finds
everything done (start-up, reading); NumPy's is its process time on one
thread (OpenBLAS limited to one thread). prh's wall time of the stage is
printed beside it.
"""
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # NumPy on one core, as each prh rank
os.environ.setdefault("OMP_NUM_THREADS", "1")
import h5py  # noqa: E402
import numpy as np  # noqa: E402

PRH, MAKE, MPIEXEC = sys.argv[1:4]
ARG = [int(a) for a in sys.argv[4:]]
RANKS, K, M, N, NP_PAIRS, NP_PERMS = (ARG + [2, 1000, 13, 1000, 6, 10][len(ARG):])[:6]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_btl="self,vader",
           OMPI_MCA_btl_vader_single_copy_mechanism="none", HDF5_USE_FILE_LOCKING="FALSE",
           OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
GROUPS = {
    "mutual_knn": ["mutual_knn:k=10", "mutual_knn:k=50", "mutual_knn:k=100"],
    "cknna": ["cknna:k=10", "cknna:k=50", "cknna:k=100"],
    "cycle/lcs/edit": ["cycle_knn:k=10", "lcs_knn:k=10", "edit_distance_knn:k=10"],
    "cka/unbiased_cka": ["cka", "unbiased_cka"],
    "svcca": ["svcca"],
}
METRICS = [m for g in GROUPS.values() for m in g]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from prh_permutations import seeded_permutation as _seeded_permutation  # noqa: E402


def seeded_permutation(seed, t, n):
    return np.array(_seeded_permutation(seed, t, n))


# --- the NumPy null ---------------------------------------------------------
def hsic_unbiased(K, L):
    """Song et al. eq. 5 with the O(N^2) identity sum(K~ L~) = (K~^T 1).(L~ 1)."""
    n = K.shape[0]
    K = K.copy()
    L = L.copy()
    np.fill_diagonal(K, 0)
    np.fill_diagonal(L, 0)
    t1 = np.sum(K * L.T)
    t3 = K.sum(0) @ L.sum(1)
    return (t1 + K.sum() * L.sum() / ((n - 1) * (n - 2)) - 2 / (n - 2) * t3) / (n * (n - 3))


def topk_mask(idx, k):
    n = idx.shape[0]
    m = np.zeros((n, n), bool)
    m[np.arange(n)[:, None], idx[:, :k]] = True
    return m


def lcs_rows(a, b):
    """LCS length of every row pair, a DP vectorised over the rows."""
    n, k = a.shape
    prev = np.zeros((n, k + 1), np.int32)
    for i in range(k):
        cur = np.zeros((n, k + 1), np.int32)
        for j in range(k):
            eq = a[:, i] == b[:, j]
            cur[:, j + 1] = np.where(eq, prev[:, j] + 1, np.maximum(prev[:, j + 1], cur[:, j]))
        prev = cur
    return prev[:, k]


def edit_rows(a, b):
    n, k = a.shape
    prev = np.tile(np.arange(k + 1, dtype=np.int32), (n, 1))
    for i in range(k):
        cur = np.empty((n, k + 1), np.int32)
        cur[:, 0] = i + 1
        for j in range(k):
            sub = prev[:, j] + (a[:, i] != b[:, j])
            cur[:, j + 1] = np.minimum(np.minimum(prev[:, j + 1] + 1, cur[:, j] + 1), sub)
        prev = cur
    return prev[:, k]


class Model:
    """What the NumPy null caches per model (computed once, not timed)."""

    def __init__(self, unit):
        self.x = unit["x"][...].astype(np.float64)
        self.idx = unit["nbr_index"][...]
        self.n = self.x.shape[0]
        self.gram = self.x @ self.x.T  # the kernel whose top-k the lists are
        self.xc = self.x - self.x.mean(0)
        self.self_cknna = {}
        self.masks = {}
        if "svcca_10" in unit:
            self.u = self.xc @ unit["svcca_10"][...]
        kc = self.xc @ self.xc.T
        self.hsic_b = np.sum(kc * kc)
        self.hsic_u = hsic_unbiased(kc, kc)

    def mask(self, k):
        if k not in self.masks:
            self.masks[k] = topk_mask(self.idx, k)
        return self.masks[k]

    def cknna_self(self, k):
        if k not in self.self_cknna:
            km = self.gram * self.mask(k)
            self.self_cknna[k] = hsic_unbiased(km, km)
        return self.self_cknna[k]


def numpy_null(a, b, spec, perm, inv):
    """The score of (A, P B) for one configuration, recomputed."""
    name, _, param = spec.partition(":k=")
    n = a.n
    if name in ("mutual_knn", "cknna", "cycle_knn", "lcs_knn", "edit_distance_knn"):
        k = int(param)
        idx_b = inv[b.idx[perm, :k]]  # B's lists relabelled
        if name == "mutual_knn":
            return np.sum(a.mask(k) & topk_mask(idx_b, k)) / (n * k)
        if name == "cycle_knn":
            return np.mean(a.mask(k)[idx_b, np.arange(n)[:, None]].any(1))
        if name == "lcs_knn":
            return lcs_rows(a.idx[:, :k], idx_b).sum() / k / n
        if name == "edit_distance_knn":
            return 1 - edit_rows(a.idx[:, :k], idx_b).sum() / k / n
        mask = a.mask(k) & topk_mask(idx_b, k)
        kl = hsic_unbiased(a.gram * mask, b.gram[np.ix_(perm, perm)] * mask)
        return kl / (np.sqrt(a.cknna_self(k) * b.cknna_self(k)) + 1e-6)
    if name in ("cka", "unbiased_cka"):
        c = a.xc.T @ b.xc[perm]
        c2 = np.sum(c * c)
        if name == "cka":
            return c2 / (np.sqrt(a.hsic_b * b.hsic_b) + 1e-6)
        sa, sb = np.sum(a.xc * a.xc, 1), np.sum(b.xc * b.xc, 1)[perm]
        ra, rb = a.xc @ a.xc.sum(0) - sa, (b.xc @ b.xc.sum(0))[perm] - sb
        t1 = c2 - sa @ sb
        ka, kb = a.xc.sum(0) @ a.xc.sum(0) - sa.sum(), b.xc.sum(0) @ b.xc.sum(0) - sb.sum()
        hu = (t1 + ka * kb / ((n - 1) * (n - 2)) - 2 / (n - 2) * (ra @ rb)) / (n * (n - 3))
        return hu / (np.sqrt(a.hsic_u * b.hsic_u) + 1e-6)
    if name == "svcca":
        s = np.linalg.svd(a.u.T @ b.u[perm], compute_uv=False)
        return np.minimum(s, 1).mean()
    raise ValueError(spec)


# --- the run ----------------------------------------------------------------
def config(tmp, metrics):
    lines = [f"store: {tmp}/store.h5", f"results: {tmp}/results.h5", "last_layer_only: true",
             "bootstrap: 100", "mantel: 99", "metrics: [" + ", ".join(METRICS) + "]",
             "image_sets:",
             f"  - {{name: noise, source: {{kind: noise, count: {N}, height: 28, width: 28, "
             "channels: 1, seed: 3}}", "models:"]
    if metrics:
        lines.insert(3, f"calibration: {{permutations: {K}, alpha: 0.05, seed: 1, "
                        f"metrics: [{', '.join(metrics)}]}}")
    lines += [f"  - {{name: m{i}, path: {tmp}/models/dict_model.pt}}" for i in range(M)]
    path = f"{tmp}/bench.yaml"
    open(path, "w").write("\n".join(lines) + "\n")
    return path


def mpi(*args):
    """Runs prh; returns (wall s, CPU s of every rank together, log)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    r = subprocess.run([MPIEXEC, "-n", str(RANKS), "--oversubscribe", PRH, *args],
                       capture_output=True, text=True, env=ENV)
    if r.returncode:
        sys.exit(f"{args}: exit {r.returncode}\n{r.stderr[-3000:]}")
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return time.time() - t0, cpu, r.stdout + r.stderr


def calibrate_seconds(log):
    m = re.search(r"alignment done \(.*?(\d+) pairs calibrated\) in ([0-9.]+) s", log)
    return float(m.group(2))


tmp = tempfile.mkdtemp(prefix="prh-calbench-")
os.makedirs(f"{tmp}/models")
subprocess.run([MAKE, f"{tmp}/models"], check=True, capture_output=True)
mpi("embed", config(tmp, None))
rng = np.random.default_rng(0)
with h5py.File(f"{tmp}/store.h5", "r+") as f:
    for m in f["sets/noise/models"]:
        ds = f[f"sets/noise/models/{m}/features"]
        centres = rng.standard_normal((10,) + ds.shape[1:]) * 2
        lab = rng.integers(0, 10, ds.shape[0])
        ds[...] = (centres[lab] + rng.standard_normal(ds.shape)).astype(np.float32)
t_align = mpi("reduce", "--keep-cache", config(tmp, None))[0]
P = M * (M - 1) // 2
print(f"models {M} ({P} pairs), N {N}, last layer of 32 dims, K {K}, prh on {RANKS} ranks; "
      f"NumPy on 1 core: {NP_PAIRS} pairs x {NP_PERMS} permutations per configuration; "
      f"reduce without calibration {t_align:.1f} s")

with h5py.File(f"{tmp}/results.h5.prep.h5", "r") as f:
    units = sorted(f["units"], key=int)
    models = [Model(f[f"units/{u}"]) for u in units]  # one set, last layer: unit = model
perms = [seeded_permutation(1, t, N) for t in range(NP_PERMS)]
invs = [np.argsort(p) for p in perms]
pairs = [(i, j) for i in range(M) for j in range(i + 1, M)]
pick = [pairs.index(p) for p in pairs[:: max(1, P // NP_PAIRS)][:NP_PAIRS]]

rows, tot_prh, tot_np = [], 0.0, 0.0
for group, specs in list(GROUPS.items()) + [("all", METRICS)]:
    _, cpu, log = mpi("reduce", "--keep-cache", config(tmp, specs))
    wall = calibrate_seconds(log)
    # The CPU of a run that finds everything done: start-up, reading, checks.
    idle = mpi("reduce", "--keep-cache", config(tmp, specs))[1]
    t_prh = cpu - idle
    if group == "all":
        rows.append((group, wall, t_prh, tot_np, None))
        break
    with h5py.File(f"{tmp}/results.h5", "r") as f:
        g = f["calibration/noise"]
        names = {s: s.replace(":", "@") if s.replace(":", "@") in g else
                 next(c for c in g if c.startswith(s + "@")) for s in specs}
        stored = {s: g[f"{names[s]}/null_scores"][...] for s in specs}
    worst, t0 = 0.0, time.process_time()
    for p in pick:
        i, j = pairs[p]
        for t in range(NP_PERMS):
            for s in specs:
                v = numpy_null(models[i], models[j], s, perms[t], invs[t])
                worst = max(worst, abs(v - stored[s][p, t]))
                if s.startswith("cknna"):  # prh also computes the orientation (j, i)
                    numpy_null(models[j], models[i], s, perms[t], invs[t])
    t_np = (time.process_time() - t0) * (P * K) / (len(pick) * NP_PERMS)  # all pairs, K perms
    tot_prh += t_prh
    tot_np += t_np
    rows.append((group, wall, t_prh, t_np, worst))

print(f"\n| configurations | prh calibrate stage: wall s on {RANKS} ranks / CPU s | NumPy CPU s, "
      f"extrapolated to {P} pairs x K = {K} | NumPy / prh (CPU) | largest |NumPy - prh null| |")
print("|---|---|---|---|---|")
for group, wall, t_prh, t_np, worst in rows:
    w = "" if worst is None else f"{worst:.1e}"
    name = f"{group} ({', '.join(GROUPS[group])})" if group in GROUPS else \
        "all, in one run (NumPy: sum of the groups)"
    print(f"| {name} | {wall:.1f} / {t_prh:.1f} | {t_np:.0f} | {t_np / t_prh:.0f}x | {w} |")
print(f"\nsum of the group runs: prh {tot_prh:.1f} CPU s, NumPy {tot_np:.0f} CPU s")
