"""Block: a node that runs another graph as one layer (see :mod:`nnstudio.graph.blocks`)."""

from ..params import GraphName, Names, Text
from ..spec import REGISTRY, LayerSpec, PortSpec


def _inputs(params):
    return tuple(PortSpec(name, "any", "an Input of the block's graph")
                 for name in params.get("inputs", ()))


def _outputs(params):
    return tuple(PortSpec(name, "any", "an Output of the block's graph")
                 for name in params.get("outputs", ()))


# the rules live in nnstudio.graph.blocks, which needs shape inference; importing it
# when a rule first runs keeps the catalog importable on its own
def _infer(c):
    from .. import blocks
    return blocks.infer(c)


def _count(c):
    from .. import blocks
    return blocks.count(c)


def _derive(params, graph):
    from .. import blocks
    return blocks.derive_params(params, graph)


def _context_key(node, graph):
    from .. import blocks
    return blocks.context_key(node, graph)


REGISTRY.register(
    LayerSpec(
        "Block", "Block",
        "Runs another graph as one layer — a VGG stage, a residual block, a trained "
        "network to reuse — written as a nested nn.Module class.",
        infer=_infer,
        params=(
            GraphName("graph", "", "the graph this block runs: one of this project's "
                                   "graphs, or of the source file", key=True),
            Text("source", "", "another project file (a path relative to this one) whose "
                               "graph and trained weights the block reuses; empty: this "
                               "project"),
            Names("inputs", (), "the block's input ports: the Input nodes of its graph",
                  derived=True),
            Names("outputs", (), "the block's output ports: the Output nodes of its graph",
                  derived=True),
        ),
        inputs_fn=_inputs, outputs_fn=_outputs,
        module=lambda c: c.classes.block_constructor(c),
        count=_count, name_hint="block", derive=_derive, context_key=_context_key,
    ),
)
