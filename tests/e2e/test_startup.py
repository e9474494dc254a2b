#!/usr/bin/python3
"""prh without LibTorch: the commands that run no model load neither LibTorch
nor OpenCV (nor the serial HDF5 those bring in); embed, run, zoo and validate
run in prh-models, which `prh` execs; where LibTorch is loaded, prh's HDF5
calls still reach the parallel HDF5 library.

usage: test_startup.py PRH MAKE_TEST_MODELS
"""
import os
import subprocess
import sys

import harness  # noqa: E402
from harness import check  # noqa: E402

PRH, MAKE_MODELS = sys.argv[1:3]
MODELS = os.path.join(os.path.dirname(PRH), "prh-models")
prh = harness.Prh(PRH)
harness.verbose = True


def libs(binary):
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    return r.stdout


def main(tmp):
    r = prh("--version")
    check(r.returncode == 0 and r.stdout.startswith("prh "), f"prh --version: {r.stdout!r}")
    parallel = "(parallel HDF5)" in r.stdout
    check(parallel or "(serial HDF5)" in r.stdout, f"prh --version names its HDF5: {r.stdout!r}")
    lean, full = libs(PRH), libs(MODELS)
    for lib in ("libtorch", "libopencv", "libgdal"):
        check(lib not in lean, f"prh does not load {lib}")
    if parallel:
        check("libhdf5_serial" not in lean, "prh does not load the serial HDF5")
        check("openmpi" in lean and "libhdf5" in lean, "prh loads the parallel HDF5")
        # The case the check below is about: prh-models maps both HDF5 libraries.
        check("libtorch" in full and "libhdf5_serial" in full and "openmpi" in full,
              "prh-models loads LibTorch, and with it serial HDF5 beside the parallel one")
    else:
        check("libhdf5_serial" in lean and "libhdf5_openmpi" not in lean,
              "a serial-HDF5 prh loads the serial HDF5 alone")
        check("libtorch" in full and "libhdf5_openmpi" not in full,
              "prh-models loads LibTorch, and no parallel HDF5")

    r = prh("embed", f"{tmp}/missing.yaml")
    check(r.returncode == 2 and "missing.yaml" in r.stderr,
          f"prh embed runs in prh-models, bad input is exit 2 there too: {r.returncode} "
          f"{r.stderr[-300:]}")
    r = prh("embed", f"{tmp}/missing.yaml",
            env=dict(os.environ, PRH_MODELS=f"{tmp}/nowhere/prh-models"))
    check(r.returncode == 1 and "cannot start" in r.stderr and "nowhere/prh-models" in r.stderr,
          f"prh-models missing: one clear line, exit 1: {r.returncode} {r.stderr.strip()}")

    harness.make_models(MAKE_MODELS, f"{tmp}/models")
    cfg = harness.write_config(
        f"{tmp}/c.yaml", {"store": f"{tmp}/store.h5", "shard_size": 32, "batch_size": 16}, """
  - name: noise
    source: {kind: noise, count: 40, height: 28, width: 28, channels: 1, seed: 3}""",
        [("m", f"{tmp}/models/dict_model.pt")])
    r = prh("embed", cfg, env=dict(os.environ, PRH_LOG_LEVEL="debug"))
    line = next((l for l in r.stderr.splitlines() if "HDF5 calls reach" in l), "")
    want = ("openmpi", "parallel") if parallel else ("serial", "serial")
    check(r.returncode == 0 and all(w in line for w in want),
          f"with LibTorch loaded, prh's HDF5 calls reach the library it was built for: {line!r} "
          f"(rc {r.returncode}) {r.stderr[-300:] if r.returncode else ''}")


if __name__ == "__main__":
    harness.run_test("startup", main)
