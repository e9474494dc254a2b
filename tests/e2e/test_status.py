#!/usr/bin/python3
"""End-to-end test of `prh status` (docs/store.md, "prh status").

usage: test_status.py PRH MAKE_TEST_MODELS MPIEXEC

A sweep shaped like configs/default.yaml (its 21 model names, six image
sets and the two falsification sweeps: 17 sets; 30 images each, small test
models, two calibrated configurations), taken through its life. Checked at
each point:

- the summary fits in 40 lines (as `prh status configs/default.yaml` with no
  store does), and `--json` parses with the documented fields and numbers
  that agree with the files (done flags read with h5py, journals counted);
- before anything: the next command embeds every work item;
- after `prh embed`: every set embedded, not reduced; the next command
  prepares 357 units, scores 17 x 231 pairs, calibrates 17 x 210;
- after kill -9 mid-scoring and kill -9 mid-calibration (PRH_TEST_HOLD):
  the summary names the stage and the image sets with pairs left, and the
  next command's counts equal those left in the file;
- after the resumed reduce: every set done, derived tables current, nothing
  left; a changed `bootstrap` makes them stale, naming it;
- `--verbose` has the per-(set, model) table (357 lines);
- status runs in the `prh` binary alone: PRH_MODELS pointing at a program
  that fails changes nothing (it never execs prh-models or loads LibTorch).
The time of one `prh status` on the reduced store is printed, not asserted.
"""
import json
import os
import re
import subprocess
import sys
import time

import h5py

import harness  # noqa: E402
from harness import check, fashion  # noqa: E402

PRH, MAKE_MODELS, MPIEXEC = sys.argv[1:4]
ENV = harness.mpi_env(locking=False)
prh = harness.Prh(PRH, MPIEXEC, ENV)
# prh status must not need prh-models: pointing PRH_MODELS at a program that
# fails would fail any command that execs it.
STATUS_ENV = dict(ENV, PRH_MODELS="/bin/false")

# configs/default.yaml's models (names only; all the same small test model here).
MODELS = ["mlp_w256_d2_s0", "mlp_w256_d2_s1", "mlp_w512_d3_s0", "cnn_w16_d2_s0", "cnn_w16_d2_s1",
          "cnn_w32_d3_s0", "resnet_w16_d1_s0", "resnet_w24_d2_s0", "vit_w32_d2_s0",
          "vit_w64_d4_s0", "mlp_ae_w256_d2_s0", "cnn_ae_w16_d2_s0", "cnn_clr_w16_d2_s0",
          "f59_mlp_w256_d2_s0", "f59_cnn_w16_d2_s0", "f10_mlp_w256_d2_s0", "f10_cnn_w16_d2_s0",
          "shp_mlp_w256_d2_s0", "shp_cnn_w16_d2_s0", "nat_mlp_ae_w256_d2_s0",
          "nat_cnn_ae_w16_d2_s0"]
M = len(MODELS)
N = 30
SETS = ["id", "ood", "shapes", "natural", "uniform", "gaussian"]
CONFIGS = ["mutual_knn@k=5", "cknna@k=5"]
PAIRS, CPAIRS = M * (M + 1) // 2, M * (M - 1) // 2


# The sweeps' end points that are views (docs/store.md, "Views"): no work items.
VIEWS = ("id@blend=0", "id@blend=1", "id@patch_shuffle=28")


def config(tmp, bootstrap=20):
    sets = f"""
  - name: id
    source: {fashion(N)}
  - name: ood
    source: {fashion(N, classes=(5, 6, 7, 8, 9))}
  - name: shapes
    source: {{kind: shapes, count: {N}, seed: 3}}
  - name: natural
    source: {{kind: noise, distribution: gaussian, height: 28, width: 28, channels: 1, count: {N}, seed: 4}}
  - name: uniform
    source: {{kind: noise, distribution: uniform, height: 28, width: 28, channels: 1, count: {N}, seed: 1}}
  - name: gaussian
    source: {{kind: noise, distribution: gaussian, height: 28, width: 28, channels: 1, count: {N}, seed: 2}}
"""
    tail = f"""sweeps:
  - {{name: towards_noise, base: id, family: blend, noise: uniform, seed: 1, limit: {N},
     levels: [0, 0.25, 0.5, 0.75, 1.0]}}
  - {{name: patch_shuffle, base: id, family: patch_shuffle, limit: {N},
     levels: [28, 14, 7, 4, 2, 1]}}
"""
    params = {"store": f"{tmp}/status.store.h5", "results": f"{tmp}/status.results.h5",
              "shard_size": 32, "batch_size": 16, "bootstrap": bootstrap,
              "correlations": "[spearman]", "last_layer_only": "true",
              "metrics": "[mutual_knn:k=5, cknna:k=5]",
              "calibration": "{permutations: 19, alpha: 0.05, seed: 1}"}
    return harness.write_config(os.path.join(tmp, "status.yaml"), params, sets,
                                [(m, f"{tmp}/models/dict_model.pt") for m in MODELS], tail)


def status(cfg, *extra):
    r = prh("status", cfg, *extra, env=STATUS_ENV)
    check(r.returncode == 0, f"prh status {' '.join(extra)}: exit {r.returncode}: {r.stderr[-800:]}")
    return r


def summary(cfg, what):
    r = status(cfg)
    lines = r.stdout.splitlines()
    check(len(lines) <= 40, f"{what}: the summary fits in 40 lines ({len(lines)}):\n{r.stdout}")
    return r.stdout


def as_json(cfg, what):
    r = status(cfg, "--json")
    try:
        j = json.loads(r.stdout)
    except ValueError as e:
        check(False, f"{what}: --json is JSON ({e}): {r.stdout[:500]}")
        return None
    for key in ("format", "config", "store", "store_exists", "results", "results_exist",
                "complete", "models", "image_sets", "embed", "reduce", "problems", "left", "next"):
        check(key in j, f"{what}: --json has {key}")
    check(j.get("format") == "prh-status-1", f"{what}: format prh-status-1")
    check(j.get("models") == M and len(j.get("image_sets", [])) == 17,
          f"{what}: 21 models, 17 image sets in --json")
    for s in j.get("image_sets", []):
        for key in ("name", "images", "models", "models_done", "shards", "shards_done",
                    "models_left", "prepare_left", "score_done", "score_total", "calibrate_done",
                    "calibrate_total", "calibration_remade", "state"):
            check(key in s, f"{what}: image set entry has {key}")
    for key in ("command", "embed_items", "prepare_units", "score_pairs", "calibrate_pairs",
                "derive", "text"):
        check(key in j.get("next", {}), f"{what}: next has {key}")
    return j


def file_flags(results):
    """Per set: pairs done in every configuration, calibrated pairs (journals counted)."""
    waiting = harness.journal_flags(results)
    out = {}
    with h5py.File(results, "r") as f:
        for s in f["alignment"]:
            both = None
            for c in CONFIGS:
                name = f"/alignment/{s}/{c}/done"
                d = f[name][()].copy()
                d[list(waiting.get(name, ()))] = 1
                both = d if both is None else both & d
            name = f"/calibration/{s}/done"
            cd = f[name][()].copy()
            cd[list(waiting.get(name, ()))] = 1
            out[s] = (int(both.sum()), int(cd.sum()))
    return out


def agrees(j, results, what):
    """--json's per-set and total counts equal the file's flags."""
    flags = file_flags(results)
    for s in j["image_sets"]:
        sd, cd = flags.get(s["name"], (0, 0))
        check((s["score_done"], s["calibrate_done"]) == (sd, cd) and
              s["score_total"] == PAIRS and s["calibrate_total"] == CPAIRS,
              f"{what}: {s['name']}: status {s['score_done']}/{s['score_total']} scored, "
              f"{s['calibrate_done']}/{s['calibrate_total']} calibrated; file {sd}, {cd}")
    score_left = sum(PAIRS - sd for sd, _ in flags.values())
    cal_left = sum(CPAIRS - cd for _, cd in flags.values())
    check(j["next"]["score_pairs"] == score_left and j["next"]["calibrate_pairs"] == cal_left,
          f"{what}: next scores {j['next']['score_pairs']} (file: {score_left} left) and "
          f"calibrates {j['next']['calibrate_pairs']} (file: {cal_left} left)")
    return score_left, cal_left, flags


def main(tmp):
    harness.make_models(MAKE_MODELS, f"{tmp}/models")
    cfg = config(tmp)

    # The embedded default itself, no store (the summary's shape, in 40 lines).
    r = subprocess.run([PRH, "status", os.path.join(harness.REPO, "configs", "default.yaml")],
                       cwd=tmp, capture_output=True, text=True, env=STATUS_ENV)
    check(r.returncode == 0 and len(r.stdout.splitlines()) <= 40 and
          "would embed every work item" in r.stdout,
          f"prh status configs/default.yaml without a store: {len(r.stdout.splitlines())} lines, "
          f"exit {r.returncode}:\n{r.stdout}{r.stderr[-800:]}")

    # Nothing yet.
    out = summary(cfg, "no store")
    check(f"next: `prh run {cfg}` would embed every work item" in out,
          f"no store: the next command embeds everything:\n{out}")
    j = as_json(cfg, "no store")
    check(j and not j["store_exists"] and j["next"]["command"] == f"prh run {cfg}",
          "no store: --json store_exists false, next command prh run")
    names = [s["name"] for s in j["image_sets"]] if j else []
    check(names[:6] == SETS and len(names) == 17, f"the 17 image sets in config order: {names}")

    # Embedded, not reduced.
    r = prh.mpi(2, "embed", cfg)
    check(r.returncode == 0, f"embed: {r.stderr[-2000:]}")
    out = summary(cfg, "embedded")
    for s in names:
        shards = "view" if s in VIEWS else "21/21"
        check(re.search(rf"^{re.escape(s)}\s+21/21\s+{shards}\s+{N}\s+embedded, not reduced$",
                        out, re.M), f"embedded: the line of {s}:\n{out}")
    want = (f"next: `prh reduce {cfg}` would prepare 357 units, score {17 * PAIRS} pairs, "
            f"calibrate {17 * CPAIRS} pairs and write the derived tables")
    check(want in out, f"embedded: {want!r} in\n{out}")
    j = as_json(cfg, "embedded")
    if j:
        check(j["embed"]["items_done"] == j["embed"]["items"] == (17 - len(VIEWS)) * M and
              all((x["view_of"] is not None) == (x["name"] in VIEWS) for x in j["image_sets"]) and
              j["next"]["prepare_units"] == 357 and j["next"]["derive"] and
              j["next"]["embed_items"] == 0 and j["reduce"]["derived"]["state"] == "absent",
              f"embedded: --json counts: {j['embed']} {j['next']}")

    # kill -9 mid-scoring: what is left is named.
    results = f"{tmp}/status.results.h5"
    log = f"{tmp}/kill-score.log"
    holds = harness.kill_held(prh.cmd(2, "reduce", cfg), ENV, "score", 3, log)
    check(holds and all(left > 0 for _, _, left in holds),
          f"killed mid-scoring: {holds} ({harness.why_no_hold(log)})")
    check(harness.wait_gone(cfg), "the killed ranks are gone")
    out = summary(cfg, "killed mid-scoring")
    j = as_json(cfg, "killed mid-scoring")
    if j:
        score_left, cal_left, flags = agrees(j, results, "killed mid-scoring")
        check(0 < score_left < 17 * PAIRS, f"killed mid-scoring: {score_left} pairs left")
        check(f"score {score_left} pairs" in out and f"calibrate {cal_left} pairs" in out and
              f"`prh reduce {cfg}` would" in out,
              f"killed mid-scoring: the next command scores {score_left} and calibrates "
              f"{cal_left} pairs:\n{out}")
        check(re.search(r"^  prepare    357/357 ", out, re.M),
              f"killed mid-scoring: every unit prepared:\n{out}")
        check(re.search(rf"^  score      {17 * PAIRS - score_left}/{17 * PAIRS} ", out, re.M),
              f"killed mid-scoring: the score line:\n{out}")
        check(re.search(r"^  derived    absent: written once every pair", out, re.M),
              f"killed mid-scoring: derived tables not written yet:\n{out}")
        # The left section names sets with pairs left (up to 8 of them, then a count).
        left = [s for s, (sd, _) in flags.items() if sd < PAIRS]
        named = [s for s in left if re.search(rf"^  {re.escape(s)}: .*score {PAIRS - flags[s][0]}/"
                                              rf"{PAIRS} pairs", out, re.M)]
        check(len(named) == min(len(left), 8) and "left:" in out,
              f"killed mid-scoring: {len(named)} of the {len(left)} sets with pairs left named:\n{out}")
        by_set = {x.split(": ", 1)[0]: x for x in j["left"]}
        check(all(f"score {PAIRS - flags[s][0]}/{PAIRS} pairs" in by_set.get(s, "")
                  for s in left),
              f"killed mid-scoring: --json left names every set with pairs left: {j['left']}")

    # Scoring finished, kill -9 mid-calibration.
    log = f"{tmp}/kill-cal.log"
    holds = harness.kill_held(prh.cmd(2, "reduce", cfg), ENV, "calibrate", 3, log)
    check(holds and all(left > 0 for _, _, left in holds),
          f"killed mid-calibration: {holds} ({harness.why_no_hold(log)})")
    check(harness.wait_gone(cfg), "the killed ranks are gone")
    out = summary(cfg, "killed mid-calibration")
    j = as_json(cfg, "killed mid-calibration")
    if j:
        score_left, cal_left, flags = agrees(j, results, "killed mid-calibration")
        check(score_left == 0 and 0 < cal_left < 17 * CPAIRS,
              f"killed mid-calibration: scored all, {cal_left} pairs to calibrate")
        check(f"`prh reduce {cfg}` would calibrate {cal_left} pairs and write the derived tables"
              in out, f"killed mid-calibration: the next command:\n{out}")
        check(any(re.search(rf"^{re.escape(s)}\s.*calibrating: {CPAIRS - cd} pairs? left$", out, re.M)
                  for s, (_, cd) in flags.items() if cd < CPAIRS),
              f"killed mid-calibration: a set's state says calibrating:\n{out}")

    # Resumed to the end.
    r = prh.mpi(2, "reduce", cfg)
    check(r.returncode == 0, f"resumed reduce: {r.stderr[-2000:]}")
    t0 = time.time()
    out = summary(cfg, "done")
    took = time.time() - t0
    print(f"prh status on the reduced 17 x 21 store: {took:.3f} s wall "
          f"({len(out.splitlines())} lines)", flush=True)
    for s in names:
        shards = "view" if s in VIEWS else "21/21"
        check(re.search(rf"^{re.escape(s)}\s+21/21\s+{shards}\s+{N}\s+done$", out, re.M),
              f"done: the line of {s}:\n{out}")
    check(f"next: nothing left: `prh run {cfg}` would find everything done" in out and
          "\nleft:\n" not in out and re.search(r"^  derived    current$", out, re.M),
          f"done: nothing left, derived tables current:\n{out}")
    j = as_json(cfg, "done")
    if j:
        agrees(j, results, "done")
        check(j["complete"] and j["next"]["command"] is None and not j["next"]["derive"] and
              j["reduce"]["derived"]["state"] == "current" and not j["left"],
              f"done: --json complete, nothing next: {j['next']}")

    # Verbose: the per-(set, model) table.
    r = status(cfg, "--verbose")
    rows = re.findall(r"^(\S+)\s+(\S+)\s+1/1\s+0$", r.stdout, re.M)
    want_rows = (17 - len(VIEWS)) * M  # a view has no items of its own
    check(len(rows) == want_rows, f"--verbose: {len(rows)} (set, model) rows, want {want_rows}")

    # A derived setting changed: stale, and why.
    cfg2 = config(tmp, bootstrap=30)
    out = summary(cfg2, "bootstrap changed")
    check(re.search(r"^  derived    stale: the config's bootstrap changed", out, re.M) and
          f"`prh reduce {cfg2}` would write the derived tables" in out,
          f"bootstrap changed: stale, and the next command derives only:\n{out}")


if __name__ == "__main__":
    harness.run_test("status", main)
