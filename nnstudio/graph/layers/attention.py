"""Attention and Transformer layers (batch-first)."""

from ..params import Bool, Choice, Float, Int
from ..shapes import ShapeError, expect_rank, fmt_shape
from ..spec import REGISTRY, LayerSpec


def _embed(c, heads_param="num_heads"):
    expect_rank(c.x, (3,), "[B, T, features]")
    e = c.x[2]
    if not isinstance(e, int):
        raise ShapeError(f"needs a known feature size, got {fmt_shape(c.x)}", "in")
    h = c[heads_param]
    if e % h:
        raise ShapeError(f"feature size {e} must be divisible by {h} heads", "in")
    return e


def _pe_infer(c):
    expect_rank(c.x, (3,), "[B, T, features]")
    t = c.x[1]
    if isinstance(t, int) and t > c["max_len"]:
        raise ShapeError(f"sequence length {t} exceeds max_len {c['max_len']}", "in")
    return [c.x]


def _tel_count(c):
    e, f = _embed(c, "nhead"), c["dim_feedforward"]
    return (4 * e * e + 4 * e) + (e * f + f) + (f * e + e) + 4 * e


def _tel_ctor(c):
    e = _embed(c, "nhead")
    args = [f"d_model={e}", f"nhead={c['nhead']}", f"dim_feedforward={c['dim_feedforward']}",
            f"dropout={c['dropout']!r}"]
    if c["activation"] != "relu":
        args.append(f"activation={c['activation']!r}")
    args.append("batch_first=True")
    if c["norm_first"]:
        args.append("norm_first=True")
    return f"nn.TransformerEncoderLayer({', '.join(args)})"


REGISTRY.register(
    LayerSpec(
        "MultiheadAttention", "Attention",
        "Self-attention: every step of the sequence looks at every other step.",
        infer=lambda c: [c.x] if _embed(c) else [],
        params=(Int("num_heads", 4, 1, 256, "attention heads", key=True),
                Float("dropout", 0.0, 0.0, 1.0, "dropout on the attention weights")),
        module=lambda c: (f"nn.MultiheadAttention({_embed(c)}, {c['num_heads']}"
                          + (f", dropout={c['dropout']!r}" if c["dropout"] else "")
                          + ", batch_first=True)"),
        forward=lambda c: (f"{c.attr}({c.in_vars[0]}, {c.in_vars[0]}, {c.in_vars[0]}, "
                           "need_weights=False)[0]"),
        count=lambda c: 4 * _embed(c) ** 2 + 4 * _embed(c), name_hint="attn",
    ),
    LayerSpec(
        "TransformerEncoderLayer", "Attention",
        "Self-attention plus a feed-forward block, each with a residual and LayerNorm.",
        infer=lambda c: [c.x] if _embed(c, "nhead") else [],
        params=(Int("nhead", 4, 1, 256, "attention heads", key=True),
                Int("dim_feedforward", 128, 1, 100_000, "hidden size of the feed-forward block"),
                Float("dropout", 0.1, 0.0, 1.0, "dropout"),
                Choice("activation", "relu", ("relu", "gelu"), "feed-forward activation"),
                Bool("norm_first", False, "LayerNorm before each block (pre-LN)")),
        module=_tel_ctor, count=_tel_count, name_hint="encoder",
    ),
    LayerSpec(
        "PositionalEncoding", "Attention",
        "Adds fixed sine/cosine position signals so attention knows the order of steps.",
        infer=_pe_infer,
        params=(Int("max_len", 512, 1, 100_000, "longest sequence supported"),
                Float("dropout", 0.0, 0.0, 1.0, "dropout after adding")),
        module=lambda c: (f"PositionalEncoding({c.x[2]}, max_len={c['max_len']}"
                          + (f", dropout={c['dropout']!r}" if c["dropout"] else "") + ")"),
        helpers=("PositionalEncoding",), name_hint="pos_enc",
    ),
)
