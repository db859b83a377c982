"""Several graphs trained together: one container module, one composite optimizer.

A GAN trains a generator and a discriminator; a VAE drawn as two graphs trains an
encoder and a decoder.  Each graph still compiles to exactly the class that Export
writes; :class:`GraphSet` only holds them side by side under their roles, so its
state dict has the keys ``generator.<name>`` and ``discriminator.<name>``, and
``graph_set[role].state_dict()`` (or :func:`role_state_dict` of a saved state dict)
loads unchanged into that graph's exported class.

:class:`OptimizerSet` lets the trainer keep its one-optimizer bookkeeping (learning
rate schedule, checkpoints, the lr it reports) while a recipe steps each network's
own optimizer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn


class GraphSet(nn.ModuleDict):
    """Compiled graphs by role, trained as one model.

    ``graph_names`` maps each role to the name of its graph in the project (for
    saving each graph's weights beside the project).  Calling the set runs
    ``composer(graph_set, x)``, which the recipe sets to what one example passes
    through (the encoder then the decoder; the discriminator on real data...), so
    the activation view can look inside every graph at once.
    """

    def __init__(self, graphs: Mapping[str, nn.Module],
                 graph_names: Mapping[str, str] | None = None) -> None:
        super().__init__(dict(graphs))
        self.graph_names = dict(graph_names or {role: role for role in graphs})
        self.composer: Callable[[GraphSet, torch.Tensor], Any] | None = None

    def forward(self, x: torch.Tensor) -> Any:
        if self.composer is None:
            raise TypeError(f"this set of graphs ({', '.join(self.keys())}) has no single "
                            "forward pass; its recipe runs each graph itself")
        return self.composer(self, x)

    def weights_by_graph(self) -> dict[str, dict[str, torch.Tensor]]:
        """Graph name -> the state dict that graph's exported class loads."""
        return {self.graph_names[role]: module.state_dict() for role, module in self.items()}


def role_state_dict(state: Mapping[str, torch.Tensor], role: str) -> dict[str, torch.Tensor]:
    """The entries of a GraphSet state dict that belong to ``role``, prefix removed."""
    prefix = f"{role}."
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


class OptimizerSet(torch.optim.Optimizer):
    """Optimizers by role, seen by the trainer as one optimizer.

    ``param_groups`` lists every inner optimizer's groups — the very same dicts — so
    a learning-rate schedule built on the set changes each inner optimizer's rate,
    and ``param_groups[0]`` (the lr the trainer reports) is the first role's.
    ``state_dict()`` nests the inner ones by role.  A recipe steps one network with
    ``step(role=...)``.
    """

    def __init__(self, optimizers: Mapping[str, torch.optim.Optimizer]) -> None:
        # Optimizer.__init__ is not called: it would copy the parameter groups, and a
        # scheduler's changes to the copies would never reach the inner optimizers.
        if not optimizers:
            raise ValueError("an OptimizerSet needs at least one optimizer")
        self.optimizers = dict(optimizers)
        self.defaults = dict(next(iter(self.optimizers.values())).defaults)
        self.state: dict[Any, Any] = {}
        self._share_groups()

    def _share_groups(self) -> None:
        self.param_groups = [g for opt in self.optimizers.values() for g in opt.param_groups]

    def step(self, closure: Callable[[], float] | None = None, *, role: str | None = None) -> None:
        """Step the optimizer of ``role`` (every one when None)."""
        for name, opt in self.optimizers.items():
            if role is None or name == role:
                opt.step()

    def zero_grad(self, set_to_none: bool = True, *, role: str | None = None) -> None:
        for name, opt in self.optimizers.items():
            if role is None or name == role:
                opt.zero_grad(set_to_none=set_to_none)

    def state_dict(self) -> dict[str, Any]:
        return {"optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()}}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        inner = state_dict.get("optimizers") if isinstance(state_dict, dict) else None
        if not isinstance(inner, dict) or set(inner) != set(self.optimizers):
            have = sorted(inner) if isinstance(inner, dict) else "none"
            raise ValueError(f"the saved optimizers ({have}) are not this run's "
                             f"({', '.join(self.optimizers)})")
        for name, opt in self.optimizers.items():
            opt.load_state_dict(inner[name])
        self._share_groups()  # loading replaces each optimizer's group dicts

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={type(opt).__name__}" for name, opt in self.optimizers.items())
        return f"OptimizerSet({inner})"
