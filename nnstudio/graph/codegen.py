"""The code generator: the single source of truth for what a drawing means.

``generate(graph)`` writes a readable, self-contained PyTorch file: one ``nn.Module``
class whose submodules are built in ``__init__`` and whose ``forward`` runs in
topological order with the shape of every step in a trailing comment.  The module the
app trains is an instance of exactly this text (see :mod:`nnstudio.graph.compiler`),
so weights saved in the app load into the exported file unchanged.

Only identifiers from :mod:`nnstudio.graph.names`, numbers, and strings chosen from
fixed lists reach the output; text a person typed never does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import __version__
from .document import Graph
from .names import NameTable, class_name
from .shape_inference import InferenceResult, ShapeInference
from .shapes import Shape, fmt_shape
from .spec import Ctx

INDENT = "    "


class CodegenError(ValueError):
    """The graph cannot be turned into code; the message lists every problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        head = "the graph has problems to fix before it can run"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass
class GeneratedCode:
    source: str
    class_name: str
    attrs: dict[str, str] = field(default_factory=dict)  # node id -> submodule/variable name
    inputs: list[tuple[str, str]] = field(default_factory=list)  # (node id, argument name)
    outputs: list[str] = field(default_factory=list)  # Output node ids, in return order
    input_shapes: dict[str, Shape] = field(default_factory=dict)  # arg name -> shape
    input_dtypes: dict[str, str] = field(default_factory=dict)  # arg name -> "float"|"long"


# Small classes written into the generated file when a layer needs them, so the file
# depends on nothing but PyTorch.
HELPERS: dict[str, str] = {
    "PositionalEncoding": '''\
class PositionalEncoding(nn.Module):
    """Adds the fixed sinusoidal position signal of Vaswani et al. (2017)."""

    def __init__(self, d_model, max_len=512, dropout=0.0):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term[: d_model // 2])
        self.register_buffer("pe", pe.unsqueeze(0), persistent=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(x + self.pe[:, : x.size(1)])
''',
    "Reparameterize": '''\
class Reparameterize(nn.Module):
    """z = mu + sigma * eps while training (the VAE sampling step); mu in eval mode."""

    def forward(self, mu, logvar):
        if not self.training:
            return mu
        std = torch.exp(0.5 * logvar)
        return mu + std * torch.randn_like(std)
''',
}
HELPER_IMPORTS = {"PositionalEncoding": ("math",)}
# names the generated module itself defines or uses at top level; nothing of a person's
# may take them (``model`` is the example in the ``__main__`` block)
MODULE_NAMES = frozenset(HELPERS) | {"math", "torch", "nn", "model"}


def generate(graph: Graph, result: InferenceResult | None = None) -> GeneratedCode:
    """Source code for ``graph``; raises :class:`CodegenError` if the graph is not valid."""
    if result is None:
        result = ShapeInference(graph).run()
    problems = [e.message for e in result.all_errors()]
    inputs = [n for n in graph.nodes if n.type == "Input"]
    outputs = [n for n in graph.nodes if n.type == "Output"]
    if not inputs:
        problems.append("the graph needs an Input node")
    if not outputs:
        problems.append("the graph needs an Output node")
    if problems:
        raise CodegenError(problems)

    cls = class_name(graph.name)
    if cls in MODULE_NAMES:
        cls = f"{cls}Net"
    names = NameTable(MODULE_NAMES | {cls})
    gen = GeneratedCode("", cls)
    for n in inputs:
        arg = names.take(n.name, "x")
        gen.inputs.append((n.id, arg))
        gen.attrs[n.id] = arg
        gen.input_shapes[arg] = tuple(n.params["shape"])
        gen.input_dtypes[arg] = n.params["dtype"]
    order = graph.topological_order()
    for nid in order:
        n = graph.node(nid)
        if n.type not in ("Input", "Output"):
            gen.attrs[nid] = names.take(n.name, n.spec.hint)

    init_lines: list[str] = []
    fwd_lines: list[str] = []
    helpers: set[str] = set()
    var: dict[tuple[str, str], str] = {(nid, "out"): arg for nid, arg in gen.inputs}
    consumers: dict[tuple[str, str], int] = {}
    for e in graph.edges:
        consumers[(e.src, e.src_port)] = consumers.get((e.src, e.src_port), 0) + 1

    for nid in order:
        n = graph.node(nid)
        spec = n.spec
        if n.type == "Input":
            continue
        in_edges = [graph.edge_into(nid, p.name) for p in spec.input_ports(n.params)]
        in_vars = [var[(e.src, e.src_port)] for e in in_edges]
        if n.type == "Output":
            gen.outputs.append(nid)
            continue
        ident = gen.attrs[nid]
        in_shapes = result.input_shapes(graph, nid)
        out_ports = spec.output_ports(n.params)
        out_shapes = [result.shapes[(nid, p.name)] for p in out_ports]
        ctx = Ctx(n.params, in_shapes, in_vars, f"self.{ident}", out_shapes)
        ctor = spec.module(ctx) if spec.module else None
        if ctor is not None:
            init_lines.append(f"self.{ident} = {ctor}")
        helpers.update(spec.helpers)
        expr = spec.forward(ctx) if spec.forward else f"self.{ident}({', '.join(in_vars)})"
        # reuse the input's variable along a plain chain, so the code reads `x = ...(x)`
        single = len(in_edges) == 1 and len(out_ports) == 1
        src = (in_edges[0].src, in_edges[0].src_port) if in_edges else None
        target = in_vars[0] if single and consumers.get(src, 0) == 1 else ident
        for p in out_ports:
            var[(nid, p.name)] = target
        fwd_lines.append(f"{target} = {expr}  # {fmt_shape(out_shapes[0])}")

    returns = []
    for oid in gen.outputs:
        e = graph.edge_into(oid, "in")
        returns.append(var[(e.src, e.src_port)])
    fwd_lines.append("return " + ", ".join(returns))

    # token ids in the example must fit the smallest vocabulary in the graph
    vocab = min([10, *(n.params["num_embeddings"] for n in graph.nodes if n.type == "Embedding")])
    gen.source = _assemble(gen, cls, init_lines, fwd_lines, helpers, result, vocab)
    return gen


def _assemble(gen: GeneratedCode, cls: str, init_lines, fwd_lines, helpers, result,
              vocab: int) -> str:
    stdlib: set[str] = set()
    for h in helpers:
        stdlib.update(HELPER_IMPORTS.get(h, ()))
    args = ", ".join(arg for _, arg in gen.inputs)
    doc_inputs = ", ".join(f"{a}: {fmt_shape(('B',) + s)}" for a, s in gen.input_shapes.items())
    out = [
        f'"""{cls}: generated by nnstudio {__version__}.',
        "",
        f"Inputs: {doc_inputs}.",
        f"Trainable parameters: {result.total_params:,}.",
        "This file depends only on PyTorch; edit it freely.",
        '"""',
        "",
    ]
    # standard library first, then PyTorch, as isort (and ruff's I001) wants them
    if stdlib:
        out += [f"import {m}" for m in sorted(stdlib)] + [""]
    out += ["import torch", "from torch import nn", "", ""]
    for h in sorted(helpers):
        out += [HELPERS[h], ""]
    out.append(f"class {cls}(nn.Module):")
    out.append(f"{INDENT}def __init__(self):")
    out.append(f"{INDENT * 2}super().__init__()")
    out += [f"{INDENT * 2}{line}" for line in init_lines]
    out.append("")
    out.append(f"{INDENT}def forward(self, {args}):")
    out += [f"{INDENT * 2}{line}" for line in fwd_lines]
    out += ["", "", 'if __name__ == "__main__":', f"{INDENT}model = {cls}()"]
    examples = []
    for arg, shape in gen.input_shapes.items():
        dims = ", ".join(str(d) for d in (2,) + tuple(shape))
        if gen.input_dtypes[arg] == "long":
            out.append(f"{INDENT}{arg} = torch.randint(0, {vocab}, ({dims}))")
        else:
            out.append(f"{INDENT}{arg} = torch.randn({dims})")
        examples.append(arg)
    out.append(f"{INDENT}print(model({', '.join(examples)}))")
    return "\n".join(out) + "\n"
