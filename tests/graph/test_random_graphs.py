"""Property: random valid graphs compile and run with the shapes inference promised.

A strategy grows a graph from an Input of random shape by applying layers that fit the
current tensor (shape-preserving or shape-changing), sometimes forking into branches
that rejoin through Add, Multiply, Concat or Reparameterize, sometimes adding a second
Input or an extra Output.  Every graph it builds is valid by construction, so inference
must accept it; then every node's real output (an Output is attached to every node) must
have the inferred shape, and every node's parameter count must be PyTorch's.
"""

from __future__ import annotations

import math

import torch
from graph_testkit import check_shapes_and_counts, probe_every_node
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnstudio.graph import Graph, ShapeInference, compile_graph, generate, infer_shapes
from nnstudio.graph.document import Project
from nnstudio.graph.project_file import dumps_project, loads_project

MAX_DIM = 12
MAX_NUMEL = 2048
ACTIVATIONS = ["ReLU", "GELU", "Tanh", "Sigmoid", "SiLU", "ELU", "LeakyReLU", "Softplus",
               "Identity"]


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


class Builder:
    """Grows one graph; a tensor is (node id, port) and its shape comes from inference."""

    def __init__(self, draw):
        self.draw = draw
        self.g = Graph("Random")
        self.inference = ShapeInference(self.g)
        self.tensors: list[tuple[str, str]] = []

    # -------------------------------------------------------------- plumbing
    def shape(self, t) -> tuple[int, ...]:
        res = self.inference.run()
        assert res.ok, [e.message for e in res.all_errors()]
        return tuple(res.shapes[t][1:])  # without the batch

    def add(self, type_name, params=None, *inputs):
        node = self.g.add_node(type_name, params=params or {})
        ports = node.spec.input_ports(node.params)
        for (src, port), p in zip(inputs, ports):
            self.g.connect(src, port, node.id, p.name)
        t = (node.id, "out")
        self.shape(t)  # a layer chosen to fit must be accepted
        self.tensors.append(t)
        return t

    def pick(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, max(lo, hi)))

    def choose(self, options):
        return self.draw(st.sampled_from(options))

    # -------------------------------------------------------------- layers
    def preserving(self, t):
        """A layer whose output has the shape of its input."""
        s = self.shape(t)
        rank = len(s)
        opts = ["act", "act", "Dropout", "LayerNorm", "PReLU", "Softmax", "norm"]
        if rank <= 2:
            opts.append("Linear")
        if rank == 3:
            opts.append("Conv2d")
        if rank == 2 and any(s[1] % h == 0 for h in (2, 3)):
            opts += ["MultiheadAttention", "TransformerEncoderLayer"]
        if rank == 2:
            opts.append("PositionalEncoding")
        kind = self.choose(opts)
        if kind == "act":
            name = self.choose(ACTIVATIONS)
            return self.add(name, {}, t)
        if kind == "Dropout":
            return self.add("Dropout", {"p": self.choose([0.0, 0.5])}, t)
        if kind == "LayerNorm":
            return self.add("LayerNorm", {"dims": self.pick(1, rank),
                                          "affine": self.draw(st.booleans())}, t)
        if kind == "PReLU":
            return self.add("PReLU", {"num_parameters": self.choose([1, s[0]])}, t)
        if kind == "Softmax":
            return self.add(self.choose(["Softmax", "LogSoftmax"]),
                            {"dim": self.choose([-1, rank])}, t)
        if kind == "norm":
            return self.add("BatchNorm2d" if rank == 3 else "BatchNorm1d",
                            {"affine": self.draw(st.booleans())}, t)
        if kind == "Linear":
            return self.add("Linear", {"out_features": s[-1],
                                       "bias": self.draw(st.booleans())}, t)
        if kind == "Conv2d":
            return self.add("Conv2d", {"out_channels": s[0], "kernel_size": 3, "padding": 1,
                                       "groups": self.choose(_divisors(s[0]))}, t)
        if kind == "MultiheadAttention":
            heads = self.choose([h for h in (1, 2, 3) if s[1] % h == 0])
            return self.add("MultiheadAttention", {"num_heads": heads}, t)
        if kind == "TransformerEncoderLayer":
            heads = self.choose([h for h in (1, 2, 3) if s[1] % h == 0])
            return self.add("TransformerEncoderLayer",
                            {"nhead": heads, "dim_feedforward": self.pick(2, 8),
                             "dropout": 0.0, "norm_first": self.draw(st.booleans())}, t)
        return self.add("PositionalEncoding", {"max_len": self.pick(s[0], s[0] + 3)}, t)

    def changing(self, t):
        """A layer that changes the shape (possibly the rank) of its input."""
        s = self.shape(t)
        rank = len(s)
        if rank == 1:
            kind = self.choose(["Linear", "Unflatten", "Reshape"])
            if kind == "Linear":
                return self.add("Linear", {"out_features": self.pick(1, MAX_DIM)}, t)
            a = self.choose(_divisors(s[0]))
            if kind == "Unflatten":
                return self.add("Unflatten", {"sizes": (a, s[0] // a)}, t)
            if a * a * 4 <= s[0] * 4 and s[0] % (a * a) == 0 and self.draw(st.booleans()):
                return self.add("Reshape", {"shape": (s[0] // (a * a), a, a)}, t)  # image
            return self.add("Reshape", {"shape": (a, -1)}, t)
        if rank == 2:
            seq, feat = s
            kind = self.choose(["Linear", "Recurrent", "Recurrent", "Permute", "Conv1d",
                                "MaxPool1d", "Flatten", "Upsample"])
            if kind == "Linear":
                return self.add("Linear", {"out_features": self.pick(1, MAX_DIM)}, t)
            if kind == "Recurrent":
                params = {"hidden_size": self.pick(1, 6), "num_layers": self.pick(1, 2),
                          "bidirectional": self.draw(st.booleans()),
                          "output": self.choose(["sequence", "last", "hidden"])}
                return self.add(self.choose(["RNN", "LSTM", "GRU"]), params, t)
            if kind == "Permute":
                return self.add("Permute", {"dims": (0, 2, 1)}, t)
            if kind == "Conv1d":
                k = self.pick(1, 3)
                pad = self.pick(0, 1)
                if feat + 2 * pad < k:
                    pad = k
                out = self.pick(1, 6)
                groups = self.choose([g for g in _divisors(seq) if out % g == 0])
                return self.add("Conv1d", {"out_channels": out, "kernel_size": k,
                                           "padding": pad, "groups": groups,
                                           "stride": self.pick(1, 2)}, t)
            if kind == "MaxPool1d" and feat >= 2:
                return self.add("MaxPool1d", {"kernel_size": 2}, t)
            if kind == "Upsample" and feat * 2 <= MAX_DIM:
                return self.add("Upsample", {"scale_factor": 2}, t)
            return self.add("Flatten", {}, t)
        ch, h, w = s
        kind = self.choose(["Conv2d", "Conv2d", "ConvTranspose2d", "Pool", "Adaptive",
                            "Upsample", "Flatten"])
        if kind == "Conv2d":
            k = self.pick(1, 3)
            dil = self.pick(1, 2)
            reach = dil * (k - 1) + 1
            pad = self.pick(0, 1) if min(h, w) + 2 >= reach else reach
            if min(h, w) + 2 * pad < reach:
                pad = reach
            out = self.pick(1, 8)
            groups = self.choose([g for g in _divisors(ch) if out % g == 0])
            return self.add("Conv2d", {"out_channels": out, "kernel_size": k, "padding": pad,
                                       "dilation": dil, "stride": self.pick(1, 2),
                                       "groups": groups, "bias": self.draw(st.booleans())}, t)
        if kind == "ConvTranspose2d" and max(h, w) * 2 + 2 <= MAX_DIM:
            stride = self.pick(1, 2)
            return self.add("ConvTranspose2d", {"out_channels": self.pick(1, 6),
                                                "kernel_size": self.pick(1, 3),
                                                "stride": stride,
                                                "output_padding": self.pick(0, stride - 1)}, t)
        if kind == "Pool" and min(h, w) >= 2:
            k = self.pick(2, min(3, h, w))
            return self.add(self.choose(["MaxPool2d", "AvgPool2d"]),
                            {"kernel_size": k, "padding": self.pick(0, k // 2),
                             "stride": self.pick(0, 2)}, t)
        if kind == "Adaptive":
            return self.add("AdaptiveAvgPool2d",
                            {"output_size": self.choose([(1,), (2,), (2, 3)])}, t)
        if kind == "Upsample" and max(h, w) * 2 <= MAX_DIM:
            return self.add("Upsample", {"mode": self.choose(["nearest", "bilinear"])}, t)
        return self.add("Flatten", {"start_dim": self.choose([1, 2])}, t)

    # -------------------------------------------------------------- branches
    def residual(self, t):
        a = t
        for _ in range(self.pick(0, 2)):
            a = self.preserving(a)
        b = t
        for _ in range(self.pick(1, 3)):
            b = self.preserving(b)
        rank = len(self.shape(t))
        kind = self.choose(["Add", "Multiply", "Concat", "Add3"])
        if kind == "Add3":
            c = self.preserving(t)
            return self.add("Add", {"inputs": 3}, a, b, c)
        if kind == "Concat":
            dim = self.choose(list(range(1, rank + 1)) + [-1])
            if self.shape(t)[dim - 1 if dim > 0 else -1] * 2 > MAX_DIM * 4:
                return self.add("Add", {}, a, b)
            return self.add("Concat", {"dim": dim}, a, b)
        return self.add(kind, {}, a, b)

    def widen(self, t):
        """Two branches that differ in the features/channels, joined by Concat."""
        s = self.shape(t)
        if len(s) == 3:
            a = self.add("Conv2d", {"out_channels": self.pick(1, 4), "kernel_size": 3,
                                    "padding": 1}, t)
            b = self.add("Conv2d", {"out_channels": self.pick(1, 4), "kernel_size": 1}, t)
            return self.add("Concat", {"dim": 1}, a, b)
        a = self.add("Linear", {"out_features": self.pick(1, 6)}, t)
        b = self.add("Linear", {"out_features": self.pick(1, 6)}, t)
        return self.add("Concat", {"dim": -1}, a, b)

    def sample_latent(self, t):
        size = self.pick(1, 6)
        mu = self.add("Linear", {"out_features": size}, t)
        logvar = self.add("Linear", {"out_features": size}, t)
        return self.add("Reparameterize", {}, mu, logvar)

    def second_input(self, t):
        s = self.shape(t)
        x = self.g.add_node("Input", params={"shape": s})
        return self.add(self.choose(["Add", "Multiply"]), {}, t, (x.id, "out"))

    # -------------------------------------------------------------- the whole graph
    def build(self) -> Graph:
        kind = self.choose(["vector", "sequence", "image", "tokens"])
        if kind == "vector":
            shape = (self.pick(1, MAX_DIM),)
        elif kind == "sequence":
            shape = (self.pick(1, 6), self.pick(1, 8))
        elif kind == "image":
            shape = (self.pick(1, 4), self.pick(1, 8), self.pick(1, 8))
        else:
            shape = (self.pick(1, 6),)
        x = self.g.add_node("Input", params={"shape": shape,
                                             "dtype": "long" if kind == "tokens" else "float"})
        t = (x.id, "out")
        self.tensors.append(t)
        if kind == "tokens":
            if self.draw(st.booleans()):
                t = self.add("Identity", {}, t)
            t = self.add("Embedding", {"num_embeddings": self.pick(1, 20),
                                       "embedding_dim": self.pick(1, 8)}, t)
        for _ in range(self.pick(2, 10)):
            if math.prod(self.shape(t)) > MAX_NUMEL:
                t = self.add("AdaptiveAvgPool2d", {}, t) if len(self.shape(t)) == 3 else \
                    self.add("Linear", {"out_features": 4}, t)
            step = self.choose(["changing", "preserving", "residual", "changing", "widen",
                                "preserving", "changing", "residual", "latent", "fork_old",
                                "input"])
            if step == "preserving":
                t = self.preserving(t)
            elif step == "changing":
                t = self.changing(t)
            elif step == "residual":
                t = self.residual(t)
            elif step == "widen" and len(self.shape(t)) != 2:
                t = self.widen(t)
            elif step == "latent" and len(self.shape(t)) == 1:
                t = self.sample_latent(t)
            elif step == "input":
                t = self.second_input(t)
            elif step == "fork_old" and len(self.tensors) > 3:
                # continue from an earlier tensor; the current one becomes a second output
                out = self.g.add_node("Output")
                self.g.connect(*t, out.id, "in")
                res = self.inference.run()
                t = self.choose([u for u in self.tensors[:-1] if res.dtypes[u] == "float"])
                if self.g.node(t[0]).type == "Input":
                    t = self.preserving(t)
        out = self.g.add_node("Output")
        self.g.connect(*t, out.id, "in")
        return self.g


@st.composite
def valid_graphs(draw):
    return Builder(draw).build()


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(valid_graphs())
def test_random_valid_graphs_run_with_the_inferred_shape_at_every_node(g):
    res = infer_shapes(g)
    assert res.ok, [e.message for e in res.all_errors()]
    check_shapes_and_counts(g, batch=3)  # the graph as drawn: its own outputs
    probe = probe_every_node(g)
    check_shapes_and_counts(probe, batch=2, train=False)  # every wire, in eval mode
    # attaching outputs renames no weight: a state dict moves between the two
    torch.manual_seed(0)
    sd = compile_graph(g).state_dict()
    compile_graph(probe).load_state_dict(sd, strict=True)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(valid_graphs())
def test_random_graphs_survive_save_and_load_with_the_same_code(g):
    p = Project("random")
    p.add_graph(g)
    text = dumps_project(p)
    q = loads_project(text)
    assert dumps_project(q) == text
    assert generate(q.graph()).source == generate(g).source
