"""Copied fragments on the clipboard: written as JSON, read back with the same care as a
project file, since the text may come from another program or another nnstudio."""

from __future__ import annotations

import json
import math
from typing import Any

from PySide6.QtCore import QMimeData

from ...graph.spec import Registry

LAYER_MIME = "application/x-nnstudio-layer"  # a palette drag: a layer key (below), utf-8
BLOCK_PREFIX = "Block:"


def block_key(graph_name: str) -> str:
    """The layer key of "a Block that runs graph ``graph_name``" (palette, quick add)."""
    return BLOCK_PREFIX + graph_name


def parse_layer_key(key: str) -> tuple[str, dict]:
    """A layer key — a type name, or ``Block:<graph name>`` — as (type name, params)."""
    if key.startswith(BLOCK_PREFIX):
        return "Block", {"graph": key[len(BLOCK_PREFIX):]}
    return key, {}
FRAGMENT_MIME = "application/x-nnstudio-fragment"  # copied nodes: selection_fragment() JSON

MAX_FRAGMENT_NODES = 5000
MAX_FRAGMENT_BYTES = 16 * 1024 * 1024


def fragment_mime(fragment: dict) -> QMimeData:
    """Mime data holding ``fragment`` both as nnstudio's own type and as readable text."""
    text = json.dumps(fragment, indent=1)
    mime = QMimeData()
    mime.setData(FRAGMENT_MIME, text.encode("utf-8"))
    mime.setText(text)
    return mime


def read_fragment(mime: QMimeData | None, registry: Registry) -> dict | None:
    """The fragment on ``mime`` in the shape :class:`PasteCommand` takes, or None if there
    is none or it is malformed (unknown layer types, wrong field types, oversize)."""
    if mime is None:
        return None
    if mime.hasFormat(FRAGMENT_MIME):
        raw = bytes(mime.data(FRAGMENT_MIME))
    elif mime.hasText():
        raw = mime.text().encode("utf-8")
    else:
        return None
    if len(raw) > MAX_FRAGMENT_BYTES:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return clean_fragment(data, registry)


def clean_fragment(data: Any, registry: Registry) -> dict | None:
    if not isinstance(data, dict) or data.get("format") != "nnstudio-fragment":
        return None
    nodes_in, edges_in = data.get("nodes"), data.get("edges", [])
    if not isinstance(nodes_in, list) or not isinstance(edges_in, list):
        return None
    if not nodes_in or len(nodes_in) > MAX_FRAGMENT_NODES:
        return None
    nodes, ids = [], set()
    for nd in nodes_in:
        if not isinstance(nd, dict):
            return None
        nid, typ = nd.get("id"), nd.get("type")
        if not isinstance(nid, str) or not isinstance(typ, str) or typ not in registry:
            return None
        if nid in ids:
            return None
        ids.add(nid)
        params = nd.get("params", {})
        if not isinstance(params, dict):
            return None
        pos = nd.get("pos", [0, 0])
        if (not isinstance(pos, (list, tuple)) or len(pos) != 2
                or not all(_finite(v) for v in pos)):
            return None
        name = nd.get("name")
        if name is not None and not isinstance(name, str):
            return None
        lr = nd.get("lr_mult", 1.0)
        nodes.append({"id": nid, "type": typ, "name": name, "params": params,
                      "pos": [float(pos[0]), float(pos[1])],
                      "frozen": nd.get("frozen") is True,
                      "lr_mult": float(lr) if _finite(lr) else 1.0})
    edges = []
    for ed in edges_in:
        if not isinstance(ed, dict):
            return None
        vals = [ed.get(k) for k in ("src", "src_port", "dst", "dst_port")]
        if not all(isinstance(v, str) for v in vals):
            return None
        if vals[0] in ids and vals[2] in ids:
            edges.append(dict(zip(("src", "src_port", "dst", "dst_port"), vals)))
    return {"format": "nnstudio-fragment", "version": 1, "nodes": nodes, "edges": edges}


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
