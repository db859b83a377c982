"""The training engine: recipes, the trainer, its callbacks, metrics and checkpoints.

Pure PyTorch: nothing here imports Qt, so the same trainer runs under the GUI's
worker thread, the command line and the tests.
"""

from nnstudio.train.activations import ActivationProbe, ActivationSnapshot, LayerStats
from nnstudio.train.callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EpochInfo,
    EvalInfo,
    RunInfo,
    StepInfo,
)
from nnstudio.train.checkpoint import (
    load_checkpoint,
    load_state_dict_file,
    save_checkpoint,
    save_state_dict,
)
from nnstudio.train.config import ActivationCapture, TrainConfig, select_device
from nnstudio.train.control import RunControl
from nnstudio.train.errors import CheckpointError, ConfigError, TrainingError
from nnstudio.train.recipes import (
    ClassificationRecipe,
    Evaluation,
    Recipe,
    RegressionRecipe,
    create_recipe,
    recipe_class,
    recipe_names,
    register_recipe,
)
from nnstudio.train.trainer import Trainer, TrainResult

__all__ = [
    "ActivationCapture",
    "ActivationProbe",
    "ActivationSnapshot",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "CheckpointError",
    "ClassificationRecipe",
    "ConfigError",
    "EpochInfo",
    "EvalInfo",
    "Evaluation",
    "LayerStats",
    "Recipe",
    "RegressionRecipe",
    "RunControl",
    "RunInfo",
    "StepInfo",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "TrainingError",
    "create_recipe",
    "load_checkpoint",
    "load_state_dict_file",
    "recipe_class",
    "recipe_names",
    "register_recipe",
    "save_checkpoint",
    "save_state_dict",
    "select_device",
]
