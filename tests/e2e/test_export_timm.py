#!/usr/bin/python3
"""tools/export_timm.py's sidecar, from stand-ins of timm's data config, read
back by prh.

usage: test_export_timm.py PRH SOURCE_DIR MODELS_DIR

timm is not a Debian package; tests/e2e/fake_timm is a small stand-in with the
API the exporter uses and data-config dictionaries of the form timm returns
(input_size (C, H, W), interpolation, mean, std, crop_pct, crop_mode). For
each case the exporter's sidecar_values and write_sidecar give a sidecar; the
test checks the values (resize = floor(input_size / crop_pct), interpolation,
mean, std, input size, --img-size) and then has `prh embed` load every sidecar
with the model that export_models.py exported through the stand-in
(MODELS_DIR/vit_fake_timm.pt): the store's record of each model's
preprocessing must hold the same values. A change of prh's sidecar format that
the exporter does not follow fails here.
"""
import contextlib
import importlib.util
import io
import json
import os
import sys

import h5py
import numpy as np

import harness  # noqa: E402
from harness import SKIMAGE, check  # noqa: E402

PRH, SRC, MODELS = sys.argv[1:4]
sys.path.insert(0, os.path.join(SRC, "tests", "e2e", "fake_timm"))
import timm  # noqa: E402  (the stand-in)
import timm.data  # noqa: E402

spec = importlib.util.spec_from_file_location("export_timm", os.path.join(SRC, "tools",
                                                                          "export_timm.py"))
export_timm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(export_timm)

# (model, --img-size, expected: input_size, resize, interpolation, mean, std, note)
CASES = [
    ("vit_fake_patch16_224.augreg_in21k", None, 224, 248, "bicubic", timm.HALF, timm.HALF, None),
    ("vit_fake_patch16_224.mae", None, 224, 248, "bicubic", timm.IMAGENET_MEAN, timm.IMAGENET_STD,
     None),
    ("vit_fake_patch16_clip_384.laion2b_ft_in12k", None, 384, 384, "bicubic", timm.CLIP_MEAN,
     timm.CLIP_STD, None),
    ("vit_fake_patch16_clip_384.laion2b_ft_in12k", 224, 224, 224, "bicubic", timm.CLIP_MEAN,
     timm.CLIP_STD, None),
    ("vit_fake_gap_patch16_224.bilinear", None, 224, 256, "bilinear", timm.IMAGENET_MEAN,
     timm.IMAGENET_STD, None),
    ("vit_fake_patch16_224.bicubic_squash", None, 224, 235, "bicubic", timm.HALF, timm.HALF,
     "crop_mode is 'squash'"),
]


class OldTimm:
    """timm < 0.9: no resolve_model_data_config, only resolve_data_config."""

    class data:
        @staticmethod
        def resolve_data_config(args, model=None):
            return dict(model.pretrained_cfg)


def sidecar_of(model_name, img_size, t=timm):
    model = timm.create_model(model_name, img_size=img_size)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        values = export_timm.sidecar_values(model, t, img_size)
    return values, err.getvalue()


def main(tmp):
    # 1. The exporter's values from the data config.
    sidecars = []
    for i, (name, img, size, resize, interp, mean, std, note) in enumerate(CASES):
        (s, r, it, m, sd), err = sidecar_of(name, img)
        what = f"{name}" + (f" --img-size {img}" if img else "")
        check((s, r, it) == (size, resize, interp),
              f"{what}: input_size/resize/interpolation {(s, r, it)}, expected "
              f"{(size, resize, interp)}")
        check(m == list(mean) and sd == list(std), f"{what}: mean/std {m}/{sd}")
        if note:
            check(note in err, f"{what}: note '{note}' on stderr (got {err!r})")
        if "random" in str(timm.MODELS[name][0]["interpolation"]):
            check("not supported by prh" in err, f"{what}: note on the unsupported interpolation")
        path = os.path.join(tmp, f"case{i}.yaml")
        export_timm.write_sidecar(path, s, r, it, m, sd, ["blocks.0", "blocks.1", "blocks.2"],
                                  f"timm stand-in {name}")
        sidecars.append((f"case{i}", path, (size, resize, interp, mean, std)))
        print(f"{what}: input_size {s}, resize {r}, {it}, mean {m}, std {sd}")

    # The same with timm < 0.9's resolve_data_config.
    values, _ = sidecar_of("vit_fake_patch16_224.augreg_in21k", None, OldTimm)
    check(values == (224, 248, "bicubic", list(timm.HALF), list(timm.HALF)),
          f"timm < 0.9 (resolve_data_config): {values}")

    # crop_pct missing: timm's DEFAULT_CROP_PCT 0.875 (224 -> 256); a non-square input size is refused (exit 2, named).
    model = timm.create_model("vit_fake_patch16_224.mae")
    del model.pretrained_cfg["crop_pct"]
    check(export_timm.sidecar_values(model, timm, None)[1] == 256,
          "no crop_pct: timm's default 0.875, resize 256")
    model.pretrained_cfg["input_size"] = (3, 224, 160)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            export_timm.sidecar_values(model, timm, None)
            check(False, "a non-square input size is refused")
        except SystemExit as e:
            check(e.code == 2 and "224x160" in err.getvalue() and "square" in err.getvalue(),
                  f"non-square refused with exit 2 and the size: {e.code} {err.getvalue()!r}")

    # The fixture exported through the stand-in: its sidecar as the first case.
    fixture = os.path.join(MODELS, "vit_fake_timm.yaml")
    text = open(fixture).read()
    for line in ("input_size: 224", "resize: 248", "crop: 224", "interpolation: bicubic",
                 "mean: [0.5, 0.5, 0.5]", "std: [0.5, 0.5, 0.5]", "  - blocks.2"):
        check(line in text.splitlines(), f"{fixture}: line '{line}'")

    # 2. prh reads every sidecar: `prh embed` with each, the store's record.
    pt = os.path.join(MODELS, "vit_fake_timm.pt")
    lst = os.path.join(tmp, "images.txt")
    with open(lst, "w") as f:
        f.write(f"{SKIMAGE}/chelsea.png\n{SKIMAGE}/rocket.jpg\n")
    cfg = harness.write_config(
        os.path.join(tmp, "embed.yaml"), {"store": f"{tmp}/store.h5"},
        f"\n  - {{name: photos, source: {{kind: list, file: {lst}}}}}",
        [(n, pt, p) for n, p, _ in sidecars] + [("fixture", pt, fixture)])
    r = harness.Prh(PRH)("embed", cfg)
    check(r.returncode == 0, f"prh embed with the exporter's sidecars: exit {r.returncode}: "
                             f"{r.stderr[-3000:]}")
    if r.returncode == 0:
        with h5py.File(f"{tmp}/store.h5", "r") as f:
            for n, _, (size, resize, interp, mean, std) in sidecars:
                sc = json.loads(f[f"models/{n}"].attrs["sidecar"])
                names = json.loads(f[f"models/{n}"].attrs["layer_names"])
                want = {"input_size": size, "resize": resize, "crop": size,
                        "interpolation": interp, "resampler": "pil", "channels": 3}
                got = {k: sc.get(k) for k in want}
                check(got == want, f"{n}: prh read {got}, expected {want}")
                f32 = [float(np.float32(x)) for x in mean], [float(np.float32(x)) for x in std]
                check((sc["mean"], sc["std"]) == f32, f"{n}: prh read mean/std {sc['mean']} "
                                                      f"{sc['std']}, expected {f32}")
                check(names == ["blocks.0", "blocks.1", "blocks.2"], f"{n}: layer names {names}")
            feats = f["sets/photos/models/fixture/features"][()]
            check(feats.shape == (2, 3, 32) and np.all(np.isfinite(feats)),
                  f"fixture features {feats.shape}")
            check("sets/photos/models/fixture/top1" in f, "the stand-in's logits give predictions")


if __name__ == "__main__":
    harness.run_test("export_timm", main)
