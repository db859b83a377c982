"""Startup: from starting ``nnstudio`` to its main window's first paint, against the time
Python takes just to import PyTorch and Qt's widgets.

Each run starts a new process, ``python -m nnstudio``, offscreen, with empty settings
and recovery folders (a first start, start page included) and ``NNSTUDIO_STARTUP_PROBE=
exit``: the app prints the moment its main window is first painted, and quits.  The
time is from launching the process to reading that line.  The reference is the same
measurement of ``python -c "import torch, PySide6.QtWidgets; print(...)"`` — a floor no
PyTorch desktop app can go under.  The two alternate, after one unmeasured warm-up of
each (disk cache), so that other load on the machine falls on both alike.

Target: the median start within 1.5× the median reference.  The probe also names any
heavy module (scikit-learn, SciPy, pandas, torch._dynamo…) imported before the window
showed; none should be.

    python -m benchmarks.startup [--runs 5]

``main()`` returns the rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUICK_ARGS = ["--runs", "2"]
TARGET_RATIO = 1.5
REPO = Path(__file__).resolve().parent.parent
READY = "import-ready"
REFERENCE = f"import torch, PySide6.QtWidgets; print({READY!r}, flush=True)"
TIMEOUT_S = 120


def _env(folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "QT_QPA_PLATFORM": env.get("QT_QPA_PLATFORM", "offscreen"),
        "XDG_CONFIG_HOME": str(folder / "config"),  # first start: no saved settings
        "XDG_DATA_HOME": str(folder / "data"),
        "NNSTUDIO_RECOVERY_DIR": str(folder / "recovery"),
        "NNSTUDIO_STARTUP_PROBE": "exit",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def time_until(args: list[str], marker: str, env: dict[str, str]) -> tuple[float, str]:
    """Seconds from launching ``python args`` to the first stdout line starting with
    ``marker``; and that line."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        for line in proc.stdout:
            if line.startswith(marker):
                elapsed = time.perf_counter() - t0
                return elapsed, line.strip()
        raise RuntimeError(f"{' '.join(args)} ended (status {proc.wait()}) without "
                           f"printing {marker!r}")
    finally:
        try:
            proc.wait(TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(runs: int) -> list[dict]:
    from nnstudio.ui.app import FIRST_PAINT

    with tempfile.TemporaryDirectory(prefix="nnstudio-startup-") as tmp:
        env = _env(Path(tmp))
        app_args = ["-m", "nnstudio"]
        ref_args = ["-c", REFERENCE]
        time_until(ref_args, READY, env)  # warm-up: files into the disk cache
        time_until(app_args, FIRST_PAINT, env)
        refs, apps, heavy = [], [], set()
        for _ in range(runs):
            refs.append(time_until(ref_args, READY, env)[0])
            elapsed, line = time_until(app_args, FIRST_PAINT, env)
            apps.append(elapsed)
            loaded = line.split()[2] if len(line.split()) > 2 else "-"
            heavy.update(m for m in loaded.split(",") if m != "-")
    ref, app = statistics.median(refs), statistics.median(apps)
    ratio = app / ref
    print(f"reference runs (s): {', '.join(f'{t:.2f}' for t in refs)}")
    print(f"nnstudio runs (s):  {', '.join(f'{t:.2f}' for t in apps)}")
    print(f"heavy modules imported before the window showed: {', '.join(sorted(heavy)) or 'none'}")
    return [
        {"figure": f"`import torch, PySide6.QtWidgets` (reference, median of {runs})",
         "value": round(ref, 3), "shown": f"{ref:.2f} s", "target": "", "ok": None},
        {"figure": f"start to the main window's first paint (median of {runs})",
         "value": round(app, 3), "shown": f"{app:.2f} s", "target": "", "ok": None},
        {"figure": "startup ÷ reference",
         "value": round(ratio, 3), "shown": f"{ratio:.2f}×",
         "target": f"≤ {TARGET_RATIO:g}×", "ok": ratio <= TARGET_RATIO},
        {"figure": "heavy modules imported before the window showed",
         "value": ", ".join(sorted(heavy)) or "none", "target": "none", "ok": not heavy},
    ]


def table(rows: list[dict]) -> str:
    out = ["| measure | value | target | ok |", "|---|---:|---|:-:|"]
    for r in rows:
        ok = "–" if r["ok"] is None else ("yes" if r["ok"] else "NO")
        out.append(f"| {r['figure']} | {r.get('shown') or r['value']} | {r['target'] or '–'} "
                   f"| {ok} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="measured runs of each")
    args = ap.parse_args(argv if argv is not None else [])
    print(f"## Startup (median of {args.runs} runs each, alternating)\n")
    rows = run(args.runs)
    print()
    print(table(rows))
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
