"""What training in the window costs: the Trainer on the Qt worker thread, with the
Training panel's live plots and activation capture, against a plain PyTorch loop.

Both train the same model (an MLP 784-256-256-10 compiled from a drawn graph, the same
initial weights) on the same synthetic data (8,192 examples of 784 features, 10 classes)
with the same batches in the same order (the trainer's per-epoch permutation), Adam,
batch 128.  The plain loop takes its batches as ``x[idx]``, as people write it; the
trainer gathers them into two tensors it keeps from step to step (``index_select(...,
out=)``), which is faster by itself.  So each pair has a third run, a plain loop that
gathers in place the same way: the window against it is the cost of everything else the
window does.  The three alternate (plain, window, in-place loop; then in-place loop,
window, plain; …), so that what one run leaves the next falls on all sides alike.  Runs of 20
epochs (about 3 s on a 2-core machine: training as a person watches it) come first, then
runs of 3 epochs (about 0.4 s, where starting a run in the window weighs much more).

Where the process may use two CPUs or more, the plain loop and the window's training
thread run on the same CPU, and the window's main thread on another (``--no-pin``: the
OS chooses).  On the shared 2-vCPU machine these figures were first measured on, the two
vCPUs ran the same loop at speeds 0.75–1.1× of each other, changing from minute to
minute: unpinned, a pair compared two CPUs as much as two programs.  For each pair:

* throughput: training samples per second from the first step to the last (the window's
  run evaluates once, after its last step, outside the timed span); the ratio window /
  plain is the framework's cost — target ≥ 0.97 (median over the pairs) — and window /
  in-place loop what that cost would be without the trainer's faster gathering;
* the main thread's event-loop stall while the window trains: a 5 ms heartbeat QTimer
  on the main thread records its ticks from the first step to the last; the gaps between
  ticks give p50, p99 and the worst — targets p99 ≤ 16 ms, worst ≤ 100 ms.  The
  heartbeat is Python on the main thread, so it could cost the trainer too; switched
  on and off every 0.3 s within runs, it made no difference that 88 such pairs of
  segments could resolve (on/off throughput 1.004, interquartile range 0.98–1.04).

During the window's runs a real MainWindow is shown (offscreen unless there is a
display) with the Training panel's Curves page in view (``--flip-s 1`` flips to the
Activations page and back every second), and activation capture runs as it does by
default (at most 10 Hz and 0.25 % of the training thread's time).  The two trainings are checked to end
with the same weights (same batches, same arithmetic).  The plain loop runs with the
cyclic collector on, as any script does, over a frozen heap: its collections walk what
the loop makes, not this process's window (which a plain script would not have).

Also reported, to read the figures on a shared machine: the training thread's CPU time
per sample (plain ÷ window: the extra work the framework does on that thread, little
affected by other processes), the main thread's CPU share while training, the
heartbeat's p99 while nothing trains (the machine's own noise floor), the load average,
and the best window run ÷ best plain run.

    python -m benchmarks.training_overhead [--repeats 21] [--epochs 20] [--short-epochs 3]
        [--short-repeats 15] [--threads 1] [--device cpu|cuda] [--batch-size 128]

``main()`` returns the rows (one per pair, then the summary).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

QUICK_ARGS = ["--repeats", "1", "--epochs", "2", "--short-epochs", "1", "--short-repeats", "1",
              "--samples", "4096"]
RATIO_TARGET = 0.97
P99_TARGET_MS = 16.0
WORST_TARGET_MS = 100.0
LAYERS = (("Linear", "fc1", {"out_features": 256}), ("ReLU", "relu1", {}),
          ("Linear", "fc2", {"out_features": 256}), ("ReLU", "relu2", {}),
          ("Linear", "fc3", {"out_features": 10}))


# ------------------------------------------------------------------ the work
def build_graph():
    import nnstudio.graph  # noqa: F401  (the layer catalog)
    from nnstudio.graph import Graph

    g = Graph("MLP784")
    prev = g.add_node("Input", "x", {"shape": (784,)}, pos=(0, 0)).id
    for i, (kind, name, params) in enumerate(LAYERS, 1):
        node = g.add_node(kind, name, params, pos=(i * 250, 0)).id
        g.connect(prev, "out", node, "in")
        prev = node
    out = g.add_node("Output", "logits", {}, pos=(len(LAYERS) * 250 + 250, 0)).id
    g.connect(prev, "out", out, "in")
    return g


def synthetic_splits(n: int, seed: int = 0):
    """Gaussian inputs labelled by a fixed random linear map (learnable, 10 classes)."""
    import torch

    from nnstudio.data import DatasetInfo, DatasetSplits, Split

    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(784, 10, generator=gen)

    def split(m: int) -> Split:
        x = torch.randn(m, 784, generator=gen)
        return Split(x, (x @ w).argmax(dim=1))

    info = DatasetInfo("synthetic", "classification", (784,), tuple(str(i) for i in range(10)),
                       kind="table", description="784 Gaussian features, 10 linear classes")
    return DatasetSplits(info, split(n), split(512), split(0))


def plain_loop(model, splits, config, in_place: bool = False) -> tuple[float, int, float]:
    """Train as a person would by hand; returns (seconds from first to last step, samples,
    CPU seconds of this thread).  ``in_place``: gather each batch into the same two
    tensors, as the trainer does, instead of ``x[idx]`` (a reference for the rest of the
    framework's cost; same values, same arithmetic)."""
    import torch
    import torch.nn.functional as F

    from nnstudio.train.trainer import _derived_seed  # the trainer's batch order

    device = torch.device(config.device)
    model.to(device)
    x, y, bs = splits.train.x.to(device), splits.train.y.to(device), config.batch_size
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    steps = len(x) // bs
    xb, yb = x.new_empty((bs, *x.shape[1:])), y.new_empty((bs, *y.shape[1:]))
    model.train()
    # the collector is left on, as in any script; but the objects of this benchmark's
    # process (a whole window, pyqtgraph, scikit-learn) are frozen first, so that its
    # collections walk what the loop makes, as they would in a small script, rather than
    # a heap a plain script would not have
    gc.collect()
    gc.freeze()
    cpu = time.thread_time()
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        gen = torch.Generator().manual_seed(_derived_seed(config.seed, epoch, "shuffle"))
        perm = torch.randperm(len(x), generator=gen).to(device)
        for b in range(steps):
            idx = perm[b * bs:(b + 1) * bs]
            opt.zero_grad(set_to_none=True)
            if in_place:
                torch.index_select(x, 0, idx, out=xb)
                torch.index_select(y, 0, idx, out=yb)
                loss = F.cross_entropy(model(xb), yb)
            else:
                loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)  # the trainer's last step ends with a read-back too
    seconds, cpu = time.perf_counter() - start, time.thread_time() - cpu
    gc.unfreeze()
    return seconds, config.epochs * steps * bs, cpu


class _WorkerTimes:
    """A trainer callback (worker thread): when the run's first and last steps ended."""

    def __init__(self, cpu: int | None = None) -> None:
        self.start = self.first = self.end = None
        self.total = 0
        self.cpu = 0.0
        self.pin = cpu

    def on_train_start(self, info) -> None:
        if self.pin is not None:  # the training thread, on the plain loop's CPU
            os.sched_setaffinity(0, {self.pin})
        self.start = time.perf_counter()
        self.cpu = time.thread_time()
        self.total = info.total_steps

    def on_step(self, s) -> None:
        now = time.perf_counter()
        if self.first is None:
            self.first = now
        if s.global_step == self.total:
            self.end = now
            self.cpu = time.thread_time() - self.cpu


def window_run(window, prepared, heartbeat_ms: int, flip_s: float,
               cpus: tuple[int, int] | None = None) -> dict:
    """Train ``prepared`` from the window's Training panel; returns timings and stalls.
    With ``cpus`` = (training, window), each thread runs on its own CPU."""
    with _Pinned(cpus[1] if cpus else None):
        return _window_run(window, prepared, heartbeat_ms, flip_s, cpus[0] if cpus else None)


def _window_run(window, prepared, heartbeat_ms: int, flip_s: float, train_cpu: int | None) -> dict:
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    from nnstudio.train import Callback

    class Times(_WorkerTimes, Callback):
        pass

    dock = window.training.dock
    times = Times(train_cpu)
    dock.extra_callbacks = [times]
    beats: list[tuple[float, float]] = []  # (wall, main thread's CPU) at each tick
    heart = QTimer()
    heart.setTimerType(Qt.TimerType.PreciseTimer)
    heart.setInterval(heartbeat_ms)
    heart.timeout.connect(lambda: beats.append((time.perf_counter(), time.thread_time())))
    pages = [dock.curves, dock.activations]
    flip = QTimer()
    flip.setInterval(int(max(flip_s, 0.05) * 1000))
    flip.timeout.connect(
        lambda: dock.pages.setCurrentWidget(pages[(pages.index(dock.pages.currentWidget()) + 1)
                                                  % len(pages)]
                                            if dock.pages.currentWidget() in pages else pages[0]))
    frames: list[int] = []  # activation frames that reached the panel

    def count_frame(batch) -> None:
        if batch.activations is not None:
            frames.append(1)

    dock.runner.updated.connect(count_frame)
    loop = QEventLoop()
    dock.run_finished.connect(loop.quit)
    heart.start()
    if flip_s > 0:
        flip.start()
    assert dock.start_prepared(prepared), dock.error_banner.text()
    dock.pages.setCurrentWidget(dock.curves)
    loop.exec()  # (QTest.qWait would hold the GIL and starve the trainer)
    heart.stop()
    flip.stop()
    dock.run_finished.disconnect(loop.quit)
    dock.runner.updated.disconnect(count_frame)
    result = dock.current.result
    if result.stopped_reason != "completed":
        raise RuntimeError(f"the window's run ended: {result.message}")
    during = [b for b in beats if times.first <= b[0] <= times.end]
    gaps = [(b[0] - a[0]) * 1000.0 for a, b in itertools.pairwise(during)]
    main_cpu = ((during[-1][1] - during[0][1]) / (during[-1][0] - during[0][0])
                if len(during) > 1 else float("nan"))
    n = times.total * prepared.config.batch_size
    return {"seconds": times.end - times.start, "samples": n, "gaps_ms": gaps,
            "cpu": times.cpu, "main_cpu_share": main_cpu,
            "points": dock.curves.point_count("train"), "frames": len(frames)}


def idle_gaps(seconds: float, heartbeat_ms: int) -> list[float]:
    """Heartbeat gaps while nothing trains: the machine's own noise floor."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    beats: list[float] = []
    heart = QTimer()
    heart.setTimerType(Qt.TimerType.PreciseTimer)
    heart.setInterval(heartbeat_ms)
    heart.timeout.connect(lambda: beats.append(time.perf_counter()))
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    heart.start()
    loop.exec()
    heart.stop()
    return [(b - a) * 1000.0 for a, b in itertools.pairwise(beats)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def pinned_cpus(pin: bool) -> tuple[int, int] | None:
    """(training CPU, window CPU) for pinned runs, or None (``pin`` off, one CPU, or an
    OS without thread affinity)."""
    if not pin or not hasattr(os, "sched_setaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    return (cpus[-1], cpus[0]) if len(cpus) >= 2 else None


class _Pinned:
    """Run the calling thread on ``cpu`` for the ``with`` block (Linux: 0 = this thread)."""

    def __init__(self, cpu: int | None) -> None:
        self.cpu = cpu

    def __enter__(self) -> None:
        if self.cpu is not None:
            self.saved = os.sched_getaffinity(0)
            os.sched_setaffinity(0, {self.cpu})

    def __exit__(self, *exc) -> None:
        if self.cpu is not None:
            os.sched_setaffinity(0, self.saved)


# ------------------------------------------------------------------ running
def run(repeats: int, epochs: int, samples: int, threads: int, heartbeat_ms: int,
        flip_s: float, device: str = "cpu", batch_size: int = 128,
        short: tuple[int, int] | None = None, pin: bool = True) -> list[dict]:
    """Pairs of ``epochs``-long runs, then (``short`` = (epochs, repeats)) pairs of short
    runs, all in one window; each row says its run length in ``epochs``."""
    import torch
    from PySide6.QtCore import QSettings

    torch.set_num_threads(threads)
    settings_dir = tempfile.mkdtemp(prefix="nnstudio-bench-settings-")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings_dir)

    from nnstudio.graph.compiler import compile_graph
    from nnstudio.graph.document import Project
    from nnstudio.train import TrainConfig
    from nnstudio.train.project_run import PreparedRun
    from nnstudio.ui.app import create_application
    from nnstudio.ui.main_window import MainWindow
    from nnstudio.ui.session import ProjectSession

    app = create_application(["training_overhead"])
    app.setOrganizationName("nnstudio-benchmark")
    graph = build_graph()
    project = Project("Overhead benchmark")
    project.add_graph(graph)
    splits = synthetic_splits(samples)
    # evaluation once, after the last step: the timed span is training only, as in the
    # plain loop; capture stays on (10 Hz, the default) and is part of what is measured
    config = TrainConfig(optimizer="adam", lr=1e-3, batch_size=batch_size, epochs=epochs,
                         device=device, seed=0, eval_every=epochs)
    torch.manual_seed(0)
    init = {k: v.clone() for k, v in compile_graph(graph).state_dict().items()}

    def fresh_model():
        model = compile_graph(graph)
        model.load_state_dict(init)
        return model

    window = MainWindow(ProjectSession(project))
    window.resize(1440, 900)
    window.show()
    window.training.show_tab()
    app.processEvents()

    def prepared(model, cfg=config):
        return PreparedRun(graph=graph, graph_snapshot=graph.to_dict(), model=model,
                           splits=splits, config=cfg, dataset={"name": "synthetic"})

    # warm up both paths (first optimizer import, allocator, kernels): not counted
    warm = TrainConfig(**{**config.to_dict(), "epochs": 1, "eval_every": 1,
                          "activations": config.activations})
    cpus = pinned_cpus(pin)
    with _Pinned(cpus[0] if cpus else None):
        plain_loop(fresh_model(), splits, warm)
    window_run(window, prepared(fresh_model(), warm), heartbeat_ms, flip_s, cpus)

    rows: list[dict] = []
    idle = idle_gaps(1.0, heartbeat_ms)
    phases = [(config, repeats)]
    if short is not None and short[1] > 0:
        phases.append((TrainConfig(**{**config.to_dict(), "epochs": short[0],
                                      "eval_every": short[0],
                                      "activations": config.activations}), short[1]))
    pairs = [(cfg, r) for cfg, n in phases for r in range(1, n + 1)]
    for cfg, r in pairs:
        # every other pair runs the window first: whatever one run leaves the next (warm
        # caches, a heap to collect, the machine's drift) falls on each side equally
        # the in-place reference loop runs too, on the other side of the window's run
        model_a, model_b, model_c = fresh_model(), fresh_model(), fresh_model()
        with _Pinned(cpus[0] if cpus else None):
            if r % 2 == 0:
                secs_c, n_c, _ = plain_loop(model_c, splits, cfg, in_place=True)
            else:
                secs_a, n_a, cpu_a = plain_loop(model_a, splits, cfg)
        b = window_run(window, prepared(model_b, cfg), heartbeat_ms, flip_s, cpus)
        with _Pinned(cpus[0] if cpus else None):
            if r % 2 == 0:
                secs_a, n_a, cpu_a = plain_loop(model_a, splits, cfg)
            else:
                secs_c, n_c, _ = plain_loop(model_c, splits, cfg, in_place=True)
        drift = max(float((pa - pb).abs().max())
                    for other in (model_a, model_c)
                    for pa, pb in zip(other.state_dict().values(), model_b.state_dict().values()))
        gaps = b["gaps_ms"]
        rows.append({
            "repeat": r,
            "epochs": cfg.epochs,
            "seconds": b["seconds"],
            "plain_samples_s": n_a / secs_a,
            "window_samples_s": b["samples"] / b["seconds"],
            "in_place_samples_s": n_c / secs_c,
            "ratio": (b["samples"] / b["seconds"]) / (n_a / secs_a),
            "ratio_in_place": (b["samples"] / b["seconds"]) / (n_c / secs_c),
            "cpu_ratio": (n_a / cpu_a) and (b["samples"] / b["cpu"]) / (n_a / cpu_a),
            "main_cpu_share": b["main_cpu_share"],
            "stall_p50_ms": percentile(gaps, 50),
            "stall_p99_ms": percentile(gaps, 99),
            "stall_worst_ms": max(gaps) if gaps else float("nan"),
            "ticks": len(gaps),
            "curve_points": b["points"],
            "activation_frames": b["frames"],
            "weights_max_diff": drift,
            "idle_p99_ms": percentile(idle, 99),
            "load": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
            "pinned": f"train {cpus[0]}, window {cpus[1]}" if cpus else "no",
        })
    window.session.undo_stack.setClean()
    window.close()
    window.deleteLater()
    app.processEvents()
    return rows


def summary(rows: list[dict]) -> list[dict]:
    """The figures the README reports (for ``python -m benchmarks``): for each run length,
    the throughput ratio and the main thread's stall."""
    out: list[dict] = []
    lengths = sorted({r["epochs"] for r in rows if "repeat" in r}, reverse=True)
    for epochs in lengths:
        pairs = [r for r in rows if "repeat" in r and r["epochs"] == epochs]
        ratio = statistics.median(r["ratio"] for r in pairs)
        p99 = max(r["stall_p99_ms"] for r in pairs)
        worst = max(r["stall_worst_ms"] for r in pairs)
        p50 = statistics.median(r["stall_p50_ms"] for r in pairs)
        cpu_ratio = statistics.median(r["cpu_ratio"] for r in pairs)
        in_place = statistics.median(r["ratio_in_place"] for r in pairs)
        gather = statistics.median(r["in_place_samples_s"] / r["plain_samples_s"] for r in pairs)
        best = (max(r["window_samples_s"] for r in pairs)
                / max(r["plain_samples_s"] for r in pairs))
        secs = statistics.median(r["seconds"] for r in pairs)
        what = f"{epochs}-epoch runs of {secs:.1f} s"
        low, high = min(r["ratio"] for r in pairs), max(r["ratio"] for r in pairs)
        out += [
            {"figure": f"throughput, window ÷ plain loop, {what} (median of {len(pairs)} "
                       f"pairs; pairs {low:.2f}–{high:.2f})",
             "shown": f"{ratio:.3f}", "target": f"≥ {RATIO_TARGET}", "ok": ratio >= RATIO_TARGET},
            {"figure": f"throughput, plain loop gathering batches in place ÷ plain loop, {what} "
                       "(median)",
             "shown": f"{gather:.3f}", "target": "", "ok": None},
            {"figure": f"throughput, window ÷ plain loop gathering in place (the cost of "
                       f"all else the window does), {what} (median)",
             "shown": f"{in_place:.3f}", "target": "", "ok": None},
            {"figure": f"throughput, best window run ÷ best plain run, {what}",
             "shown": f"{best:.3f}", "target": "", "ok": None},
            {"figure": f"training-thread CPU per sample, plain ÷ window, {what} (median)",
             "shown": f"{cpu_ratio:.3f}", "target": "", "ok": None},
            {"figure": f"main-thread stall while training, p50 (5 ms heartbeat), {what}",
             "shown": f"{p50:.1f} ms", "target": "", "ok": None},
            {"figure": f"main-thread stall while training, p99 (worst pair), {what}",
             "shown": f"{p99:.1f} ms", "target": f"≤ {P99_TARGET_MS:g} ms",
             "ok": p99 <= P99_TARGET_MS},
            {"figure": f"main-thread stall while training, worst, {what}",
             "shown": f"{worst:.1f} ms", "target": f"≤ {WORST_TARGET_MS:g} ms",
             "ok": worst <= WORST_TARGET_MS},
        ]
    return out


def table(rows: list[dict]) -> str:
    out = [("| epochs | pair | plain samples/s | window samples/s | ratio | in-place loop "
            "samples/s | ratio to it | CPU-time ratio "
            "| main-thread CPU | stall p50 ms | stall p99 ms | stall worst ms | idle p99 ms "
            "| load | curve points | activation frames | max weight diff |"),
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r['epochs']} | {r['repeat']} | {r['plain_samples_s']:,.0f} "
                   f"| {r['window_samples_s']:,.0f} | {r['ratio']:.3f} "
                   f"| {r['in_place_samples_s']:,.0f} | {r['ratio_in_place']:.3f} "
                   f"| {r['cpu_ratio']:.3f} | {r['main_cpu_share']:.0%} "
                   f"| {r['stall_p50_ms']:.1f} | {r['stall_p99_ms']:.1f} "
                   f"| {r['stall_worst_ms']:.1f} | {r['idle_p99_ms']:.1f} | {r['load']:.1f} "
                   f"| {r['curve_points']} | {r['activation_frames']} "
                   f"| {r['weights_max_diff']:.1e} |")
    out += ["", "| figure | value | target | ok |", "|---|---:|---|:-:|"]
    for s in summary(rows):
        ok = "–" if s["ok"] is None else ("yes" if s["ok"] else "NO")
        out.append(f"| {s['figure']} | {s['shown']} | {s['target'] or '–'} | {ok} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=21, help="plain/window pairs")
    ap.add_argument("--epochs", type=int, default=20, help="epochs of each run (about 3 s)")
    ap.add_argument("--short-epochs", type=int, default=3,
                    help="epochs of the short runs (about 0.4 s: starting a run weighs more)")
    ap.add_argument("--short-repeats", type=int, default=15, help="short pairs (0: none)")
    ap.add_argument("--samples", type=int, default=8192, help="training examples")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (both runs)")
    ap.add_argument("--heartbeat-ms", type=int, default=5)
    ap.add_argument("--device", default="cpu", help="cpu, cuda, mps (both runs)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--no-pin", dest="pin", action="store_false",
                    help="leave both threads to the OS scheduler (by default the plain loop "
                         "and the window's training thread run on the same CPU, the "
                         "window's main thread on another)")
    ap.add_argument("--flip-s", type=float, default=0.0,
                    help="flip between the Curves and Activations pages every this many "
                         "seconds (0: the Curves page stays in view)")
    args = ap.parse_args(argv if argv is not None else [])
    rows = run(args.repeats, args.epochs, args.samples, args.threads, args.heartbeat_ms,
               args.flip_s, args.device, args.batch_size,
               (args.short_epochs, args.short_repeats), args.pin)
    pinned = next((r["pinned"] for r in rows if "pinned" in r), "no")
    print(f"MLP 784-256-256-10, {args.samples:,} examples, batch {args.batch_size}, "
          f"{args.epochs} (and {args.short_epochs}) epochs, Adam, torch threads "
          f"{args.threads}, {args.device}, CPUs pinned: {pinned}\n")
    print(table(rows))
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
