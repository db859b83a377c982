"""Layer specs — the catalog as data — and the registry that holds them.

A :class:`LayerSpec` says everything nnstudio knows about one layer type: its name,
category, one-line doc, typed parameters, ports, how it computes output shapes, how
many parameters it has, and how it is written in generated code.  Families of specs
live one module each under ``nnstudio.graph.layers``; adding a layer type touches its
family file and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .params import Param, ParamError
from .shapes import Shape

DType = Literal["float", "long", "any"]


@dataclass(frozen=True)
class PortSpec:
    name: str
    dtype: DType = "float"
    doc: str = ""


@dataclass
class Ctx:
    """What a shape rule or code rule is given: parameters, input shapes, variable names.

    Most rules read only their parameters and input shapes.  A rule that looks beyond
    its node (a Block runs another graph of the project) also gets the graph that holds
    the node, the dtypes arriving on its inputs, and — while code is generated — the
    table of nested classes (``classes``).  Such a rule may say what each output
    carries by setting ``out_dtypes``.
    """

    params: Mapping[str, Any]
    in_shapes: Sequence[Shape] = ()
    in_vars: Sequence[str] = ()
    attr: str = ""  # "self.<identifier>" of the node's submodule
    out_shapes: Sequence[Shape] = ()
    graph: Any = None  # the Graph that holds the node
    in_dtypes: Sequence[str] = ()  # "float" | "long" | "any" per input port
    out_dtypes: Sequence[str] | None = None  # set by a rule that knows them
    classes: Any = None  # codegen's table of nested module classes

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    @property
    def x(self) -> Shape:
        return self.in_shapes[0]


@dataclass(frozen=True)
class LayerSpec:
    """One layer type.

    ``infer(ctx) -> list of output shapes`` raises ShapeError when the inputs do not fit.
    ``module(ctx) -> "nn.Linear(400, 120)"`` is the constructor written in ``__init__``,
    or None for layers written inline in ``forward``.
    ``forward(ctx) -> expression`` computes the output from ``ctx.in_vars``; the default
    calls the submodule on the inputs.
    ``count(ctx) -> int`` is the number of trainable parameters.
    """

    type: str
    category: str
    doc: str
    infer: Callable[[Ctx], list[Shape]]
    params: tuple[Param, ...] = ()
    inputs: tuple[PortSpec, ...] = (PortSpec("in"),)
    outputs: tuple[PortSpec, ...] = (PortSpec("out"),)
    module: Callable[[Ctx], str | None] | None = None
    forward: Callable[[Ctx], str] | None = None
    count: Callable[[Ctx], int] | None = None
    name_hint: str = ""
    # names of helper classes (see codegen.HELPERS) this layer needs in the generated file
    helpers: tuple[str, ...] = ()
    # ports that depend on parameters (e.g. Concat with n inputs)
    inputs_fn: Callable[[Mapping[str, Any]], tuple[PortSpec, ...]] | None = None
    outputs_fn: Callable[[Mapping[str, Any]], tuple[PortSpec, ...]] | None = None
    torch_imports: tuple[str, ...] = field(default=())
    # ``derive(params, graph) -> params``: fill in parameters the document keeps in step
    # with the project (a Block's port names from the graph it runs); ``graph`` holds
    # the node and may not belong to a project yet
    derive: Callable[[dict[str, Any], Any], dict[str, Any]] | None = None
    # ``context_key(node, graph) -> hashable``: what besides its parameters and input
    # shapes the shape rule reads (a Block: the state of the graph it runs), so that
    # incremental inference knows when to run it again
    context_key: Callable[[Any, Any], Hashable] | None = None

    def input_ports(self, params: Mapping[str, Any]) -> tuple[PortSpec, ...]:
        return self.inputs_fn(params) if self.inputs_fn else self.inputs

    def output_ports(self, params: Mapping[str, Any]) -> tuple[PortSpec, ...]:
        return self.outputs_fn(params) if self.outputs_fn else self.outputs

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def clean_params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with ``values``, each coerced; unknown names raise ParamError."""
        known = {p.name for p in self.params}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ParamError(f"{self.type} has no parameter {', '.join(map(repr, unknown))}")
        out = {}
        for p in self.params:
            out[p.name] = p.coerce(values[p.name]) if p.name in values else p.default
        return out

    @property
    def hint(self) -> str:
        return self.name_hint or self.type.lower()


class Registry:
    """Layer specs by type name.  Registering a name twice is an error."""

    def __init__(self) -> None:
        self._specs: dict[str, LayerSpec] = {}

    def register(self, *specs: LayerSpec) -> None:
        for spec in specs:
            if spec.type in self._specs:
                raise ValueError(f"layer type {spec.type!r} is already registered")
            self._specs[spec.type] = spec

    def get(self, type_name: str) -> LayerSpec:
        try:
            return self._specs[type_name]
        except KeyError:
            raise KeyError(f"unknown layer type {type_name!r}") from None

    def __contains__(self, type_name: str) -> bool:
        return type_name in self._specs

    def __iter__(self):
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def categories(self) -> dict[str, list[LayerSpec]]:
        out: dict[str, list[LayerSpec]] = {}
        for spec in self._specs.values():
            out.setdefault(spec.category, []).append(spec)
        return out


REGISTRY = Registry()
