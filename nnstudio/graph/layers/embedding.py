"""Lookup tables from token ids to vectors."""

from ..params import Int
from ..spec import REGISTRY, LayerSpec, PortSpec

REGISTRY.register(
    LayerSpec(
        "Embedding", "Embedding", "Maps each integer token id to a learnt vector.",
        infer=lambda c: [tuple(c.x) + (c["embedding_dim"],)],
        params=(Int("num_embeddings", 100, 1, 10_000_000, "vocabulary size", key=True),
                Int("embedding_dim", 32, 1, 100_000, "size of each vector", key=True)),
        inputs=(PortSpec("in", "long", "token ids"),),
        module=lambda c: f"nn.Embedding({c['num_embeddings']}, {c['embedding_dim']})",
        count=lambda c: c["num_embeddings"] * c["embedding_dim"], name_hint="embed",
    ),
)
