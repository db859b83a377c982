"""The canvas's edit operations: each builds one command and pushes it on the session.

:class:`CanvasEdits` is mixed into :class:`~.view.GraphCanvas`; it uses the canvas's
``graph``, ``session``, ``scene_model``, ``snap_to_grid`` and its selection methods.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtGui import QCursor, QGuiApplication

from ...graph.document import GraphError
from ...graph.layout import layered_layout
from ..commands import (
    AddNodeCommand,
    DisconnectCommand,
    Macro,
    MoveNodesCommand,
    PasteCommand,
    RemoveNodesCommand,
    RenameGraphCommand,
    collapse_into_block,
    expand_block,
    insert_on_wire,
    selection_fragment,
)
from .clipboard import fragment_mime, parse_layer_key, read_fragment
from .geometry import LAYOUT_COLUMN, node_geometry, snap

PASTE_STEP = 40.0


class CanvasEdits:
    """Adding, deleting, clipboard and layout — the canvas's public edit methods."""
    def add_node_at(self, type_name: str, scene_pos: QPointF) -> str | None:
        """Add a ``type_name`` node centred on ``scene_pos`` — inserted into the wire
        there, if any — as one undo step; returns its id (None if refused).

        ``type_name`` may also be ``Block:<graph name>``: a block running that graph."""
        registry = self.graph.registry
        type_name, params = parse_layer_key(type_name)
        if type_name not in registry:
            self.session.message.emit(f"unknown layer type {type_name!r}")
            return None
        spec = registry.get(type_name)
        try:
            defaults = self.graph.full_params(type_name, params)
        except GraphError as e:
            self.session.message.emit(str(e))
            return None
        geom = node_geometry(spec, defaults)
        x, y = scene_pos.x() - geom.width / 2, scene_pos.y() - geom.height / 2
        if self.snap_to_grid:
            x, y = snap(x), snap(y)
        wire = self.scene_model.wire_at(scene_pos)
        if wire is not None and spec.input_ports(defaults) and spec.output_ports(defaults):
            macro = insert_on_wire(self.graph, type_name, (x, y), wire.edge, params)
            if self.session.push(macro):
                node_id = macro.commands[0].node_id
                self.select_ids([node_id])
                return node_id
            # a refused insertion (say, a wrong dtype) still adds the layer, unwired
        command = AddNodeCommand(self.graph, type_name, (x, y), params)
        if not self.session.push(command):
            return None
        self.select_ids([command.node_id])
        return command.node_id

    def _delete_command(self, verb: str = "Delete"):
        nodes = self.selected_ids()
        gone = set(nodes)
        wires = [w.edge for w in self._selected_wires()
                 if w.edge.src not in gone and w.edge.dst not in gone]
        commands = [DisconnectCommand(self.graph, e) for e in wires]
        if nodes:
            commands.append(RemoveNodesCommand(self.graph, nodes))
        if not commands:
            return None
        parts = []
        if nodes:
            parts.append(self.graph.node(nodes[0]).name if len(nodes) == 1
                         else f"{len(nodes)} nodes")
        if wires:
            parts.append("1 wire" if len(wires) == 1 else f"{len(wires)} wires")
        text = f"{verb} {' and '.join(parts)}"
        if len(commands) == 1:
            commands[0].setText(text)
            return commands[0]
        return Macro(text, commands)

    def delete_selection(self) -> None:
        """Delete the selected nodes (with their wires) and selected wires: one step."""
        command = self._delete_command()
        if command is not None:
            self.session.push(command)

    def copy_selection(self) -> None:
        ids = self.selected_ids()
        if ids:
            QGuiApplication.clipboard().setMimeData(
                fragment_mime(selection_fragment(self.graph, ids)))

    def cut_selection(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        self.copy_selection()
        command = self._delete_command("Cut")
        if command is not None:
            self.session.push(command)

    def paste(self) -> None:
        """Paste the clipboard's nodes at the pointer (or beside where they were copied),
        into this graph, whichever graph or program they were copied from."""
        frag = read_fragment(QGuiApplication.clipboard().mimeData(), self.graph.registry)
        if frag is None:
            self.session.message.emit("The clipboard holds no nnstudio layers")
            return
        self._paste(frag, self._cursor_scene_pos(), "Paste")

    def duplicate_selection(self) -> None:
        ids = self.selected_ids()
        if ids:
            self._paste(selection_fragment(self.graph, ids), None, "Duplicate")

    def _paste(self, frag: dict, at: QPointF | None, verb: str) -> None:
        xs = [n["pos"][0] for n in frag["nodes"]]
        ys = [n["pos"][1] for n in frag["nodes"]]
        left, top = min(xs), min(ys)
        if at is not None:  # the fragment's top-left corner goes to the pointer
            bx, by = (snap(at.x()), snap(at.y())) if self.snap_to_grid else (at.x(), at.y())
            dx, dy, k = bx - left, by - top, 0
        else:  # beside where it was copied from
            dx = dy = 0.0
            k = 1
        # step down-right while the copy would sit exactly on nodes already there
        taken = {tuple(n.pos) for n in self.graph.nodes}
        while k < 100 and any((x + dx + k * PASTE_STEP, y + dy + k * PASTE_STEP) in taken
                              for x, y in zip(xs, ys)):
            k += 1
        dx, dy = dx + k * PASTE_STEP, dy + k * PASTE_STEP
        command = PasteCommand(self.graph, frag, (dx, dy))
        n = len(command.node_ids)
        command.setText(f"{verb} {n} node{'s' * (n != 1)}")
        if self.session.push(command):
            self.select_ids(command.node_ids)

    def _cursor_scene_pos(self) -> QPointF | None:
        vp = self.viewport()
        local = vp.mapFromGlobal(QCursor.pos())
        if vp.isVisible() and vp.rect().contains(local) and self.underMouse():
            return self.mapToScene(local)
        return None

    # ------------------------------------------------------------ blocks
    def collapse_selection(self, name: str | None = None) -> str | None:
        """Put the selected layers into a new graph and a Block running it in their
        place, as one undo step (Edit ▸ Collapse into Block); returns the block's id."""
        try:
            macro = collapse_into_block(self.session.project, self.graph, self.selected_ids(),
                                        self.session.inference(self.graph), name)
        except GraphError as e:
            self.session.message.emit(f"Cannot collapse into a block: {e}")
            return None
        if not self.session.push(macro):
            return None
        block_id = macro.commands[2].node_id
        self.select_ids([block_id])
        self.session.message.emit(f"{macro.text()}: its graph has its own tab")
        return block_id

    def expand_selected_block(self) -> list[str] | None:
        """Replace the one selected Block by the layers of its graph, as one undo step
        (Edit ▸ Expand Block); returns the new nodes' ids."""
        ids = self.selected_ids()
        blocks = [nid for nid in ids if self.graph.node(nid).type == "Block"]
        if len(ids) != 1 or not blocks:
            self.session.message.emit("Select one block to expand")
            return None
        try:
            macro = expand_block(self.graph, blocks[0])
        except GraphError as e:
            self.session.message.emit(f"Cannot expand: {e}")
            return None
        if not self.session.push(macro):
            return None
        new_ids = macro.commands[1].node_ids
        self.select_ids(new_ids)
        return new_ids

    def open_block_graph(self, node_id: str) -> bool:
        """Show the tab of the graph Block ``node_id`` runs (double-click on a block)."""
        node = self.graph.node(node_id)
        project = self.graph.project
        if node.type != "Block" or node.params.get("source") or project is None:
            return False
        for g in project.graphs:
            if g.name == node.params.get("graph"):
                self.session.set_current_graph(g)
                return True
        return False

    def rename_graph(self, name: str) -> bool:
        """Rename this canvas's graph (its tab); the blocks that run it follow."""
        name = name.strip()
        if not name or name == self.graph.name:
            return False
        return self.session.push(RenameGraphCommand(self.graph, name))

    def auto_layout(self) -> None:
        """Arrange the nodes in columns by depth, as one undo step ("Auto-layout")."""
        if not self.scene_model.nodes:
            return
        tallest = max(it.geom.height for it in self.scene_model.nodes.values())
        placed = layered_layout(self.graph, column=LAYOUT_COLUMN, row=snap(tallest + 50))
        moves = {}
        for nid, (x, y) in placed.items():
            new = (snap(x), snap(y)) if self.snap_to_grid else (x, y)
            old = self.graph.node(nid).pos
            if new != old:
                moves[nid] = (old, new)
        if moves:
            self.session.push(MoveNodesCommand(self.graph, moves, text="Auto-layout"))
        self.frame_all()
