"""Plot redraw: a live curve of 10⁶ points, repainted as the training panel repaints it.

A pyqtgraph ``PlotWidget`` (offscreen, 1200 × 500) holds one curve of 1,000,000 points — a loss curve a long run reaches.  Each frame sets new data on the
curve (as the panel does on its timer) and then times the redraw: ``repaint()`` of the
plot's viewport — a synchronous paint, inside which pyqtgraph updates the auto-range
and downsamples for it — and the events that paint leaves queued.  Measured

* a pyqtgraph ``PlotDataItem`` with ``setDownsampling(auto=True, method='peak')`` and
  ``setClipToView(True)`` — pyqtgraph's advice for long curves (STYLE.md), and what the
  app's curves were until session 6 — over the full range and zoomed to the last 10 %;
* the same with one peak bin per pixel column (``autoDownsampleFactor`` 1 instead of
  pyqtgraph's 5): each column still spans its bin's minimum to maximum, so the curve
  looks the same, from a fifth of the points;
* without downsampling and clipping, as the reference: every point drawn;
* the app's own live curve, :class:`~nnstudio.ui.training.path_curve.PathCurve`: a plain
  ``QGraphicsPathItem`` that Qt paints without Python, peak-downsampled to two points per
  pixel column and clipped when its data are set (its ``set_data`` does that work, so
  for it the setData figure includes the downsampling that pyqtgraph does in the paint).

Reported: median and worst of the repaint over the frames, and the median time of
``setData`` itself (not part of the redraw target).  Target: repaint under 16 ms.

    python -m benchmarks.plot_redraw [--points 1000000] [--frames 30]

``main()`` returns the rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

QUICK_ARGS = ["--frames", "8"]
TARGET_MS = 16.0
SIZE = (1200, 500)


def _curve_data(n: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = np.arange(n, dtype=np.float64)
    # a loss curve: decaying, noisy, with the occasional spike
    y = 2.0 * np.exp(-x / (n / 5)) + 0.05 * rng.standard_normal(n)
    y[rng.integers(0, n, 50)] += 1.0
    return x, y


def app_paint(viewport, app) -> None:
    viewport.repaint()
    app.processEvents()


def measure(points: int, frames: int, downsample: bool, zoom_tail: bool = False,
            factor: float | None = None, path_curve: bool = False) -> dict:
    import pyqtgraph as pg
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QApplication

    from nnstudio.ui.training.path_curve import PathCurve

    app = QApplication.instance() or QApplication([])
    widget = pg.PlotWidget()
    widget.resize(*SIZE)
    x, y = _curve_data(points, 0)
    if path_curve:  # set its range as the panel does: a PathCurve never auto-ranges
        view = widget.getPlotItem().getViewBox()
        view.disableAutoRange()
        widget.setXRange(0, points, padding=0.02)
        widget.setYRange(float(y.min()), float(y.max()), padding=0.05)
        curve = PathCurve(view, QColor("#4c9be8"), 1.0)
        widget.getPlotItem().addItem(curve)
        put = curve.set_data
    else:
        curve = widget.plot(pen=pg.mkPen("#4c9be8", width=1))
        put = curve.setData
    if downsample and not path_curve:
        curve.setDownsampling(auto=True, method="peak")
        curve.setClipToView(True)
        if factor is not None:  # peak bins per pixel column (pyqtgraph's default is 5)
            curve.opts["autoDownsampleFactor"] = factor
    put(x, y)
    if zoom_tail:
        widget.getPlotItem().getViewBox().disableAutoRange()
        widget.setXRange(points * 0.9, points, padding=0)
        widget.setYRange(float(y.min()), float(y.max()), padding=0.05)
    widget.show()
    for _ in range(5):  # shown, laid out, first paint done
        app.processEvents()
    app_paint(widget.viewport(), app)

    paint, set_data = [], []
    viewport = widget.viewport()  # the scene is drawn in the view's viewport
    for i in range(frames):
        x, y = _curve_data(points, i + 1)
        t0 = time.perf_counter()
        put(x, y)
        t1 = time.perf_counter()
        # a synchronous paint: pyqtgraph updates the view range (auto-range) and
        # re-downsamples for it inside the paint; then any repaint that asked for
        app_paint(viewport, app)
        t2 = time.perf_counter()
        set_data.append((t1 - t0) * 1000.0)
        paint.append((t2 - t1) * 1000.0)
    widget.close()
    widget.deleteLater()
    app.processEvents()
    return {"median": statistics.median(paint), "worst": max(paint),
            "set_data": statistics.median(set_data), "frames": frames}


def run(points: int, frames: int) -> list[dict]:
    cases = [
        (f"redraw {points:,} points, the app's PathCurve (Qt paints it; setData downsamples)",
         True, False, None, True, True),
        (f"redraw {points:,} points, the app's PathCurve zoomed to the last 10 %",
         True, True, None, True, True),
        (f"redraw {points:,} points, pyqtgraph PlotDataItem, peak downsampling + clip to view",
         True, False, None, True, False),
        (f"redraw {points:,} points, PlotDataItem zoomed to the last 10 % (downsampling + clip)",
         True, True, None, True, False),
        ((f"redraw {points:,} points, PlotDataItem downsampling to one peak bin per pixel "
          "(autoDownsampleFactor=1) + clip"), True, False, 1.0, True, False),
        (f"reference: redraw {points:,} points without downsampling or clipping", False, False,
         None, False, False),
    ]
    rows = []
    for label, downsample, zoom, factor, has_target, path_curve in cases:
        r = measure(points, frames, downsample, zoom, factor, path_curve)
        rows.append({
            "figure": label,
            "value": round(r["median"], 2),
            "shown": (f"{r['median']:.2f} ms median, {r['worst']:.2f} ms worst "
                      f"(of {r['frames']}; setData {r['set_data']:.1f} ms)"),
            "target": f"< {TARGET_MS:g} ms" if has_target else "",
            "ok": r["median"] < TARGET_MS if has_target else None,
            "median_ms": round(r["median"], 2), "worst_ms": round(r["worst"], 2),
            "set_data_ms": round(r["set_data"], 1),
        })
    return rows


def table(rows: list[dict]) -> str:
    out = ["| measure | median ms | worst ms | setData ms | target | ok |",
           "|---|---:|---:|---:|---|:-:|"]
    for r in rows:
        ok = "–" if r["ok"] is None else ("yes" if r["ok"] else "NO")
        out.append(f"| {r['figure']} | {r['median_ms']} | {r['worst_ms']} | {r['set_data_ms']} "
                   f"| {r['target'] or '–'} | {ok} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> list[dict]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--frames", type=int, default=30)
    args = ap.parse_args(argv if argv is not None else [])
    import pyqtgraph as pg

    print(f"## Plot redraw (pyqtgraph {pg.__version__}, {SIZE[0]}×{SIZE[1]} offscreen)\n")
    rows = run(args.points, args.frames)
    print(table(rows))
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
