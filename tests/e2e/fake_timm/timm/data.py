"""timm.data of the stand-in: resolve_model_data_config(model) returns the
model's data config, the dictionary timm >= 0.9 returns (keys input_size,
interpolation, mean, std, crop_pct, crop_mode)."""


def resolve_model_data_config(model, args=None):
    return dict(model.pretrained_cfg)
