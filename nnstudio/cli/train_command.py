"""``nnstudio train``: train a graph headless into a run folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nnstudio.cli.base import PROG, CliError, command, project_file_arg
from nnstudio.graph.project_file import load_project


# --------------------------------------------------------------------------- train
def _train_args(p: argparse.ArgumentParser) -> None:
    project_file_arg(p)
    p.add_argument("--dataset", metavar="NAME",
                   help="train on this dataset instead of the one the project names")
    p.add_argument("--set", dest="options", action="append", default=[], metavar="KEY=VALUE",
                   help="a dataset option, typed as the dataset declares it, e.g. noise=0.2 "
                        "or path=data.csv (repeat for several)")
    p.add_argument("--epochs", type=int, metavar="N",
                   help="epochs in all (with --resume: train on up to epoch N)")
    p.add_argument("--lr", type=float, metavar="X", help="learning rate")
    p.add_argument("--batch-size", type=int, metavar="N", help="examples per step")
    p.add_argument("--device", metavar="D", help="auto, cpu, cuda or mps")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="the run folder (default: <project stem>-run beside the project)")
    p.add_argument("--resume", action="store_true",
                   help="continue from DIR/last.pt (same settings and dataset)")
    p.add_argument("--graph", metavar="NAME",
                   help="which graph to train (default: the project's first)")
    p.add_argument("--no-tensorboard", dest="tensorboard", action="store_false",
                   help="do not write TensorBoard event files to DIR/tensorboard (written "
                        "when the tensorboard package is installed)")
    p.add_argument("--reweight", choices=("none", "group_label"),
                   help="classification: weight examples by group and label (Kamiran & "
                        "Calders) over the data set's sensitive columns")


@command("train", "train a graph headless: progress on stderr; metrics, checkpoint and "
         "weights in a run folder; 'final <split>_<metric>: <value>' lines on stdout",
         _train_args)
def cmd_train(args: argparse.Namespace) -> int:
    from nnstudio.data import DatasetError  # these import torch
    from nnstudio.train import CheckpointError, ConfigError
    from nnstudio.train.headless import TerminalProgress, parse_dataset_options, train_project
    from nnstudio.train.project_run import RunSetupError

    project = load_project(args.file)
    graph = project.graph(args.graph)
    out_dir: Path = args.out if args.out is not None else args.file.with_name(
        f"{args.file.stem}-run")
    overrides = {key: value for key, value in (
        ("epochs", args.epochs), ("lr", args.lr), ("batch_size", args.batch_size),
        ("device", args.device), ("reweight", args.reweight)) if value is not None}
    progress = TerminalProgress(sys.stderr)
    callbacks = [progress, *_tensorboard(out_dir, args.tensorboard)]
    try:
        dataset = _dataset_override(project, args.dataset, args.options, parse_dataset_options)
        # the first Ctrl-C stops the trainer between two steps (exit 130 below)
        run = train_project(project, out_dir, graph=graph, dataset=dataset,
                            config_overrides=overrides, resume=args.resume,
                            callbacks=callbacks, ctrl_c_stops=True, project_path=args.file)
    except (RunSetupError, DatasetError, CheckpointError, ConfigError) as e:
        raise CliError(str(e)) from None
    except KeyboardInterrupt:  # a second Ctrl-C: leave the progress line before saying so
        progress.close()
        raise
    result = run.result
    if result.stopped_reason == "error":
        raise CliError(result.message)
    if result.stopped_reason == "stopped":
        done = result.epochs_completed
        kept = (f"{out_dir / 'last.pt'} holds epoch {done}; continue with --resume" if done
                else "no epoch had finished, so no checkpoint was saved")
        print(f"{PROG}: interrupted: {kept}", file=sys.stderr)
        return 130
    files = sorted(p.name for p in out_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    print(f"{result.message} Training took {run.fit_s:.1f} s.")
    print(f"wrote {out_dir}: {', '.join(files)}")
    _print_fairness(run.fairness)
    _print_challenge(project, run)
    for name, value in run.final_metrics.items():
        print(f"final {name}: {value:.6g}")
    return 0


def _print_challenge(project, run) -> None:
    """The template's goal and how this run measured up, when the project has one."""
    from nnstudio.train.challenges import ChallengeError, challenge_of, check, count_parameters

    try:
        challenge = challenge_of(project.meta)
    except ChallengeError as e:
        print(f"challenge: cannot be checked: {e}")
        return
    if challenge is None:
        return
    verdict = check(challenge, run.result, count_parameters(run.prepared.model))
    mark = "achieved" if verdict.achieved else "not yet"
    print(f"challenge: {challenge.goal}")
    print(f"challenge {mark}: {verdict.summary}")


def _tensorboard(out_dir: Path, wanted: bool) -> list:
    """A TensorBoard logger into DIR/tensorboard when wanted and tensorboard is installed."""
    from nnstudio.train.tensorboard import maybe_tensorboard

    logger = maybe_tensorboard(out_dir / "tensorboard") if wanted else None
    return [logger] if logger is not None else []


def _print_fairness(evaluations) -> None:
    """The per-group table of each sensitive column, and what per-group thresholds do."""
    from nnstudio.train.fairness import format_group_table

    for ev in evaluations:
        print()
        print("\n".join(format_group_table(ev.baseline)))
        adjusted = ev.thresholded
        if adjusted is not None:
            b, a = ev.baseline, adjusted
            print(f"  with per-group thresholds chosen on validation "
                  f"({', '.join(f'{g} {t:.2f}' for g, t in a.thresholds.items())}): "
                  f"accuracy {a.overall['accuracy']:.3f} (was {b.overall['accuracy']:.3f}), "
                  f"demographic-parity difference {a.gaps['dp_difference']:.3f} "
                  f"(was {b.gaps['dp_difference']:.3f})")
        for note in ev.notes:
            print(f"  note: {note}")
    if evaluations:
        print()


def _dataset_override(project, name: str | None, assignments: list[str], parse) -> dict | None:
    """``--dataset`` and ``--set`` as an override of the project's dataset section."""
    if name is None and not assignments:
        return None
    if name is None:
        name = (project.training.get("dataset") or {}).get("name")
        if not name:
            raise CliError("the project names no dataset to set options of; "
                           "choose one with --dataset NAME")
    return {"name": name, **parse(name, assignments)}


