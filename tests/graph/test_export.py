"""The exported file is the trained model: same class, same weights, same outputs."""

from __future__ import annotations

import ast
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from graph_testkit import LAYER_CASES, as_tuple, example_inputs, single_layer_graph

from nnstudio.graph import Graph, compile_graph, generate


def _wire(g: Graph, src, dst, port="in"):
    g.connect(src.id, "out", dst.id, port)
    return dst


def mlp() -> Graph:
    g = Graph("Tabular MLP")
    x = g.add_node("Input", "features", {"shape": (10,)})
    h = _wire(g, x, g.add_node("Linear", "hidden", {"out_features": 16}))
    h = _wire(g, h, g.add_node("BatchNorm1d", "bn"))
    h = _wire(g, h, g.add_node("PReLU", "act", {"num_parameters": 16}))
    h = _wire(g, h, g.add_node("Dropout", "drop", {"p": 0.3}))
    h = _wire(g, h, g.add_node("Linear", "logits", {"out_features": 3}))
    h = _wire(g, h, g.add_node("LogSoftmax", "log_probs"))
    _wire(g, h, g.add_node("Output", "y"))
    return g


def cnn() -> Graph:
    g = Graph("Small ResNet")
    x = g.add_node("Input", "image", {"shape": (3, 12, 12)})
    c = _wire(g, x, g.add_node("Conv2d", "stem", {"out_channels": 8, "padding": 1}))
    c = _wire(g, c, g.add_node("BatchNorm2d", "bn"))
    r = _wire(g, c, g.add_node("ReLU", "relu"))
    b = _wire(g, r, g.add_node("Conv2d", "branch", {"out_channels": 8, "padding": 1,
                                                     "groups": 2, "bias": False}))
    add = g.add_node("Add", "residual")
    _wire(g, r, add, "in1")
    _wire(g, b, add, "in2")
    p = _wire(g, add, g.add_node("MaxPool2d", "pool"))
    up = _wire(g, p, g.add_node("ConvTranspose2d", "up", {"out_channels": 4, "stride": 2,
                                                          "kernel_size": 2}))
    up = _wire(g, up, g.add_node("Upsample", "zoom", {"mode": "bilinear"}))
    a = _wire(g, up, g.add_node("AvgPool2d", "avg", {"kernel_size": 3, "stride": 2,
                                                     "padding": 1}))
    a = _wire(g, a, g.add_node("AdaptiveAvgPool2d", "gap", {"output_size": (2, 2)}))
    f = _wire(g, a, g.add_node("Flatten", "flat"))
    _wire(g, f, g.add_node("Output", "features"))
    head = _wire(g, f, g.add_node("Linear", "head", {"out_features": 5}))
    _wire(g, head, g.add_node("Output", "logits"))
    return g


def sequence() -> Graph:
    g = Graph("Text Encoder")
    x = g.add_node("Input", "tokens", {"shape": (9,), "dtype": "long"})
    e = _wire(g, x, g.add_node("Embedding", "embed", {"num_embeddings": 20,
                                                      "embedding_dim": 8}))
    e = _wire(g, e, g.add_node("PositionalEncoding", "pos", {"max_len": 16}))
    e = _wire(g, e, g.add_node("TransformerEncoderLayer", "block",
                               {"nhead": 2, "dim_feedforward": 16, "norm_first": True,
                                "activation": "gelu"}))
    e = _wire(g, e, g.add_node("MultiheadAttention", "attn", {"num_heads": 2}))
    e = _wire(g, e, g.add_node("LayerNorm", "norm"))
    s = _wire(g, e, g.add_node("GRU", "gru", {"hidden_size": 6, "num_layers": 2,
                                              "bidirectional": True}))
    t = _wire(g, s, g.add_node("Permute", "to_channels", {"dims": (0, 2, 1)}))
    t = _wire(g, t, g.add_node("Conv1d", "conv", {"out_channels": 4, "kernel_size": 3}))
    t = _wire(g, t, g.add_node("MaxPool1d", "pool"))
    t = _wire(g, t, g.add_node("Permute", "to_steps", {"dims": (0, 2, 1)}))
    h = _wire(g, t, g.add_node("LSTM", "lstm", {"hidden_size": 5, "output": "hidden",
                                                "bidirectional": True}))
    r = _wire(g, s, g.add_node("RNN", "rnn", {"hidden_size": 10, "output": "last",
                                              "nonlinearity": "relu"}))
    cat = g.add_node("Concat", "both", {"dim": -1})
    _wire(g, h, cat, "in1")
    _wire(g, r, cat, "in2")
    out = _wire(g, cat, g.add_node("Linear", "classify", {"out_features": 2}))
    _wire(g, out, g.add_node("Output", "y"))
    return g


def vae() -> Graph:
    g = Graph("VAE")
    x = g.add_node("Input", "x", {"shape": (2, 8)})
    f = _wire(g, x, g.add_node("Flatten", "flat"))
    h = _wire(g, f, g.add_node("Linear", "enc", {"out_features": 12}))
    h = _wire(g, h, g.add_node("ELU", "elu", {"alpha": 0.7}))
    mu = _wire(g, h, g.add_node("Linear", "mu", {"out_features": 4}))
    lv = _wire(g, h, g.add_node("Linear", "logvar", {"out_features": 4}))
    z = g.add_node("Reparameterize", "z")
    _wire(g, mu, z, "mu")
    _wire(g, lv, z, "logvar")
    d = _wire(g, z, g.add_node("Linear", "dec", {"out_features": 16}))
    d = _wire(g, d, g.add_node("Sigmoid", "sig"))
    d = _wire(g, d, g.add_node("Reshape", "unflat", {"shape": (-1, 8)}))
    _wire(g, d, g.add_node("Output", "recon"))
    _wire(g, mu, g.add_node("Output", "mu_out"))
    _wire(g, lv, g.add_node("Output", "logvar_out"))
    return g


def gates() -> Graph:
    g = Graph("Gated")
    a = g.add_node("Input", "a", {"shape": (3, 4)})
    b = g.add_node("Input", "b", {"shape": (12,)})
    u = _wire(g, b, g.add_node("Unflatten", "split", {"sizes": (3, 4)}))
    s = _wire(g, u, g.add_node("Sigmoid", "gate"))
    t = _wire(g, a, g.add_node("Tanh", "cand"))
    m = g.add_node("Multiply", "mul")
    _wire(g, s, m, "in1")
    _wire(g, t, m, "in2")
    n = _wire(g, m, g.add_node("LayerNorm", "ln", {"dims": 2, "affine": True}))
    n = _wire(g, n, g.add_node("SiLU", "silu"))
    n = _wire(g, n, g.add_node("Softplus", "sp", {"beta": 2.0}))
    n = _wire(g, n, g.add_node("LeakyReLU", "lrelu", {"negative_slope": 0.1}))
    n = _wire(g, n, g.add_node("GELU", "gelu"))
    n = _wire(g, n, g.add_node("Identity", "same"))
    n = _wire(g, n, g.add_node("Softmax", "attn", {"dim": 1}))
    _wire(g, n, g.add_node("Output", "y"))
    return g


GRAPHS = {"mlp": mlp, "cnn": cnn, "sequence": sequence, "vae": vae, "gates": gates}


def _perturb(model: torch.nn.Module, inputs: list[torch.Tensor]) -> None:
    """One SGD step (moves weights and BatchNorm statistics), then noise on everything."""
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = sum(o.float().pow(2).mean() for o in as_tuple(model(*inputs)))
    loss.backward()
    opt.step()
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.add_(torch.randn_like(t) * 0.05)


def _import_file(path: Path):
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _imported_modules(source: str) -> set[str]:
    mods = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            mods.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            mods.add((node.module or "").split(".")[0])
    return mods


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_exported_file_loads_the_app_weights_and_gives_identical_outputs(name, tmp_path):
    g = GRAPHS[name]()
    torch.manual_seed(0)
    model = compile_graph(g)
    gen = model.nnstudio_code
    inputs = example_inputs(g, batch=4, seed=1, code=gen)
    _perturb(model, inputs)
    weights = tmp_path / "weights.pt"
    torch.save(model.state_dict(), weights)

    source = generate(g).source
    assert source == gen.source  # the app trains exactly the text export writes
    assert _imported_modules(source) <= {"torch", "math"}
    file = tmp_path / f"{name}_model.py"
    file.write_text(source, encoding="utf-8")
    exported = getattr(_import_file(file), gen.class_name)()
    exported.load_state_dict(torch.load(weights, weights_only=True), strict=True)

    model.eval()
    exported.eval()
    with torch.no_grad():
        want = as_tuple(model(*inputs))
        got = as_tuple(exported(*inputs))
    assert len(want) == len(got)
    for w, o in zip(want, got):
        assert torch.equal(w, o)
    # and the weights really moved away from a fresh instance's
    fresh = compile_graph(g).state_dict()
    assert any(not torch.equal(fresh[k], v) for k, v in model.state_dict().items()
               if v.is_floating_point())


def test_exported_file_runs_as_a_script_without_nnstudio(tmp_path):
    file = tmp_path / "text_encoder.py"
    file.write_text(generate(sequence()).source, encoding="utf-8")
    # nnstudio made unimportable: the file must need nothing but PyTorch
    code = ("import sys, runpy; sys.modules['nnstudio'] = None; "
            f"runpy.run_path({str(file)!r}, run_name='__main__')")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "tensor(" in proc.stdout


def _ruff() -> list[str] | None:
    exe = Path(sys.executable).with_name("ruff")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("ruff")
    if found:
        return [found]
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    return None


def test_generated_files_pass_ruff_with_default_rules(tmp_path):
    ruff = _ruff()
    if ruff is None:
        pytest.skip("ruff is not installed (pip install ruff, or the [test] extra)")
    files = []
    for name, build in GRAPHS.items():
        files.append((f"graph_{name}.py", generate(build()).source))
    for type_name, cases in LAYER_CASES.items():  # every layer type of every family
        for i, case in enumerate(cases):
            g, _ = single_layer_graph(type_name, case[0], case[1],
                                      case[2] if len(case) > 2 else "float")
            files.append((f"layer_{type_name.lower()}_{i}.py", generate(g).source))
    for fname, source in files:
        (tmp_path / fname).write_text(source, encoding="utf-8")
    # --isolated: ruff's own defaults, not this repository's settings; the classic
    # pycodestyle/pyflakes defaults (E4, E7, E9, F) are added in case a ruff release
    # changes what "default" means
    proc = subprocess.run([*ruff, "check", "--isolated", "--no-cache",
                           "--extend-select", "E4,E7,E9,F", "--output-format", "concise",
                           str(tmp_path)], capture_output=True, text=True, check=False,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(files) > 100
