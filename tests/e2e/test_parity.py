#!/usr/bin/python3
"""Parity of `prh embed` with PyTorch on real photographs.

usage: test_parity.py PRH MODELS_DIR

MODELS_DIR holds resnet18 and vit_b_16 exported by tools/export_torchvision.py
with seeded random weights (tests/e2e/export_models.py). The photographs are
those scikit-image ships in Debian's python3-skimage
(/usr/lib/python3/dist-packages/skimage/data), at their original sizes.

1. Pixels: an identity model (returns its input) embedded by prh gives the
   preprocessed input itself; it must equal torchvision's eval transforms on
   the PIL image (Resize of the shorter side, CenterCrop, ToTensor,
   Normalize) bit for bit, for bilinear and bicubic, on the photographs and
   on noise images of odd sizes (downscales and upscales). The same with
   `resampler: opencv` is printed, not asserted.
2. Features: resnet18 and vit_b_16 through `prh embed`, and the same
   torchvision architectures built in PyTorch with the same seed, fed by
   torchvision's transforms on PIL images, every block's output pooled as
   the exporter does. Per image and layer: cosine >= 0.9999; the top-1 class
   of the logits equal. The numbers (cosine, max abs difference per layer)
   are printed for both resize paths; the OpenCV path is not asserted.
"""
import math
import os
import sys

import h5py
import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision import transforms as T

import harness  # noqa: E402
from harness import SKIMAGE, check  # noqa: E402

PRH, MODELS = sys.argv[1:3]
# (file, what it is): JPEG and PNG, RGB and grey, landscape, square, portrait.
PHOTOS = [
    ("astronaut.png", "RGB PNG 512 x 512"),
    ("chelsea.png", "RGB PNG 451 x 300 (3:2)"),
    ("coffee.png", "RGB PNG 600 x 400 (3:2)"),
    ("motorcycle_left.png", "RGB PNG 741 x 500"),
    ("rocket.jpg", "RGB JPEG 640 x 427"),
    ("hubble_deep_field.jpg", "RGB JPEG 1000 x 872"),
    ("retina.jpg", "RGB JPEG 1411 x 1411"),
    ("camera.png", "grey PNG 512 x 512"),
    ("coins.png", "grey PNG 384 x 303"),
    ("cell.png", "grey PNG 550 x 660 (portrait)"),
]
# Noise images (height, width, grey?) for the pixel check: odd sizes, shorter
# sides below and above the resize, extreme aspect ratios.
NOISE = [(231, 300, False), (300, 231, True), (1000, 257, False), (97, 451, False),
         (256, 999, True), (223, 224, False), (640, 480, False), (1023, 1537, False)]
COSINE_MIN = 0.9999


def read_sidecar(path):
    """The few fields of an exported sidecar (flat YAML, written by the exporter)."""
    out = {}
    for line in open(path):
        line = line.split("#")[0].rstrip()
        if ":" in line and not line.startswith(" "):
            k, v = line.split(":", 1)
            v = v.strip()
            if v.startswith("["):
                out[k] = [float(x) for x in v.strip("[]").split(",")]
            elif v:
                out[k] = int(v) if v.isdigit() else v
    return out


def write_sidecar(path, size, resize, interp, resampler, mean, std, layer_names=None):
    lines = [f"input_size: {size}", f"resize: {resize}", f"crop: {size}",
             f"interpolation: {interp}", f"resampler: {resampler}", "channels: 3",
             f"mean: [{', '.join(repr(float(x)) for x in mean)}]",
             f"std: [{', '.join(repr(float(x)) for x in std)}]"]
    if layer_names:
        lines.append("layer_names:")
        lines += [f"  - {n}" for n in layer_names]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def layer_names_of(path):
    names, on = [], False
    for line in open(path):
        if line.startswith("layer_names:"):
            on = True
        elif on and line.startswith("  - "):
            names.append(line[4:].strip().strip('"'))
    return names


def reference_transform(sc):
    interp = {"bilinear": T.InterpolationMode.BILINEAR,
              "bicubic": T.InterpolationMode.BICUBIC}[sc["interpolation"]]
    return T.Compose([T.Resize(sc["resize"], interpolation=interp), T.CenterCrop(sc["input_size"]),
                      T.ToTensor(), T.Normalize(sc["mean"], sc["std"])])


def load_rgb(path):
    with Image.open(path) as im:
        return im.convert("RGB")


def run_embed(tmp, name, images, models):
    """prh embed of one image set (a list file) with models [(name, pt, sidecar)]."""
    lst = os.path.join(tmp, name + ".txt")
    with open(lst, "w") as f:
        f.write("\n".join(images) + "\n")
    cfg = harness.write_config(
        os.path.join(tmp, name + ".yaml"),
        {"store": f"{tmp}/{name}.h5", "batch_size": 16, "shard_size": 64},
        f"\n  - {{name: photos, source: {{kind: list, file: {lst}}}}}", models)
    r = harness.Prh(PRH)("embed", cfg)
    check(r.returncode == 0, f"prh embed {name}: exit {r.returncode}: {r.stderr[-3000:]}")
    if r.returncode != 0:
        return None
    out = {}
    with h5py.File(f"{tmp}/{name}.h5", "r") as f:
        ids = [x.decode() if isinstance(x, bytes) else str(x) for x in f["sets/photos/ids"][()]]
        check(ids == images, f"{name}: store ids in list order")
        for m, _, _ in models:
            g = f[f"sets/photos/models/{m}"]
            out[m] = {"features": g["features"][()],
                      "top1": g["top1"][()] if "top1" in g else None}
    return out


def identity_model(path):
    class Identity(torch.nn.Module):
        def forward(self, x):
            return {"layers": [x.flatten(1)]}

    torch.jit.script(Identity().eval()).save(path)


def pixels(tmp, photos):
    """Part 1: the preprocessed input, prh against torchvision, bit for bit."""
    rng = np.random.default_rng(5)
    noise = []
    for i, (h, w, grey) in enumerate(NOISE):
        a = rng.integers(0, 256, (h, w) if grey else (h, w, 3), dtype=np.uint8)
        p = os.path.join(tmp, f"noise{i}_{h}x{w}.png")
        Image.fromarray(a).save(p)
        noise.append(p)
    images = photos + noise
    pt = os.path.join(tmp, "identity.pt")
    identity_model(pt)
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    cases = [("bilinear", 256), ("bicubic", 248)]
    models = []
    for interp, resize in cases:
        for rs in ("pil", "opencv"):
            sc = os.path.join(tmp, f"identity_{interp}_{rs}.yaml")
            write_sidecar(sc, 224, resize, interp, rs, mean, std)
            models.append((f"id_{interp}_{rs}", pt, sc))
    got = run_embed(tmp, "pixels", images, models)
    if got is None:
        return
    print("\npixels: prh's preprocessed input vs torchvision's eval transforms on PIL images "
          "(differences in 8-bit levels: |diff| x std x 255)")
    print(f"{'sidecar':<16} {'images':<12} {'identical':>9} {'max |diff|':>10} "
          f"{'mean |diff|':>11}")
    groups = [("photographs", slice(0, len(photos))), ("noise", slice(len(photos), None))]
    for interp, resize in cases:
        ref_t = reference_transform({"interpolation": interp, "resize": resize,
                                     "input_size": 224, "mean": mean, "std": std})
        ref = np.stack([ref_t(load_rgb(p)).numpy().reshape(-1) for p in images])
        for rs in ("pil", "opencv"):
            x = got[f"id_{interp}_{rs}"]["features"][:, 0, :]
            levels = (np.abs(x.astype(np.float64) - ref).reshape(len(images), 3, -1) *
                      np.array(std)[None, :, None] * 255).reshape(len(images), -1)
            same = [bool(np.array_equal(x[i], ref[i])) for i in range(len(images))]
            for group, sl in groups:
                lv = levels[sl]
                print(f"{interp + ' ' + rs:<16} {group:<12} "
                      f"{sum(same[sl]):>4}/{len(same[sl]):<4} {lv.max():>10.1f} "
                      f"{lv.mean():>11.3f}")
            if rs == "pil":
                for i, p in enumerate(images):
                    check(same[i], f"pixels {interp}/pil: {os.path.basename(p)} differs from "
                                   f"torchvision's (max {levels[i].max():.1f} levels)")


POOLS = {"BasicBlock": "nchw", "Bottleneck": "nchw", "EncoderBlock": "cls"}


def reference_model(arch, names):
    """The torchvision model as the exporter builds it (seed 0, random weights),
    and a function giving (layers pooled as the exporter does, logits)."""
    torch.manual_seed(0)
    model = torchvision.models.get_model(arch, weights=None).eval()
    modules = dict(model.named_modules())
    seen = {}
    for n in names:
        modules[n].register_forward_hook(lambda m, i, o, n=n: seen.__setitem__(n, o))

    def run(x):
        with torch.no_grad():
            logits = model(x)
        layers = []
        for n in names:
            t = seen[n]
            t = t.mean([2, 3]) if POOLS[type(modules[n]).__name__] == "nchw" else t[:, 0]
            layers.append(t.flatten(1).numpy())
        return layers, logits.numpy()

    return run


def features(tmp, photos):
    """Part 2: every layer of resnet18 and vit_b_16, prh against PyTorch."""
    models = []
    for arch in ("resnet18", "vit_b_16"):
        pt, sc = os.path.join(MODELS, arch + ".pt"), os.path.join(MODELS, arch + ".yaml")
        s = read_sidecar(sc)
        models.append((arch, pt, sc))
        cv = os.path.join(tmp, arch + "_opencv.yaml")
        write_sidecar(cv, s["input_size"], s["resize"], s["interpolation"], "opencv", s["mean"],
                      s["std"], layer_names_of(sc))
        models.append((arch + "_opencv", pt, cv))
    got = run_embed(tmp, "features", photos, models)
    if got is None:
        return
    for arch in ("resnet18", "vit_b_16"):
        sc_path = os.path.join(MODELS, arch + ".yaml")
        s, names = read_sidecar(sc_path), layer_names_of(sc_path)
        run = reference_model(arch, names)
        x = torch.stack([reference_transform(s)(load_rgb(p)) for p in photos])
        ref_layers, ref_logits = run(x)
        ref_top1 = ref_logits.argmax(1)
        print(f"\n{arch} ({s['interpolation']}, resize {s['resize']}, crop {s['input_size']}): "
              f"prh embed vs PyTorch on {len(photos)} photographs; per layer: min cosine over "
              "images, max |diff|, max |reference|")
        print(f"{'layer':<32} {'pil: min cos':>13} {'max |diff|':>10}   "
              f"{'opencv: min cos':>15} {'max |diff|':>10}   {'max |ref|':>9}")
        for li, name in enumerate(names):
            ref = ref_layers[li]
            row = f"{name:<32}"
            for rs, suffix in (("pil", ""), ("opencv", "_opencv")):
                f = got[arch + suffix]["features"][:, li, :ref.shape[1]].astype(np.float64)
                ref = ref_layers[li].astype(np.float64)
                cos = (f * ref).sum(1) / (np.linalg.norm(f, axis=1) * np.linalg.norm(ref, axis=1))
                diff = np.abs(f - ref).max()
                row += f" {cos.min():>13.7f} {diff:>10.3g}  " if rs == "pil" else \
                    f" {cos.min():>15.7f} {diff:>10.3g}  "
                if rs == "pil":
                    for i, p in enumerate(photos):
                        check(cos[i] >= COSINE_MIN and math.isfinite(cos[i]),
                              f"{arch} layer {name}, {os.path.basename(p)}: cosine {cos[i]:.7f} "
                              f"< {COSINE_MIN}")
            print(row + f" {np.abs(ref).max():>9.3g}")
        for rs, suffix in (("pil", ""), ("opencv", "_opencv")):
            top1 = got[arch + suffix]["top1"]
            agree = int((top1 == ref_top1).sum())
            print(f"top-1 ({rs}): {agree}/{len(photos)} equal to PyTorch's")
            if rs == "pil":
                check(agree == len(photos), f"{arch}: top-1 {list(top1)} vs PyTorch's "
                                            f"{list(ref_top1)}")


def main(tmp):
    missing = [p for p, _ in PHOTOS if not os.path.isfile(os.path.join(SKIMAGE, p))]
    if not check(not missing, f"photographs of python3-skimage missing in {SKIMAGE}: {missing} "
                 "(tools/bootstrap.sh --tests installs python3-skimage)"):
        return
    photos = [os.path.join(SKIMAGE, p) for p, _ in PHOTOS]
    print("photographs (python3-skimage):")
    for p, what in PHOTOS:
        with Image.open(os.path.join(SKIMAGE, p)) as im:
            print(f"  {p:<24} {what:<32} PIL mode {im.mode}, {im.size[0]} x {im.size[1]}")
    torch.set_num_threads(1)
    pixels(tmp, photos)
    features(tmp, photos)


if __name__ == "__main__":
    harness.run_test("parity", main)
