#!/usr/bin/python3
"""How close LibTorch's antialiased interpolation comes to PIL's resize, and
how fast each is, on the parity photographs (docs/models.md, "Resizing").

For each photograph of python3-skimage that tests/e2e/test_parity.py uses:
the shorter side resized to 256 (bilinear) and 248 (bicubic) by PIL
(Image.resize, what torchvision's and timm's eval transforms do) and by
torch.nn.functional.interpolate(antialias=True) on the float image (the
ATen kernels LibTorch 1.13 has, _upsample_{bilinear,bicubic}2d_aa), rounded
to 8 bits as PIL's output is. Prints the differences in 8-bit levels and the
time per image of each (one thread, best of 5).

usage: /usr/bin/python3 tools/compare_resamplers.py
"""
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg",
          "hubble_deep_field.jpg", "retina.jpg", "camera.png", "coins.png", "cell.png"]


def size_for(w, h, s):
    return (s, int(s * h / w)) if w <= h else (int(s * w / h), s)


def best(f, n=5):
    t = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        t.append(time.perf_counter() - t0)
    return min(t)


def main():
    torch.set_num_threads(1)
    images = [Image.open(f"{SKIMAGE}/{p}").convert("RGB") for p in PHOTOS]
    print(f"{'filter':<9} {'max |diff|':>10} {'mean |diff|':>11} {'pixels differing':>16} "
          f"{'PIL ms/img':>10} {'torch aa ms/img':>15}")
    for name, pil_f, mode, s in (("bilinear", Image.BILINEAR, "bilinear", 256),
                                 ("bicubic", Image.BICUBIC, "bicubic", 248)):
        diffs, differing, total, t_pil, t_torch = [], 0, 0, 0.0, 0.0
        for im in images:
            ow, oh = size_for(im.width, im.height, s)
            ref = np.asarray(im.resize((ow, oh), pil_f)).astype(np.int16)
            x = torch.from_numpy(np.array(im)).permute(2, 0, 1)[None].float()

            def aa():
                return F.interpolate(x, size=(oh, ow), mode=mode, antialias=True,
                                     align_corners=False)

            got = aa().round().clamp(0, 255)[0].permute(1, 2, 0).numpy().astype(np.int16)
            d = np.abs(got - ref)
            diffs.append(d)
            differing += int((d > 0).sum())
            total += d.size
            t_pil += best(lambda: im.resize((ow, oh), pil_f))
            t_torch += best(aa)
        allv = np.concatenate([d.reshape(-1) for d in diffs])
        n = len(images)
        print(f"{name:<9} {allv.max():>10} {allv.mean():>11.4f} {differing / total:>15.2%} "
              f"{1e3 * t_pil / n:>10.2f} {1e3 * t_torch / n:>15.2f}")


if __name__ == "__main__":
    main()
