#!/usr/bin/python3
"""End-to-end test of `prh embed` / `prh status` under MPI.

usage: test_embed.py PRH MAKE_TEST_MODELS MPIEXEC

- 1, 2 and 3 ranks give identical stores (features bit for bit);
- kill -9 during start-up (a random moment) and then four times mid-work,
  then re-run: completes, redoes only unfinished items, same features as an
  uninterrupted run; h5py opens the store after every kill. The mid-work
  kills come while the ranks hold after a random number of items
  (PRH_TEST_HOLD, tests/e2e/harness.py), so each lands with work left;
- a changed result-relevant config is refused naming what changed; adding a
  model extends the store;
- bad inputs give clear errors.
"""
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

import harness  # noqa: E402
from harness import check, fashion, kill_held, same_h5, why_no_hold  # noqa: E402
from pngs import write_png  # noqa: E402

PRH, MAKE_MODELS, MPIEXEC = sys.argv[1:4]
ENV = harness.mpi_env()
prh = harness.Prh(PRH, MPIEXEC, ENV)
mpi = prh.mpi


def config(tmp, name, models, sets=None, **extra):
    sets = sets or f"""
  - name: id
    source: {fashion(150)}
  - name: uniform
    source: {{kind: noise, count: 70, height: 28, width: 28, channels: 1, seed: 3}}
  - name: blend
    source: {{kind: blend, alpha: 0.5, seed: 4, base: {fashion(50, labels=False)}}}
"""
    params = {"store": f"{tmp}/{name}.h5", "shard_size": 32, "batch_size": 8}
    params.update(extra)
    return harness.write_config(os.path.join(tmp, name + ".yaml"), params, sets,
                                [(m, f"{tmp}/models/{m}.pt") for m in models])


def main(tmp):
    harness.make_models(MAKE_MODELS, tmp + "/models")
    models = ["dict_model", "tuple_model"]

    # 1. Rank counts: identical stores.
    stores = []
    for n in (1, 2, 3):
        cfg = config(tmp, f"ranks{n}", models)
        r = mpi(n, "embed", cfg)
        check(r.returncode == 0, f"embed with {n} ranks: exit {r.returncode}: {r.stderr[-2000:]}")
        stores.append(f"{tmp}/ranks{n}.h5")
    s1 = harness.read_h5(stores[0])
    feats = s1["sets/id/models/dict_model/features"]
    check(feats.shape == (150, 2, 32) and feats.dtype == np.float32, f"features shape {feats.shape}")
    tf = s1["sets/id/models/tuple_model/features"]
    check(tf.shape == (150, 2, 24), f"tuple model features padded to Dmax: {tf.shape}")
    check(np.all(tf[:, 1, 12:] == 0), "padding beyond a layer's D is zero")
    check(np.all(s1["sets/id/models/dict_model/done"] == 1), "every shard done")
    check(set(np.unique(s1["sets/id/labels"])) <= {0, 1, 2, 3, 4}, "class filter on labels")
    check(np.all(s1["sets/uniform/labels"] == -1), "noise labels are -1")
    top1 = s1["sets/id/models/dict_model/top1"]
    prob = s1["sets/id/models/dict_model/prob"]
    check(top1.min() >= 0 and top1.max() < 5 and np.all((prob > 0.2) & (prob <= 1)), "predictions")
    check("sets/id/models/tuple_model/top1" not in s1, "no predictions without logits")
    for n, s in zip((2, 3), stores[1:]):
        same_h5(stores[0], s, f"{n} ranks vs 1 rank")

    r = prh("status", config(tmp, "ranks1", models))
    check(r.returncode == 0 and "embed      20/20 work items" in r.stdout, f"status: {r.stdout} {r.stderr}")

    # 2. kill -9, then resume: same features as an uninterrupted run. The
    # first kill comes at a random early moment (MPI start-up, store
    # creation); the other four while the ranks hold after a random number of
    # finished items, so they land mid-run whatever the machine's speed.
    big_sets = f"""
  - name: id
    source: {fashion(3000, classes=None)}
  - name: uniform
    source: {{kind: noise, count: 120000, height: 28, width: 28, channels: 1, seed: 9}}
"""
    ref = config(tmp, "killref", models, sets=big_sets, shard_size=1000, batch_size=50)
    r = mpi(1, "embed", ref)
    check(r.returncode == 0, f"reference run: {r.stderr[-1000:]}")
    cfg = config(tmp, "killed", models, sets=big_sets, shard_size=1000, batch_size=50)
    total_items = 2 * (3 + 120)
    random.seed(7)
    read_env = dict(os.environ, HDF5_USE_FILE_LOCKING="FALSE")
    os.environ["HDF5_USE_FILE_LOCKING"] = "FALSE"

    def done_count():
        try:
            with h5py.File(f"{tmp}/killed.h5", "r") as f:
                if f.attrs.get("complete") is None:
                    return None
                # Items of a serial-HDF5 build wait in parts until rank 0 merges them.
                return sum(int(f[f"sets/{s}/models/{m}/done"][()].sum())
                           for s in f["sets"] for m in f[f"sets/{s}/models"]) + \
                    harness.parts_waiting(f"{tmp}/killed.h5")
        except Exception:  # noqa: BLE001  (not there yet, or being created)
            return None

    progress, mid = [], 0
    cmd = [MPIEXEC, "-n", "2", "--oversubscribe", PRH, "embed", cfg]
    for trial in range(5):
        if trial == 0:
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 env=ENV, start_new_session=True)
            time.sleep(random.uniform(0.2, 1.0))
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        else:
            log = f"{tmp}/kill{trial}.log"
            holds = kill_held(cmd, ENV, "embed", random.randint(2, 15), log)
            check(holds and all(left > 0 for _, _, left in holds),
                  f"kill {trial} landed mid-work: holds {holds} ({why_no_hold(log)})")
            mid += bool(holds and all(left > 0 for _, _, left in holds))
        if os.path.exists(f"{tmp}/killed.h5"):
            try:
                with h5py.File(f"{tmp}/killed.h5", "r") as f:
                    list(f.keys())
            except Exception as e:  # noqa: BLE001
                check(False, f"h5py cannot open the store after kill {trial}: {e}")
        progress.append(done_count())
    del read_env
    print(f"items done after each kill: {progress} of {total_items}; {mid} of 4 kills held "
          "mid-work", flush=True)
    check(mid == 4 and all(d is not None and 0 < d < total_items for d in progress[1:]),
          f"kills 1-4 landed mid-run: {progress}")
    undone = total_items - (progress[-1] or 0)
    r = mpi(2, "embed", cfg)
    check(r.returncode == 0, f"resume after kills: {r.stderr[-2000:]}")
    m = re.search(r"(\d+) to do", r.stderr)
    check(m is not None and int(m.group(1)) <= undone,
          f"resume redoes at most the unfinished items ({undone}): {m.group(0) if m else r.stderr[-500:]}")
    same_h5(f"{tmp}/killref.h5", f"{tmp}/killed.h5", "killed and resumed vs uninterrupted")
    r = mpi(2, "embed", cfg)
    check(r.returncode == 0 and "0 to do" in r.stderr, "a finished store has nothing to do")

    # 3. Config changes: refused with what changed; a new model extends the store.
    changed = config(tmp, "ranks1", models, batch_size=4)
    r = mpi(1, "embed", changed)
    check(r.returncode == 2 and "batch_size: 8 -> 4" in r.stderr, f"changed batch size refused: {r.stderr[-800:]}")
    shutil.copy(f"{tmp}/ranks2.h5", f"{tmp}/extend.h5")
    cfg = config(tmp, "extend", models)
    with open(cfg) as f:
        text = f.read()
    text += f"  - {{name: dict_copy, path: {tmp}/models/dict_model.pt}}\n"
    with open(cfg, "w") as f:
        f.write(text)
    r = mpi(2, "embed", cfg)
    check(r.returncode == 0 and "10 to do" in r.stderr, f"adding a model extends the store: {r.stderr[-800:]}")
    ext = harness.read_h5(f"{tmp}/extend.h5")
    check(ext["sets/id/models/dict_copy/features"].tobytes() == feats.tobytes(), "new model embedded")
    check(ext["sets/id/models/dict_model/features"].tobytes() == feats.tobytes(), "old features kept")

    # 4. Bad inputs: a clear message and exit code 2.
    def bad(models_, needle, what, sets=None, **extra):
        c = config(tmp, "bad", models_, sets=sets, **extra)
        if os.path.exists(f"{tmp}/bad.h5"):
            os.remove(f"{tmp}/bad.h5")
        r = mpi(1, "embed", c)
        check(r.returncode == 2 and needle in r.stderr, f"{what}: exit {r.returncode}, stderr: {r.stderr[-800:]}")

    bad(["missing_model"], "no such file", "missing model file")
    with open(f"{tmp}/models/corrupt.pt", "wb") as f:
        f.write(os.urandom(2000))
    shutil.copy(f"{tmp}/models/dict_model.yaml", f"{tmp}/models/corrupt.yaml")
    bad(["corrupt"], "corrupt", "corrupt model file")
    bad(["bad_output"], "bad_output", "model output breaking the contract")
    bad(["wrong_shape"], "wrong_shape", "shape mismatch with the sidecar")
    os.makedirs(f"{tmp}/imgs/cls", exist_ok=True)
    with open(f"{tmp}/imgs/cls/broken.jpg", "wb") as f:
        f.write(b"\xff\xd8\xff\xe0" + os.urandom(300))
    bad(["dict_model"], "broken.jpg", "corrupt JPEG",
        sets=f"\n  - name: f\n    source: {{kind: folder, root: {tmp}/imgs}}\n")
    with open(f"{tmp}/list.txt", "w") as f:
        f.write("nope/missing.png 1\n")
    bad(["dict_model"], "missing.png", "missing image",
        sets=f"\n  - name: l\n    source: {{kind: list, file: {tmp}/list.txt}}\n")
    bad(["dict_model"], "kind", "unknown source kind",
        sets="\n  - name: x\n    source: {kind: webdataset, url: x}\n")
    bad(["dict_model"], "no images selected", "empty image set",
        sets=f"\n  - name: e\n    source: {fashion(classes=[42])}\n")
    bad(["dict_model"], "unknown key", "unknown config key", colour="blue")

    # A store that is damaged (not HDF5) or not a prh store: named as such,
    # never "made with a different configuration"; exit 2.
    for what, content in (("damaged", os.urandom(4096)), ("foreign", None)):
        c = config(tmp, f"store_{what}", ["dict_model"])
        if content is None:
            with h5py.File(f"{tmp}/store_{what}.h5", "w") as f:
                f["x"] = np.zeros(3)
        else:
            with open(f"{tmp}/store_{what}.h5", "wb") as f:
                f.write(content)
        r = mpi(1, "embed", c)
        needle = "cannot read it" if content is not None else "is not a prh store"
        check(r.returncode == 2 and needle in r.stderr
              and "different result-relevant configuration" not in r.stderr,
              f"{what} store: exit 2 naming what is wrong ({r.returncode}): {r.stderr[-600:]}")
    # A store path under a regular file: its folder cannot be made: exit 2.
    c = config(tmp, "nofolder", ["dict_model"])
    with open(c) as f:
        text = f.read().replace(f"store: {tmp}/nofolder.h5", f"store: {tmp}/list.txt/sub/s.h5")
    with open(c, "w") as f:
        f.write(text)
    r = mpi(1, "embed", c)
    check(r.returncode == 2 and "list.txt/sub" in r.stderr and "internal error" not in r.stderr,
          f"unmakeable store folder: exit 2 ({r.returncode}): {r.stderr[-600:]}")

    # 5. on_bad_image: skip records the row and finishes the run.
    write_png(f"{tmp}/imgs/cls/good.png", (np.arange(28 * 28) % 256).astype(np.uint8).reshape(28, 28))
    c = config(tmp, "skip", ["dict_model"], on_bad_image="skip",
               sets=f"\n  - name: f\n    source: {{kind: folder, root: {tmp}/imgs}}\n")
    r = mpi(1, "embed", c)
    check(r.returncode == 0 and "broken.jpg" in r.stderr, f"skip bad images: {r.stderr[-800:]}")
    if r.returncode == 0:
        sk = harness.read_h5(f"{tmp}/skip.h5")
        check(list(sk["sets/f/skipped"]) == [1, 0], f"skipped rows recorded: {sk['sets/f/skipped']}")
        check(sk["sets/f/ids"][1].decode().endswith("good.png"), "ids of a folder source")


if __name__ == "__main__":
    harness.run_test("embed", main)
