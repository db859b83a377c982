"""The graph canvas: nodes and wires of one graph, drawn from the document and edited
through undoable commands.

``GraphCanvas(session, graph)`` is the widget; ``LAYER_MIME`` is what a palette drag
carries (a layer type name) and ``FRAGMENT_MIME`` what copy puts on the clipboard.
"""

from .clipboard import FRAGMENT_MIME, LAYER_MIME
from .view import GraphCanvas

__all__ = ["FRAGMENT_MIME", "LAYER_MIME", "GraphCanvas"]
