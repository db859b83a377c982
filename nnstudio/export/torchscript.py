"""Export a graph as TorchScript (``.pt``): a model that loads without its Python source.

    model = torch.jit.load("model.pt")
    model(torch.randn(1, 1, 28, 28))

The compiled module (the exact class Export writes, with its weights) is scripted with
``torch.jit.script``, which keeps any batch size and any control flow in the helpers;
where scripting refuses the code (a few inline expressions the TorchScript compiler
does not know) it is traced on example inputs instead, and the result says which one
was used.  The file written is loaded back and run next to the original before the
export counts as done: outputs must agree within 1e-5.

TorchScript is in maintenance in PyTorch (``torch.jit`` warns that it is deprecated in
favour of ``torch.export``); it is still what C++ (libtorch) and mobile runtimes load,
so nnstudio keeps offering it and silences only that one warning.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

from nnstudio.export.loaded_model import (
    CHECK_BATCH,
    LoadedModel,
    Weights,
    agrees,
    example_inputs,
    flat_outputs,
    load_model,
    max_difference,
)
from nnstudio.export.python_source import ExportError
from nnstudio.graph.document import Graph, Project
from nnstudio.graph.project_file import atomic_write

Method = Literal["auto", "script", "trace"]


@dataclass(frozen=True)
class TorchScriptResult:
    path: Path
    class_name: str
    method: str  # "script" or "trace"
    max_difference: float
    fallback_reason: str = ""  # why scripting was not used, when "auto" traced


@contextlib.contextmanager
def _quiet_jit() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.jit")
        warnings.filterwarnings("ignore", message=r".*torch\.jit.*deprecated.*")
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        yield


def to_torchscript(loaded: LoadedModel, method: Method = "auto"
                   ) -> tuple[torch.jit.ScriptModule, str, str]:
    """(scripted or traced module, the method used, why scripting was skipped)."""
    if method not in ("auto", "script", "trace"):
        raise ExportError(f"TorchScript method {method!r}: expected auto, script or trace")
    reason = ""
    with _quiet_jit():
        if method in ("auto", "script"):
            try:
                return torch.jit.script(loaded.model), "script", ""
            except Exception as e:  # noqa: BLE001  the TorchScript compiler's many ways to refuse
                if method == "script":
                    raise ExportError(f"TorchScript cannot script {loaded.code.class_name}: "
                                      f"{_first_line(e)}; try --torchscript trace") from None
                reason = _first_line(e)
        try:
            traced = torch.jit.trace(loaded.model, example_inputs(loaded, batch=2),
                                     check_trace=False)
        except Exception as e:  # noqa: BLE001  tracing runs the model: report what stopped it
            raise ExportError(f"TorchScript cannot trace {loaded.code.class_name}: "
                              f"{_first_line(e)}") from None
    return traced, "trace", reason


def _first_line(e: BaseException) -> str:
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return lines[0][:200] if lines else type(e).__name__


def export_torchscript(project_or_graph: Project | Graph, out_path: str | os.PathLike,
                       weights: Weights = None, graph: str | None = None,
                       method: Method = "auto") -> TorchScriptResult:
    """Write one graph (with ``weights``) as a TorchScript file at ``out_path``.

    The file is checked by loading it back and comparing its outputs with the compiled
    model's on inputs of a batch size other than the one traced with (within 1e-5 of the
    outputs' magnitude).  Raises
    ExportError (nothing written) if it cannot be made or does not agree.
    """
    loaded = load_model(project_or_graph, weights, graph)
    module, used, reason = to_torchscript(loaded, method)
    buffer = io.BytesIO()
    with _quiet_jit():
        torch.jit.save(module, buffer)
        buffer.seek(0)
        reloaded = torch.jit.load(buffer, map_location="cpu")
    reloaded.eval()
    inputs = example_inputs(loaded, batch=CHECK_BATCH, seed=1)
    with torch.no_grad():
        want = flat_outputs(loaded.model(*inputs))
        got = flat_outputs(reloaded(*inputs))
    difference = max_difference(want, got)
    if not agrees(want, difference):
        raise ExportError(f"the TorchScript ({used}) model does not reproduce "
                          f"{loaded.code.class_name}: outputs differ by {difference:.3g}")
    out_path = Path(out_path)
    atomic_write(out_path, buffer.getvalue())
    return TorchScriptResult(out_path, loaded.code.class_name, used, difference, reason)
