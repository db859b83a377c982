"""The text of the standalone training script, in pieces that :mod:`.script` fills in.

Each piece is plain Python as it will appear in ``train.py``; ``{{NAME}}`` marks what
the exporter substitutes.  The training loop mirrors :class:`nnstudio.train.trainer.Trainer`
step for step (the per-epoch seeds, the permutation, the dropped batch of one, the
evaluation batch size, the metrics' float64 arithmetic) so that a one-process run
repeats the app's run exactly; the data code mirrors :mod:`nnstudio.data.splits`.
Tests hold both to that (tests/export/test_script.py).
"""

HEADER = '''\
"""Train {{CLASS}} on {{DATASET_TITLE}}: a standalone script written by nnstudio {{VERSION}}.

Project: {{PROJECT}}
Task: {{RECIPE}} (loss {{LOSS}}); {{OPTIMIZER}}, learning rate {{LR}}, batch size {{BATCH}},
{{EPOCHS}} epochs, seed {{SEED}}.

On one process:
    python {{SCRIPT}}
Unchanged on N processes with DistributedDataParallel (gloo on CPU, nccl on GPUs):
    torchrun --nproc_per_node=N {{SCRIPT}}

Needs: {{NEEDS}}.

Process 0 writes the run folder (--out, default "{{STEM}}-run"): metrics.csv (a row per
epoch), last.pt (a checkpoint after every epoch), weights.pt (the final state dict,
which loads into {{CLASS}} below) and final.json (the final metrics).

On one process the run is the one nnstudio's trainer makes with the same seed: same
split, same initial weights, same batches, same metrics.  Under torchrun each of the N
processes takes 1/N of every epoch's shuffled examples and batch_size/N of every
step's, so one step still sees about batch_size examples in all.
"""

import argparse
import csv
import gc
import hashlib
import json
import math
import os
import time
from pathlib import Path

{{NUMPY_IMPORT}}import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

# ---------------------------------------------------------------- settings
CONFIG = {{CONFIG}}
DATASET = {{DATASET}}
# the data nnstudio trained on had this fingerprint (sha256 of the raw arrays)
FINGERPRINT = {{FINGERPRINT}}
# layers whose weights stay as they are (frozen in the drawing)
FROZEN = {{FROZEN}}
'''

MODEL = '''

# ---------------------------------------------------------------- the model
{{MODEL_SOURCE}}

MODEL = {{CLASS}}
'''

# -------------------------------------------------------------------------- data
SPLITS = '''

# ---------------------------------------------------------------- the data
MIN_STD = 1e-8  # a feature with less spread than this is constant: left unscaled


def fingerprint(*arrays):
    """sha256 over each array's dtype, shape and bytes, in order."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def take_count(n, fraction):
    return 0 if fraction <= 0 else max(1, round(n * fraction))


def can_stratify(labels, n_taken):
    _, counts = np.unique(labels, return_counts=True)
    n_classes = len(counts)
    return counts.min() >= 2 and n_taken >= n_classes and len(labels) - n_taken >= n_classes


def cut(indices, n_taken, seed, labels):
    from sklearn.model_selection import train_test_split

    if n_taken == 0:
        rng = np.random.default_rng(seed)
        return rng.permutation(indices), indices[:0]
    stratify = None
    if labels is not None and can_stratify(labels[indices], n_taken):
        stratify = labels[indices]
    kept, taken = train_test_split(indices, test_size=n_taken, random_state=seed, shuffle=True,
                                   stratify=stratify)
    return np.asarray(kept), np.asarray(taken)


def split_indices(n, seed, val_fraction, test_fraction, labels):
    """Shuffle range(n) into train, validation and test indices (stratified by labels)."""
    n_test, n_val = take_count(n, test_fraction), take_count(n, val_fraction)
    rest, test = cut(np.arange(n), n_test, seed, labels)
    train, val = cut(rest, n_val, seed + 1, labels)
    return train, val, test


def limit_per_class(train, labels, per_class):
    counts, kept = {}, []
    for index in train:
        label = int(labels[index])
        if counts.get(label, 0) < per_class:
            counts[label] = counts.get(label, 0) + 1
            kept.append(index)
    return np.asarray(kept, dtype=train.dtype)


def norm_stats(x_train, kind):
    """Mean and std of the training inputs: per channel for images, else per feature."""
    x64 = x_train.astype(np.float64, copy=False)
    if kind == "image" and x64.ndim == 4:
        mean = x64.mean(axis=(0, 2, 3)).reshape(-1, 1, 1)
        std = x64.std(axis=(0, 2, 3)).reshape(-1, 1, 1)
    else:
        mean, std = x64.mean(axis=0), x64.std(axis=0)
    std = np.where(std < MIN_STD, 1.0, std)
    return mean.astype(np.float32), std.astype(np.float32)


def build_splits(x, y, seed):
    """Split, then normalise with statistics of the training rows only."""
    classification = TASK == "classification"
    digest = fingerprint(x, y)
    parts = split_indices(len(x), seed, DATASET["val_fraction"], DATASET["test_fraction"],
                          y if classification else None)
    if DATASET.get("per_class", 0) > 0 and classification:
        parts = (limit_per_class(parts[0], y, DATASET["per_class"]), parts[1], parts[2])
    train = parts[0]
    x = x.astype(np.float32, copy=False)
    if DATASET["normalise"]:
        mean, std = norm_stats(x[train], KIND)
        x = (x - mean) / std
        if not classification:
            y2 = y.astype(np.float64)
            y2 = y2[:, None] if y2.ndim == 1 else y2
            target_mean = y2[train].mean(axis=0)
            target_std = np.where(y2[train].std(axis=0) < MIN_STD, 1.0, y2[train].std(axis=0))
            y = ((y2 - target_mean) / target_std).astype(np.float32)

    def targets(index):
        if classification or y.dtype.kind in "iu":
            return torch.from_numpy(np.ascontiguousarray(y[index], dtype=np.int64))
        part = y[index].astype(np.float32, copy=False)
        return torch.from_numpy(np.ascontiguousarray(part[:, None] if part.ndim == 1 else part))

    splits = {name: (torch.from_numpy(np.ascontiguousarray(x[index])), targets(index))
              for name, index in zip(("train", "val", "test"), parts)}
    return splits, digest


def load_data():
    """{"train": (x, y), "val": (x, y), "test": (x, y)} as nnstudio splits the data set."""
    seed = DATASET.get("seed", CONFIG["seed"])
    x, y = raw_data(seed)
    splits, digest = build_splits(x, y, seed)
    if FINGERPRINT and digest != FINGERPRINT:
        print("warning: the data differ from those nnstudio trained on (another "
              "scikit-learn or numpy version?); the metrics may differ too")
    return splits
'''

DATA_FILE = '''

# ---------------------------------------------------------------- the data
# The data set, already split and normalised by nnstudio, travels beside this script.
DATA_FILE = {{DATA_FILE}}


def load_data():
    """{"train": (x, y), "val": (x, y), "test": (x, y)} from the data file."""
    path = Path(__file__).resolve().with_name(DATA_FILE)
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if FINGERPRINT and saved.get("fingerprint") != FINGERPRINT:
        print(f"warning: {DATA_FILE} is not the data set this script was written for")
    return {name: (saved[f"{name}_x"], saved[f"{name}_y"]) for name in ("train", "val", "test")}
'''

# raw_data(seed) -> (x, y) for each data set the script can make itself
RAW: dict[str, str] = {
    "digits": '''
def raw_data(seed):
    """scikit-learn's 8x8 digits, pixels scaled to [0, 1], the chosen classes kept."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None, :, :]
    y = bunch.target.astype(np.int64)
    keep = DATASET["keep_classes"]
    remap = np.full(int(y.max()) + 1, -1, dtype=np.int64)
    remap[list(keep)] = np.arange(len(keep))
    rows = remap[y] >= 0
    return x[rows], remap[y[rows]]
''',
    "table": '''
def raw_data(seed):
    """One of scikit-learn's built-in tables."""
    from sklearn import datasets

    bunch = getattr(datasets, {{LOADER}})({{LOADER_ARGS}})
    x = np.asarray(bunch.data, dtype=np.float32)
    if TASK == "regression":
        return x, np.asarray(bunch.target, dtype=np.float32).reshape(-1, 1)
    return x, np.asarray(bunch.target, dtype=np.int64)
''',
    "moons": '''
def raw_data(seed):
    """Two interleaving half circles (scikit-learn's make_moons)."""
    from sklearn.datasets import make_moons

    x, y = make_moons(DATASET["n_samples"], noise=DATASET["noise"], random_state=seed)
    return x.astype(np.float32), y.astype(np.int64)
''',
    "circles": '''
def raw_data(seed):
    """A small circle inside a large one (scikit-learn's make_circles)."""
    from sklearn.datasets import make_circles

    x, y = make_circles(DATASET["n_samples"], noise=DATASET["noise"], factor=DATASET["factor"],
                        random_state=seed)
    return x.astype(np.float32), y.astype(np.int64)
''',
    "blobs": '''
def raw_data(seed):
    """Gaussian clusters, one per class (scikit-learn's make_blobs)."""
    from sklearn.datasets import make_blobs

    x, y = make_blobs(DATASET["n_samples"], centers=DATASET["n_classes"],
                      cluster_std=DATASET["noise"], random_state=seed)
    return x.astype(np.float32), y.astype(np.int64)
''',
    "spiral": '''
def raw_data(seed):
    """Interleaved spiral arms, one class per arm."""
    n, k, noise = DATASET["n_samples"], DATASET["n_classes"], DATASET["noise"]
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for arm in range(k):
        count = n // k + (1 if arm < n % k else 0)
        t = rng.uniform(0.0, 1.0, count)
        radius = 0.1 + 0.9 * t
        angle = 2 * np.pi * arm / k + 1.75 * 2 * np.pi * t
        points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
        xs.append(points + rng.normal(0.0, noise, points.shape))
        ys.append(np.full(count, arm))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int64)
''',
    "xor": '''
def raw_data(seed):
    """Points in [-1, 1]^2; class 1 where the signs of the two coordinates differ."""
    rng = np.random.default_rng(seed)
    clean = rng.uniform(-1.0, 1.0, (DATASET["n_samples"], 2))
    labels = (clean[:, 0] * clean[:, 1] < 0).astype(np.int64)
    x = clean + rng.normal(0.0, DATASET["noise"], clean.shape)
    return x.astype(np.float32), labels
''',
}

# -------------------------------------------------------------------------- tasks
CLASSIFICATION = '''

# ---------------------------------------------------------------- the task
TASK = "classification"
KIND = {{KIND}}
CLASSES = {{CLASSES}}
LOSS = {{LOSS_REPR}}


def prepare_targets(y):
    return y.reshape(-1).long()


def loss_fn(out, y, reduction="mean"):
    {{LOSS_LINE}}


def predict(out):
    """Class indices from the model's outputs."""
    {{PREDICT_LINE}}


def confusion_matrix(pred, target, n_classes):
    """Counts: row = true class, column = predicted class."""
    flat = torch.bincount(target.reshape(-1).long() * n_classes + pred.reshape(-1).long(),
                          minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)


def safe_div(num, den):
    return torch.where(den > 0, num / den.clamp(min=1e-300), torch.zeros_like(num))


def evaluate(model, x, y, batch_size):
    """Loss, accuracy and macro precision/recall/F1 (as scikit-learn defines them)."""
    n = len(x)
    if n == 0:
        return {}
    sums, preds = [], []
    model.eval()
    with torch.no_grad():
        for i in range(0, n, batch_size):
            out = model(x[i:i + batch_size])
            sums.append(loss_fn(out, y[i:i + batch_size], reduction="sum"))
            preds.append(predict(out))
    model.train()
    total = float(torch.stack(sums).cpu().double().sum())
    cm = confusion_matrix(torch.cat(preds).cpu(), y.cpu(), len(CLASSES))
    count = float(cm.sum())
    metrics = {"loss": total / n, "accuracy": float(cm.diagonal().sum()) / count if count else 0.0}
    cm = cm.double()
    tp = cm.diagonal()
    precision, recall = safe_div(tp, cm.sum(dim=0)), safe_div(tp, cm.sum(dim=1))
    f1 = safe_div(2 * precision * recall, precision + recall)
    metrics.update(precision_macro=float(precision.mean()), recall_macro=float(recall.mean()),
                   f1_macro=float(f1.mean()))
    return metrics
'''

REGRESSION = '''

# ---------------------------------------------------------------- the task
TASK = "regression"
KIND = {{KIND}}
LOSS = {{LOSS_REPR}}


def prepare_targets(y):
    return y.float().reshape(y.shape[0], -1) if y.dim() else y.float()


def loss_fn(out, y, reduction="mean"):
    out = out.reshape(y.shape)  # [B] and [B, 1] are the same thing for one target
    {{LOSS_LINE}}


def r2_score(pred, target):
    """Coefficient of determination, averaged over targets (scikit-learn's r2_score)."""
    pred = pred.double().reshape(pred.shape[0], -1)
    target = target.double().reshape(target.shape[0], -1)
    ss_res = ((target - pred) ** 2).sum(dim=0)
    ss_tot = ((target - target.mean(dim=0)) ** 2).sum(dim=0)
    safe = torch.where(ss_tot > 0, ss_tot, torch.ones_like(ss_tot))
    per_target = torch.where(
        ss_tot > 0, 1.0 - ss_res / safe,
        torch.where(ss_res == 0, torch.ones_like(ss_res), torch.zeros_like(ss_res)))
    return float(per_target.mean())


def evaluate(model, x, y, batch_size):
    """Loss, mean squared and absolute error, and R²."""
    n = len(x)
    if n == 0:
        return {}
    outs = []
    model.eval()
    with torch.no_grad():
        for i in range(0, n, batch_size):
            outs.append(model(x[i:i + batch_size]).reshape(-1, *y.shape[1:]))
    model.train()
    pred = torch.cat(outs)
    loss = float(loss_fn(pred, y, reduction="mean"))
    p, t = pred.cpu().double(), y.cpu().double()
    return {"loss": loss, "mse": float(((p - t) ** 2).mean()), "mae": float((p - t).abs().mean()),
            "r2": r2_score(pred.cpu(), y.cpu())}
'''

TRAINING = '''

# ---------------------------------------------------------------- training
def derived_seed(seed, epoch, stream):
    """The seed of one epoch's shuffle or random draws, derived as nnstudio's trainer does,
    so that epoch k is the same whether or not the run was resumed before it."""
    digest = hashlib.blake2b(f"{seed}:{epoch}:{stream}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)


def select_device(name):
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    return torch.device("mps" if mps is not None and mps.is_available() else "cpu")


def build_optimizer(params, c):
    if c["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=c["lr"], momentum=c["momentum"],
                               nesterov=c["nesterov"], weight_decay=c["weight_decay"])
    if c["optimizer"] == "adam":
        return torch.optim.Adam(params, lr=c["lr"], betas=(0.9, 0.999),
                                weight_decay=c["weight_decay"])
    if c["optimizer"] == "adamw":
        return torch.optim.AdamW(params, lr=c["lr"], betas=(0.9, 0.999),
                                 weight_decay=c["weight_decay"])
    return torch.optim.RMSprop(params, lr=c["lr"], momentum=c["momentum"],
                               weight_decay=c["weight_decay"])


def build_scheduler(optimizer, c, steps_per_epoch):
    """The learning-rate schedule, and whether it steps after every batch."""
    sched = torch.optim.lr_scheduler
    if c["schedule"] == "step":
        return sched.StepLR(optimizer, step_size=c["step_size"], gamma=c["gamma"]), False
    if c["schedule"] == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=c["epochs"]), False
    if c["schedule"] == "onecycle":
        cycle = c["optimizer"] in ("adam", "adamw") or c["momentum"] > 0
        peaks = [group["lr"] for group in optimizer.param_groups]
        return sched.OneCycleLR(optimizer, max_lr=peaks, total_steps=c["epochs"] * steps_per_epoch,
                                cycle_momentum=cycle), True
    return None, False


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().with_name({{RUN_DIR}}),
                   help="the run folder (written by process 0)")
    p.add_argument("--epochs", type=int, help=f"epochs (default {CONFIG['epochs']})")
    p.add_argument("--lr", type=float, help=f"learning rate (default {CONFIG['lr']})")
    p.add_argument("--batch-size", type=int,
                   help=f"examples per step (default {CONFIG['batch_size']})")
    p.add_argument("--seed", type=int, help=f"random seed (default {CONFIG['seed']})")
    p.add_argument("--device", help=f"auto, cpu, cuda or mps (default {CONFIG['device']})")
    p.add_argument("--tensorboard", action="store_true",
                   help="also write TensorBoard event files to OUT/tensorboard")
    return p.parse_args()


def write_csv(path, rows):
    columns = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\\n")
        writer.writeheader()
        writer.writerows(rows)


def main():
    args = parse_args()
    c = dict(CONFIG)
    for key in ("epochs", "lr", "batch_size", "seed", "device"):
        if getattr(args, key) is not None:
            c[key] = getattr(args, key)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = select_device(c["device"])
    if world > 1:
        if device.type == "cuda":
            local = int(os.environ.get("LOCAL_RANK", "0"))
            torch.cuda.set_device(local)
            device = torch.device("cuda", local)
        elif device.type != "cpu":
            device = torch.device("cpu")  # gloo runs on the CPU
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    main_process = rank == 0
    seed = c["seed"]

    # as nnstudio does: the data, then the seed, then the model (so its initial weights match)
    data = load_data()
    torch.manual_seed(seed)
    model = MODEL()
    for name in FROZEN:
        getattr(model, name).requires_grad_(False)
    model.to(device)
    x, y = (t.to(device) for t in (data["train"][0], prepare_targets(data["train"][1])))
    val_x, val_y = (t.to(device) for t in (data["val"][0], prepare_targets(data["val"][1])))
    test_x, test_y = (t.to(device) for t in (data["test"][0], prepare_targets(data["test"][1])))
    params = [p for p in model.parameters() if p.requires_grad]
    net = model
    if world > 1:
        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda"
                                      else None)

    n = len(x) // world  # examples per process and epoch
    bs = max(1, c["batch_size"] // world)
    # a last batch of one example is dropped: BatchNorm cannot train on it
    steps_per_epoch = max(1, n // bs + (1 if n % bs > 1 else 0))
    optimizer = build_optimizer(params, c)
    scheduler, per_batch = build_scheduler(optimizer, c, steps_per_epoch)
    has_val = len(val_x) > 0
    monitor, mode = (c["monitor"], c["monitor_mode"]) if has_val else ("train_loss", "min")
    patience = c["early_stopping_patience"]
    best_value, bad_evals, best_state = None, 0, None
    eval_bs = 2 * c["batch_size"]
    out = args.out
    writer = None
    if main_process:
        out.mkdir(parents=True, exist_ok=True)
        if args.tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            writer = SummaryWriter(str(out / "tensorboard"))
        print(f"training {MODEL.__name__} on {device} ({world} process{'es' * (world > 1)}): "
              f"{c['epochs']} epochs of {steps_per_epoch} steps")
    rows, last_val, reason, lr = [], {}, "completed", c["lr"]
    start = time.perf_counter()
    epoch = 0
    for epoch in range(1, c["epochs"] + 1):
        stream = "torch" if world == 1 else f"torch:{rank}"
        torch.manual_seed(derived_seed(seed, epoch, stream))
        gen = torch.Generator().manual_seed(derived_seed(seed, epoch, "shuffle"))
        perm = torch.randperm(len(x), generator=gen).to(device)
        if world > 1:
            perm = perm[:n * world][rank::world]
        losses = []
        net.train()
        for b in range(steps_per_epoch):
            idx = perm[b * bs:(b + 1) * bs]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(net(x[idx]), y[idx])
            loss.backward()
            if c["grad_clip"] > 0:
                torch.nn.utils.clip_grad_norm_(params, c["grad_clip"])
            optimizer.step()
            losses.append(loss.detach())
            lr = optimizer.param_groups[0]["lr"]
            if scheduler is not None and per_batch:
                scheduler.step()
        values = torch.stack(losses).tolist()
        if not math.isfinite(sum(values)):
            raise SystemExit(f"the loss became {sum(values)} in epoch {epoch}: lower the "
                             "learning rate")
        total = torch.tensor([sum(values), float(len(values))], dtype=torch.float64)
        if world > 1:
            total = total.to(device)
            dist.all_reduce(total)
        train_loss = float(total[0] / total[1])
        val = {}
        if has_val and (epoch % c["eval_every"] == 0 or epoch == c["epochs"]):
            val = last_val = evaluate(model, val_x, val_y, eval_bs)
        if scheduler is not None and not per_batch:
            scheduler.step()
        row = {"epoch": epoch, "train_loss": train_loss, "lr": lr,
               **{f"val_{k}": v for k, v in val.items()}}
        rows.append(row)
        watched = val.get(monitor) if has_val else train_loss
        if watched is not None:
            better = math.isfinite(watched) and (
                best_value is None
                or (watched < best_value if mode == "min" else watched > best_value))
            if better:
                best_value, bad_evals = watched, 0
                if patience > 0:
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                bad_evals += 1
        if main_process:
            write_csv(out / "metrics.csv", rows)
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "epoch": epoch, "config": c}, out / "last.pt")
            shown = "  ".join(f"val_{k} {v:.4f}" for k, v in val.items()
                              if k in ("loss", "accuracy", "mae", "r2"))
            print(f"epoch {epoch}/{c['epochs']}  train_loss {train_loss:.4f}  {shown}  "
                  f"lr {lr:.3g}  {time.perf_counter() - start:.1f}s", flush=True)
            if writer is not None:
                writer.add_scalar("train/loss", train_loss, epoch)
                writer.add_scalar("train/lr", lr, epoch)
                for k, v in val.items():
                    writer.add_scalar(f"val/{k}", v, epoch)
        if patience > 0 and bad_evals >= patience:
            reason = "early_stopping"
            break

    restored = reason == "early_stopping" and best_state is not None
    if restored:
        model.load_state_dict(best_state)
    metrics = {"train": {"loss": train_loss}}
    if has_val:
        metrics["val"] = (evaluate(model, val_x, val_y, eval_bs) if restored or not last_val
                          else last_val)
    if len(test_x):
        metrics["test"] = evaluate(model, test_x, test_y, eval_bs)
    final = {f"{split}_{k}": v for split in ("val", "test")
             for k, v in metrics.get(split, {}).items()}
    if not final:
        final = {"train_loss": train_loss}
    if main_process:
        torch.save(model.state_dict(), out / "weights.pt")
        summary = {"stopped_reason": reason, "epochs_completed": epoch, "world_size": world,
                   "seconds": round(time.perf_counter() - start, 3), "final": final,
                   "history": rows}
        (out / "final.json").write_text(json.dumps(summary, indent=2) + "\\n", encoding="utf-8")
        if writer is not None:
            for k, v in final.items():
                writer.add_scalar(f"final/{k}", v, epoch)
            writer.close()
        print(f"wrote {out}: final.json, last.pt, metrics.csv, weights.pt")
        for k, v in final.items():
            print(f"final {k}: {v:.6g}")
    if world > 1:
        # the DDP wrapper's reducer uses the process group: free it first, or a process
        # can abort on its way out ("terminate called without an active exception").
        # Its hooks make reference cycles, so `del` alone would leave it to the
        # collector at interpreter exit, after the group is gone: collect it now
        del net
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
'''
