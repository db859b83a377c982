"""Compiling a graph: generate its source, execute that source, instantiate the class.

This is the only place nnstudio executes code, and the code it executes is always text
that :func:`nnstudio.graph.codegen.generate` has just written.
"""

from __future__ import annotations

import contextlib
import gc
import linecache
from collections.abc import Iterator

from .codegen import GeneratedCode, generate
from .document import Graph
from .shape_inference import InferenceResult


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector off while thousands of objects are made.

    Building a model allocates many small objects (modules, parameters, dicts); each
    allocation burst triggers a collection that walks every live object, which made
    instantiating a 5,000-layer model quadratic.  Nothing made here is garbage yet.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def compile_source(gen: GeneratedCode):
    """Execute generated source and return the model class it defines."""
    filename = f"<nnstudio:{gen.class_name}:{abs(hash(gen.source)):x}>"
    # let tracebacks from inside the model show the generated lines
    linecache.cache[filename] = (len(gen.source), None, gen.source.splitlines(True), filename)
    namespace: dict = {"__name__": f"nnstudio_generated_{gen.class_name}"}
    with _gc_paused():
        code = compile(gen.source, filename, "exec")
        exec(code, namespace)  # noqa: S102  (our generator's text only)
    return namespace[gen.class_name]


def build_model(gen: GeneratedCode):
    """Compile ``gen`` and instantiate its class; the code is attached as
    ``model.nnstudio_code``.

    Blocks that reuse another project's network get that project's trained weights
    (read with ``weights_only=True``); a missing or unfitting file raises CodegenError.
    """
    cls = compile_source(gen)
    with _gc_paused():
        model = cls()
    if gen.external_weights:
        from .transfer import load_block_weights

        load_block_weights(model, gen.external_weights)
    model.nnstudio_code = gen
    return model


def compile_graph(graph: Graph, result: InferenceResult | None = None):
    """An ``nn.Module`` instance of exactly the class that export writes for ``graph``.

    ``result`` is a shape-inference result for the graph as it is now, if the caller
    has one (it saves a pass).  The generated code is attached as
    ``model.nnstudio_code`` (a GeneratedCode) so that callers can map node ids to
    submodule names.
    """
    return build_model(generate(graph, result))
