"""Run every benchmark, print one combined table and write it to ``benchmarks/results.md``.

    python -m benchmarks [--only NAME ...] [--quick] [--out FILE]

Each benchmark is a module here with ``main(argv) -> rows`` (see ``__init__``).  The
runner calls every one of :data:`BENCHMARKS` that exists (a module not written yet is
listed as skipped), shows each module's own output as it runs, and condenses the rows
into one table: benchmark, figure, value, target, pass/fail.  ``results.md`` gets that
table, the machine it ran on, and each module's full output.

``--quick`` passes each module its short form (``QUICK_ARGS`` in the module, or the
entry in :data:`QUICK_ARGS` here): fewer repeats and sizes, for a check that the
benchmarks still run rather than for figures to publish.  A run with ``--only`` or
``--quick`` writes ``results.partial.md`` instead, so that it never replaces the
published figures.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib
import importlib.util
import io
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the editor benchmark needs no screen

# In the order they run (and appear in the table).
BENCHMARKS = ("compile_scaling", "editor_scale", "training_overhead", "roadmap_outcomes",
              "startup", "plot_redraw", "reliability")

# Short forms for --quick, for modules that do not define QUICK_ARGS themselves.
QUICK_ARGS: dict[str, list[str]] = {
    "compile_scaling": ["--sizes", "100", "1000", "--repeats", "1"],
    "editor_scale": ["--frames", "10"],
}

HERE = Path(__file__).resolve().parent


@dataclass
class Row:
    benchmark: str
    figure: str
    value: str
    target: str = ""
    ok: bool | None = None  # None: no target to pass or fail

    @property
    def verdict(self) -> str:
        return "–" if self.ok is None else ("pass" if self.ok else "**FAIL**")


@dataclass
class Outcome:
    name: str
    status: str  # "ran", "skipped", "error"
    rows: list[Row]
    seconds: float = 0.0
    output: str = ""
    note: str = ""


# ------------------------------------------------------------ row condensers
def _compile_scaling(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        target = 1000 <= r["nodes"] <= 1100  # the README's target is for 1,000 nodes
        out.append({"figure": f"compile a {r['topology']} graph of {r['nodes']:,} nodes "
                              "(infer + codegen + compile)",
                    "shown": f"{r['total'] * 1000:,.1f} ms",
                    "target": "< 500 ms" if target else "",
                    "ok": r["total"] < 0.5 if target else None})
    return out


def _editor_scale(rows: list[dict]) -> list[dict]:
    return [{"figure": r["measure"],
             "shown": (f"{r['median_ms']:g} ms" if r.get("frames", 1) <= 1
                       else f"{r['median_ms']:g} ms (median of {r['frames']})"),
             "target": f"< {r['target_ms']:g} ms", "ok": bool(r["ok"])} for r in rows]


# Modules whose rows are not already {"figure", "value"/"shown", "target", "ok"}.
CONDENSERS: dict[str, Callable[[list[dict]], list[dict]]] = {
    "compile_scaling": _compile_scaling,
    "editor_scale": _editor_scale,
}


def _shown(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def condense(name: str, module: object, rows: list[dict]) -> list[Row]:
    """The module's rows as combined-table rows.

    A module may define ``summary(rows)``; otherwise a condenser here is used if there is
    one; rows already holding ``figure`` and ``value`` (or ``shown``), with optional
    ``target`` and ``ok``, are taken as they are; any other row is shown as key=value.
    """
    summary = getattr(module, "summary", None) or CONDENSERS.get(name)
    if summary is not None:
        rows = summary(rows)
    out = []
    for r in rows:
        if "figure" in r and ("shown" in r or "value" in r):
            value = r.get("shown") or _shown(r.get("value"))
            ok = r.get("ok", r.get("pass"))
            out.append(Row(name, str(r["figure"]), value, str(r.get("target") or ""),
                           None if ok is None else bool(ok)))
        else:
            items = list(r.items())
            figure = _shown(items[0][1]) if items else "?"
            value = ", ".join(f"{k}={_shown(v)}" for k, v in items[1:])
            ok = r.get("ok", r.get("pass"))
            out.append(Row(name, figure, value, str(r.get("target") or ""),
                           None if ok is None else bool(ok)))
    return out


# ------------------------------------------------------------------- running
class _Tee(io.TextIOBase):
    """Write to the terminal and keep a copy."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.copy = io.StringIO()

    def write(self, text: str) -> int:
        self.stream.write(text)
        self.copy.write(text)
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def run_one(name: str, quick: bool) -> Outcome:
    """Import ``benchmarks.<name>`` if it exists and run its ``main``."""
    if importlib.util.find_spec(f"benchmarks.{name}") is None:
        return Outcome(name, "skipped", [], note="not written yet")
    print(f"\n=== {name} ===", flush=True)
    tee = _Tee(sys.stdout)
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stdout(tee):
            module = importlib.import_module(f"benchmarks.{name}")
            argv = list(getattr(module, "QUICK_ARGS", QUICK_ARGS.get(name, []))) if quick else []
            rows = module.main(argv)
        outcome = Outcome(name, "ran", condense(name, module, list(rows or [])))
    except SystemExit as e:  # an argparse refusal inside the module
        outcome = Outcome(name, "error", [], note=f"exited with status {e.code}")
    except Exception as e:  # noqa: BLE001  (one broken benchmark must not hide the others)
        traceback.print_exc()
        outcome = Outcome(name, "error", [], note=f"{type(e).__name__}: {e}")
    outcome.seconds = time.perf_counter() - t0
    outcome.output = tee.copy.getvalue()
    if outcome.status == "error":
        outcome.rows = [Row(name, "(the benchmark failed)", outcome.note, "runs", False)]
    return outcome


# ---------------------------------------------------------------- reporting
def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, str]:
    """Where the figures come from: platform, CPU, cores, library versions, date, load."""
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
    }
    if hasattr(os, "sched_getaffinity"):
        info["cores"] += f" ({len(os.sched_getaffinity(0))} usable by this process)"
    for package in ("torch", "PySide6"):
        try:
            info[package] = importlib.import_module(package).__version__
        except ImportError:
            info[package] = "not installed"
    if hasattr(os, "getloadavg"):
        info["load average at start"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return info


def table(rows: list[Row]) -> str:
    lines = ["| benchmark | figure | value | target | result |", "|---|---|---:|---|:-:|"]
    for r in rows:
        cells = (r.benchmark, r.figure, r.value, r.target or "–", r.verdict)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def report(outcomes: list[Outcome], info: dict[str, str], quick: bool) -> str:
    rows = [r for o in outcomes for r in o.rows]
    ran = [o for o in outcomes if o.status != "skipped"]
    skipped = [o for o in outcomes if o.status == "skipped"]
    parts = [
        "# Benchmark results",
        "",
        (f"Written by `python -m benchmarks{' --quick' if quick else ''}`"
         f"{' (quick: short forms, not figures to publish)' if quick else ''}."),
        "",
        *(f"- {k}: {v}" for k, v in info.items()),
        "",
        table(rows),
    ]
    if skipped:
        parts += ["", "Not run: " + ", ".join(f"`{o.name}` ({o.note})" for o in skipped) + "."]
    for o in ran:
        parts += ["", f"## {o.name} ({o.seconds:.1f} s)", "", o.output.strip() or "(no output)"]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", choices=BENCHMARKS, metavar="NAME",
                    help=f"run only this benchmark (repeat for several): {', '.join(BENCHMARKS)}")
    ap.add_argument("--quick", action="store_true", help="short forms: check they run")
    ap.add_argument("--out", type=Path, metavar="FILE",
                    help="where to write the results (default: benchmarks/results.md for a "
                         "full run, benchmarks/results.partial.md with --only or --quick)")
    args = ap.parse_args(argv)
    if args.out is None:  # a partial run must not replace the published figures
        partial = args.only is not None or args.quick
        args.out = HERE / ("results.partial.md" if partial else "results.md")
    info = machine()
    chosen = [n for n in BENCHMARKS if args.only is None or n in args.only]
    outcomes = [run_one(name, args.quick) for name in chosen]
    text = report(outcomes, info, args.quick)
    args.out.write_text(text, encoding="utf-8")
    rows = [r for o in outcomes for r in o.rows]
    print("\n=== all benchmarks ===\n")
    print(table(rows))
    for o in outcomes:
        if o.status == "skipped":
            print(f"skipped {o.name}: {o.note}")
    print(f"\nwrote {args.out}")
    return 1 if any(o.status == "error" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
