"""Automatic layout: layers of the graph placed left to right, crossings kept low."""

from __future__ import annotations

from .document import Graph

COLUMN = 240.0
ROW = 130.0


def layered_layout(graph: Graph, column: float = COLUMN, row: float = ROW
                   ) -> dict[str, tuple[float, float]]:
    """Positions for every node: column = longest path from an input, rows ordered by the
    mean row of each node's predecessors (one barycentre sweep), centred vertically."""
    order = graph.topological_order()
    rank: dict[str, int] = {}
    for nid in order:
        preds = [e.src for e in graph.in_edges(nid)]
        rank[nid] = 1 + max((rank[p] for p in preds), default=-1)
    columns: dict[int, list[str]] = {}
    for nid in order:
        columns.setdefault(rank[nid], []).append(nid)
    row_of: dict[str, float] = {}
    pos: dict[str, tuple[float, float]] = {}
    for r in sorted(columns):
        ids = columns[r]
        # (list.sort empties the list while it sorts, so the fallback index is taken first)
        index = {nid: i for i, nid in enumerate(ids)}

        def bary(nid: str, _index=index) -> float:
            preds = [row_of[e.src] for e in graph.in_edges(nid) if e.src in row_of]
            return sum(preds) / len(preds) if preds else float(_index[nid])

        ids.sort(key=bary)
        for i, nid in enumerate(ids):
            row_of[nid] = i - (len(ids) - 1) / 2
            pos[nid] = (r * column, row_of[nid] * row)
    return pos
