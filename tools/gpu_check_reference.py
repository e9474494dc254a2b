#!/usr/bin/env python3
"""The eight alignment metrics of metrics.md in plain dense PyTorch, beside
`prh compare`: the reference for tools/gpu-check.sh and its CPU ctest.

Written from ../shared/docs/metrics.md the way the reference implementation
(minyoungg/platonic-rep, metrics.py) computes them: N x N Gram matrices, kNN
by torch.topk over the full N x N similarity matrix (self masked out), HSIC
as trace(K H L H) and the unbiased HSIC formula with its N x N x N product,
SVCCA by dense SVDs. It shares no code with prh. Differences from that code
are those metrics.md lists for prh: lcs_knn divided by k, exact SVCCA (the
top cca_dim left singular vectors of the standardised features, then the
singular values of U_A^T U_B), a clear error for cknna without k. Ties in
kNN are broken by torch.topk (metrics.md: lower index first in prh); with
continuous features they do not occur.

Subcommands (run with an interpreter that has torch, h5py and numpy: Debian's
/usr/bin/python3 here, the PyTorch installation's python3 on a GPU machine):

  features OUT.h5 --n N --d D [--seed S]
      two synthetic "models" /a and /b, [N, D] float32: a shared latent of
      rank 32 seen through two random linear maps, plus independent noise
      (so every metric is well away from 0 and from 1).
  compare OUT.h5 --prh PRH [--device cpu|cuda] [--dtype float64|float32]
          [--json RESULT.json] [--table TABLE.txt] [--metric SPEC]...
      for each metric (default: the eight defaults of `prh compare`), runs
      `prh compare OUT.h5:/a OUT.h5:/b --metric SPEC --json [--device D]`
      (its "seconds", the compute time, if it reports one, else the wall
      time of the call) and then the dense PyTorch reference on the same
      device (preprocessing included, timed with torch.cuda.synchronize
      after one untimed warm-up pass on 256 rows); prints the table.
  check --prh PRH [--n 300] [--d 48] [--tol 1e-6]
      the ctest (CPU): one `prh compare --json` (all eight metrics) against
      the reference at small N; fails unless every |difference| <= tol
      (kNN metrics must agree to 1e-12: they are ratios of integer counts)
      and every score lies in (0.001, 0.999) (features not degenerate).
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

# The eight metric configurations of `prh compare` without --metric (metrics.md).
DEFAULT_SPECS = ["mutual_knn", "cycle_knn", "lcs_knn", "edit_distance_knn", "cka",
                 "unbiased_cka", "cknna", "svcca"]
DEFAULT_PARAMS = {"k": 10, "cca_dim": 10, "kernel": "linear", "sigma": 1.0}


def parse_spec(spec):
    """'cknna:k=100' -> ('cknna', {'k': 100, ...defaults})."""
    name, _, rest = spec.partition(":")
    params = dict(DEFAULT_PARAMS)
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        params[key] = value if key == "kernel" else (float(value) if key == "sigma" else int(value))
    return name, params


# --- The reference: dense PyTorch ------------------------------------------------

def preprocess(torch, x, q=0.95):
    """metrics.md: clamp at the mean of the per-row q-quantiles of |x|, then L2 rows."""
    t = torch.quantile(x.abs(), q, dim=1).mean()
    x = x.clamp(-t, t)
    norm = x.norm(dim=1, keepdim=True)
    return torch.where(norm > 0, x / torch.where(norm > 0, norm, torch.ones_like(norm)),
                       torch.zeros_like(x))


def knn(torch, x, k):
    """[N, k] indices of each row's k most similar other rows, most similar first."""
    sim = x @ x.T
    sim.fill_diagonal_(-math.inf)
    return sim.topk(k, dim=1, largest=True, sorted=True).indices


def neighbour_mask(torch, idx, n):
    m = torch.zeros(n, n, dtype=torch.bool, device=idx.device)
    m.scatter_(1, idx, True)
    return m


def mutual_knn(torch, na, nb, k):
    n = len(na)
    both = neighbour_mask(torch, na, n) & neighbour_mask(torch, nb, n)
    return (both.sum(dim=1).double() / k).mean().item()


def cycle_knn(torch, na, nb, k):
    n = len(na)
    back = na[nb]  # [N, k, k]: A-neighbours of each B-neighbour of i
    i = torch.arange(n, device=na.device).view(n, 1, 1)
    return (back == i).flatten(1).any(dim=1).double().mean().item()


def sequence_dp(torch, na, nb, lcs):
    """LCS length or Levenshtein distance of every row pair, one DP for all rows."""
    n, k = na.shape
    ar = torch.arange(k + 1, device=na.device, dtype=torch.int64)
    prev = torch.zeros(n, k + 1, dtype=torch.int64, device=na.device) if lcs else ar.expand(n, -1)
    for i in range(1, k + 1):
        cur = [torch.zeros(n, dtype=torch.int64, device=na.device) if lcs
               else torch.full((n,), i, dtype=torch.int64, device=na.device)]
        for j in range(1, k + 1):
            eq = na[:, i - 1] == nb[:, j - 1]
            if lcs:
                cur.append(torch.where(eq, prev[:, j - 1] + 1, torch.maximum(prev[:, j], cur[j - 1])))
            else:
                cur.append(torch.minimum(torch.minimum(prev[:, j] + 1, cur[j - 1] + 1),
                                         prev[:, j - 1] + (~eq).long()))
        prev = torch.stack(cur, dim=1)
    return prev[:, k]


def lcs_knn(torch, na, nb, k):
    return (sequence_dp(torch, na, nb, True).double() / k).mean().item()


def edit_distance_knn(torch, na, nb, k):
    return 1 - (sequence_dp(torch, na, nb, False).double() / k).mean().item()


def hsic_biased(torch, K, L):
    n = len(K)
    H = torch.eye(n, dtype=K.dtype, device=K.device) - 1.0 / n
    return torch.trace(K @ H @ L @ H).item()


def hsic_unbiased(torch, K, L):
    """Song et al. 2012, eq. 5, as metrics.md writes it (K~ L~^T elementwise sum,
    the (K~ L~) product summed)."""
    m = len(K)
    Kt = K.clone()
    Kt.fill_diagonal_(0)
    Lt = L.clone()
    Lt.fill_diagonal_(0)
    v = ((Kt * Lt.T).sum() + Kt.sum() * Lt.sum() / ((m - 1) * (m - 2))
         - 2.0 / (m - 2) * (Kt @ Lt).sum())
    return (v / (m * (m - 3))).item()


def ratio(kl, kk, ll):
    p = kk * ll
    return math.nan if not p > 0 else kl / (math.sqrt(p) + 1e-6)


def kernel(torch, x, kind, sigma):
    if kind == "linear":
        return x @ x.T
    d2 = torch.cdist(x, x).pow(2)
    return torch.exp(-d2 / (2 * sigma ** 2))


def cka(torch, a, b, kind, sigma, unbiased):
    K, L = kernel(torch, a, kind, sigma), kernel(torch, b, kind, sigma)
    f = hsic_unbiased if unbiased else hsic_biased
    return ratio(f(torch, K, L), f(torch, K, K), f(torch, L, L))


def cknna(torch, a, b, k):
    n = len(a)
    K, L = a @ a.T, b @ b.T
    mk = neighbour_mask(torch, knn(torch, a, k), n).to(a.dtype)
    ml = neighbour_mask(torch, knn(torch, b, k), n).to(a.dtype)
    m = mk * ml
    return ratio(hsic_unbiased(torch, m * K, m * L), hsic_unbiased(torch, mk * K, mk * K),
                 hsic_unbiased(torch, ml * L, ml * L))


def svcca(torch, a, b, cca_dim):
    def basis(x):
        x = x - x.mean(dim=0)
        x = x / (x.std(dim=0, unbiased=True) + 1e-8)
        u, _, _ = torch.linalg.svd(x, full_matrices=False)
        return u[:, :cca_dim]

    return torch.linalg.svdvals(basis(a).T @ basis(b)).mean().item()


def reference_score(torch, a_raw, b_raw, spec):
    """One metric configuration on raw features (preprocessing included)."""
    name, p = parse_spec(spec)
    a, b = preprocess(torch, a_raw), preprocess(torch, b_raw)
    k = p["k"]
    if name in ("mutual_knn", "cycle_knn", "lcs_knn", "edit_distance_knn"):
        na, nb = knn(torch, a, k), knn(torch, b, k)
        return globals()[name](torch, na, nb, k)
    if name in ("cka", "unbiased_cka"):
        return cka(torch, a, b, p["kernel"], p["sigma"], name == "unbiased_cka")
    if name == "cknna":
        return cknna(torch, a, b, k)
    if name == "svcca":
        return svcca(torch, a, b, p["cca_dim"])
    raise ValueError(f"unknown metric '{name}'")


def timed_reference(torch, a, b, spec, device):
    def sync():
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    sync()
    t0 = time.perf_counter()
    with torch.no_grad():
        s = reference_score(torch, a, b, spec)
    sync()
    return s, time.perf_counter() - t0


def load_features(torch, path, device, dtype):
    import h5py
    with h5py.File(path, "r") as f:
        a, b = f["a"][...], f["b"][...]
    dt = getattr(torch, dtype)
    return (torch.from_numpy(a).to(device=device, dtype=dt),
            torch.from_numpy(b).to(device=device, dtype=dt))


# --- prh --------------------------------------------------------------------------

def prh_supports_device(prh):
    r = subprocess.run([prh, "compare", "--help"], capture_output=True, text=True)
    return "--device" in r.stdout


def run_prh(prh, h5, specs, device, use_device_flag):
    """`prh compare --json`: its results by canonical name, its seconds (or the
    wall time), its device and the command line."""
    cmd = [prh, "compare", f"{h5}:/a", f"{h5}:/b", "--json"]
    for s in specs:
        cmd += ["--metric", s]
    if use_device_flag:
        cmd += ["--device", device]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
    out = json.loads(r.stdout)
    secs = out.get("seconds")
    return {"results": out["results"], "seconds": wall if secs is None else float(secs),
            "seconds_from": "wall" if secs is None else "prh",
            "device": out.get("device", device if use_device_flag else "cpu"),
            "cmd": " ".join(cmd)}


def fmt_num(x, spec="{:.6f}"):
    return "nan" if x is None or (isinstance(x, float) and math.isnan(x)) else spec.format(x)


def cmd_features(args):
    import h5py
    import numpy as np
    rng = np.random.default_rng(args.seed)
    n, d, r = args.n, args.d, min(32, args.d)
    lat = rng.standard_normal((n, r))
    a = lat @ rng.standard_normal((r, d)) + 1.0 * rng.standard_normal((n, d))
    b = np.tanh(lat @ rng.standard_normal((r, d)) / math.sqrt(r)) * 3 + 1.5 * rng.standard_normal((n, d))
    with h5py.File(args.out, "w") as f:
        f["a"] = a.astype(np.float32)
        f["b"] = b.astype(np.float32)
    print(f"wrote {args.out}: /a and /b, [{n}, {d}] float32 (shared latent of rank {r} + noise)")
    return 0


def cmd_compare(args):
    """Each side may fail on its own (a metric prh refuses, the reference out of
    memory): the table then says so in that cell, the rest is still measured,
    and the exit status is 1."""
    import h5py
    import torch
    specs = args.metric or DEFAULT_SPECS
    use_flag = prh_supports_device(args.prh)
    if not use_flag:
        print(f"note: {args.prh} compare has no --device option (yet): prh runs on the CPU",
              file=sys.stderr)
    rows, failures = [], 0
    for spec in specs:  # prh first, with the GPU to itself
        row = {"spec": spec, "prh": None, "reference": None}
        try:
            p = run_prh(args.prh, args.features, [spec], args.device, use_flag)
            print(f"prh: {p['cmd']}: {p['seconds']:.3f} s ({p['seconds_from']}), "
                  f"device {p['device']}", file=sys.stderr)
            row["prh"] = p
        except (RuntimeError, ValueError, KeyError) as e:
            print(f"prh: {spec}: FAILED: {e}", file=sys.stderr)
            row["prh_error"] = str(e)
            failures += 1
        rows.append(row)
    with h5py.File(args.features, "r") as f:
        n, d = (int(x) for x in f["a"].shape)
    try:
        a, b = load_features(torch, args.features, args.device, args.dtype)
        # Warm-up (CUDA context, cuBLAS/cuSOLVER handles, kernels): each metric on 256 rows.
        for spec in specs:
            timed_reference(torch, a[:256], b[:256], spec, args.device)
    except Exception as e:  # the device itself is unusable: no reference at all
        print(f"reference: FAILED before any metric: {e!r}", file=sys.stderr)
        a = b = None
        failures += 1
    for row in rows:
        if a is None:
            break
        try:
            s, secs = timed_reference(torch, a, b, row["spec"], args.device)
            row["reference"] = {"score": s, "seconds": secs}
            print(f"reference: {row['spec']}: {secs:.3f} s", file=sys.stderr)
        except Exception as e:  # e.g. out of memory: report it, go on
            print(f"reference: {row['spec']}: FAILED: {e!r}", file=sys.stderr)
            row["reference_error"] = repr(e)
            failures += 1
        if args.device.startswith("cuda"):
            torch.cuda.empty_cache()
    lines = [f"Metrics at N = {n}, D = {d}: `prh compare --metric SPEC --json"
             + (f" --device {args.device}`" if use_flag else "` (no --device in this prh: CPU)")
             + f" vs dense PyTorch ({args.dtype}, {args.device}; tools/gpu_check_reference.py)",
             f"{'metric':<26} {'prh s':>9} {'ref s':>9} {'ref/prh':>8} {'prh score':>11} "
             f"{'ref score':>11} {'|diff|':>9}"]
    for row in rows:
        p, r = row["prh"], row["reference"]
        name = p["results"][0]["name"] if p else row["spec"]
        ps = p["results"][0]["score"] if p else None
        rs = r["score"] if r else None
        diff = (abs(ps - rs) if ps is not None and rs is not None and not math.isnan(rs)
                else math.nan)
        row["name"], row["diff"] = name, diff
        pt = f"{p['seconds']:>9.4g}" if p else f"{'FAILED':>9}"
        rt = f"{r['seconds']:>9.4g}" if r else f"{'FAILED':>9}"
        ratio = (f"{r['seconds'] / p['seconds']:>8.1f}" if p and r and p["seconds"] > 0
                 else f"{'-':>8}")
        lines.append(f"{name:<26} {pt} {rt} {ratio} {fmt_num(ps):>11} {fmt_num(rs):>11} "
                     f"{fmt_num(diff, '{:.1e}'):>9}")
    done = [r for r in rows if r["prh"]]
    secs_from = {r["prh"]["seconds_from"] for r in done}
    lines.append("prh s: " + ("the compute time prh reports (JSON \"seconds\")" if secs_from == {"prh"}
                              else "wall time of each `prh compare` call (this prh reports no "
                                   "\"seconds\")" if secs_from == {"wall"} else "mixed")
                 + f"; prh device: {', '.join(sorted({str(r['prh']['device']) for r in done}))}; "
                 "ref s: preprocessing + metric, synchronised, after a warm-up; "
                 "ref/prh: reference seconds / prh seconds (> 1: prh is faster)")
    if failures:
        lines.append(f"{failures} FAILED (see the log above the table)")
    text = "\n".join(lines)
    print(text)
    if args.table:
        with open(args.table, "w") as f:
            f.write(text + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"n": n, "d": d, "rows": rows}, f, indent=1)
    return 1 if failures else 0


def cmd_check(args):
    import torch
    tmp = tempfile.mkdtemp(prefix="prh-gpu-check-ref-")
    try:
        h5 = os.path.join(tmp, "feats.h5")
        cmd_features(argparse.Namespace(out=h5, n=args.n, d=args.d, seed=args.seed))
        p = run_prh(args.prh, h5, [], "cpu", False)  # all eight defaults in one call
        a, b = load_features(torch, h5, "cpu", "float64")
        names = [r["metric"] for r in p["results"]]
        if sorted(names) != sorted(DEFAULT_SPECS):
            print(f"FAIL: prh compare's default metrics are {names}, expected {DEFAULT_SPECS}")
            return 1
        bad = 0
        for r in p["results"]:
            spec = r["metric"] + (":" + ",".join(f"{k}={v}" for k, v in r["params"].items())
                                  if r["params"] else "")
            ref = reference_score(torch, a, b, spec)
            got = r["score"]
            diff = abs(got - ref) if got is not None else math.inf
            exact = r["metric"].endswith("_knn")
            tol = 1e-12 if exact else args.tol
            ok = diff <= tol and 1e-3 < ref < 0.999  # and not degenerate
            bad += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {r['name']:<22} prh {got:.12f}  reference {ref:.12f}"
                  f"  |diff| {diff:.2e} (tol {tol:g})")
        print(f"N = {args.n}, D = {args.d}: {8 - bad} of 8 metrics agree")
        return 1 if bad else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog=__doc__[__doc__.index("Subcommands"):],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("features")
    f.add_argument("out")
    f.add_argument("--n", type=int, required=True)
    f.add_argument("--d", type=int, required=True)
    f.add_argument("--seed", type=int, default=0)
    c = sub.add_parser("compare")
    c.add_argument("features")
    c.add_argument("--prh", required=True)
    c.add_argument("--device", default="cpu")
    c.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    c.add_argument("--metric", action="append")
    c.add_argument("--json")
    c.add_argument("--table")
    k = sub.add_parser("check")
    k.add_argument("--prh", required=True)
    k.add_argument("--n", type=int, default=300)
    k.add_argument("--d", type=int, default=48)
    k.add_argument("--seed", type=int, default=3)
    k.add_argument("--tol", type=float, default=1e-6)
    args = p.parse_args(argv)
    return {"features": cmd_features, "compare": cmd_compare, "check": cmd_check}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
