"""The attention weights of a model's Transformer encoder layers, for the live view.

``nn.TransformerEncoderLayer`` never returns its attention weights (it asks its
``self_attn`` for none, and in eval mode may run a fused kernel that computes none).
:func:`attention_maps` runs the model once with a forward hook on every encoder
layer; the hook asks that layer's own ``self_attn`` again, on the same input the
layer saw (after ``norm1`` when the layer normalises first), for the weights of each
head separately.  The model's output is untouched: the hook returns nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class AttentionMaps:
    """Weights [layers * heads, T_query, T_key] (rows sum to 1) and a title for each."""

    weights: torch.Tensor
    titles: list[str]


def encoder_layers(model: nn.Module) -> list[nn.TransformerEncoderLayer]:
    """Every ``nn.TransformerEncoderLayer`` in ``model`` (blocks included), in order."""
    return [m for m in model.modules() if isinstance(m, nn.TransformerEncoderLayer)]


def attention_maps(model: nn.Module, x: torch.Tensor) -> AttentionMaps | None:
    """The attention of each head of each encoder layer when ``model`` reads ``x``.

    ``x`` is one example with its batch dimension ([1, ...]).  None when the model
    has no encoder layer.  Call it without gradients; the model's mode is kept.
    """
    layers = encoder_layers(model)
    if not layers:
        return None
    captured: dict[int, torch.Tensor] = {}

    def hook(layer: nn.TransformerEncoderLayer, args: tuple, kwargs: dict, _out) -> None:
        src = args[0] if args else kwargs["src"]
        query = layer.norm1(src) if layer.norm_first else src
        mask = kwargs.get("src_mask")
        _, weights = layer.self_attn(query, query, query, attn_mask=mask, need_weights=True,
                                     average_attn_weights=False)
        # [batch, heads, T, T] whether or not the layer is batch first
        captured[id(layer)] = weights[0].detach()

    handles = [layer.register_forward_hook(hook, with_kwargs=True) for layer in layers]
    try:
        model(x)
    finally:
        for h in handles:
            h.remove()
    mats, titles = [], []
    for i, layer in enumerate(layers, start=1):
        w = captured.get(id(layer))
        if w is None:  # a layer the forward pass did not reach
            continue
        for h in range(w.shape[0]):
            mats.append(w[h])
            titles.append(f"layer {i}, head {h + 1}" if len(layers) > 1 else f"head {h + 1}")
    if not mats:
        return None
    return AttentionMaps(torch.stack(mats).float().cpu(), titles)
