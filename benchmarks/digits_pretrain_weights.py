"""The weights that ``transfer-digits`` reuses, made again: ``digits-pretrain`` trained as
shipped (seed 0, CPU, one thread), its ``Features`` graph's weights taken out of the
trained model, and the transfer-versus-scratch comparison on ``transfer-digits``.

    python -m benchmarks.digits_pretrain_weights           # train, compare with the shipped file
    python -m benchmarks.digits_pretrain_weights --write   # ... and rewrite the shipped file

The shipped file is ``assets/templates/digits-pretrain.Features.pt`` (a state dict, read
with ``weights_only=True``).  Without ``--write`` the new weights go to a temporary
folder and the script reports how far they are from the shipped ones (PyTorch versions
and CPUs may differ in the last bits) and the comparison with both.

Not in the ``python -m benchmarks`` list: it writes an asset, so it runs when asked.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import torch

from nnstudio.graph.blocks import clear_caches
from nnstudio.graph.project_file import load_project
from nnstudio.graph.templates import templates_dir
from nnstudio.graph.weights import load_weights, weights_path
from nnstudio.train.transfer_check import compare_with_scratch, pretrain_block_weights

PRETRAIN, TRANSFER, GRAPH = "digits-pretrain", "transfer-digits", "Features"


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true",
                        help="rewrite the shipped weights file in assets/templates")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    shipped_dir = templates_dir()
    shipped = weights_path(shipped_dir / f"{PRETRAIN}.nnstudio",
                           load_project(shipped_dir / f"{PRETRAIN}.nnstudio").graph(GRAPH))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = shipped_dir if args.write else Path(tmp)
        if not args.write:
            for name in (PRETRAIN, TRANSFER):
                shutil.copy(shipped_dir / f"{name}.nnstudio", folder)
        path = folder / f"{PRETRAIN}.nnstudio"
        t0 = time.perf_counter()
        metrics, written = pretrain_block_weights(load_project(path), path)
        seconds = time.perf_counter() - t0
        new = written[GRAPH]
        print(f"{PRETRAIN}: test accuracy {metrics['accuracy']:.2%} in {seconds:.1f} s; "
              f"wrote {new} ({new.stat().st_size / 1024:.0f} KiB)")
        rows.append({"figure": f"{PRETRAIN}: test accuracy (digits 0-4)",
                     "value": metrics["accuracy"], "shown": f"{metrics['accuracy']:.2%}",
                     "target": ">= 98%", "ok": metrics["accuracy"] >= 0.98})
        if not args.write and shipped.is_file():
            a, b = load_weights(shipped), load_weights(new)
            diff = max(float((a[k] - b[k]).abs().max()) for k in a) if a.keys() == b.keys() \
                else float("inf")
            print(f"largest difference from the shipped {shipped.name}: {diff:.3g}")
        clear_caches()
        t0 = time.perf_counter()
        result = compare_with_scratch(load_project(folder / f"{TRANSFER}.nnstudio"))
        seconds = time.perf_counter() - t0
        print(f"{TRANSFER}: test accuracy {result.transfer:.2%} with the reused features, "
              f"{result.scratch:.2%} from scratch ({result.gain * 100:+.1f} points, "
              f"{seconds:.1f} s for both)")
        rows.append({"figure": f"{TRANSFER}: test accuracy, transfer minus from scratch",
                     "value": result.gain,
                     "shown": f"{result.transfer:.2%} vs {result.scratch:.2%} "
                              f"({result.gain * 100:+.1f} points)",
                     "target": ">= +10 points", "ok": result.gain >= 0.10})
    return rows


if __name__ == "__main__":
    main()
