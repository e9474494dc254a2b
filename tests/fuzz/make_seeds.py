#!/usr/bin/python3
"""Writes the seed corpora of the libFuzzer targets (tests/fuzz/<target>/),
small valid inputs (and a few near-misses) that the fuzzers mutate. Run once
to (re)make them; the files are committed. Crash reproducers that join a
corpus later (docs/testing.md, "Fuzzing and sanitizers") are kept: this
script only (over)writes the files it names (seed-*).

    /usr/bin/python3 tests/fuzz/make_seeds.py PRH MAKE_TEST_MODELS

PRH and MAKE_TEST_MODELS (build/prh, build/tests/prh-make-test-models) make
the store seed: a 2-shard embedding of a noise set by the test model.
"""
import gzip
import io
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import report_fixture  # noqa: E402


def put(target, name, data):
    os.makedirs(os.path.join(HERE, target), exist_ok=True)
    with open(os.path.join(HERE, target, "seed-" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def configs():
    base = """store: /tmp/s.h5
results: /tmp/r.h5
shard_size: 32
batch_size: 16
metrics: [mutual_knn:k=10, "cka", cknna:k=5, svcca:cca_dim=4]
correlations: [spearman, kendall]
bootstrap: 10
image_sets:
  - name: id
    source: {kind: idx, images: /x/images.gz, labels: /x/labels.gz, classes: [0, 1], limit: 50}
  - name: noise
    source: {kind: noise, count: 80, height: 28, width: 28, channels: 1, seed: 3}
models:
  - {name: a, path: /m/a.pt}
  - {name: b, path: /m/b.pt, sidecar: /m/b.yaml}
"""
    put("config", "small.yaml", base)
    put("config", "sweep.yaml", base + """sweeps:
  - {name: fade, family: blend, base: id, levels: [0, 0.5, 1]}
""")
    put("config", "anchors.yaml", base.replace("image_sets:", "x: &a {kind: noise}\nimage_sets:"))
    put("config", "empty.yaml", "")
    put("config", "list.yaml", "- a\n- b: [1, 2.5e3, ~, true]\n")
    for name in ("default.yaml", "prh-ood.yaml"):
        with open(os.path.join(HERE, "..", "..", "configs", name)) as f:
            put("config", name, f.read())


def sidecars():
    put("sidecar", "rgb.yaml", "input_size: 8\nresize: 10\ncrop: 8\ninterpolation: bilinear\n"
        "mean: [0.485, 0.456, 0.406]\nstd: [0.229, 0.224, 0.225]\nlayer_names: [a, b]\n")
    put("sidecar", "grey.yaml", "input_size: 6\nchannels: 1\nmean: [0.5]\nstd: [0.5]\n"
        "resampler: opencv\n")
    put("sidecar", "flow.yaml", "{input_size: 4, interpolation: bicubic, resampler: pil}\n")
    put("sidecar", "bad.yaml", "input_size: 4\nmean: [1, 2]\n")


def idx_bytes(type_byte, dims, payload):
    head = bytes([0, 0, type_byte, len(dims)]) + b"".join(int(d).to_bytes(4, "big") for d in dims)
    return head + payload


def idx():
    rng = np.random.default_rng(0)
    images = idx_bytes(8, [4, 3, 5], rng.integers(0, 256, 60, dtype=np.uint8).tobytes())
    put("idx", "images", b"\x00" + images)
    put("idx", "images.gz", b"\x02" + gzip.compress(images, mtime=0))
    put("idx", "short", b"\x00" + images[:40])
    put("idx", "labels-byte", b"\x01" + idx_bytes(8, [3], bytes([0, 7, 2])))
    put("idx", "labels-int", b"\x03" + idx_bytes(0x0C, [3], b"".join(
        int(v).to_bytes(4, "big", signed=True) for v in (1, -1, 2))))
    put("idx", "labels.gz", b"\x03" + gzip.compress(idx_bytes(8, [3], bytes([1, 1, 2])), mtime=0))
    # gzip files whose header claims more than they hold, within 1032 x the
    # file's size: read as the data streams, refused as truncated.
    put("idx", "gzip-short", b"\x00" + gzip.compress(idx_bytes(8, [100, 8, 8], bytes(range(10))),
                                                    mtime=0))
    put("idx", "labels-gzip-short",
        b"\x03" + gzip.compress(idx_bytes(8, [3000], bytes([1, 2, 3])), mtime=0))


def images():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    grey = rng.integers(0, 256, (4, 7), dtype=np.uint8)

    def enc(img, fmt, **kw):
        b = io.BytesIO()
        img.save(b, fmt, **kw)
        return b.getvalue()

    put("image", "rgb.png", enc(Image.fromarray(rgb), "PNG"))
    put("image", "grey.png", enc(Image.fromarray(grey), "PNG"))
    put("image", "rgba.png", enc(Image.fromarray(np.dstack([rgb, rgb[..., :1]])), "PNG"))
    put("image", "la.png", enc(Image.fromarray(np.dstack([grey, grey]), "LA"), "PNG"))
    put("image", "grey16.png", enc(Image.fromarray(grey.astype(np.uint16) * 257), "PNG"))
    put("image", "palette.png", enc(Image.fromarray(rgb).convert("P"), "PNG"))
    put("image", "rgb.jpg", enc(Image.fromarray(rgb), "JPEG", quality=90))
    put("image", "grey.jpg", enc(Image.fromarray(grey), "JPEG", quality=90))
    put("image", "progressive.jpg", enc(Image.fromarray(rgb), "JPEG", progressive=True))


def results(tmp):
    report_fixture.N = 20  # images per set: fewer numbers, the same objects
    for name, kw in (("small.h5", {}), ("extras.h5", dict(calibration=True, nulls=True,
                                                           sweep=True, groups=True)),
                     ("partial.h5", dict(partial=True))):
        path = os.path.join(tmp, name)
        report_fixture.write(path, models=6 if kw.get("partial") else 3, **kw)
        subprocess.run(["h5repack", path, path + ".packed"], check=True)
        with open(path + ".packed", "rb") as f:
            put("results", name, f.read())


def store(tmp, prh, make_models):
    models = os.path.join(tmp, "models")
    os.makedirs(models)
    subprocess.run([make_models, models], check=True, capture_output=True)
    cfg = os.path.join(tmp, "c.yaml")
    st = os.path.join(tmp, "store.h5")
    with open(cfg, "w") as f:
        f.write(f"""store: {st}
results: {tmp}/r.h5
shard_size: 4
batch_size: 4
image_sets:
  - name: fuzzset
    source: {{kind: noise, count: 6, height: 28, width: 28, channels: 1, seed: 3}}
models:
  - {{name: fuzzmodel, path: {models}/dict_model.pt}}
""")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    subprocess.run([prh, "embed", cfg], check=True, env=env)
    subprocess.run(["h5repack", st, st + ".packed"], check=True)  # no free space: smaller
    with open(st + ".packed", "rb") as f:
        put("store", "noise.h5", f.read())


def main():
    configs()
    sidecars()
    idx()
    images()
    tmp = tempfile.mkdtemp()
    try:
        results(tmp)
        if len(sys.argv) == 3:
            store(tmp, sys.argv[1], sys.argv[2])
        else:
            print("no PRH, MAKE_TEST_MODELS: store seeds not remade", file=sys.stderr)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
