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
from nnstudio.train.preview import Preview
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

# Imported for their side effect: each module registers its recipes.
from nnstudio.train.graph_set import GraphSet, OptimizerSet  # isort: skip
from nnstudio.train.recipes_generative import ReconstructionRecipe, VAERecipe  # isort: skip
from nnstudio.train.recipes_gan import GANRecipe  # isort: skip
from nnstudio.train.recipes_forecast import ForecastRecipe  # isort: skip
from nnstudio.train.recipes_tokens import NextTokenRecipe, Seq2SeqTokensRecipe  # isort: skip
from nnstudio.train.requirements import GraphRole, Layout  # isort: skip

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
    "ForecastRecipe",
    "GANRecipe",
    "GraphRole",
    "GraphSet",
    "LayerStats",
    "Layout",
    "NextTokenRecipe",
    "OptimizerSet",
    "Preview",
    "Recipe",
    "ReconstructionRecipe",
    "RegressionRecipe",
    "RunControl",
    "RunInfo",
    "Seq2SeqTokensRecipe",
    "StepInfo",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "TrainingError",
    "VAERecipe",
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
