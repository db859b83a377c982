"""The dataset registry: what can be loaded, with which options, and how.

Each loader module registers :class:`DatasetEntry` objects at import time.  The UI
builds its dataset picker and option forms from :func:`list_datasets`; the trainer,
the CLI and the tests call :func:`load_dataset`.  Options are typed data, checked
here once, so loaders receive only known, well-typed values.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from nnstudio.data.base import DatasetCancelled, DatasetError, DatasetSplits, Task

ProgressCallback = Callable[[int, int, str], "bool | None"]
OptionType = type[int] | type[float] | type[str] | type[bool]


@dataclass(frozen=True)
class Option:
    """One typed loader option, with its default and (optional) bounds or choices.

    ``widget`` tells a form how to ask for a string: "" plain text, "file" or
    "folder" a path picker.  A ``required`` option has no usable default.
    """

    name: str
    type: OptionType
    default: Any
    doc: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] = ()
    widget: Literal["", "file", "folder"] = ""
    required: bool = False
    # names this option had before (still read from older project files and commands)
    former_names: tuple[str, ...] = ()

    def coerce(self, dataset: str, value: Any) -> Any:
        """Return ``value`` converted to this option's type, or raise DatasetError."""
        where = f"dataset '{dataset}': option '{self.name}'"
        if self.type is bool:
            if not isinstance(value, bool):
                raise DatasetError(f"{where} expects true/false, got {value!r}")
        elif self.type is int:
            # bool is an int subclass; True as a sample count is surely a mistake
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise DatasetError(f"{where} expects an integer, got {value!r}")
            value = int(value)
        elif self.type is float:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise DatasetError(f"{where} expects a number, got {value!r}")
            value = float(value)
        else:
            if isinstance(value, os.PathLike):
                value = os.fspath(value)
            if not isinstance(value, str):
                raise DatasetError(f"{where} expects text, got {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise DatasetError(f"{where} must be at least {self.minimum}, got {value!r}")
        if self.maximum is not None and value > self.maximum:
            raise DatasetError(f"{where} must be at most {self.maximum}, got {value!r}")
        if self.choices and value not in self.choices:
            allowed = ", ".join(repr(c) for c in self.choices)
            raise DatasetError(f"{where} must be one of {allowed}, got {value!r}")
        return value


# Options every dataset accepts.  seed, val_fraction and test_fraction are keyword
# parameters of load_dataset; normalise travels in **options.  Listed here so a form
# can show them next to a dataset's own options.
COMMON_OPTIONS: tuple[Option, ...] = (
    Option("seed", int, 0, "random seed for generation and for the split", minimum=0),
    Option(
        "val_fraction",
        float,
        0.2,
        "share of examples held out for validation",
        minimum=0.0,
        maximum=0.95,
    ),
    Option(
        "test_fraction",
        float,
        0.2,
        "share of examples held out for testing",
        minimum=0.0,
        maximum=0.95,
    ),
    Option(
        "normalise",
        bool,
        True,
        "standardise inputs (and regression targets) with training-split statistics",
    ),
)


class ProgressReporter:
    """Wraps an optional progress callback; raises DatasetCancelled when it says stop."""

    def __init__(self, callback: ProgressCallback | None = None) -> None:
        self._callback = callback

    def __call__(self, done: int, total: int, message: str) -> None:
        """Report ``done`` of ``total`` steps; raise DatasetCancelled if the callback
        returns False (None or True carry on)."""
        if self._callback is not None and self._callback(done, total, message) is False:
            raise DatasetCancelled(f"cancelled: {message}")


@dataclass(frozen=True)
class LoadRequest:
    """Everything a loader needs: the shared parameters and its checked options."""

    name: str
    seed: int
    val_fraction: float
    test_fraction: float
    normalise: bool
    progress: ProgressReporter
    options: Mapping[str, Any]


Loader = Callable[[LoadRequest], DatasetSplits]


@dataclass(frozen=True)
class DatasetEntry:
    """A registered dataset: what it is, its options, and the function that loads it."""

    name: str
    title: str
    description: str
    task: Task
    kind: Literal["points2d", "image", "table", "sequence", "text"]
    loader: Loader = field(repr=False, compare=False)
    options: tuple[Option, ...] = ()
    group: str = ""  # "Generated", "scikit-learn", "Your files": sections of a picker

    def option(self, name: str) -> Option:
        """Return this dataset's own option called ``name`` (KeyError if none)."""
        for opt in self.options:
            if opt.name == name:
                return opt
        raise KeyError(name)

    def all_options(self) -> tuple[Option, ...]:
        """The common options followed by this dataset's own ones, for a form."""
        return COMMON_OPTIONS + self.options

    def canonical(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """``given`` with each option's former name replaced by its name; an option given
        under both with different values raises DatasetError."""
        out = dict(given)
        for opt in self.options:
            for old in opt.former_names:
                if old not in out:
                    continue
                value = out.pop(old)
                if opt.name in out and out[opt.name] != value:
                    raise DatasetError(
                        f"dataset '{self.name}': option '{opt.name}' is given twice, also "
                        f"under its former name '{old}', with different values")
                out[opt.name] = value
        return out

    def resolve(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Fill defaults into ``given`` and check every value; unknown names and
        missing required options raise DatasetError naming them.  Former names of options
        are read as their names (:meth:`canonical`)."""
        given = self.canonical(given)
        known = {opt.name: opt for opt in self.options}
        # `normalise` is common to all data sets; load_dataset applies it
        unknown = sorted(set(given) - set(known) - {"normalise"})
        if unknown:
            accepted = ", ".join(sorted(known) + ["normalise"]) or "none"
            raise DatasetError(
                f"dataset '{self.name}' has no option(s) {', '.join(map(repr, unknown))}; "
                f"it accepts: {accepted}"
            )
        values: dict[str, Any] = {}
        for opt in self.options:
            if opt.name in given:
                values[opt.name] = opt.coerce(self.name, given[opt.name])
            else:
                values[opt.name] = opt.default
            if opt.required and values[opt.name] in ("", None):
                raise DatasetError(f"dataset '{self.name}' needs option '{opt.name}': {opt.doc}")
        return values


_REGISTRY: dict[str, DatasetEntry] = {}
# Changes other modules make to an entry they do not own (nnstudio.data.sensitive adds
# a sensitive column to the built-in tables): dataset name -> functions entry -> entry.
_EXTENSIONS: dict[str, list[Callable[[DatasetEntry], DatasetEntry]]] = {}


def _checked(entry: DatasetEntry) -> DatasetEntry:
    names = [opt.name for opt in entry.options]
    reserved = {opt.name for opt in COMMON_OPTIONS}
    clash = sorted((set(names) & reserved) | {n for n in names if names.count(n) > 1})
    if clash:
        raise DatasetError(f"dataset '{entry.name}': option names reused: {', '.join(clash)}")
    return entry


def register(entry: DatasetEntry) -> DatasetEntry:
    """Add ``entry`` (with any :func:`extend` changes) to the registry and return it; a
    name already taken raises."""
    if entry.name in _REGISTRY:
        raise DatasetError(f"a dataset named '{entry.name}' is already registered")
    for change in _EXTENSIONS.get(entry.name, ()):
        entry = change(entry)
    _REGISTRY[entry.name] = _checked(entry)
    return _REGISTRY[entry.name]


def extend(name: str, change: Callable[[DatasetEntry], DatasetEntry]) -> None:
    """Let a module change the entry of dataset ``name`` (add options, wrap its loader):
    ``change(entry)`` returns the entry to keep.  Applied at once if ``name`` is
    registered, else when it registers, so import order does not matter."""
    _EXTENSIONS.setdefault(name, []).append(change)
    if name in _REGISTRY:
        _REGISTRY[name] = _checked(change(_REGISTRY[name]))


def list_datasets() -> list[DatasetEntry]:
    """All registered datasets, in registration order (generated sets first)."""
    return list(_REGISTRY.values())


def get_dataset(name: str) -> DatasetEntry:
    """The entry called ``name``; an unknown name raises DatasetError listing known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise DatasetError(f"no dataset named '{name}'; known datasets: {known}") from None


def load_dataset(
    name: str,
    *,
    seed: int = 0,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    progress: ProgressCallback | None = None,
    **options: Any,
) -> DatasetSplits:
    """Load dataset ``name`` into train/val/test splits.

    ``seed`` drives generation (for generated sets) and the split.  Fractions are of
    all examples; sets that ship their own test split (MNIST) ignore
    ``test_fraction`` and take ``val_fraction`` of their training file.
    ``progress(done, total, message)`` is called along the way; returning False
    raises DatasetCancelled.  ``options`` are the dataset's own options plus
    ``normalise`` (bool, default True).  Any problem raises DatasetError.
    """
    entry = get_dataset(name)
    common = {opt.name: opt for opt in COMMON_OPTIONS}
    seed = common["seed"].coerce(name, seed)
    val_fraction = common["val_fraction"].coerce(name, val_fraction)
    test_fraction = common["test_fraction"].coerce(name, test_fraction)
    if val_fraction + test_fraction >= 0.95:
        raise DatasetError(
            f"val_fraction + test_fraction must leave examples to train on; "
            f"got {val_fraction} + {test_fraction}"
        )
    normalise = common["normalise"].coerce(name, options.pop("normalise", True))
    request = LoadRequest(
        name=name,
        seed=seed,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        normalise=normalise,
        progress=ProgressReporter(progress),
        options=entry.resolve(options),
    )
    return entry.loader(request)


# Imported last, for its side effect: it extends the built-in tables with a sensitive
# column (it needs the names above, so it cannot come first).
from nnstudio.data import sensitive as _sensitive  # noqa: F401  isort: skip
