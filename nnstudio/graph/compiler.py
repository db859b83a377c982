"""Compiling a graph: generate its source, execute that source, instantiate the class.

This is the only place nnstudio executes code, and the code it executes is always text
that :func:`nnstudio.graph.codegen.generate` has just written.
"""

from __future__ import annotations

import linecache

from .codegen import GeneratedCode, generate
from .document import Graph


def compile_source(gen: GeneratedCode):
    """Execute generated source and return the model class it defines."""
    filename = f"<nnstudio:{gen.class_name}:{abs(hash(gen.source)):x}>"
    # let tracebacks from inside the model show the generated lines
    linecache.cache[filename] = (len(gen.source), None, gen.source.splitlines(True), filename)
    namespace: dict = {"__name__": f"nnstudio_generated_{gen.class_name}"}
    exec(compile(gen.source, filename, "exec"), namespace)  # our generator's text only
    return namespace[gen.class_name]


def compile_graph(graph: Graph):
    """An ``nn.Module`` instance of exactly the class that export writes for ``graph``.

    The generated code is attached as ``model.nnstudio_code`` (a GeneratedCode) so that
    callers can map node ids to submodule names.
    """
    gen = generate(graph)
    model = compile_source(gen)()
    model.nnstudio_code = gen
    return model
