"""The document room: graphs, the layer catalog, shape inference, code generation, files.

Pure Python (networkx, psygnal); no Qt, no training.
"""

from . import layers  # noqa: F401  (registers the catalog)
from .codegen import CodegenError, GeneratedCode, generate
from .compiler import build_model, compile_graph, compile_source
from .document import Edge, Graph, GraphError, Node, Project
from .params import ParamError
from .shape_inference import InferenceResult, NodeError, ShapeInference, infer_shapes
from .shapes import BATCH, Shape, ShapeError, fmt_shape
from .spec import REGISTRY, LayerSpec, PortSpec

__all__ = [
    "BATCH",
    "REGISTRY",
    "CodegenError",
    "Edge",
    "GeneratedCode",
    "Graph",
    "GraphError",
    "InferenceResult",
    "LayerSpec",
    "Node",
    "NodeError",
    "ParamError",
    "PortSpec",
    "Project",
    "Shape",
    "ShapeError",
    "ShapeInference",
    "build_model",
    "compile_graph",
    "compile_source",
    "fmt_shape",
    "generate",
    "infer_shapes",
]
