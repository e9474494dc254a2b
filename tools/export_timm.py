#!/usr/bin/python3
"""Export a timm vision transformer to TorchScript for prh, with its sidecar.

The exported module's forward takes a float batch [B, 3, S, S] (already
resized, cropped and normalised as the sidecar says) and returns

    {"layers": [B, L, D] tensor, "logits": [B, C] tensor}

where layer l is the class token of the output of transformer block l
(model.blocks[l]: the residual stream, before the final norm; models without a
class token: the mean of the patch tokens), and "logits" is the classifier
head's output. There are no logits when the model has no classifier head
(num_classes 0: MAE, DINOv2; image-text towers such as *_clip_*.laion2b whose
"head" is a projection; see --logits). This is the output contract of prh's
models layer (docs/models.md).

Two files are written to --out: NAME.pt (TorchScript) and NAME.yaml (the
sidecar: input size, resize = input size / crop_pct, interpolation, mean, std,
layer names), all from timm's data config of the model.

Weights: --weights none (random initialisation, seeded), --weights PATH (a
local checkpoint, loaded by timm), or --pretrained (timm's pretrained weights
for the model's tag: this DOWNLOADS them from the Hugging Face hub unless they
are cached). Nothing is ever downloaded without --pretrained (the hub is set
offline).

Needs /usr/bin/python3 with python3-torch and timm (timm is not a Debian
package: put its source on PYTHONPATH, or install it with pip).

Examples:
    /usr/bin/python3 tools/export_timm.py --model vit_tiny_patch16_224.augreg_in21k --weights none --out models/
    /usr/bin/python3 tools/export_timm.py --model vit_base_patch16_224.mae --pretrained --out models/
    /usr/bin/python3 tools/export_timm.py --model vit_small_patch14_dinov2.lvd142m --pretrained --img-size 224 --out models/
"""

import argparse
import math
import os
import re
import sys


def fail(msg):
    print(f"export_timm: error: {msg}", file=sys.stderr)
    sys.exit(2)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__[__doc__.index("Two files"):],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True,
                   help="timm model name with its pretrained tag, e.g. "
                        "vit_base_patch16_224.augreg_in21k")
    w = p.add_mutually_exclusive_group()
    w.add_argument("--weights", default="none",
                   help="'none' (random, seeded) or the path of a local checkpoint")
    w.add_argument("--pretrained", action="store_true",
                   help="timm's pretrained weights (downloads them from the Hugging Face hub if "
                        "they are not cached)")
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.add_argument("--name", help="file name stem (default: the model name)")
    p.add_argument("--img-size", type=int,
                   help="input size to build the model for (default: timm's; e.g. 224 for "
                        "DINOv2, whose position embeddings timm then resamples)")
    p.add_argument("--num-classes", type=int, help="classes of the head (default: timm's)")
    p.add_argument("--logits", choices=["auto", "yes", "no"], default="auto",
                   help="export the head's output as logits (auto: when num_classes > 0, except "
                        "for image-text towers (*clip*) not fine-tuned on labels)")
    p.add_argument("--token", choices=["auto", "cls", "avg"], default="auto",
                   help="per-block feature: the class token or the mean of the patch tokens "
                        "(auto: cls when the model has a class token)")
    p.add_argument("--seed", type=int, default=0, help="seed for --weights none (default 0)")
    return p.parse_args(argv)


def build_model(args, torch, timm):
    torch.manual_seed(args.seed)
    kwargs = {}
    if args.img_size:
        kwargs["img_size"] = args.img_size
    if args.num_classes is not None:
        kwargs["num_classes"] = args.num_classes
    if args.weights != "none":
        if not os.path.isfile(args.weights):
            fail(f"--weights {args.weights}: no such file")
        kwargs["checkpoint_path"] = args.weights
    if args.pretrained:
        print(f"using timm's pretrained weights of {args.model} (downloaded if not cached)",
              file=sys.stderr)
    try:
        model = timm.create_model(args.model, pretrained=args.pretrained, **kwargs)
    except RuntimeError as e:
        if args.model.split(".")[0] not in timm.list_models():
            fail(f"unknown timm model {args.model!r}")
        fail(f"cannot create {args.model}: {e}")
    return model.eval()


def data_config(model, timm):
    """timm's eval preprocessing of the model."""
    try:
        return timm.data.resolve_model_data_config(model)
    except AttributeError:  # timm < 0.9
        return timm.data.resolve_data_config({}, model=model)


def sidecar_values(model, timm, img_size):
    cfg = data_config(model, timm)
    _, h, w = cfg["input_size"]
    if img_size:  # the model was built for another size than its pretrained config's
        h = w = img_size
    if h != w:
        fail(f"input size {h}x{w} is not square; prh feeds square crops")
    # timm's transforms_imagenet_eval: crop_pct or DEFAULT_CROP_PCT (0.875), then
    # scale_size = floor(img_size / crop_pct), Resize(shorter side) + CenterCrop.
    crop_pct = float(cfg.get("crop_pct") or 0.875)
    resize = int(math.floor(h / crop_pct))
    mode = cfg.get("crop_mode", "center")
    if mode != "center":
        print(f"note: timm's crop_mode is {mode!r}; prh resizes the shorter side to {resize} "
              "and centre-crops", file=sys.stderr)
    interp = cfg.get("interpolation", "bicubic")
    if interp not in ("bicubic", "bilinear"):
        print(f"note: interpolation {interp!r} is not supported by prh; using bicubic",
              file=sys.stderr)
        interp = "bicubic"
    mean, std = [float(x) for x in cfg["mean"]], [float(x) for x in cfg["std"]]
    if len(mean) != 3 or len(std) != 3:
        fail(f"mean/std of {len(mean)}/{len(std)} channels; expected 3")
    return int(h), resize, interp, mean, std


def wants_logits(args, model):
    n = int(getattr(model, "num_classes", 0) or 0)
    if args.logits == "no":
        return False
    if args.logits == "yes":
        if n <= 0:
            fail(f"--logits yes, but {args.model} has no classifier head (num_classes 0)")
        return True
    if n <= 0:
        return False
    arch, _, tag = args.model.partition(".")
    if "clip" in arch and "ft" not in tag.split("_"):
        print(f"note: {args.model} is an image-text tower: its {n}-wide head is a projection, "
              "not classes; exporting no logits (--logits yes to override)", file=sys.stderr)
        return False
    return True


def main(argv):
    args = parse_args(argv)
    if not args.pretrained:
        # Never touch the network unless asked to.
        os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        import torch
        import timm
        import timm.data
    except ImportError as e:
        fail(f"{e}: needs python3-torch (Debian) and timm on PYTHONPATH; "
             "run with /usr/bin/python3")

    model = build_model(args, torch, timm)
    blocks = getattr(model, "blocks", None)
    if not isinstance(blocks, torch.nn.Module) or len(list(blocks.children())) == 0:
        fail(f"{args.model} has no transformer blocks (model.blocks): this exporter handles "
             "ViT-style models; for CNNs use tools/export_torchvision.py or write a wrapper "
             "(docs/models.md)")
    blocks = list(blocks.children())
    size, resize, interp, mean, std = sidecar_values(model, timm, args.img_size)
    has_logits = wants_logits(args, model)
    has_cls = getattr(model, "cls_token", None) is not None
    token = args.token if args.token != "auto" else ("cls" if has_cls else "avg")
    if token == "cls" and not has_cls:
        fail(f"--token cls, but {args.model} has no class token")
    prefix = int(getattr(model, "num_prefix_tokens", 1 if has_cls else 0))

    embedder = BlockEmbedder(torch, model, blocks, token == "cls", prefix, has_logits).eval()
    example = torch.rand(2, 3, size, size)
    with torch.no_grad():
        layers, logits = embedder(example)
        if layers.dim() != 3:
            fail(f"block outputs of {args.model} are not [B, N, D] token sequences")
        traced = torch.jit.trace(embedder, example)
    exported = torch.jit.script(Dictify(torch, traced, has_logits).eval())

    os.makedirs(args.out, exist_ok=True)
    stem = args.name or args.model
    pt = os.path.join(args.out, stem + ".pt")
    yml = os.path.join(args.out, stem + ".yaml")
    exported.save(pt)
    check(torch, pt, embedder, size, len(blocks), has_logits)
    names = [f"blocks.{i}" for i in range(len(blocks))]
    weights = "pretrained" if args.pretrained else args.weights
    write_sidecar(yml, size, resize, interp, mean, std, names,
                  f"timm {timm.__version__} {args.model}, weights: {weights}, token: {token}")
    print(f"wrote {pt} ({len(blocks)} layers of {int(layers.shape[2])}"
          + (f", {int(logits.shape[1])} classes" if has_logits else ", no logits")
          + f") and {yml}")
    return 0


def BlockEmbedder(torch, model, blocks, cls, prefix, has_logits):
    """model(x), with forward hooks keeping each block's output: returns
    (layers [B, L, D], logits [B, C] or an empty [B, 0] tensor)."""

    class Embedder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model
            self.seen = [None] * len(blocks)
            for i, b in enumerate(blocks):
                b.register_forward_hook(self._keeper(i))

        def _keeper(self, i):
            def keep(module, inputs, output):
                self.seen[i] = output[0] if isinstance(output, (tuple, list)) else output
            return keep

        def forward(self, x):
            self.seen = [None] * len(blocks)
            head = self.model(x)
            feats = []
            for i, t in enumerate(self.seen):
                if not isinstance(t, torch.Tensor) or t.dim() != 3:
                    fail(f"block {i} did not run or did not return a [B, N, D] tensor")
                feats.append(t[:, 0] if cls else t[:, prefix:].mean(1))
            logits = head if has_logits else x.new_zeros(x.shape[0], 0)
            return torch.stack(feats, 1), logits

    return Embedder()


def Dictify(torch, traced, has_logits):
    """A scripted wrapper turning the traced tuple into prh's dict."""
    from typing import Dict

    class Exported(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = traced
            self.has_logits: bool = has_logits

        def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
            layers, logits = self.inner(x)
            out: Dict[str, torch.Tensor] = {"layers": layers}
            if self.has_logits:
                out["logits"] = logits
            return out

    return Exported()


def check(torch, path, embedder, size, n_layers, has_logits):
    """Loads the saved file back and compares it with the eager model on batches of
    1 and 3 (the batch size must stay free)."""
    loaded = torch.jit.load(path).eval()
    for batch in (1, 3):
        x = torch.rand(batch, 3, size, size)
        with torch.no_grad():
            layers, logits = embedder(x)
            got = loaded(x)
        pairs = [(got["layers"], layers)]
        if got["layers"].shape[1] != n_layers:
            fail(f"check of {path}: {got['layers'].shape[1]} layers, expected {n_layers}")
        if has_logits:
            pairs.append((got["logits"], logits))
        elif "logits" in got:
            fail(f"check of {path}: logits exported, but none were asked for")
        for g, w in pairs:
            if g.shape != w.shape or not torch.allclose(g, w, rtol=1e-3, atol=1e-4):
                fail(f"check of {path}: the exported model differs from the eager one "
                     f"(batch {batch}, shapes {tuple(g.shape)} vs {tuple(w.shape)})")


def write_sidecar(path, size, resize, interp, mean, std, layer_names, source):
    def num_list(v):
        return "[" + ", ".join(repr(float(x)) for x in v) + "]"

    def yaml_str(s):
        return s if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", s) else '"' + s.replace(
            "\\", "\\\\").replace('"', '\\"') + '"'

    lines = [
        f"# prh model sidecar (docs/models.md); {source}",
        f"input_size: {size}",
        f"resize: {resize}",
        f"crop: {size}",
        f"interpolation: {interp}",
        "channels: 3",
        f"mean: {num_list(mean)}",
        f"std: {num_list(std)}",
        "layer_names:",
    ] + [f"  - {yaml_str(n)}" for n in layer_names]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
