"""``nnstudio export``: PyTorch source, TorchScript, ONNX, a training script, a bundle."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nnstudio.cli.base import CliError, command, output_file, project_file_arg
from nnstudio.graph.project_file import load_project

# -------------------------------------------------------------------------- export
EXPORT_FORMATS = {
    "py": "the model's PyTorch source (weights to OUT.pt beside it)",
    "torchscript": "a TorchScript model (.pt) that loads without the source",
    "onnx": "an ONNX model (the onnx extra), checked with onnx.checker and onnxruntime",
    "script": "a standalone training script: python OUT.py, or torchrun --nproc_per_node=N",
    "bundle": "a reproducibility folder: project, source, script, weights, metrics, versions",
}
_SUFFIX_FORMATS = {".py": "py", ".onnx": "onnx", ".pt": "torchscript", ".ts": "torchscript"}


def _export_args(p: argparse.ArgumentParser) -> None:
    project_file_arg(p)
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT",
                   help="the file (or, for a bundle, the folder) to write")
    p.add_argument("--format", choices=tuple(EXPORT_FORMATS), metavar="FORMAT",
                   help="; ".join(f"{k}: {v}" for k, v in EXPORT_FORMATS.items())
                   + " (default: from OUT's suffix, .py → py, .onnx → onnx, .pt → torchscript)")
    p.add_argument("--weights", type=Path, metavar="W.pt",
                   help="a state dict to check against the model and export with it")
    p.add_argument("--graph", metavar="NAME",
                   help="which graph to export (needed when the project has several)")
    p.add_argument("--torchscript", choices=("auto", "script", "trace"), default="auto",
                   help="torchscript: script the module (keeps control flow), trace it on "
                        "an example, or script and fall back to tracing (default)")
    p.add_argument("--run", dest="run_dir", type=Path, metavar="DIR",
                   help="bundle: a finished 'nnstudio train' folder to bundle (default: "
                        "train the project now)")
    p.add_argument("--force", action="store_true", help="bundle: replace a non-empty folder")


def _export_format(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    fmt = _SUFFIX_FORMATS.get(args.output.suffix.lower())
    if fmt is None:
        raise CliError(f"{args.output.name}: say what to write with --format "
                       f"({', '.join(EXPORT_FORMATS)})")
    return fmt


@command("export", "write a graph as PyTorch source, TorchScript, ONNX, a training script "
         "or a reproducibility bundle", _export_args)
def cmd_export(args: argparse.Namespace) -> int:
    from nnstudio.export.python_source import ExportError  # imports torch

    project = load_project(args.file)
    fmt = _export_format(args)
    out = args.output
    if fmt != "bundle":
        out = output_file(out)
    for flag, value, only in (("--weights", args.weights, ("py", "torchscript", "onnx")),
                              ("--run", args.run_dir, ("bundle",))):
        if value is not None and fmt not in only:
            raise CliError(f"{flag} does not apply to --format {fmt}")
    try:
        _EXPORTERS[fmt](args, project, out)
    except ExportError as e:
        raise CliError(str(e)) from None
    return 0


def _export_py(args, project, out: Path) -> None:
    from nnstudio.export.python_source import export_python

    result = export_python(project, out, weights=args.weights, graph=args.graph)
    print(f"wrote {result.source_path} (class {result.class_name})")
    if result.weights_path is not None:
        print(f"wrote {result.weights_path} ({result.n_tensors} tensors)")


def _export_torchscript(args, project, out: Path) -> None:
    from nnstudio.export.torchscript import export_torchscript

    r = export_torchscript(project, out, weights=args.weights, graph=args.graph,
                           method=args.torchscript)
    how = "scripted" if r.method == "script" else "traced"
    note = f" (scripting refused: {r.fallback_reason})" if r.fallback_reason else ""
    print(f"wrote {r.path} (TorchScript, {how}{note}; reloaded outputs agree within "
          f"{r.max_difference:.1g})")


def _export_onnx(args, project, out: Path) -> None:
    from nnstudio.export.onnx_export import export_onnx

    r = export_onnx(project, out, weights=args.weights, graph=args.graph)
    check = (f"onnxruntime agrees within {r.max_difference:.1g}" if r.runtime_checked
             else "onnxruntime not installed, so not run")
    print(f"wrote {r.path} (ONNX, {r.exporter} exporter; onnx.checker passed; {check})")


def _export_script(args, project, out: Path) -> None:
    from nnstudio.export.script import export_script

    r = export_script(project, out, graph=args.graph, project_path=args.file)
    print(f"wrote {r.path} (trains {r.class_name} on '{r.dataset}', {r.recipe}, loss {r.loss})")
    if r.data_path is not None:
        print(f"wrote {r.data_path} (the data set, split as nnstudio splits it)")
    print(f"run it: python {r.path.name}   or   torchrun --nproc_per_node=2 {r.path.name}")


def _export_bundle(args, project, out: Path) -> None:
    from nnstudio.export.bundle import export_bundle

    callbacks = []
    if args.run_dir is None:
        from nnstudio.train.headless import TerminalProgress

        callbacks.append(TerminalProgress(sys.stderr))
    r = export_bundle(project, out, graph=args.graph, run_dir=args.run_dir,
                      project_path=args.file,
                      callbacks=callbacks, force=args.force)
    print(f"wrote {r.path}: {', '.join(r.files)}")
    for name, value in r.final.items():
        print(f"final {name}: {value:.6g}")


_EXPORTERS = {"py": _export_py, "torchscript": _export_torchscript, "onnx": _export_onnx,
              "script": _export_script, "bundle": _export_bundle}


