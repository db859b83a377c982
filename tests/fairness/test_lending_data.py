"""The generated lending set: sensitive columns out of the inputs, a bias planted on purpose."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnstudio.data import DatasetError, get_dataset, load_dataset
from nnstudio.data.fairness_data import generate_lending


def test_it_is_registered_documented_as_synthetic_with_its_options():
    entry = get_dataset("lending")
    assert entry.group == "Generated" and "Synthetic" in entry.description
    assert {o.name for o in entry.options} >= {"label_bias", "proxy_strength", "sensitive",
                                                "keep_in_inputs"}


def test_the_group_is_kept_out_of_the_inputs_and_travels_with_each_split():
    splits = load_dataset("lending", n_samples=1000, seed=3)
    info = splits.info
    assert info.sensitive == (("group", ("A", "B")),)
    assert not any(name.startswith("group") for name in info.feature_names)
    assert info.input_shape == (11,)  # 5 numbers + 6 districts one-hot
    for split in (splits.train, splits.val, splits.test):
        codes = split.extra["group"]
        assert codes.dtype == torch.int64 and len(codes) == len(split)
        assert set(codes.tolist()) == {0, 1}


def test_a_feature_can_be_marked_sensitive_too_or_given_to_the_model():
    both = load_dataset("lending", n_samples=400, sensitive="group, district")
    assert [c for c, _ in both.info.sensitive] == ["group", "district"]
    assert both.info.input_shape == (5,)  # the proxy is gone as well
    assert both.info.sensitive[1][1] == ("d1", "d2", "d3", "d4", "d5", "d6")
    shown = load_dataset("lending", n_samples=400, keep_in_inputs=True)
    assert shown.info.input_shape == (13,) and "group=B" in shown.info.feature_names
    assert "group" in shown.train.extra
    none = load_dataset("lending", n_samples=400, sensitive="")
    assert none.info.sensitive == () and none.info.input_shape == (13,)
    with pytest.raises(DatasetError, match="can be sensitive are: group, district"):
        load_dataset("lending", n_samples=400, sensitive="income")


def test_the_former_name_of_keep_in_inputs_is_still_read():
    # the option was called sensitive_as_input; the built-in tables call it keep_in_inputs
    old = load_dataset("lending", n_samples=400, sensitive_as_input=True)
    new = load_dataset("lending", n_samples=400, keep_in_inputs=True)
    assert old.info.feature_names == new.info.feature_names
    assert "group=B" in old.info.feature_names
    assert torch.equal(old.train.x, new.train.x)
    same = load_dataset("lending", n_samples=400, keep_in_inputs=True, sensitive_as_input=True)
    assert same.info.input_shape == new.info.input_shape
    with pytest.raises(DatasetError, match="'keep_in_inputs' is given twice.*'sensitive_as_input'"):
        load_dataset("lending", n_samples=400, keep_in_inputs=False, sensitive_as_input=True)


def test_the_planted_bias_is_in_the_labels_not_in_creditworthiness():
    cols = generate_lending(20000, seed=0)
    a, b = cols["group"] == 0, cols["group"] == 1
    # equally creditworthy ...
    assert abs(cols["repays"][a].mean() - cols["repays"][b].mean()) < 0.02
    # ... but the historical decisions approved group B far less often
    assert cols["approved"][a].mean() - cols["approved"][b].mean() > 0.25
    # and the district gives the group away
    assert np.mean((cols["district"] >= 3) == b) == pytest.approx(0.9, abs=0.01)
    unbiased = generate_lending(20000, seed=0, label_bias=0.0)
    assert np.array_equal(unbiased["approved"], unbiased["repays"])


def test_same_seed_same_data_and_splits_keep_group_base_rates():
    one, two = (load_dataset("lending", n_samples=3000, seed=5) for _ in range(2))
    assert one.fingerprint == two.fingerprint
    assert torch.equal(one.test.x, two.test.x)
    rates = []
    for split in (one.train, one.test):
        g, y = split.extra["group"], split.y
        rates.append([float(y[g == c].float().mean()) for c in (0, 1)])
    assert rates[0] == pytest.approx(rates[1], abs=0.01)  # stratified by group and label
