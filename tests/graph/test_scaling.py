"""The core stays near-linear in the size of the graph, and the benchmark keeps running."""

from __future__ import annotations

import gc
import importlib.util
import time
from pathlib import Path

from nnstudio.graph import ShapeInference, generate

_BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "compile_scaling.py"


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("compile_scaling_under_test", _BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_benchmark()


def _document_seconds(build, n: int) -> float:
    """Fastest of three: build through the document API, infer, generate.

    Whatever earlier tests left alive is frozen out of the collector's way first, so
    the timing grows with this graph, not with the test process's heap.
    """
    best = float("inf")
    gc.collect()
    gc.freeze()
    try:
        for _ in range(3):
            t0 = time.perf_counter()
            g, _ = build(n)
            generate(g, ShapeInference(g).run())
            best = min(best, time.perf_counter() - t0)
            del g
    finally:
        gc.unfreeze()
    return best


def test_document_work_grows_about_linearly_with_the_graph():
    # 8x the nodes: linear growth gives a ratio near 8, n log n about 10, quadratic 64
    for build in (bench.chain_graph, bench.branching_graph):
        small = _document_seconds(build, 500)
        large = _document_seconds(build, 4000)
        assert large / small < 14, \
            f"{build.__name__}: {small * 1e3:.1f} ms for 500 nodes, {large * 1e3:.1f} ms for 4000"


def test_one_parameter_edit_costs_far_less_than_a_full_pass():
    g, middle = bench.chain_graph(3000)
    t0 = time.perf_counter()
    engine = ShapeInference(g)
    engine.run()
    full = time.perf_counter() - t0
    edits = []
    for i in range(5):
        g.set_params(middle, {"eps": 1e-4 if i % 2 else 1e-3})
        t0 = time.perf_counter()
        res = engine.run()
        edits.append(time.perf_counter() - t0)
        assert res.ok
    assert min(edits) < full / 10, (min(edits), full)
    assert res.shapes == ShapeInference(g).run().shapes


def test_benchmark_runs_and_returns_its_rows(capsys):
    rows = bench.main(["--sizes", "30", "60", "--repeats", "1"])
    assert [(r["topology"], r["nodes"]) for r in rows] == [
        ("chain", 30), ("chain", 60), ("branching", 30), ("branching", 60)]
    for r in rows:
        assert r["total"] == r["infer"] + r["codegen"] + r["compile"]
        assert all(r[k] > 0 for k in ("build", "infer", "codegen", "compile", "edit"))
    out = capsys.readouterr().out
    assert "| chain | 30 |" in out and "Growth exponent" in out
