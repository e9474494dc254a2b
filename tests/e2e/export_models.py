#!/usr/bin/python3
"""The exported models of the tests (a ctest fixture): seeded random weights,
no downloads, written to OUT by prh's own export scripts.

usage: export_models.py OUT SOURCE_DIR

- resnet18: tools/export_torchvision.py --arch resnet18 --weights none
  (torchvision's eval transforms of its default weights: resize 256, crop 224,
  bilinear);
- vit_b_16: tools/export_torchvision.py --arch vit_b_16 --weights none
  --interpolation bicubic --resize 248 (timm's ViT preprocessing: bicubic,
  crop_pct 0.9), so that the parity test covers both filters;
- vit_fake_timm: tools/export_timm.py on the timm stand-in
  (tests/e2e/fake_timm), model vit_fake_patch16_224.augreg_in21k.

Idempotent: a model whose .pt and .yaml exist is not exported again, unless
the export scripts or the timm stand-in changed since (OUT/stamp holds their
hash).
"""
import hashlib
import os
import subprocess
import sys
import time

OUT, SRC = sys.argv[1:3]
PY = "/usr/bin/python3"
EXPORTS = [
    ("resnet18", [f"{SRC}/tools/export_torchvision.py", "--arch", "resnet18", "--weights", "none"],
     None),
    ("vit_b_16", [f"{SRC}/tools/export_torchvision.py", "--arch", "vit_b_16", "--weights", "none",
                  "--interpolation", "bicubic", "--resize", "248"], None),
    ("vit_fake_timm", [f"{SRC}/tools/export_timm.py", "--model",
                       "vit_fake_patch16_224.augreg_in21k", "--weights", "none"],
     f"{SRC}/tests/e2e/fake_timm"),
]


def sources_hash():
    h = hashlib.sha256()
    for rel in ("tools/export_torchvision.py", "tools/export_timm.py",
                "tests/e2e/fake_timm/timm/__init__.py", "tests/e2e/fake_timm/timm/data.py"):
        with open(os.path.join(SRC, rel), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def main():
    os.makedirs(OUT, exist_ok=True)
    stamp = os.path.join(OUT, "stamp")
    digest = sources_hash()
    if not os.path.isfile(stamp) or open(stamp).read().strip() != digest:
        for f in os.listdir(OUT):  # exported by other scripts: export again
            os.remove(os.path.join(OUT, f))
    for name, cmd, pythonpath in EXPORTS:
        if all(os.path.isfile(os.path.join(OUT, name + ext)) for ext in (".pt", ".yaml")):
            print(f"{name}: exported already")
            continue
        env = dict(os.environ)
        if pythonpath:
            env["PYTHONPATH"] = pythonpath
        t0 = time.time()
        r = subprocess.run([PY, *cmd, "--name", name, "--out", OUT], capture_output=True,
                           text=True, env=env)
        if r.returncode != 0:
            print(f"FAIL: export of {name} (exit {r.returncode}):\n{r.stdout}{r.stderr}")
            for ext in (".pt", ".yaml"):  # no half-made fixture
                if os.path.exists(os.path.join(OUT, name + ext)):
                    os.remove(os.path.join(OUT, name + ext))
            return 1
        print(f"{name}: {r.stdout.strip()} ({time.time() - t0:.1f} s)")
    with open(stamp, "w") as f:
        f.write(digest + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
