"""Where data enters and leaves a graph: Input, Output, Identity."""

from ..params import Choice, Ints
from ..shapes import BATCH
from ..spec import REGISTRY, LayerSpec, PortSpec


def _input_outputs(params):
    return (PortSpec("out", "long" if params.get("dtype") == "long" else "float"),)


REGISTRY.register(
    LayerSpec(
        "Input", "Input / Output", "Where a batch of examples enters the network.",
        infer=lambda c: [(BATCH,) + tuple(c["shape"])],
        params=(
            Ints("shape", (2,), min=1, max=1_000_000, max_len=5,
                 doc="shape of one example, without the batch dimension", key=True),
            Choice("dtype", "float", ("float", "long"),
                   doc="real values, or integer token ids for an Embedding"),
        ),
        inputs=(), outputs_fn=_input_outputs, name_hint="x",
    ),
    LayerSpec(
        "Output", "Input / Output", "What the network returns (a graph may have several).",
        infer=lambda c: [], inputs=(PortSpec("in", "any"),), outputs=(), name_hint="output",
    ),
    LayerSpec(
        "Identity", "Input / Output", "Passes its input through unchanged (a placeholder).",
        infer=lambda c: [c.x], inputs=(PortSpec("in", "any"),),
        outputs=(PortSpec("out", "any"),),
        module=lambda c: "nn.Identity()", name_hint="identity",
    ),
)
