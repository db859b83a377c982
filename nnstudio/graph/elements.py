"""The two things a graph is made of: layer nodes and the wires (edges) between their
ports.  Plain data; :class:`~nnstudio.graph.document.Graph` keeps them consistent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .spec import REGISTRY, LayerSpec


@dataclass
class Node:
    id: str
    type: str
    name: str
    params: dict[str, Any]
    pos: tuple[float, float] = (0.0, 0.0)
    # training-time options that belong to the drawing (transfer learning)
    frozen: bool = False
    lr_mult: float = 1.0

    @property
    def spec(self) -> LayerSpec:
        return REGISTRY.get(self.type)


@dataclass(frozen=True)
class Edge:
    src: str
    src_port: str
    dst: str
    dst_port: str

    def to_dict(self) -> dict[str, str]:
        return {"src": self.src, "src_port": self.src_port,
                "dst": self.dst, "dst_port": self.dst_port}
