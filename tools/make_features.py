#!/usr/bin/python3
"""Writes feature files for trying `prh compare` without any model.

Two synthetic "models" see the same N images: both observe a shared latent
structure (clustered points in a low-dimensional space) through different
random multi-layer maps with their own noise, so they are alike but not equal.
Layers go from noisy to clean, as features often do with depth.

    /usr/bin/python3 tools/make_features.py --out DIR [--n 2000] [--layers 4]

writes DIR/model_a.h5 and DIR/model_b.h5, each with /features [N, L, D]
(float32) and /last [N, D]. Deterministic for a given --seed.
"""
import argparse
import os

import h5py
import numpy as np


def model(latent, dim, layers, rng):
    """Layer l sees the latent through its own random map, with noise that
    shrinks with depth: later layers hold more of the shared structure."""
    out = []
    for layer in range(layers):
        w = rng.standard_normal((latent.shape[1], dim)) / np.sqrt(latent.shape[1])
        noise = 2.0 * (layers - layer) / layers
        x = np.tanh(latent @ w) + noise * rng.standard_normal((latent.shape[0], dim))
        out.append(x.astype(np.float32))
    return np.stack(out, axis=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--dim-a", type=int, default=384)
    ap.add_argument("--dim-b", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    centres = rng.standard_normal((10, 16)) * 3
    labels = rng.integers(0, 10, args.n)
    latent = centres[labels] + rng.standard_normal((args.n, 16))
    os.makedirs(args.out, exist_ok=True)
    for name, dim in (("model_a", args.dim_a), ("model_b", args.dim_b)):
        feats = model(latent, dim, args.layers, rng)
        with h5py.File(os.path.join(args.out, name + ".h5"), "w") as f:
            f["features"] = feats
            f["last"] = feats[:, -1, :]
            f["labels"] = labels
        print(os.path.join(args.out, name + ".h5"), feats.shape)


if __name__ == "__main__":
    main()
