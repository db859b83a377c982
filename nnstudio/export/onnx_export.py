"""Export a graph as ONNX (``.onnx``), for runtimes outside PyTorch.

Needs the optional ``onnx`` extra (``pip install 'nnstudio[onnx]'``: onnx, and
onnxscript for PyTorch's exporter; onnxruntime is used for the check when present).
The batch dimension stays free (named ``batch``); inputs and outputs are named after
the graph's Input and Output nodes.

PyTorch's ``torch.export``-based exporter is used when onnxscript is installed, its
older TorchScript-based one otherwise (or when the new one fails on the model).  The
file is then checked twice before the export counts as done: ``onnx.checker`` on the
model as written, and — where onnxruntime is installed — a run on inputs of another
batch size than the one exported with, whose outputs must agree with PyTorch's within
1e-5 (of their magnitude, when that is above 1).  :attr:`OnnxResult.runtime_checked` says whether that second check ran.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
    output_names,
)
from nnstudio.export.python_source import ExportError
from nnstudio.graph.document import Graph, Project
from nnstudio.graph.project_file import atomic_write

INSTALL_HINT = "install the onnx extra: pip install 'nnstudio[onnx]'"
OPSET = 18


@dataclass(frozen=True)
class OnnxResult:
    path: Path
    class_name: str
    exporter: str  # "dynamo" (torch.export) or "torchscript"
    runtime_checked: bool  # onnxruntime ran it and agreed
    max_difference: float | None  # None when onnxruntime is not installed


def onnx_available() -> bool:
    return importlib.util.find_spec("onnx") is not None


def onnxruntime_available() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """PyTorch's exporters talk a lot (progress lines, deprecations); keep it to errors."""
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "torch.export",
                                                    "torch._dynamo", "onnxscript")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _export(loaded: LoadedModel, path: Path, use_dynamo: bool) -> None:
    args = example_inputs(loaded, batch=2)
    in_names = [arg for _nid, arg in loaded.code.inputs]
    out_names = output_names(loaded)
    if use_dynamo:
        batch = torch.export.Dim("batch", min=1)
        shapes = {name: {0: batch} for name in in_names}
        torch.onnx.export(loaded.model, args, str(path), input_names=in_names,
                          output_names=out_names, dynamic_shapes=shapes, opset_version=OPSET,
                          dynamo=True, verbose=False, optimize=True,
                          external_data=False)
    else:
        axes = {name: {0: "batch"} for name in in_names + out_names}
        torch.onnx.export(loaded.model, args, str(path), input_names=in_names,
                          output_names=out_names, dynamic_axes=axes, opset_version=17,
                          dynamo=False)


def to_onnx_bytes(loaded: LoadedModel) -> tuple[bytes, str]:
    """The model as ONNX bytes, and the exporter that made them."""
    errors = []
    exporters = ["dynamo", "torchscript"] if importlib.util.find_spec("onnxscript") else [
        "torchscript"]
    with tempfile.TemporaryDirectory(prefix="nnstudio-onnx-") as tmp:
        path = Path(tmp) / "model.onnx"
        for exporter in exporters:
            try:
                with _quiet():
                    _export(loaded, path, exporter == "dynamo")
                return path.read_bytes(), exporter
            except Exception as e:  # noqa: BLE001  each exporter has its own gaps; try the other
                lines = [s.strip() for s in str(e).splitlines() if s.strip()]
                errors.append(f"{exporter}: {lines[0][:200] if lines else type(e).__name__}")
    raise ExportError(f"PyTorch cannot export {loaded.code.class_name} to ONNX ("
                      + "; ".join(errors) + ")")


def check_onnx(data: bytes, loaded: LoadedModel) -> tuple[float, bool] | None:
    """Run ``onnx.checker`` on ``data`` and, with onnxruntime, compare outputs with the
    PyTorch model: (largest difference, whether it is within tolerance), or None
    without onnxruntime."""
    import onnx

    model = onnx.load_from_string(data)
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as e:
        raise ExportError(f"the ONNX file does not pass onnx.checker: "
                          f"{str(e).strip().splitlines()[0][:200]}") from None
    if not onnxruntime_available():
        return None
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 4  # its own failures come back as exceptions below
    inputs = example_inputs(loaded, batch=CHECK_BATCH, seed=1)
    try:
        session = onnxruntime.InferenceSession(data, options,
                                               providers=["CPUExecutionProvider"])
        feed = {i.name: x.numpy() for i, x in zip(session.get_inputs(), inputs)}
        got = session.run(None, feed)
    except Exception as e:  # noqa: BLE001  onnxruntime reports its limits as a handful of types
        detail = " ".join(str(e).split())
        raise ExportError(f"onnxruntime cannot run the exported {loaded.code.class_name}: "
                          f"{detail[:300]}") from None
    with torch.no_grad():
        want = [t.numpy() for t in flat_outputs(loaded.model(*inputs))]
    difference = max_difference(want, got)
    return difference, agrees(want, difference)


def export_onnx(project_or_graph: Project | Graph, out_path: str | os.PathLike,
                weights: Weights = None, graph: str | None = None) -> OnnxResult:
    """Write one graph (with ``weights``) as ONNX at ``out_path``, checked as above.

    Raises ExportError (nothing written) when the onnx package is missing, the
    exporters fail, the checker refuses the file or onnxruntime disagrees.
    """
    if not onnx_available():
        raise ExportError(f"ONNX export needs the onnx package; {INSTALL_HINT}")
    loaded = load_model(project_or_graph, weights, graph)
    data, exporter = to_onnx_bytes(loaded)
    checked = check_onnx(data, loaded)
    difference = None
    if checked is not None:
        difference, ok = checked
        if not ok:
            raise ExportError(f"onnxruntime's outputs differ from PyTorch's by {difference:.3g} "
                              f"for {loaded.code.class_name}; the ONNX file was not written")
    out_path = Path(out_path)
    atomic_write(out_path, data)
    return OnnxResult(out_path, loaded.code.class_name, exporter, checked is not None,
                      difference)
