"""How the document core scales: shape inference, code generation and compilation.

For graphs of 100, 1,000 and 5,000 nodes in two topologies — a chain (Linear, ReLU,
LayerNorm repeating on width 16) and a branching graph (residual blocks that fork into
two branches and rejoin through a three-way Add, alternating with blocks that fork into
two Linears rejoined by a Concat) — it times, as medians of several repeats:

* ``infer``: a full shape-inference pass on a fresh :class:`ShapeInference`;
* ``codegen``: :func:`generate` given that inference result;
* ``compile``: executing the generated source and instantiating the module;
* ``total``: the three together (what the app pays to turn a drawing into a model);
* ``edit``: re-inference on a warm :class:`ShapeInference` after one parameter edit in
  the middle of the graph (the per-keystroke cost in the inspector).

``build`` (adding the nodes and wires through the document API) is reported alongside.
Targets: 1,000 nodes under 0.5 s in total; growth no worse than n log n (a growth
exponent near 1 between sizes; 2 would be quadratic).

Run: ``python -m benchmarks.compile_scaling [--sizes 100 1000 5000] [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import math
import statistics
import time
from collections.abc import Callable

import torch

from nnstudio.graph import Graph, ShapeInference, generate
from nnstudio.graph.compiler import build_model

WIDTH = 16
STAGES = ("infer", "codegen", "compile", "total")


# ----------------------------------------------------------------------------- graphs
def chain_graph(n: int) -> tuple[Graph, str]:
    """Input → (Linear → ReLU → LayerNorm)* → Output with ``n`` nodes in all.

    Returns the graph and the id of a LayerNorm near the middle (the node edited).
    """
    g = Graph("Chain")
    prev = g.add_node("Input", params={"shape": (WIDTH,)}).id
    cycle = (("Linear", {"out_features": WIDTH}), ("ReLU", {}), ("LayerNorm", {}))
    middle = None
    for i in range(n - 2):
        type_name, params = cycle[i % 3]
        node = g.add_node(type_name, params=params)
        g.connect(prev, "out", node.id, "in")
        prev = node.id
        if type_name == "LayerNorm" and middle is None and i >= (n - 2) // 2:
            middle = node.id
    out = g.add_node("Output")
    g.connect(prev, "out", out.id, "in")
    return g, middle or prev


def branching_graph(n: int) -> tuple[Graph, str]:
    """Residual and fork/concat blocks, alternating, until about ``n`` nodes.

    residual (5 nodes): t → Linear → ReLU = a;  t → Linear → LayerNorm = b;
    Add(a, b, t).  concat (3 nodes): Concat(Linear(t, 8), Linear(t, 8)).
    """
    g = Graph("Branching")
    t = g.add_node("Input", params={"shape": (WIDTH,)}).id
    middle = None

    def add(type_name, params, *inputs):
        node = g.add_node(type_name, params=params)
        for src, port in zip(inputs, node.spec.input_ports(node.params)):
            g.connect(src, "out", node.id, port.name)
        return node.id

    block = 0
    while len(g) < n - 1:
        if block % 2 == 0 and len(g) + 5 <= n - 1:
            a = add("ReLU", {}, add("Linear", {"out_features": WIDTH}, t))
            norm = add("LayerNorm", {}, add("Linear", {"out_features": WIDTH}, t))
            if middle is None and len(g) >= n // 2:
                middle = norm
            t = add("Add", {"inputs": 3}, a, norm, t)
        elif len(g) + 3 <= n - 1:
            half = WIDTH // 2
            t = add("Concat", {"dim": 1}, add("Linear", {"out_features": half}, t),
                    add("Linear", {"out_features": half}, t))
        else:
            t = add("ReLU", {}, t)
        block += 1
    add("Output", {}, t)
    return g, middle or t


TOPOLOGIES: dict[str, Callable[[int], tuple[Graph, str]]] = {
    "chain": chain_graph,
    "branching": branching_graph,
}


# ----------------------------------------------------------------------------- timing
def _clock(fn, *args) -> tuple[float, object]:
    t0 = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - t0, value


def measure(topology: str, n: int, repeats: int) -> dict:
    """Median seconds per stage for one graph size; see the module docstring."""
    build = TOPOLOGIES[topology]
    samples: dict[str, list[float]] = {k: [] for k in ("build", *STAGES, "edit")}
    graph = middle = None
    for _ in range(repeats):
        gc.collect()
        t_build, (graph, middle) = _clock(build, n)
        t_infer, result = _clock(ShapeInference(graph).run)
        assert result.ok, result.all_errors()[:3]
        t_gen, gen = _clock(generate, graph, result)
        t_comp, model = _clock(build_model, gen)
        samples["build"].append(t_build)
        samples["infer"].append(t_infer)
        samples["codegen"].append(t_gen)
        samples["compile"].append(t_comp)
        samples["total"].append(t_infer + t_gen + t_comp)
        del model
    # incremental: a warm engine, then one edit that leaves every shape as it was
    engine = ShapeInference(graph)
    engine.run()
    for i in range(max(repeats, 5)):
        graph.set_params(middle, {"eps": 1e-5 if i % 2 else 1e-4})
        t_edit, res = _clock(engine.run)
        assert res.ok
        samples["edit"].append(t_edit)
    row = {"topology": topology, "nodes": len(graph), "edges": len(graph.edges),
           "repeats": repeats}
    row.update({k: statistics.median(v) for k, v in samples.items()})
    return row


def growth(rows: list[dict]) -> list[dict]:
    """Growth exponents log(t2/t1)/log(n2/n1) between consecutive sizes of a topology."""
    out = []
    for topology in dict.fromkeys(r["topology"] for r in rows):
        mine = sorted((r for r in rows if r["topology"] == topology), key=lambda r: r["nodes"])
        for a, b in itertools.pairwise(mine):
            ratio = math.log(b["nodes"] / a["nodes"])
            out.append({"topology": topology, "from": a["nodes"], "to": b["nodes"],
                        **{k: math.log(b[k] / a[k]) / ratio
                           for k in ("build", *STAGES, "edit") if a[k] > 0 and b[k] > 0}})
    return out


# ----------------------------------------------------------------------------- report
def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def markdown(rows: list[dict], exponents: list[dict]) -> str:
    lines = [
        ("| topology | nodes | edges | build ms | infer ms | codegen ms | compile ms "
         "| **total ms** | edit ms | repeats |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['topology']} | {r['nodes']:,} | {r['edges']:,} | {_ms(r['build'])} "
            f"| {_ms(r['infer'])} | {_ms(r['codegen'])} | {_ms(r['compile'])} "
            f"| **{_ms(r['total'])}** | {_ms(r['edit'])} | {r['repeats']} |")
    lines += ["", "Growth exponent log(t2/t1) / log(n2/n1) (1 = linear, 2 = quadratic):", "",
              "| topology | sizes | build | infer | codegen | compile | total | edit |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    for e in exponents:
        cells = " | ".join(f"{e[k]:.2f}" if k in e else "–"
                           for k in ("build", *STAGES, "edit"))
        lines.append(f"| {e['topology']} | {e['from']:,} → {e['to']:,} | {cells} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the benchmark, print a Markdown table, return one row per (topology, size)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    ap.add_argument("--repeats", type=int, default=5,
                    help="repeats per size (graphs over 2,000 nodes use at most 3)")
    ap.add_argument("--topologies", nargs="+", default=list(TOPOLOGIES),
                    choices=list(TOPOLOGIES))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for topology in args.topologies:
        for n in args.sizes:
            repeats = args.repeats if n <= 2000 else min(args.repeats, 3)
            rows.append(measure(topology, n, repeats))
    exponents = growth(rows)
    print(f"## Compile scaling (torch {torch.__version__}, {torch.get_num_threads()} thread)\n")
    print(markdown(rows, exponents))
    for r in rows:
        if r["nodes"] >= 1000 and r["nodes"] <= 1100 and r["total"] >= 0.5:
            print(f"\nWARNING: {r['topology']} with {r['nodes']:,} nodes took "
                  f"{r['total']:.2f} s (target < 0.5 s)")
    return rows


if __name__ == "__main__":
    main()
