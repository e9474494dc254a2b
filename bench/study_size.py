#!/usr/bin/python3
"""Writes the study-size benchmark's synthetic features and its config.

Every image i of a set has a point z_i in a shared latent space (clustered:
C centres, unit spread); model m sees it through its own random map W_m
(latent -> D) and nonlinearity, plus noise of its own level, so models are
alike but not equal and pairs differ in how alike they are. Set `id` draws
its points around one set of centres, set `ood` around others with a wider
spread (a shifted distribution seen by the same maps). One layer, float32.

    /usr/bin/python3 bench/study_size.py --out out/study_size \
        [--models 32] [--n 20000] [--dim 768] [--permutations 200] [--seed 0]

writes OUT/feats/m{00..}_{id,ood}.h5 (dataset /feats, [N, D] float32) and
OUT/study.yaml (store OUT/store.h5, results OUT/results.h5). Deterministic
for given arguments; files that exist with the right shape are kept (the
generator resumes). Sizes: 2 * M * N * D * 4 bytes (32 x 20,000 x 768:
3.9 GB).
"""
import argparse
import os

import h5py
import numpy as np

LATENT = 32
CLUSTERS = 20
SETS = ("id", "ood")


def latent_points(n, rng, shift):
    centres = rng.standard_normal((CLUSTERS, LATENT)) * 3.0
    labels = rng.integers(0, CLUSTERS, n)
    spread = 1.0 + shift
    return (centres[labels] + spread * rng.standard_normal((n, LATENT))).astype(np.float32)


def write(path, x):
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        f["feats"] = x
    os.replace(tmp, path)


def done(path, shape):
    try:
        with h5py.File(path, "r") as f:
            return f["feats"].shape == shape and f["feats"].dtype == np.float32
    except (OSError, KeyError):
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/study_size")
    ap.add_argument("--models", type=int, default=32)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--permutations", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    feats = os.path.join(a.out, "feats")
    os.makedirs(feats, exist_ok=True)
    root = np.random.SeedSequence(a.seed)
    set_ss, model_ss = root.spawn(2)
    z = {s: latent_points(a.n, np.random.default_rng(ss), shift)
         for s, ss, shift in zip(SETS, set_ss.spawn(len(SETS)), (0.0, 1.0))}
    for m, ss in enumerate(model_ss.spawn(a.models)):
        rng = np.random.default_rng(ss)
        w = (rng.standard_normal((LATENT, a.dim)) / np.sqrt(LATENT)).astype(np.float32)
        # per model: how much of the latent it keeps (noise level) and a mix
        # of linear and saturating responses
        noise = np.float32(0.3 + 1.7 * rng.random())
        mix = np.float32(rng.random())
        for s in SETS:
            path = os.path.join(feats, f"m{m:02d}_{s}.h5")
            if done(path, (a.n, a.dim)):
                continue
            h = z[s] @ w
            x = mix * np.tanh(h) + (1 - mix) * h
            x += noise * rng.standard_normal(x.shape, dtype=np.float32)
            write(path, x.astype(np.float32, copy=False))
    cfg = os.path.join(a.out, "study.yaml")
    with open(cfg, "w") as f:
        f.write(f"""# written by bench/study_size.py --models {a.models} --n {a.n} --dim {a.dim} --permutations {a.permutations} --seed {a.seed}
store: {a.out}/store.h5
results: {a.out}/results.h5
seed: {a.seed}
image_sets:                       # placeholders: imported models run no images
""")
        for i, s in enumerate(SETS):
            f.write(f"  - name: {s}\n    source: {{kind: noise, count: {a.n}, height: 1, width: 1, channels: 1, seed: {i + 1}}}\n")
        f.write("""last_layer_only: true
layer_profile: false
metrics: [mutual_knn:k=10, cknna:k=10, "cka:kernel=linear", unbiased_cka, svcca]
correlations: [spearman]
bootstrap: 1000
mantel: 999
calibration:
""")
        f.write(f"  permutations: {a.permutations}\n  alpha: 0.05\n  seed: 0\n"
                "  metrics: [mutual_knn:k=10, cknna:k=10]\nmodels:\n")
        for m in range(a.models):
            f.write(f"  - name: m{m:02d}\n    features:\n")
            for s in SETS:
                f.write(f"      {s}: {feats}/m{m:02d}_{s}.h5:/feats\n")
    print(cfg)


if __name__ == "__main__":
    main()
