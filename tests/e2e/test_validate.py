#!/usr/bin/python3
"""End-to-end test of `prh validate CONFIG [--no-paths]`.

usage: test_validate.py PRH MAKE_TEST_MODELS

- a good config: exit 0 and a one-line summary with the sets' sizes;
- a config with many problems at once (bad metric name, duplicate
  configuration, missing model file, missing sidecar, missing image folder,
  k too large for a small noise set, unwritable store folder): exit 2 and
  every problem listed;
- --no-paths on the same config: the metric problems, not the path ones;
- device / reduce_device: cuda on a machine without a GPU: a problem each
  (not with --no-paths);
- a schema problem is reported as such;
- configs/prh-ood.yaml passes --no-paths and, without it, fails naming its
  placeholder model paths and image sources.
"""
import os
import shutil
import sys
import tempfile

import harness  # noqa: E402
from harness import REPO, check, fashion  # noqa: E402
from harness import write_text as write  # noqa: E402
from pngs import write_png  # noqa: E402

PRH, MAKE_MODELS = sys.argv[1:3]
run = harness.Prh(PRH)


def prh(*args, cwd=None):
    r = run(*args, cwd=cwd)
    return r.returncode, r.stdout + r.stderr, r


def main(tmp):
    harness.make_models(MAKE_MODELS, tmp + "/models")
    os.makedirs(tmp + "/pngs/a")
    for i in range(12):
        write_png(f"{tmp}/pngs/a/{i:02d}.png", [[(i * 7 + r * 3 + c) % 256 for c in range(28)]
                                                 for r in range(28)])

    # 1. A good config.
    good = write(f"{tmp}/good.yaml", f"""
store: {tmp}/out/new/store.h5
metrics: [mutual_knn:k=10, cknna:k=10, cka]
correlations: [spearman, kendall]
image_sets:
  - name: id
    source: {fashion(150)}
  - name: uniform
    source: {{kind: noise, count: 70, height: 28, width: 28, channels: 1, seed: 3}}
  - name: pngs
    source: {{kind: folder, root: {tmp}/pngs}}
models:
  - {{name: dict_model, path: {tmp}/models/dict_model.pt}}
  - {{name: tuple_model, path: {tmp}/models/tuple_model.pt}}
""")
    rc, out, r = prh("validate", good)
    check(rc == 0, f"good config: exit {rc}: {out}")
    check(r.stdout.strip() == f"{good}: OK: 3 image sets (150, 70, 12 images), 2 models, "
          "3 metric configurations", f"good config summary: {r.stdout!r}")
    check(not os.path.exists(f"{tmp}/out"), "validate creates nothing")
    rc, out, r = prh("validate", good, "--no-paths")
    check(rc == 0, f"good config --no-paths: exit {rc}: {out}")
    check("3 image sets (uniform: 70 images;" in r.stdout and "(paths not checked)" in r.stdout,
          f"--no-paths summary: only the noise set's size is known: {r.stdout!r}")
    # A GPU asked for on a machine without one (CI's): a problem naming the
    # key, with paths checked; --no-paths looks at nothing of the machine.
    if shutil.which("nvidia-smi") is None:
        gpu = write(f"{tmp}/gpu.yaml", "device: cuda\nreduce_device: cuda\n" + open(good).read())
        rc, out, r = prh("validate", gpu)
        check(rc == 2 and "2 problems" in r.stderr and "- device: cuda, but this prh's LibTorch"
              in r.stderr and "- reduce_device: cuda, but" in r.stderr and
              "set reduce_device: cpu" in r.stderr, f"cuda without a GPU: {out}")
        rc, out, r = prh("validate", gpu, "--no-paths")
        check(rc == 0, f"cuda with --no-paths is not checked: {out}")
    default = write(f"{tmp}/default.yaml", open(good).read().replace(
        "metrics: [mutual_knn:k=10, cknna:k=10, cka]\n", ""))
    rc, out, r = prh("validate", default)
    check(rc == 0 and "8 metric configurations" in r.stdout,
          f"no metrics: the eight defaults: {out}")

    # 2. Many problems at once.
    shutil.copy(f"{tmp}/models/dict_model.pt", f"{tmp}/models/lonely.pt")  # no sidecar
    write(f"{tmp}/afile", "not a folder\n")
    bad = write(f"{tmp}/bad.yaml", f"""
store: {tmp}/afile/store.h5
metrics: [mutual_knn:k=10, mutal_knn:k=5, cknna:k=10, "cknna@k=10", "cka:kernel=poly", cknna:k=1]
image_sets:
  - name: id
    source: {fashion(100, labels=False)}
  - name: photos
    source: {{kind: folder, root: {tmp}/no-such-folder}}
  - name: tiny
    source: {{kind: noise, count: 5, height: 8, width: 8}}
models:
  - {{name: dict_model, path: {tmp}/models/dict_model.pt}}
  - {{name: ghost, path: {tmp}/models/ghost.pt}}
  - {{name: lonely, path: {tmp}/models/lonely.pt}}
""")
    path_needles = [
        f"models[1] 'ghost': model file '{tmp}/models/ghost.pt' does not exist",
        f"models[1] 'ghost': sidecar {tmp}/models/ghost.yaml: no such file",
        f"models[2] 'lonely': sidecar {tmp}/models/lonely.yaml: no such file",
        f"image_sets[1] 'photos': folder '{tmp}/no-such-folder' does not exist",
        f"store '{tmp}/afile/store.h5': folder '{tmp}/afile' cannot be created: "
        f"'{tmp}/afile' is not a folder",
        f"results '{tmp}/afile/results.h5'",
    ]
    config_needles = [
        "metrics[1]: unknown metric 'mutal_knn'",
        "metrics[3]: 'cknna@k=10' is the same configuration (cknna@k=10) as metrics[2] 'cknna:k=10'",
        "metrics[4]: metric 'cka:kernel=poly': kernel must be",
        "metrics[5]: metric 'cknna:k=1': cknna needs k >= 2",
        "image_sets[2] 'tiny' (5 images): metrics[0] 'mutual_knn:k=10' (mutual_knn@k=10): "
        "k = 10 is too large: k <= N - 1 = 4",
        "image_sets[2] 'tiny' (5 images): metrics[2] 'cknna:k=10' (cknna@k=10): k = 10 is too large",
    ]
    rc, out, r = prh("validate", bad)
    check(rc == 2, f"bad config: exit {rc} (expected 2)")
    check(f"{bad}: {len(path_needles) + len(config_needles)} problems in the config:" in out,
          f"bad config: the count of problems: {out}")
    for n in path_needles + config_needles:
        check(n in out, f"bad config: {n!r} reported:\n{out}")
    check("dict_model" not in out, f"the good model is not reported: {out}")
    check("'id'" not in out, f"the good image set is not reported: {out}")

    rc, out, r = prh("validate", "--no-paths", bad)
    check(rc == 2, f"bad config --no-paths: exit {rc} (expected 2)")
    for n in config_needles:
        check(n in out, f"--no-paths: {n!r} reported:\n{out}")
    for n in path_needles:
        check(n not in out, f"--no-paths: {n!r} not reported:\n{out}")
    check(f"{len(config_needles)} problems in the config:" in out, f"--no-paths: count: {out}")

    # 3. Schema problems (and a missing config file).
    schema = write(f"{tmp}/schema.yaml", open(good).read() + "colour: blue\nbootstrap: -1\n")
    rc, out, r = prh("validate", schema)
    check(rc == 2 and "colour: unknown key" in out and "bootstrap: must be in [0," in out,
          f"schema problems: exit {rc}: {out}")
    rc, out, r = prh("validate", f"{tmp}/nope.yaml")
    check(rc == 2 and "cannot read the config file" in out, f"missing config: exit {rc}: {out}")

    # 4. The published study's config, from an empty directory (placeholders
    # absent).
    ood = os.path.join(REPO, "configs", "prh-ood.yaml")
    empty = tempfile.mkdtemp(prefix="prh-validate-ood-")
    rc, out, r = prh("validate", "--no-paths", ood, cwd=empty)
    check(rc == 0, f"prh-ood --no-paths: exit {rc}: {out}")
    check("OK: 3 image sets (random: 1000 images;" in r.stdout and "17 models" in r.stdout
          and "26 metric configurations" in r.stdout, f"prh-ood --no-paths summary: {r.stdout!r}")
    rc, out, r = prh("validate", ood, cwd=empty)
    check(rc == 2, f"prh-ood with paths: exit {rc} (expected 2)")
    names = [line.split("name: ")[1].split(",")[0] for line in open(ood)
             if line.strip().startswith("- {name: vit_")]
    check(len(names) == 17, f"prh-ood lists 17 models: {names}")
    for i, name in enumerate(names):
        check(f"models[{i}] '{name}': model file 'models/timm/{name}.pt' does not exist" in out,
              f"prh-ood: placeholder of {name} named:\n{out}")
    check("image_sets[0] 'places365'" in out and "image_sets[1] 'imagenet_o'" in out,
          f"prh-ood: missing image sources named: {out}")
    check("'random'" not in out and "store" not in out, f"prh-ood: nothing else: {out}")
    shutil.rmtree(empty, ignore_errors=True)


if __name__ == "__main__":
    harness.run_test("validate", main)
