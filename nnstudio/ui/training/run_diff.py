"""What changed between two runs: layers added or removed, parameters, wires, settings.

Pure functions over plain data — a graph as ``Graph.to_dict()`` gives it and a run's
settings as a nested dict (``{"dataset": {...}, "config": {...}}``) — so the comparison
is tested without a window and could serve the command line as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

RunSide = tuple[Mapping[str, Any], Mapping[str, Any]]  # (graph dict, settings dict)

# node fields that are training flags rather than parameters, with their defaults
_FLAGS = {"frozen": False, "lr_mult": 1.0}


@dataclass(frozen=True)
class ParamChange:
    node: str  # the node's name (in the second run when it was renamed)
    param: str
    old: Any
    new: Any


@dataclass(frozen=True)
class SettingChange:
    key: str  # dotted path, e.g. "config.lr" or "dataset.noise"
    old: Any  # None: not set in that run
    new: Any


@dataclass(frozen=True)
class RunDiff:
    """Everything that differs from run ``a`` to run ``b``; all tuples sorted for display."""

    nodes_added: tuple[str, ...] = ()  # "name (Type)"
    nodes_removed: tuple[str, ...] = ()
    nodes_renamed: tuple[tuple[str, str], ...] = ()  # (old name, new name)
    params_changed: tuple[ParamChange, ...] = ()
    wires_added: tuple[str, ...] = ()  # "src.port → dst.port"
    wires_removed: tuple[str, ...] = ()
    settings_changed: tuple[SettingChange, ...] = ()

    @property
    def same(self) -> bool:
        return not any((self.nodes_added, self.nodes_removed, self.nodes_renamed,
                        self.params_changed, self.wires_added, self.wires_removed,
                        self.settings_changed))

    def lines(self) -> list[str]:
        """One readable line per change, graph first, then settings."""
        out = [f"+ layer {n}" for n in self.nodes_added]
        out += [f"− layer {n}" for n in self.nodes_removed]
        out += [f"renamed {a} → {b}" for a, b in self.nodes_renamed]
        out += [f"{c.node}.{c.param}: {_show(c.old)} → {_show(c.new)}"
                for c in self.params_changed]
        out += [f"+ wire {w}" for w in self.wires_added]
        out += [f"− wire {w}" for w in self.wires_removed]
        out += [f"{_setting_name(c.key)}: {_show(c.old)} → {_show(c.new)}"
                for c in self.settings_changed]
        return out or ["no differences: same graph, same settings"]


def diff_runs(a: RunSide, b: RunSide) -> RunDiff:
    """What changed from run ``a`` to run ``b``, each given as (graph dict, settings dict).

    Nodes are matched by id (ids are stable across edits of one document); a node whose
    type changed counts as removed and added.  Parameters and training flags (frozen,
    learning-rate multiplier) are compared by value, JSON lists equal to tuples.
    Settings are compared key by key after flattening to dotted paths.
    """
    graph_a, settings_a = a
    graph_b, settings_b = b
    nodes_a = {n["id"]: n for n in graph_a.get("nodes", [])}
    nodes_b = {n["id"]: n for n in graph_b.get("nodes", [])}
    same_type = {i for i in nodes_a.keys() & nodes_b.keys()
                 if nodes_a[i]["type"] == nodes_b[i]["type"]}
    added = sorted(_label(nodes_b[i]) for i in nodes_b.keys() - same_type)
    removed = sorted(_label(nodes_a[i]) for i in nodes_a.keys() - same_type)
    renamed, params = [], []
    for i in sorted(same_type, key=lambda i: nodes_b[i]["name"]):
        na, nb = nodes_a[i], nodes_b[i]
        if na["name"] != nb["name"]:
            renamed.append((na["name"], nb["name"]))
        pa, pb = _node_values(na), _node_values(nb)
        for key in sorted(pa.keys() | pb.keys()):
            old, new = pa.get(key), pb.get(key)
            if _plain(old) != _plain(new):
                params.append(ParamChange(nb["name"], key, old, new))
    wires_a = {_wire_key(e) for e in graph_a.get("edges", [])}
    wires_b = {_wire_key(e) for e in graph_b.get("edges", [])}
    flat_a, flat_b = flatten(settings_a), flatten(settings_b)
    settings = [SettingChange(k, flat_a.get(k), flat_b.get(k))
                for k in sorted(flat_a.keys() | flat_b.keys())
                if _plain(flat_a.get(k)) != _plain(flat_b.get(k))]
    return RunDiff(
        tuple(added), tuple(removed), tuple(renamed), tuple(params),
        tuple(sorted(_wire_text(w, nodes_b) for w in wires_b - wires_a)),
        tuple(sorted(_wire_text(w, nodes_a) for w in wires_a - wires_b)),
        tuple(settings))


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"config": {"lr": 0.1}}`` -> ``{"config.lr": 0.1}`` (lists stay values)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def _node_values(node: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(node.get("params", {}))
    for flag, default in _FLAGS.items():
        values[flag] = node.get(flag, default)
    return values


def _plain(value: Any) -> Any:
    """Tuples and lists compare equal (a project file writes tuples as lists)."""
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    return value


def _label(node: Mapping[str, Any]) -> str:
    return f"{node['name']} ({node['type']})"


def _wire_key(edge: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (edge["src"], edge["src_port"], edge["dst"], edge["dst_port"])


def _wire_text(wire: tuple[str, str, str, str], nodes: Mapping[str, Mapping[str, Any]]) -> str:
    src, src_port, dst, dst_port = wire

    def name(nid: str) -> str:
        return nodes[nid]["name"] if nid in nodes else nid

    return f"{name(src)}.{src_port} → {name(dst)}.{dst_port}"


def _setting_name(key: str) -> str:
    # "config.lr" reads better as "lr"; dataset options keep their prefix
    return key.removeprefix("config.")


def _show(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return str(value)
