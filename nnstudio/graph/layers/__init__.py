"""The layer catalog: one module per family; importing this package registers them all."""

from . import (  # noqa: F401  (imported for their registrations)
    activations,
    attention,
    block,
    conv,
    embedding,
    io,
    linear,
    merge,
    normalization,
    pooling,
    probabilistic,
    recurrent,
    reduce,
    regularization,
    reshape,
)
