"""Datasets: generated, built into scikit-learn, and a person's own files.

Everything goes through :func:`load_dataset`, which returns a :class:`DatasetSplits`
(train/validation/test tensors plus a :class:`DatasetInfo`).  Importing this package
registers every loader; :func:`list_datasets` shows what is available.
"""

from nnstudio.data.base import (
    DatasetCancelled,
    DatasetError,
    DatasetInfo,
    DatasetSplits,
    Split,
)
from nnstudio.data.registry import (
    COMMON_OPTIONS,
    DatasetEntry,
    Option,
    get_dataset,
    list_datasets,
    load_dataset,
)

# Imported for their side effect: each module registers its datasets, in the order a
# picker should list them (generated first, then built-in, then a person's files).
from nnstudio.data import synthetic, series, sequences, sklearn_sets, text  # noqa: F401  isort: skip
from nnstudio.data import fairness_data  # noqa: F401  isort: skip  (ethics stage)
from nnstudio.data import csv_data, images, idx  # noqa: F401  isort: skip
from nnstudio.data.csv_table import csv_head
from nnstudio.data.download import download_idx
from nnstudio.data.preview import preview

__all__ = [
    "COMMON_OPTIONS",
    "DatasetCancelled",
    "DatasetEntry",
    "DatasetError",
    "DatasetInfo",
    "DatasetSplits",
    "Option",
    "Split",
    "csv_head",
    "download_idx",
    "get_dataset",
    "list_datasets",
    "load_dataset",
    "preview",
]
