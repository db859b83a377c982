"""Every layer type's shape rule and parameter count against what PyTorch really does.

CASES (graph_testkit.LAYER_CASES) holds example inputs and parameters for every
registered type; a type added to the catalog without rows there fails
``test_every_registered_layer_type_has_cases``, and a parameter that no row sets to a
non-default value fails ``test_every_parameter_is_exercised_away_from_its_default``.
"""

from __future__ import annotations

import pytest
import torch
from graph_testkit import LAYER_CASES as CASES
from graph_testkit import all_layer_types, check_shapes_and_counts, single_layer_graph
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnstudio.graph import REGISTRY, infer_shapes


def _cases():
    for type_name in sorted(CASES):
        for i, case in enumerate(CASES[type_name]):
            yield pytest.param(type_name, *case[:2], case[2] if len(case) > 2 else "float",
                               id=f"{type_name}-{i}")


def test_every_registered_layer_type_has_cases():
    missing = sorted(set(all_layer_types()) - set(CASES))
    assert not missing, f"add rows to CASES for the new layer types {missing}"
    unknown = sorted(set(CASES) - set(all_layer_types()))
    assert not unknown, f"CASES names types the catalog does not have: {unknown}"


def test_every_parameter_is_exercised_away_from_its_default():
    untested = []
    for spec in REGISTRY:
        for p in spec.params:
            values = [spec.clean_params(case[1])[p.name] for case in CASES.get(spec.type, [])]
            if p.name == "shape" and spec.type == "Input":
                values = [tuple(case[0][0]) for case in CASES["Input"]]
            if p.name == "dtype" and spec.type == "Input":
                values = [case[2] if len(case) > 2 else "float" for case in CASES["Input"]]
            if all(v == p.default for v in values):
                untested.append(f"{spec.type}.{p.name}")
    assert not untested, f"no case sets these parameters away from their default: {untested}"


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize(("type_name", "in_shapes", "params", "dtype"), list(_cases()))
def test_inferred_shape_and_param_count_match_pytorch(type_name, in_shapes, params, dtype,
                                                      mode):
    g, _node = single_layer_graph(type_name, in_shapes, params, dtype)
    res = infer_shapes(g)
    assert res.ok, [e.message for e in res.all_errors()]
    check_shapes_and_counts(g, batch=3, train=(mode == "train"))


def test_conv2d_on_a_known_image_gives_the_textbook_shape():
    # LeNet's first layer: 1x32x32 → 6x28x28, 156 parameters (an independent oracle)
    g, node = single_layer_graph("Conv2d", [(1, 32, 32)], {"out_channels": 6,
                                                           "kernel_size": 5})
    res = infer_shapes(g)
    assert res.output_shape(node.id) == ("B", 6, 28, 28)
    assert res.param_counts[node.id] == 156


def test_lstm_parameter_count_matches_the_formula():
    # 4 gates x (input weights + recurrent weights + two biases), per layer and direction
    g, node = single_layer_graph("LSTM", [(5, 10)], {"hidden_size": 20, "num_layers": 2,
                                                     "bidirectional": True})
    res = infer_shapes(g)
    first = 2 * 4 * 20 * (10 + 20 + 2)
    second = 2 * 4 * 20 * (40 + 20 + 2)
    assert res.param_counts[node.id] == first + second
    assert res.output_shape(node.id) == ("B", 5, 40)


# --------------------------------------------------------------------------- property
# Whatever parameters and input shapes a person picks: if inference accepts them, the
# compiled layer runs and produces exactly the inferred shape and parameter count.

def _param_values(p):
    if p.kind in ("text", "graph", "names"):  # a Block's graph and ports: test_blocks.py
        return st.just(p.default)
    if p.kind == "bool":
        return st.booleans()
    if p.kind == "choice":
        return st.sampled_from(p.choices)
    if p.kind == "float":
        lo = p.min if p.min is not None else 0.0
        hi = p.max if p.max is not None else lo + 1.0
        return st.sampled_from(sorted({lo, p.default, hi, (lo + hi) / 2}))
    lo = int(p.min) if p.min is not None else 0
    hi = int(p.max) if p.max is not None else lo + 6
    if p.kind == "int":
        if lo < 0:  # dimension indices
            return st.integers(max(lo, -4), min(hi, 3))
        return st.integers(lo, min(hi, lo + 5))
    # "ints": short lists of small numbers
    elem = st.integers(max(lo, -1), min(hi, 5)) if lo < 1 else st.integers(lo, min(hi, 5))
    return st.lists(elem, min_size=p.min_len, max_size=min(p.max_len, 4)).map(tuple)


# the rank (without batch) a family takes, drawn most of the time so that the property
# reaches the layers' interesting branches instead of their rank check
_RANK_HINT = {"Conv1d": 2, "MaxPool1d": 2, "Conv2d": 3, "ConvTranspose2d": 3, "MaxPool2d": 3,
              "AvgPool2d": 3, "AdaptiveAvgPool2d": 3, "BatchNorm2d": 3, "RNN": 2, "LSTM": 2,
              "GRU": 2, "MultiheadAttention": 2, "TransformerEncoderLayer": 2,
              "PositionalEncoding": 2}


def _draw_case(draw, type_name):
    spec = REGISTRY.get(type_name)
    hint = _RANK_HINT.get(type_name)
    if hint and draw(st.integers(0, 3)):
        rank = hint
    else:
        rank = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(1, 9), min_size=rank, max_size=rank)))
    params = {}
    for p in spec.params:
        if not draw(st.booleans()):
            continue  # keep the default
        if type_name == "Permute" and p.name == "dims":
            # a generic list of ints is almost never a permutation; draw one that often is
            perm = draw(st.permutations(range(rank + 1)))
            if draw(st.booleans()):
                perm = [0] + [d for d in perm if d != 0]
            params[p.name] = tuple(perm)
        else:
            params[p.name] = draw(_param_values(p))
    clean = spec.clean_params(params)
    n_in = len(spec.input_ports(clean))
    shapes = [shape] * n_in
    if n_in > 1 and draw(st.booleans()):  # sometimes inputs that differ in one dim
        d = draw(st.integers(0, rank - 1))
        shapes = [shape[:d] + (draw(st.integers(1, 7)),) + shape[d + 1:] for _ in shapes]
    dtype = "long" if type_name == "Embedding" else "float"
    return shapes, params, dtype


@pytest.mark.parametrize("type_name", [t for t in all_layer_types()
                                       if t not in ("Input", "Output")])
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_whatever_inference_accepts_runs_with_that_shape(type_name, data):
    shapes, params, dtype = _draw_case(data.draw, type_name)
    g, _node = single_layer_graph(type_name, shapes, params, dtype)
    res = infer_shapes(g)  # never raises, whatever arrives
    if not res.ok:
        assert all(err.message.startswith(f"{type_name} '") for err in res.all_errors())
        return
    check_shapes_and_counts(g, batch=2)


def test_single_layer_graphs_compile_with_one_thread():
    # guard: the suite must not oversubscribe the shared CI cores
    assert torch.get_num_threads() == 1
