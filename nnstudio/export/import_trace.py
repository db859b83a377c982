"""Running a person's PyTorch code for the importer: load the class, build it, trace it.

This is the one place where nnstudio executes code it did not write, and only when a
person asked to import that file (the command and the dialog say so first).  Three
steps, each failing with a :class:`TraceFailure` that names the line of the person's
file at fault:

1. :func:`load_class` executes the source file as a fresh module and takes the class;
2. :func:`trace` builds a torch.fx graph of one call of ``forward``: submodules that
   are containers or the person's own classes are traced through (inlined), built-in
   ``torch.nn`` layers stay whole so that they map onto catalog nodes by type;
3. :func:`record_values` runs the traced graph on example inputs twice, with two batch
   sizes, and keeps every intermediate value's shape — the dimension that follows the
   batch size is how the importer knows which dimension is the batch.

:func:`list_classes` reads a file's top-level classes *without* running it.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import inspect
import re
import sys
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn

from nnstudio.export.import_map import ATTENTION, MODULES, RECURRENT

_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


class TraceFailure(Exception):
    """The person's code could not be loaded, built or traced; the message says where."""


@dataclass(frozen=True)
class Location:
    """Where in the person's source an operation was written."""

    file: str
    line: int
    code: str

    def __str__(self) -> str:
        return f"{Path(self.file).name}:{self.line}" + (f" `{self.code}`" if self.code else "")


# ------------------------------------------------------------------ reading without running
def list_classes(source: str | Path) -> list[str]:
    """Names of the classes defined at the top of ``source`` (parsed, never executed),
    those that look like ``nn.Module`` subclasses first."""
    try:
        tree = ast.parse(Path(source).read_text(encoding="utf-8"), filename=str(source))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return []
    modules, others = [], []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = " ".join(ast.unparse(b) for b in node.bases)
            (modules if "Module" in bases or "nn." in bases else others).append(node.name)
    return modules + others


# ------------------------------------------------------------------ running
@contextlib.contextmanager
def _importable_from(folder: Path) -> Iterator[None]:
    """Let the file import its neighbours (``from layers import Block``) while it runs."""
    entry = str(folder)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(entry)


def _user_frame(tb_or_stack, source: Path | None) -> Location | None:
    frames = (traceback.extract_tb(tb_or_stack) if not isinstance(tb_or_stack, list)
              else tb_or_stack)
    for frame in reversed(frames):
        if source is not None and Path(frame.filename).resolve() == source:
            return Location(frame.filename, frame.lineno or 0, (frame.line or "").strip())
    return None


def _failure(what: str, exc: BaseException, source: Path | None) -> TraceFailure:
    where = _user_frame(exc.__traceback__, source)
    first = (str(exc).strip().splitlines() or [""])[0]
    detail = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return TraceFailure(f"{what} failed{f' at {where}' if where else ''}: {detail}")


def load_class(source: str | Path, class_name: str) -> type[nn.Module]:
    """Execute ``source`` as a new module and return its ``class_name`` (an nn.Module)."""
    path = Path(source).resolve()
    if not path.is_file():
        raise TraceFailure(f"{source}: no such file")
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
    name = f"nnstudio_import_{re.sub(r'[^0-9A-Za-z_]', '_', path.stem)}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TraceFailure(f"{source}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look classes up there
    try:
        with _importable_from(path.parent):
            spec.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001  the person's code may raise anything
        sys.modules.pop(name, None)
        raise _failure(f"running {path.name}", e, path) from None
    cls = getattr(module, class_name, None)
    if cls is None:
        found = ", ".join(list_classes(path)) or "none"
        raise TraceFailure(f"{path.name} has no class {class_name!r} (its classes: {found})")
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise TraceFailure(f"{path.name}: {class_name} is not a torch.nn.Module subclass")
    return cls


def instantiate(cls: type[nn.Module], source: str | Path | None = None) -> nn.Module:
    """``cls()``; a constructor that needs arguments is reported, not guessed at."""
    path = Path(source).resolve() if source is not None else None
    try:
        if path is not None:
            with _importable_from(path.parent):
                return cls()
        return cls()
    except Exception as e:  # noqa: BLE001  the person's code may raise anything
        raise _failure(f"building {cls.__name__}()", e, path) from None


class _Tracer(fx.Tracer):
    """Keep the layers nnstudio knows (and other built-in layers, to name them) whole;
    trace into containers and the person's own classes."""

    def __init__(self) -> None:
        super().__init__()
        self.record_stack_traces = True

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if isinstance(m, _CONTAINERS):
            return False
        if type(m) in MODULES or isinstance(m, RECURRENT + ATTENTION):
            return True
        return type(m).__module__.startswith("torch.nn")


def _defaults_after(model: nn.Module, n_inputs: int | None) -> dict[str, Any] | None:
    """forward's arguments after the first ``n_inputs`` that have defaults (``mask=None``),
    fixed at those defaults: the example inputs feed only the first ones."""
    if n_inputs is None:
        return None
    try:
        params = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        return None
    params = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    fixed = {p.name: p.default for p in params[n_inputs:] if p.default is not p.empty}
    return fixed or None


def trace(model: nn.Module, source: str | Path | None = None,
          n_inputs: int | None = None) -> fx.GraphModule:
    """A torch.fx GraphModule of ``model.forward`` with stack traces on its nodes.

    With ``n_inputs``, forward's later arguments that have defaults keep them.
    """
    path = Path(source).resolve() if source is not None else None
    tracer = _Tracer()
    try:
        graph = tracer.trace(model, concrete_args=_defaults_after(model, n_inputs))
    except Exception as e:  # noqa: BLE001  tensor control flow, odd Python, plain bugs
        failure = _failure(f"tracing {type(model).__name__}.forward", e, path)
        if "control flow" in str(e) or "iterated" in str(e):
            failure = TraceFailure(f"{failure} (forward branches or loops on tensor values, "
                                   "which a traced graph cannot follow)")
        raise failure from None
    gm = fx.GraphModule(tracer.root, graph, type(model).__name__)
    gm.graph.eliminate_dead_code()
    return gm


def location(node: fx.Node, source: str | Path | None) -> Location | None:
    """The innermost line of ``source`` (else of any file outside torch) that made ``node``."""
    text = node.stack_trace or node.meta.get("stack_trace") or ""
    frames = re.findall(r'File "([^"]+)", line (\d+), in [^\n]*\n\s*([^\n]*)', text)
    path = Path(source).resolve() if source is not None else None
    for file, line, code in reversed(frames):
        if path is not None and Path(file).resolve() == path:
            return Location(file, int(line), code.strip())
    for file, line, code in reversed(frames):
        parts = Path(file).parts
        if "torch" not in parts and "nnstudio" not in parts:
            return Location(file, int(line), code.strip())
    return None


# ------------------------------------------------------------------ running the trace
@dataclass(frozen=True)
class TensorMeta:
    shape: tuple[int, ...]
    dtype: torch.dtype


def _describe(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return TensorMeta(tuple(value.shape), value.dtype)
    if isinstance(value, torch.Size):
        return tuple(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_describe(v) for v in value)
    return value


class _Recorder(fx.Interpreter):
    def __init__(self, gm: fx.GraphModule) -> None:
        super().__init__(gm)
        self.values: dict[str, Any] = {}

    def run_node(self, n: fx.Node) -> Any:
        result = super().run_node(n)
        self.values[n.name] = _describe(result)
        return result


def example_inputs(shapes: Sequence[Sequence[int]], dtypes: Sequence[str], vocab: int,
                   seed: int = 0) -> list[torch.Tensor]:
    """Random inputs of ``shapes`` (batch first): normal floats, or token ids below ``vocab``."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for shape, dtype in zip(shapes, dtypes):
        if dtype == "long":
            out.append(torch.randint(0, vocab, tuple(shape), generator=gen))
        else:
            out.append(torch.randn(tuple(shape), generator=gen))
    return out


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Eval mode (no dropout, no running-statistics updates) and no gradients, then every
    module's own flag back."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for m, flag in modes:
            m.training = flag


def record_values(gm: fx.GraphModule, inputs: Sequence[torch.Tensor],
                  source: str | Path | None = None) -> dict[str, Any]:
    """Node name → shape-and-dtype of its value (nested for tuples) on ``inputs``."""
    recorder = _Recorder(gm)
    path = Path(source).resolve() if source is not None else None
    try:
        with eval_mode(gm):
            recorder.run(*inputs)
    except Exception as e:  # noqa: BLE001  the person's forward, run on the example inputs
        raise _failure(f"running {gm.__class__.__name__}.forward on the example input", e,
                       path) from None
    return recorder.values
