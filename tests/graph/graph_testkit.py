"""Builders and runners the document tests share.

Graphs are built through the public document API only; running a graph means what the
app does: ``compile_graph`` (generate, exec, instantiate) and a forward pass on random
tensors of the inferred input shapes.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from nnstudio.graph import (
    BATCH,
    REGISTRY,
    GeneratedCode,
    Graph,
    InferenceResult,
    compile_graph,
    generate,
    infer_shapes,
)
from nnstudio.graph.document import Node, Project
from nnstudio.graph.project_file import save_project
from nnstudio.graph.weights import save_weights, weights_path


def concrete(shape: Sequence, batch: int) -> tuple[int, ...]:
    """An inferred shape with the symbolic batch replaced by ``batch``."""
    return tuple(batch if d == BATCH else d for d in shape)


def single_layer_graph(layer_type: str, in_shapes: Sequence[Sequence[int]],
                       params: dict[str, Any] | None = None, dtype: str = "float",
                       name: str | None = None) -> tuple[Graph, Node]:
    """Input(s) → one layer → Output; one Input per input port of the layer, in order.

    ``in_shapes`` are example shapes without the batch dimension.  For ``Input`` itself
    the graph is Input → Output with ``in_shapes[0]`` as its shape.
    """
    g = Graph("Probe")
    if layer_type == "Block":  # a block runs a graph of its project: give it some
        block_library().add_graph(g)
    if layer_type == "Input":
        node = g.add_node("Input", name, {"shape": tuple(in_shapes[0]), "dtype": dtype})
        out = g.add_node("Output")
        g.connect(node.id, "out", out.id, "in")
        return g, node
    if layer_type == "Output":
        src = g.add_node("Input", params={"shape": tuple(in_shapes[0]), "dtype": dtype})
        node = g.add_node("Output", name)
        g.connect(src.id, "out", node.id, "in")
        return g, node
    node = g.add_node(layer_type, name, params or {})
    ports = node.spec.input_ports(node.params)
    assert len(ports) == len(in_shapes), f"{layer_type} has {len(ports)} inputs"
    for i, (port, shape) in enumerate(zip(ports, in_shapes)):
        src = g.add_node("Input", f"x{i}", {"shape": tuple(shape), "dtype": dtype})
        g.connect(src.id, "out", node.id, port.name)
    for port in node.spec.output_ports(node.params):
        out = g.add_node("Output")
        g.connect(node.id, port.name, out.id, "in")
    return g, node


def _library_graphs() -> list[Graph]:
    """The graphs the Block cases run: a conv stage, a graph with two inputs and two
    outputs (one straight from an Input), and a graph that holds a block itself."""
    stage = chain([("Conv2d", {"out_channels": 4, "padding": 1}), ("ReLU", {}),
                   ("MaxPool2d", {})], shape=(3, 8, 8), name="Stage")
    two = Graph("Two Heads")
    a = two.add_node("Input", "a", {"shape": (6,)})
    b = two.add_node("Input", "b", {"shape": (6,)})
    add = two.add_node("Add", "add")
    fc = two.add_node("Linear", "fc", {"out_features": 3})
    out_sum = two.add_node("Output", "sum")
    out_first = two.add_node("Output", "first")
    two.connect(a.id, "out", add.id, "in1")
    two.connect(b.id, "out", add.id, "in2")
    two.connect(add.id, "out", fc.id, "in")
    two.connect(fc.id, "out", out_sum.id, "in")
    two.connect(a.id, "out", out_first.id, "in")
    outer = Graph("Outer")
    x = outer.add_node("Input", "x", {"shape": (3, 8, 8)})
    inner = outer.add_node("Block", "stage", {"graph": "Stage", "inputs": ("x",),
                                              "outputs": ("output",)})
    flat = outer.add_node("Flatten", "flat")
    y = outer.add_node("Output", "y")
    outer.connect(x.id, "out", inner.id, "x")
    outer.connect(inner.id, "output", flat.id, "in")
    outer.connect(flat.id, "out", y.id, "in")
    return [stage, two, outer]


_LIBRARY_DIR: list[Path] = []


def library_folder() -> Path:
    """A folder holding ``library.nnstudio`` (graph "Encoder": 7 → 5 features) and its
    trained weights ``library.Encoder.pt``, for the Block case with a ``source``."""
    if not _LIBRARY_DIR:
        folder = Path(tempfile.mkdtemp(prefix="nnstudio-blocks-"))
        atexit.register(shutil.rmtree, folder, True)
        lib = Project("library")
        enc = lib.add_graph(chain([("Linear", {"out_features": 5}), ("Tanh", {})],
                                  shape=(7,), name="Encoder"))
        enc.rename_node(enc.nodes[-1].id, "code")
        save_project(lib, folder / "library.nnstudio")
        torch.manual_seed(1)
        save_weights(weights_path(folder / "library.nnstudio", enc),
                     compile_graph(enc).state_dict())
        _LIBRARY_DIR.append(folder)
    return _LIBRARY_DIR[0]


def block_library() -> Project:
    """A fresh project with the library graphs, kept in :func:`library_folder`."""
    project = Project("blocks")
    project.folder = library_folder()
    for g in _library_graphs():
        project.add_graph(g)
    return project


def chain(steps: Sequence[tuple[str, dict[str, Any]]], shape: Sequence[int] = (8,),
          dtype: str = "float", name: str = "Net") -> Graph:
    """Input → steps[0] → steps[1] → … → Output."""
    g = Graph(name)
    prev = g.add_node("Input", params={"shape": tuple(shape), "dtype": dtype})
    for type_name, params in steps:
        node = g.add_node(type_name, params=params)
        g.connect(prev.id, "out", node.id, node.spec.input_ports(node.params)[0].name)
        prev = node
    out = g.add_node("Output")
    g.connect(prev.id, "out", out.id, "in")
    return g


def example_inputs(graph: Graph, batch: int = 3, seed: int = 0,
                   code: GeneratedCode | None = None) -> list[torch.Tensor]:
    """Random tensors for every Input, in the order the generated forward takes them.

    Token ids stay below the smallest Embedding vocabulary in the graph.
    """
    code = code or generate(graph)
    gen = torch.Generator().manual_seed(seed)
    vocab = min((n.params["num_embeddings"] for n in graph.nodes if n.type == "Embedding"),
                default=10)
    xs = []
    for nid, _arg in code.inputs:
        n = graph.node(nid)
        shape = (batch, *n.params["shape"])
        if n.params["dtype"] == "long":
            xs.append(torch.randint(0, vocab, shape, generator=gen))
        else:
            xs.append(torch.randn(shape, generator=gen))
    return xs


def as_tuple(out) -> tuple[torch.Tensor, ...]:
    return out if isinstance(out, tuple) else (out,)


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def run(graph: Graph, batch: int = 3, seed: int = 0, train: bool = True):
    """Compile ``graph``, run one forward pass; returns (model, outputs, inference)."""
    res = infer_shapes(graph)
    assert res.ok, [e.message for e in res.all_errors()]
    torch.manual_seed(seed)
    model = compile_graph(graph)
    model.train(train)
    with torch.no_grad():
        outs = as_tuple(model(*example_inputs(graph, batch, seed, model.nnstudio_code)))
    return model, outs, res


def output_sources(graph: Graph, code: GeneratedCode) -> list[tuple[str, str]]:
    """(node id, port) feeding each Output, in the order the generated forward returns."""
    srcs = []
    for oid in code.outputs:
        e = graph.edge_into(oid, "in")
        srcs.append((e.src, e.src_port))
    return srcs


def check_shapes_and_counts(graph: Graph, batch: int = 3, seed: int = 0,
                            train: bool = True) -> tuple[Any, InferenceResult]:
    """Run ``graph`` and assert every returned tensor has its inferred shape and that
    the inferred parameter counts (per node and in total) are PyTorch's."""
    model, outs, res = run(graph, batch, seed, train)
    srcs = output_sources(graph, model.nnstudio_code)
    assert len(outs) == len(srcs)
    for (nid, port), out in zip(srcs, outs):
        want = concrete(res.shapes[(nid, port)], batch)
        node = graph.node(nid)
        assert tuple(out.shape) == want, (
            f"{node.type} '{node.name}': PyTorch gives {tuple(out.shape)}, inferred {want}")
    assert res.total_params == n_params(model)
    for nid, attr in model.nnstudio_code.attrs.items():
        sub = getattr(model, attr, None)
        if isinstance(sub, torch.nn.Module):
            node = graph.node(nid)
            assert res.param_counts[nid] == n_params(sub), (
                f"{node.type} '{node.name}': inferred {res.param_counts[nid]} parameters, "
                f"PyTorch has {n_params(sub)}")
    return model, res


def probe_every_node(graph: Graph) -> Graph:
    """A copy of ``graph`` with an extra Output on every output port of every layer, so
    one forward pass returns the tensor on every wire."""
    g = Graph.from_dict(graph.to_dict())
    for node in list(g.nodes):
        if node.type == "Output":
            continue
        for port in node.spec.output_ports(node.params):
            out = g.add_node("Output", f"probe {node.id} {port.name}")
            g.connect(node.id, port.name, out.id, "in")
    return g


def all_layer_types() -> list[str]:
    return sorted(spec.type for spec in REGISTRY)


# Example inputs and parameters for every registered layer type (the shape tests
# check that every type has rows and every parameter leaves its default somewhere).
# type -> list of (input shapes without batch, params[, dtype])
LAYER_CASES: dict[str, list[tuple]] = {
    "Input": [([(5,)], {}), ([(3, 4, 5)], {}), ([(7,)], {}, "long"),
              ([(2, 3, 4, 5, 6)], {})],
    "Output": [([(4,)], {}), ([(2, 3)], {})],
    "Identity": [([(6,)], {}), ([(2, 3, 4)], {}), ([(5,)], {}, "long")],
    "Linear": [([(8,)], {}), ([(8,)], {"out_features": 3, "bias": False}),
               ([(5, 8)], {"out_features": 4})],
    "Conv1d": [([(4, 20)], {}),
               ([(4, 20)], {"out_channels": 6, "kernel_size": 5, "stride": 2, "padding": 2,
                            "dilation": 2, "groups": 2, "bias": False})],
    "Conv2d": [([(3, 12, 10)], {}),
               ([(4, 12, 10)], {"out_channels": 8, "kernel_size": 3, "stride": 2,
                                "padding": 1, "groups": 4}),
               ([(2, 15, 15)], {"out_channels": 4, "kernel_size": 5, "dilation": 3,
                                "bias": False}),
               ([(1, 3, 3)], {"kernel_size": 3})],
    "ConvTranspose2d": [([(4, 5, 5)], {}),
                        ([(4, 5, 6)], {"out_channels": 6, "kernel_size": 4, "stride": 2,
                                       "padding": 1, "output_padding": 1, "groups": 2,
                                       "bias": False}),
                        ([(2, 3, 3)], {"kernel_size": 3, "dilation": 2, "output_padding": 1})],
    "MaxPool1d": [([(3, 10)], {}), ([(3, 11)], {"kernel_size": 3, "stride": 2, "padding": 1})],
    "MaxPool2d": [([(3, 8, 8)], {}), ([(3, 9, 7)], {"kernel_size": 3, "stride": 1,
                                                    "padding": 1})],
    "AvgPool2d": [([(3, 8, 8)], {}), ([(2, 9, 7)], {"kernel_size": 3, "stride": 2,
                                                    "padding": 1})],
    "AdaptiveAvgPool2d": [([(3, 8, 8)], {}), ([(3, 9, 7)], {"output_size": (2, 3)}),
                          ([(2, 5, 5)], {"output_size": (4,)})],
    "Upsample": [([(3, 4, 5)], {}), ([(3, 4, 5)], {"scale_factor": 3, "mode": "bilinear"}),
                 ([(3, 6)], {"scale_factor": 2})],
    "BatchNorm1d": [([(6,)], {}), ([(4, 7)], {"momentum": 0.3, "eps": 1e-3, "affine": False})],
    "BatchNorm2d": [([(3, 4, 4)], {}), ([(5, 2, 3)], {"affine": False, "eps": 0.01,
                                                      "momentum": 0.5})],
    "LayerNorm": [([(6,)], {}), ([(3, 4, 5)], {"dims": 2}),
                  ([(3, 4, 5)], {"dims": 3, "affine": False, "eps": 1e-3})],
    "Dropout": [([(6,)], {}), ([(2, 3, 4)], {"p": 0.2}), ([(4,)], {"p": 1.0})],
    "ReLU": [([(6,)], {}), ([(2, 3, 4)], {})],
    "LeakyReLU": [([(6,)], {"negative_slope": 0.2})],
    "PReLU": [([(6,)], {}), ([(3, 4, 4)], {"num_parameters": 3}),
              ([(5,)], {"num_parameters": 5})],
    "ELU": [([(6,)], {"alpha": 0.5})],
    "GELU": [([(6,)], {})],
    "SiLU": [([(6,)], {})],
    "Sigmoid": [([(6,)], {})],
    "Tanh": [([(6,)], {})],
    "Softplus": [([(6,)], {"beta": 2.0})],
    "Softmax": [([(6,)], {}), ([(3, 5)], {"dim": 1}), ([(3, 5)], {"dim": -2})],
    "LogSoftmax": [([(6,)], {}), ([(3, 5)], {"dim": 2})],
    "Embedding": [([(7,)], {}, "long"),
                  ([(4, 3)], {"num_embeddings": 12, "embedding_dim": 5}, "long")],
    "RNN": [([(5, 4)], {}),
            ([(5, 4)], {"hidden_size": 6, "num_layers": 2, "nonlinearity": "relu",
                        "dropout": 0.1, "output": "last"}),
            ([(5, 4)], {"hidden_size": 3, "bidirectional": True, "output": "hidden"}),
            ([(5, 4)], {"hidden_size": 3, "bidirectional": True, "num_layers": 3,
                        "output": "sequence"})],
    "LSTM": [([(5, 4)], {}),
             ([(5, 4)], {"hidden_size": 6, "num_layers": 2, "output": "last"}),
             ([(5, 4)], {"hidden_size": 3, "bidirectional": True, "num_layers": 2,
                         "output": "hidden"}),
             ([(5, 4)], {"hidden_size": 3, "output": "hidden"}),
             ([(5, 4)], {"hidden_size": 3, "bidirectional": True, "output": "last",
                         "dropout": 0.2})],
    "GRU": [([(5, 4)], {}),
            ([(5, 4)], {"hidden_size": 6, "num_layers": 3, "output": "hidden"}),
            ([(5, 4)], {"hidden_size": 3, "bidirectional": True, "output": "sequence",
                        "num_layers": 2, "dropout": 0.5}),
            ([(5, 4)], {"hidden_size": 2, "bidirectional": True, "output": "last"})],
    "MultiheadAttention": [([(5, 8)], {}), ([(5, 6)], {"num_heads": 3, "dropout": 0.1})],
    "TransformerEncoderLayer": [
        ([(5, 8)], {}),
        ([(5, 6)], {"nhead": 2, "dim_feedforward": 10, "dropout": 0.0,
                    "activation": "gelu", "norm_first": True})],
    "PositionalEncoding": [([(5, 8)], {}), ([(6, 7)], {"max_len": 6, "dropout": 0.1})],
    "Flatten": [([(3, 4, 5)], {}), ([(3, 4, 5)], {"start_dim": 2}),
                ([(3, 4, 5, 6)], {"start_dim": 1, "end_dim": 2}),
                ([(3, 4, 5, 6)], {"start_dim": -3, "end_dim": -2})],
    "Unflatten": [([(12,)], {"sizes": (3, 4)}), ([(2, 12)], {"dim": -1, "sizes": (2, 3, 2)}),
                  ([(6, 5)], {"dim": 1, "sizes": (6,)})],
    "Reshape": [([(12,)], {}), ([(12,)], {"shape": (3, -1)}),
                ([(2, 6)], {"shape": (4, 3)}), ([(24,)], {"shape": (2, -1, 3)})],
    "Permute": [([(3, 4)], {}), ([(2, 3, 4)], {"dims": (0, 3, 1, 2)}),
                ([(2, 3)], {"dims": (0, 1, 2)})],
    "Add": [([(5,), (5,)], {}), ([(2, 3), (2, 3), (2, 3)], {"inputs": 3})],
    "Multiply": [([(5,), (5,)], {}), ([(2, 3, 4)] * 4, {"inputs": 4})],
    "Concat": [([(3, 4, 4), (5, 4, 4)], {}),
               ([(2, 3), (2, 5), (2, 1)], {"inputs": 3, "dim": -1}),
               ([(2, 3), (4, 3)], {"dim": 1}),
               ([(2, 3, 4), (2, 3, 1)], {"dim": 3}),
               ([(6,)] * 8, {"inputs": 8, "dim": 1})],
    "Reparameterize": [([(4,), (4,)], {}), ([(2, 3), (2, 3)], {})],
    # the graphs they run are made by block_library(); ports are derived from them
    "Block": [([(3, 8, 8)], {"graph": "Stage", "inputs": ("x",), "outputs": ("output",)}),
              ([(5, 6, 7)], {"graph": "Stage", "inputs": ("x",), "outputs": ("output",)}),
              ([(6,), (6,)], {"graph": "Two Heads", "inputs": ("a", "b"),
                              "outputs": ("sum", "first")}),
              ([(3, 8, 8)], {"graph": "Outer", "inputs": ("x",), "outputs": ("y",)}),
              ([(7,)], {"graph": "Encoder", "source": "library.nnstudio",
                        "inputs": ("x",), "outputs": ("code",)})],
    "Mean": [([(3, 4, 5)], {}), ([(3, 4, 5)], {"dims": (2, -1)}),
             ([(3, 4)], {"dims": (1,), "keepdim": True})],
    "Select": [([(5, 4)], {}), ([(5, 4)], {"index": 0}), ([(2, 3, 4)], {"dim": -1, "index": 2}),
               ([(2, 3, 4, 5)], {"dim": 4, "index": -2}), ([(2, 3, 4)], {"dim": 3})],
}
