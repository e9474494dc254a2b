"""A small stand-in for timm, for tests/e2e: the part of timm's API that
tools/export_timm.py uses (create_model, list_models, data.resolve_model_data_config,
__version__), with a tiny vision transformer shaped like timm's VisionTransformer
(patch_embed, cls_token, blocks, num_classes, num_prefix_tokens, head).

Each model name maps to a data config copied in form from timm's pretrained
configs (the dictionary that timm.data.resolve_model_data_config returns):
input_size (C, H, W), interpolation, mean, std, crop_pct, crop_mode. The
weights are random (seeded by the caller); nothing is downloaded.
"""
import torch

from . import data  # noqa: F401  (timm.data)

__version__ = "0.0-stand-in"

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HALF = (0.5, 0.5, 0.5)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

# name -> (data config, num_classes, class token?)
MODELS = {
    # vit_*_patch16_224.augreg_in21k: crop_pct 0.9, bicubic, mean/std 0.5
    "vit_fake_patch16_224.augreg_in21k": (
        dict(input_size=(3, 224, 224), interpolation="bicubic", mean=HALF, std=HALF,
             crop_pct=0.9, crop_mode="center"), 21843, True),
    # *.mae: no head, ImageNet mean/std
    "vit_fake_patch16_224.mae": (
        dict(input_size=(3, 224, 224), interpolation="bicubic", mean=IMAGENET_MEAN,
             std=IMAGENET_STD, crop_pct=0.9, crop_mode="center"), 0, True),
    # *_clip_*.laion2b_ft_in12k at 384: crop_pct 1.0, CLIP mean/std
    "vit_fake_patch16_clip_384.laion2b_ft_in12k": (
        dict(input_size=(3, 384, 384), interpolation="bicubic", mean=CLIP_MEAN, std=CLIP_STD,
             crop_pct=1.0, crop_mode="center"), 11821, True),
    # bilinear, crop_pct 0.875, no class token (mean of patch tokens)
    "vit_fake_gap_patch16_224.bilinear": (
        dict(input_size=(3, 224, 224), interpolation="bilinear", mean=IMAGENET_MEAN,
             std=IMAGENET_STD, crop_pct=0.875, crop_mode="center"), 1000, False),
    # an interpolation prh does not have, and a squash crop mode
    "vit_fake_patch16_224.bicubic_squash": (
        dict(input_size=(3, 224, 224), interpolation="random", mean=HALF, std=HALF,
             crop_pct=0.95, crop_mode="squash"), 10, True),
}


class _Block(torch.nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = torch.nn.LayerNorm(dim)
        self.mlp = torch.nn.Linear(dim, dim)

    def forward(self, x):
        return x + self.mlp(self.norm(x))


class _PatchEmbed(torch.nn.Module):
    def __init__(self, dim, patch):
        super().__init__()
        self.proj = torch.nn.Conv2d(3, dim, patch, patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformer(torch.nn.Module):
    def __init__(self, num_classes, class_token, dim=32, depth=3, patch=16, pretrained_cfg=None):
        super().__init__()
        self.num_classes = num_classes
        self.patch_embed = _PatchEmbed(dim, patch)
        self.cls_token = torch.nn.Parameter(torch.randn(1, 1, dim) * 0.02) if class_token else None
        self.num_prefix_tokens = 1 if class_token else 0
        self.blocks = torch.nn.Sequential(*[_Block(dim) for _ in range(depth)])
        self.norm = torch.nn.LayerNorm(dim)
        self.head = torch.nn.Linear(dim, num_classes) if num_classes > 0 else torch.nn.Identity()
        self.pretrained_cfg = pretrained_cfg or {}

    def forward(self, x):
        x = self.patch_embed(x)
        if self.cls_token is not None:
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = self.norm(self.blocks(x))
        x = x[:, 0] if self.cls_token is not None else x.mean(1)
        return self.head(x)


def list_models(pattern=None):
    return sorted({name.split(".")[0] for name in MODELS})


def create_model(name, pretrained=False, num_classes=None, img_size=None, checkpoint_path=None):
    if pretrained:
        raise RuntimeError("the timm stand-in has no pretrained weights")
    if name not in MODELS:
        raise RuntimeError(f"Unknown model ({name})")
    cfg, classes, cls = MODELS[name]
    cfg = dict(cfg)
    if img_size:
        cfg["input_size"] = (3, img_size, img_size)
    return VisionTransformer(classes if num_classes is None else num_classes, cls,
                             pretrained_cfg=cfg)
