#!/usr/bin/python3
"""Export a torchvision classifier to TorchScript for prh, with its sidecar.

The exported module's forward takes a float batch [B, 3, S, S] (already
resized, cropped and normalised as the sidecar says) and returns

    {"layers": [f_0, ..., f_{L-1}], "logits": logits}

where f_l is the output of the l-th block of the network, pooled to [B, D_l]
(global average over space for convolutional blocks, the class token for
vision-transformer blocks), and logits is [B, num_classes]. This is the output
contract of prh's models layer (docs/models.md).

Two files are written to --out: NAME.pt (TorchScript) and NAME.yaml (the
sidecar: input size, resize, interpolation, mean, std, layer names).

Weights: --weights none (random initialisation, seeded), --weights PATH (a
local state_dict or checkpoint), or --pretrained (torchvision's default
weights: this DOWNLOADS them unless they are in the torch hub cache). Nothing
is ever downloaded without --pretrained.

Needs /usr/bin/python3 with python3-torch and python3-torchvision (Debian).

Examples:
    /usr/bin/python3 tools/export_torchvision.py --arch resnet18 --weights none --out models/
    /usr/bin/python3 tools/export_torchvision.py --arch resnet50 --pretrained --out models/
    /usr/bin/python3 tools/export_torchvision.py --arch vit_b_16 --weights ckpt.pth --out models/
    /usr/bin/python3 tools/export_torchvision.py --arch resnet18 --list-nodes
"""

import argparse
import os
import re
import sys

# Block classes of torchvision's classifiers whose outputs are the layers, and
# how each block's output is pooled to [B, D].
POOL_NCHW = 0  # [B, C, H, W]: mean over H, W
POOL_NHWC = 1  # [B, H, W, C]: mean over H, W (Swin)
POOL_CLS = 2   # [B, N, D]: the class token (position 0)
POOL_NONE = 3  # [B, D]: as it is

BLOCKS = {
    "BasicBlock": POOL_NCHW,           # resnet18/34
    "Bottleneck": POOL_NCHW,           # resnet50+, resnext, wide_resnet
    "EncoderBlock": POOL_CLS,          # vit_*
    "CNBlock": POOL_NCHW,              # convnext_*
    "MBConv": POOL_NCHW,               # efficientnet_b*
    "FusedMBConv": POOL_NCHW,          # efficientnet_v2_*
    "InvertedResidual": POOL_NCHW,     # mobilenet_v2/v3
    "ResBottleneckBlock": POOL_NCHW,   # regnet_*
    "_DenseBlock": POOL_NCHW,          # densenet*
    "SwinTransformerBlock": POOL_NHWC,    # swin_*
    "SwinTransformerBlockV2": POOL_NHWC,  # swin_v2_*
}


def TRACER_KWARGS(torch):
    """torch.fx cannot trace through nn.MultiheadAttention (vit_*): keep it a leaf."""
    return {"leaf_modules": [torch.nn.MultiheadAttention]}


def fail(msg):
    print(f"export_torchvision: error: {msg}", file=sys.stderr)
    sys.exit(2)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__[__doc__.index("Two files"):],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", required=True, help="torchvision model name, e.g. resnet18, vit_b_16")
    w = p.add_mutually_exclusive_group()
    w.add_argument("--weights", default="none",
                   help="'none' (random, seeded) or the path of a local state_dict/checkpoint")
    w.add_argument("--pretrained", action="store_true",
                   help="use torchvision's default pretrained weights (downloads them if they "
                        "are not cached)")
    p.add_argument("--out", help="output folder (created if missing)")
    p.add_argument("--name", help="file name stem (default: the arch)")
    p.add_argument("--num-classes", type=int,
                   help="classes of the head (default: torchvision's, 1000); for --weights PATH")
    p.add_argument("--nodes",
                   help="comma-separated graph nodes (module names) to use as layers instead of "
                        "every block; see --list-nodes")
    p.add_argument("--pool", choices=["auto", "nchw", "nhwc", "cls"], default="auto",
                   help="pooling of --nodes outputs (auto: by rank: 4-D nchw, 3-D cls)")
    p.add_argument("--list-nodes", action="store_true",
                   help="print the model's graph nodes and its default layers, then exit")
    p.add_argument("--method", choices=["script", "trace"], default="script",
                   help="torch.jit.script (default; falls back to trace) or torch.jit.trace")
    p.add_argument("--seed", type=int, default=0, help="seed for --weights none (default 0)")
    # Sidecar overrides (default: from the weights' transforms).
    p.add_argument("--input-size", type=int, help="crop size fed to the model")
    p.add_argument("--resize", type=int, help="shorter side is resized to this before the crop")
    p.add_argument("--interpolation", choices=["bilinear", "bicubic"])
    p.add_argument("--mean", help="three comma-separated numbers")
    p.add_argument("--std", help="three comma-separated numbers")
    a = p.parse_args(argv)
    if not a.list_nodes and not a.out:
        p.error("--out is required (unless --list-nodes)")
    return a


def floats3(text, what):
    try:
        v = [float(x) for x in text.split(",")]
    except ValueError:
        fail(f"--{what} must be three comma-separated numbers, got {text!r}")
    if len(v) != 3:
        fail(f"--{what} must be three comma-separated numbers, got {text!r}")
    return v


def build_model(args, torch, tv):
    """The eager model, in eval mode, with the requested weights."""
    models = tv.models
    if args.arch not in models.list_models(module=models):
        fail(f"unknown torchvision classification model {args.arch!r} "
             f"(known: {', '.join(models.list_models(module=models))})")
    kwargs = {}
    if args.num_classes is not None:
        kwargs["num_classes"] = args.num_classes
    if args.pretrained:
        weights = models.get_model_weights(args.arch).DEFAULT
        print(f"using pretrained weights {weights} (downloaded if not cached)", file=sys.stderr)
        model = models.get_model(args.arch, weights=weights, **kwargs)
    else:
        torch.manual_seed(args.seed)
        model = models.get_model(args.arch, weights=None, **kwargs)
        if args.weights != "none":
            if not os.path.isfile(args.weights):
                fail(f"--weights {args.weights}: no such file")
            state = torch.load(args.weights, map_location="cpu")
            if isinstance(state, torch.nn.Module):
                state = state.state_dict()
            for key in ("state_dict", "model_state_dict", "model"):
                if isinstance(state, dict) and isinstance(state.get(key), dict):
                    state = state[key]
                    break
            state = {k[len("module."):] if k.startswith("module.") else k: v
                     for k, v in state.items()}
            try:
                model.load_state_dict(state, strict=True)
            except RuntimeError as e:
                fail(f"--weights {args.weights} does not fit {args.arch}: {e}")
    return model.eval()


def sidecar_values(args, tv):
    """input_size, resize, interpolation, mean, std: torchvision's eval transforms of the
    arch's default weights (read from the weights' metadata: nothing is downloaded),
    overridden by the command line."""
    size, resize, interp = 224, 256, "bilinear"
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    try:
        t = tv.models.get_model_weights(args.arch).DEFAULT.transforms()
        size = int(t.crop_size[0])
        resize = int(t.resize_size[0])
        interp = "bicubic" if "BICUBIC" in str(t.interpolation).upper() else "bilinear"
        mean, std = [float(x) for x in t.mean], [float(x) for x in t.std]
    except (ValueError, AttributeError, KeyError):
        print(f"note: {args.arch} has no default weights' transforms; using 256/224 bilinear "
              "and ImageNet mean/std", file=sys.stderr)
    if args.input_size:
        size = args.input_size
        if not args.resize:
            resize = max(resize * size // 224, size)
    if args.resize:
        resize = args.resize
    if args.interpolation:
        interp = args.interpolation
    if args.mean:
        mean = floats3(args.mean, "mean")
    if args.std:
        std = floats3(args.std, "std")
    if resize < size:
        fail(f"resize ({resize}) must be at least the input size ({size})")
    return size, resize, interp, mean, std


def default_nodes(model):
    """(module name, pooling) of every block of the network, in order."""
    out = []
    for name, mod in model.named_modules():
        kind = type(mod).__name__
        if kind in BLOCKS and not any(name.startswith(n + ".") for n, _ in out):
            out.append((name, BLOCKS[kind]))
    return out


def first_line(e):
    lines = [l for l in str(e).splitlines() if l.strip()]
    return lines[0].strip() if lines else type(e).__name__


def auto_pool(mode, dim):
    if mode is not None:
        return mode
    return {4: POOL_NCHW, 3: POOL_CLS}.get(dim, POOL_NONE)


def fx_embedder(torch, model, names, pools, mode, has_logits, example, reference):
    """The layers through torchvision's torch.fx feature extractor (scriptable)."""
    from torchvision.models.feature_extraction import (create_feature_extractor,
                                                       get_graph_node_names)
    keys = [f"layer{i}" for i in range(len(names))]
    return_nodes = dict(zip(names, keys))
    if has_logits:  # the graph's output node is the head
        head = get_graph_node_names(model, tracer_kwargs=TRACER_KWARGS(torch))[1][-1]
        return_nodes[head] = "logits"
    extractor = create_feature_extractor(model, return_nodes=return_nodes,
                                         tracer_kwargs=TRACER_KWARGS(torch)).eval()
    with torch.no_grad():
        raw = extractor(example)
    if has_logits and not torch.allclose(raw["logits"], reference):
        raise RuntimeError("the graph's output node is not the model's output")
    pools = [p if p is not None else auto_pool(mode, raw[k].dim()) for p, k in zip(pools, keys)]
    return make_embedder(torch, extractor, keys, pools, has_logits).eval()


def hook_embedder(torch, model, names, pools, mode, has_logits, example):
    """The layers through forward hooks on the named modules (for torch.jit.trace)."""
    from typing import List

    modules = dict(model.named_modules())
    missing = [n for n in names if n not in modules]
    if missing:
        fail(f"no module named {', '.join(missing)} (with forward hooks, --nodes must name "
             "modules; see --list-nodes)")

    class HookEmbedder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model
            self.pools: List[int] = list(pools)
            self.seen: List[torch.Tensor] = [None] * len(names)
            for i, n in enumerate(names):
                modules[n].register_forward_hook(self._keeper(i))

        def _keeper(self, i):
            def keep(module, inputs, output):
                self.seen[i] = output
            return keep

        def forward(self, x):
            self.seen = [None] * len(names)
            logits = self.model(x)
            layers = []
            for i, t in enumerate(self.seen):
                if not isinstance(t, torch.Tensor):
                    fail(f"module {names[i]} did not run or returned no tensor")
                p = self.pools[i] if self.pools[i] is not None else auto_pool(mode, t.dim())
                if p == POOL_NCHW:
                    t = t.mean([2, 3])
                elif p == POOL_NHWC:
                    t = t.mean([1, 2])
                elif p == POOL_CLS:
                    t = t[:, 0]
                layers.append(t.flatten(1))
            out = {"layers": layers}
            if has_logits:
                out["logits"] = logits
            return out

    return HookEmbedder().eval()


def make_embedder(torch, extractor, keys, pools, has_logits):
    from typing import Any, Dict, List

    class Embedder(torch.nn.Module):
        """Feature extractor -> {"layers": pooled block outputs, "logits": head}."""

        def __init__(self):
            super().__init__()
            self.extractor = extractor
            self.keys: List[str] = list(keys)
            self.pools: List[int] = list(pools)
            self.has_logits: bool = has_logits

        def forward(self, x: torch.Tensor) -> Dict[str, Any]:
            out = self.extractor(x)
            layers: List[torch.Tensor] = []
            for i in range(len(self.keys)):
                t = out[self.keys[i]]
                p = self.pools[i]
                if p == 0:
                    t = t.mean([2, 3])
                elif p == 1:
                    t = t.mean([1, 2])
                elif p == 2:
                    t = t[:, 0]
                layers.append(t.flatten(1))
            result: Dict[str, Any] = {"layers": layers}
            if self.has_logits:
                result["logits"] = out["logits"]
            return result

    return Embedder()


def main(argv):
    args = parse_args(argv)
    try:
        import torch
        import torchvision as tv
        from torchvision.models.feature_extraction import get_graph_node_names
    except ImportError as e:
        fail(f"{e}: needs python3-torch and python3-torchvision (Debian); run with /usr/bin/python3")

    model = build_model(args, torch, tv)
    blocks = default_nodes(model)
    if args.list_nodes:
        try:
            nodes = get_graph_node_names(model, tracer_kwargs=TRACER_KWARGS(torch))[1]
            print("graph nodes (eval; any of these, or a module name, works with --nodes):")
        except Exception as e:  # torch.fx raises many kinds
            print(f"torch.fx cannot trace {args.arch} ({first_line(e)}); modules (what --nodes "
                  "takes for it):")
            nodes = [n for n, _ in model.named_modules() if n]
        for n in nodes:
            print("  " + n)
        print("default layers (blocks):")
        for n, _ in blocks:
            print("  " + n)
        return 0

    size, resize, interp, mean, std = sidecar_values(args, tv)
    if args.nodes:
        names = [n.strip() for n in args.nodes.split(",") if n.strip()]
        pools = [None] * len(names)
    else:
        if not blocks:
            fail(f"{args.arch}: no known block type ({', '.join(sorted(BLOCKS))}); "
                 "choose layers with --nodes (see --list-nodes)")
        names = [n for n, _ in blocks]
        pools = [p for _, p in blocks]

    mode = {"auto": None, "nchw": POOL_NCHW, "nhwc": POOL_NHWC, "cls": POOL_CLS}[args.pool]
    example = torch.rand(2, 3, size, size)
    with torch.no_grad():
        reference = model(example)
    has_logits = isinstance(reference, torch.Tensor) and reference.dim() == 2
    if not has_logits:
        print("note: the model's output is not a [B, C] tensor; exporting no logits",
              file=sys.stderr)

    # First choice: a torch.fx feature extractor, scripted. Models that torch.fx
    # cannot trace (vit_* in torchvision 0.14) or that do not script: forward
    # hooks on the layers, traced.
    embedder, scripted = None, None
    try:
        embedder = fx_embedder(torch, model, names, pools, mode, has_logits, example, reference)
    except Exception as e:  # torch.fx raises many kinds
        print(f"note: torch.fx cannot extract the layers ({first_line(e)}); using forward hooks "
              "and torch.jit.trace", file=sys.stderr)
    with torch.no_grad():
        if embedder is not None and args.method == "script":
            try:
                scripted = torch.jit.script(embedder)
            except Exception as e:  # scripting is best effort; tracing is the fallback
                print(f"note: torch.jit.script failed ({first_line(e)}); tracing instead",
                      file=sys.stderr)
        if scripted is None:
            if embedder is None:
                embedder = hook_embedder(torch, model, names, pools, mode, has_logits, example)
            scripted = trace_embedder(torch, embedder, example, has_logits)
        eager = embedder(example)

    os.makedirs(args.out, exist_ok=True)
    stem = args.name or args.arch
    pt = os.path.join(args.out, stem + ".pt")
    yml = os.path.join(args.out, stem + ".yaml")
    scripted.save(pt)
    check(torch, pt, embedder, size, len(names), has_logits)
    write_sidecar(yml, size, resize, interp, mean, std, names,
                  f"torchvision {tv.__version__} {args.arch}, weights: "
                  + ("pretrained default" if args.pretrained else args.weights))
    dims = [int(t.shape[1]) for t in eager["layers"]]
    print(f"wrote {pt} ({len(names)} layers, dims {dims}"
          + (f", {int(eager['logits'].shape[1])} classes" if has_logits else ", no logits")
          + f") and {yml}")
    return 0


def trace_embedder(torch, embedder, example, has_logits):
    """Tracing fallback: trace (layers..., logits) as a flat tuple, then script a thin
    wrapper that restores the dict."""
    from typing import Any, Dict, List

    class Flat(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = embedder

        def forward(self, x):
            out = self.inner(x)
            return tuple(out["layers"]) + ((out["logits"],) if has_logits else ())

    traced = torch.jit.trace(Flat().eval(), example)

    class Dictify(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.flat = traced
            self.has_logits: bool = has_logits

        def forward(self, x: torch.Tensor) -> Dict[str, Any]:
            out = self.flat(x)
            layers: List[torch.Tensor] = []
            for t in out:
                layers.append(t)
            result: Dict[str, Any] = {}
            if self.has_logits:
                result["logits"] = layers.pop()
            result["layers"] = layers
            return result

    return torch.jit.script(Dictify().eval())


def check(torch, path, embedder, size, n_layers, has_logits):
    """Loads the saved file back and compares it with the eager model on batches of
    1 and 3 (the batch size must stay free)."""
    loaded = torch.jit.load(path).eval()
    for batch in (1, 3):
        x = torch.rand(batch, 3, size, size)
        with torch.no_grad():
            want, got = embedder(x), loaded(x)
        if len(got["layers"]) != n_layers:
            fail(f"check of {path}: {len(got['layers'])} layers, expected {n_layers}")
        pairs = list(zip(got["layers"], want["layers"]))
        if has_logits:
            pairs.append((got["logits"], want["logits"]))
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
