"""Re-weighting (Kamiran & Calders) and per-group thresholds chosen on validation."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.train.fairness import demographic_parity_difference
from nnstudio.train.mitigation import (
    NOBODY,
    choose_group_thresholds,
    joint_groups,
    reweighing_weights,
)


def test_weights_follow_kamiran_calders_by_hand():
    # n = 5; P(g=0) = 3/5, P(g=1) = 2/5, P(y=1) = 3/5, P(y=0) = 2/5
    groups = [0, 0, 0, 1, 1]
    y = [1, 1, 0, 0, 1]
    w = reweighing_weights(groups, y)
    # w(g, y) = P(g) P(y) / P(g, y)
    expected = [(3 / 5) * (3 / 5) / (2 / 5)] * 2 + [(3 / 5) * (2 / 5) / (1 / 5)] + [
        (2 / 5) * (2 / 5) / (1 / 5), (2 / 5) * (3 / 5) / (1 / 5)]
    assert w == pytest.approx(expected)  # 0.9, 0.9, 1.2, 0.8, 1.2
    assert w.dtype == np.float32 and w.sum() == pytest.approx(5.0)


def test_under_the_weights_the_label_no_longer_depends_on_the_group():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 3, 2000)
    y = (rng.random(2000) < np.array([0.2, 0.5, 0.7])[groups]).astype(int)
    w = reweighing_weights(groups, y)
    overall = y.mean()
    for g in range(3):
        m = groups == g
        assert np.sum(w[m] * y[m]) / np.sum(w[m]) == pytest.approx(overall, abs=1e-6)


def test_joint_groups_code_each_combination_once():
    codes = joint_groups([np.array([0, 0, 1, 1, 0]), np.array([0, 1, 0, 1, 0])])
    assert len(set(codes.tolist())) == 4 and codes[0] == codes[4]
    assert joint_groups([np.array([2, 0])]).tolist() == [2, 0]


def _biased_scores(n, seed):
    """Scores that rank group 1 lower for the same label: a demographic-parity gap."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 2, n)
    y = (rng.random(n) < 0.5).astype(int)
    logit = 2.0 * (y - 0.5) + rng.normal(0, 1.0, n) - 1.2 * groups
    return 1 / (1 + np.exp(-logit)), y, groups


def test_thresholds_chosen_on_validation_shrink_the_parity_gap_on_test():
    val_s, val_y, val_g = _biased_scores(2000, 1)
    test_s, test_y, test_g = _biased_scores(2000, 2)
    before = demographic_parity_difference(test_y, (test_s >= 0.5).astype(int),
                                           sensitive_features=test_g)
    chosen = choose_group_thresholds(val_s, val_y, val_g)
    after_val = demographic_parity_difference(val_y, chosen.apply(val_s, val_g),
                                              sensitive_features=val_g)
    after = demographic_parity_difference(test_y, chosen.apply(test_s, test_g),
                                          sensitive_features=test_g)
    assert before > 0.3
    assert after_val < 0.01  # equal on the data they were chosen on
    assert after < before / 4
    assert chosen.thresholds[1] < chosen.thresholds[0]  # the disadvantaged group's bar drops
    assert 0.6 < chosen.val_accuracy < 1.0


def test_equal_opportunity_equalises_true_positive_rates():
    s, y, g = _biased_scores(3000, 3)
    chosen = choose_group_thresholds(s, y, g, objective="equal_opportunity")
    pred = chosen.apply(s, g)
    tpr = [pred[(g == c) & (y == 1)].mean() for c in (0, 1)]
    assert abs(tpr[0] - tpr[1]) < 0.01


def test_threshold_choice_edge_cases():
    chosen = choose_group_thresholds([0.9, 0.8, 0.1], [0, 0, 0], [0, 0, 1])
    assert chosen.val_accuracy == 1.0 and chosen.rate == 0.0  # nobody selected is best
    assert all(t == NOBODY for t in chosen.thresholds.values())
    assert chosen.apply([0.99], [7]).tolist() == [1]  # unseen group: default 0.5
    with pytest.raises(ValueError, match="objective"):
        choose_group_thresholds([0.5], [1], [0], objective="fairest")
    with pytest.raises(ValueError, match="equal length"):
        choose_group_thresholds([0.5, 0.2], [1], [0])
