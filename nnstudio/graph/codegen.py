"""The code generator: the single source of truth for what a drawing means.

``generate(graph)`` writes a readable, self-contained PyTorch file: one ``nn.Module``
class whose submodules are built in ``__init__`` and whose ``forward`` runs in
topological order with the shape of every step in a trailing comment.  The module the
app trains is an instance of exactly this text (see :mod:`nnstudio.graph.compiler`),
so weights saved in the app load into the exported file unchanged.

A Block node becomes a submodule of a nested class, written once before the classes
that use it (see :mod:`nnstudio.graph.codegen_blocks`): ``self.stage1 = VGGStage()``,
and its weights sit under ``stage1.`` in the state dict.

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
    # the nested classes written for Block nodes, in the order they appear in the file
    block_classes: list[str] = field(default_factory=list)
    # (submodule path, weights file) for blocks that reuse another project's trained
    # weights: the compiler loads each file into that submodule
    external_weights: list[tuple[str, str]] = field(default_factory=list)


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


@dataclass
class Rendered:
    """One graph as the body of a class: what ``__init__`` builds and ``forward`` does.

    ``init`` lines may hold placeholders for the constructors of nested block classes,
    which are chosen once every use of them is known (codegen_blocks).  Each forward
    line keeps the shapes it produces apart from its code, so that uses of one block
    class at different sizes can share a comment.
    """

    code: GeneratedCode
    init: list[str] = field(default_factory=list)
    forward: list[tuple[str, tuple[Shape, ...]]] = field(default_factory=list)
    returns: list[str] = field(default_factory=list)
    helpers: set[str] = field(default_factory=set)
    uses: list[int] = field(default_factory=list)  # block uses made directly here
    vocab: int = 10  # the smallest Embedding vocabulary in the graph (and its blocks)


def problems_of(graph: Graph, result: InferenceResult) -> list[str]:
    """Everything that keeps ``graph`` from becoming code, as sentences."""
    problems = [e.message for e in result.all_errors()]
    if not any(n.type == "Input" for n in graph.nodes):
        problems.append("the graph needs an Input node")
    if not any(n.type == "Output" for n in graph.nodes):
        problems.append("the graph needs an Output node")
    return problems


def render(graph: Graph, result: InferenceResult, classes, reserved: set[str]) -> Rendered:
    """The class body of ``graph`` (valid, inferred as ``result``).  Block nodes ask
    ``classes`` (a :class:`~nnstudio.graph.codegen_blocks.ClassTable`) for their
    constructor, which renders the graphs they run in turn."""
    names = NameTable(MODULE_NAMES | reserved)
    gen = GeneratedCode("", "")
    out = Rendered(gen)
    for n in graph.nodes:
        if n.type == "Input":
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

    var: dict[tuple[str, str], str] = {(nid, "out"): arg for nid, arg in gen.inputs}
    consumers: dict[tuple[str, str], int] = {}
    for e in graph.edges:
        consumers[(e.src, e.src_port)] = consumers.get((e.src, e.src_port), 0) + 1
    vocabs = [n.params["num_embeddings"] for n in graph.nodes if n.type == "Embedding"]

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
        out_shapes = tuple(result.shapes[(nid, p.name)] for p in out_ports)
        ctx = Ctx(n.params, in_shapes, in_vars, f"self.{ident}", out_shapes, graph=graph,
                  in_dtypes=[result.dtypes.get((e.src, e.src_port), "any") for e in in_edges],
                  classes=classes)
        n_uses = len(classes.uses) if classes is not None else 0
        ctor = spec.module(ctx) if spec.module else None
        if ctor is not None:
            out.init.append(f"self.{ident} = {ctor}")
        if classes is not None and len(classes.uses) > n_uses:
            out.uses.append(len(classes.uses) - 1)
            vocabs.append(classes.uses[-1].rendered.vocab)
        out.helpers.update(spec.helpers)
        expr = spec.forward(ctx) if spec.forward else f"self.{ident}({', '.join(in_vars)})"
        if len(out_ports) > 1:  # a block with several outputs returns a tuple
            targets = [names.take(f"{ident}_{p.name}", "out") for p in out_ports]
            for p, t in zip(out_ports, targets):
                var[(nid, p.name)] = t
            out.forward.append((f"{', '.join(targets)} = {expr}", out_shapes))
            continue
        # reuse the input's variable along a plain chain, so the code reads `x = ...(x)`
        single = len(in_edges) == 1
        src = (in_edges[0].src, in_edges[0].src_port) if in_edges else None
        target = in_vars[0] if single and consumers.get(src, 0) == 1 else ident
        for p in out_ports:
            var[(nid, p.name)] = target
        out.forward.append((f"{target} = {expr}", out_shapes))

    for oid in gen.outputs:
        e = graph.edge_into(oid, "in")
        out.returns.append(var[(e.src, e.src_port)])
    # token ids in the example must fit the smallest vocabulary in the graph
    out.vocab = min([10, *vocabs])
    return out


def generate(graph: Graph, result: InferenceResult | None = None) -> GeneratedCode:
    """Source code for ``graph``; raises :class:`CodegenError` if the graph is not valid."""
    from .codegen_blocks import ClassTable

    if result is None:
        result = ShapeInference(graph).run()
    problems = problems_of(graph, result)
    if problems:
        raise CodegenError(problems)

    cls = class_name(graph.name)
    if cls in MODULE_NAMES:
        cls = f"{cls}Net"
    classes = ClassTable(reserved=MODULE_NAMES | {cls})
    top = render(graph, result, classes, {cls})
    gen = top.code
    gen.class_name = cls
    nested = classes.finish(top)  # nested class sources, dependency order
    gen.block_classes = [c.name for c in nested]
    gen.external_weights = classes.external_weights(top)
    helpers = set(top.helpers)
    for c in nested:
        helpers.update(c.helpers)
    body = classes.resolve(top.init)
    fwd = [f"{code}  # {_shapes_comment(shapes)}" for code, shapes in top.forward]
    gen.source = _assemble(gen, cls, body, fwd, top.returns, helpers, result, top.vocab,
                           [c.source for c in nested])
    return gen


def _shapes_comment(shapes) -> str:
    return ", ".join(fmt_shape(s) for s in shapes)


def class_source(cls: str, doc: str, args: list[str], init_lines: list[str],
                 fwd_lines: list[str], returns: list[str], ctor_args: tuple[str, ...] = ()
                 ) -> list[str]:
    """The lines of one ``nn.Module`` class."""
    params = "".join(f", {a}" for a in ctor_args)
    out = [f"class {cls}(nn.Module):"]
    if doc:
        out += [f'{INDENT}"""{doc}"""', ""]
    out += [f"{INDENT}def __init__(self{params}):", f"{INDENT * 2}super().__init__()"]
    out += [f"{INDENT * 2}{line}" for line in init_lines]
    out += ["", f"{INDENT}def forward(self, {', '.join(args)}):"]
    out += [f"{INDENT * 2}{line}" for line in fwd_lines]
    out.append(f"{INDENT * 2}return " + ", ".join(returns))
    return out


def _assemble(gen: GeneratedCode, cls: str, init_lines, fwd_lines, returns, helpers,
              result, vocab: int, nested: list[str]) -> str:
    stdlib: set[str] = set()
    for h in helpers:
        stdlib.update(HELPER_IMPORTS.get(h, ()))
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
    for source in nested:
        out += [source, "", ""]
    args = [arg for _, arg in gen.inputs]
    out += class_source(cls, "", args, init_lines, fwd_lines, returns)
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
