"""Recurrent layers (batch-first): RNN, LSTM, GRU."""

from ..params import Bool, Choice, Float, Int
from ..shapes import ShapeError, expect_rank, fmt_shape
from ..spec import REGISTRY, LayerSpec

_GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
_OUTPUTS = ("sequence", "last", "hidden")


def _features(c):
    expect_rank(c.x, (3,), "[B, T, features]")
    if not isinstance(c.x[2], int):
        raise ShapeError(f"needs a known feature size, got {fmt_shape(c.x)}", "in")
    return c.x[2]


def _infer(c):
    _features(c)
    h = c["hidden_size"] * (2 if c["bidirectional"] else 1)
    if c["output"] == "sequence":
        return [(c.x[0], c.x[1], h)]
    return [(c.x[0], h)]


def _ctor(name):
    def ctor(c):
        args = [str(_features(c)), str(c["hidden_size"])]
        if c["num_layers"] != 1:
            args.append(f"num_layers={c['num_layers']}")
        if name == "RNN" and c["nonlinearity"] != "tanh":
            args.append(f"nonlinearity={c['nonlinearity']!r}")
        args.append("batch_first=True")
        # PyTorch applies it between stacked layers only (and warns when there are none)
        if c["dropout"] and c["num_layers"] > 1:
            args.append(f"dropout={c['dropout']!r}")
        if c["bidirectional"]:
            args.append("bidirectional=True")
        return f"nn.{name}({', '.join(args)})"
    return ctor


def _forward(name):
    def forward(c):
        call = f"{c.attr}({c.in_vars[0]})"
        if c["output"] == "sequence":
            return f"{call}[0]"
        if c["output"] == "last":
            return f"{call}[0][:, -1]"
        h_n = f"{call}[1][0]" if name == "LSTM" else f"{call}[1]"
        if c["bidirectional"]:
            # the last layer's forward and backward final states, side by side
            return f"torch.cat(tuple({h_n}[-2:]), dim=1)"
        return f"{h_n}[-1]"
    return forward


def _count(name):
    def count(c):
        gates, hid = _GATES[name], c["hidden_size"]
        dirs = 2 if c["bidirectional"] else 1
        total, inp = 0, _features(c)
        for _ in range(c["num_layers"]):
            total += dirs * gates * hid * (inp + hid + 2)
            inp = hid * dirs
        return total
    return count


def _rnn(name, doc):
    params = (
        Int("hidden_size", 64, 1, 100_000, "size of the hidden state", key=True),
        Int("num_layers", 1, 1, 16, "stacked recurrent layers"),
        Bool("bidirectional", False, "also read the sequence backwards"),
        Float("dropout", 0.0, 0.0, 1.0, "dropout between stacked layers"),
        Choice("output", "sequence", _OUTPUTS,
               "sequence: every step [B, T, H]; last: the last step [B, H]; "
               "hidden: the final hidden state [B, H]", key=True),
    )
    if name == "RNN":
        params += (Choice("nonlinearity", "tanh", ("tanh", "relu"), "activation"),)
    return LayerSpec(name, "Recurrent", doc, infer=_infer, params=params, module=_ctor(name),
                     forward=_forward(name), count=_count(name), name_hint=name.lower())


REGISTRY.register(
    _rnn("RNN", "Elman recurrent layer: a hidden state updated at every step."),
    _rnn("LSTM", "Long short-term memory: gated memory cells that keep information longer."),
    _rnn("GRU", "Gated recurrent unit: a lighter gated alternative to the LSTM."),
)
