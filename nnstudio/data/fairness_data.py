"""A generated lending data set with a bias planted in its labels (ethics stage).

Everything here is synthetic: no real person, bank or place is described.  Each row
is a loan applicant with five financial features, a district of residence and a
group (A or B).  The generator makes the two groups *equally creditworthy*: income,
debt, employment, late payments and credit history are drawn from the same
distributions for both, and whether an applicant would repay depends only on them.
Two things are planted on top:

* the label is a *historical decision*, not the repayment: the decisions asked
  ``label_bias`` standard deviations more creditworthiness of group B than of group A
  (the unbiased outcome travels in ``Split.extra["repays"]``, for comparison);
* the district is a *proxy* of the group: a share ``proxy_strength`` of each group
  lives in "its" three districts (d1–d3 for A, d4–d6 for B).

So a model that never sees the group still learns the old bias through the district,
and its selection rates differ between the groups: the gap the fairness view, the
per-group table of ``nnstudio train`` and the model card make visible.

Columns named in the ``sensitive`` option (``group``, ``district``, or both) are kept
out of the inputs, unless ``keep_in_inputs``, and travel per split in
``Split.extra[column]`` as int64 codes, their values in ``DatasetInfo.sensitive`` —
the same contract as a CSV file's sensitive columns.
"""

from __future__ import annotations

import numpy as np

from nnstudio.data.base import DatasetError, DatasetInfo, DatasetSplits
from nnstudio.data.registry import DatasetEntry, LoadRequest, Option, register
from nnstudio.data.splits import fingerprint, finish_splits, split_indices

GROUPS = ("A", "B")
DISTRICTS = ("d1", "d2", "d3", "d4", "d5", "d6")
NUMERIC = ("income", "debt_ratio", "years_employed", "late_payments", "credit_years")
CATEGORICAL = {"group": GROUPS, "district": DISTRICTS}
CLASSES = ("declined", "approved")
# the share of applicants who would repay (before the planted bias)
CREDITWORTHY_SHARE = 0.55

DESCRIPTION = (
    "Synthetic loan decisions with a planted bias: groups A and B are equally "
    "creditworthy, but past decisions set a higher bar for group B, and the district of "
    "residence is a proxy of the group."
)


def generate_lending(n: int, seed: int, *, label_bias: float = 1.0,
                     proxy_strength: float = 0.9, group_b_share: float = 0.4
                     ) -> dict[str, np.ndarray]:
    """The raw columns of ``n`` applicants: NUMERIC as float64, ``group`` and
    ``district`` as int64 codes, ``repays`` (the unbiased outcome) and ``approved``
    (the historical, biased label) as int64 0/1.  A pure function of its arguments."""
    rng = np.random.default_rng(seed)
    group = (rng.random(n) < group_b_share).astype(np.int64)
    own_half = rng.random(n) < proxy_strength
    half = np.where(own_half, group, 1 - group)  # 0: d1-d3, 1: d4-d6
    district = half * 3 + rng.integers(0, 3, n)
    income = rng.lognormal(np.log(42.0), 0.35, n)  # thousands a year
    debt_ratio = np.clip(rng.beta(2.0, 5.0, n), 0.0, 0.95)
    years_employed = rng.gamma(2.0, 3.0, n)
    late_payments = rng.poisson(1.0, n).astype(np.float64)
    credit_years = np.clip(rng.normal(9.0, 4.0, n), 0.0, None)

    def z(v: np.ndarray) -> np.ndarray:
        return (v - v.mean()) / (v.std() + 1e-12)

    merit = z(1.1 * z(np.log(income)) - 1.0 * z(debt_ratio) + 0.5 * z(years_employed)
              - 0.8 * z(late_payments) + 0.4 * z(credit_years) + rng.normal(0.0, 0.6, n))
    bar = np.quantile(merit, 1.0 - CREDITWORTHY_SHARE)
    repays = (merit > bar).astype(np.int64)
    # the planted bias: past decisions asked more of group B for the same merit
    approved = (merit > bar + label_bias * group).astype(np.int64)
    return {"income": income, "debt_ratio": debt_ratio, "years_employed": years_employed,
            "late_payments": late_payments, "credit_years": credit_years,
            "group": group, "district": district, "repays": repays, "approved": approved}


def parse_sensitive(text: str) -> list[str]:
    """The columns listed in the ``sensitive`` option; unknown names raise DatasetError."""
    names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in CATEGORICAL]
    if unknown:
        raise DatasetError(f"dataset 'lending': option 'sensitive' names {', '.join(unknown)}; "
                           f"the columns that can be sensitive are: {', '.join(CATEGORICAL)}")
    return names


def _encode_inputs(cols: dict[str, np.ndarray], categorical: list[str]
                   ) -> tuple[np.ndarray, list[str], list[bool]]:
    blocks, names, fixed = [], [], []
    for name in NUMERIC:
        blocks.append(cols[name][:, None])
        names.append(name)
        fixed.append(False)
    for name in categorical:
        values = CATEGORICAL[name]
        blocks.append(np.eye(len(values))[cols[name]])
        names.extend(f"{name}={v}" for v in values)
        fixed.extend([True] * len(values))
    return np.concatenate(blocks, axis=1).astype(np.float32), names, fixed


def _load_lending(request: LoadRequest) -> DatasetSplits:
    opts = request.options
    request.progress(0, 1, "generating lending")
    sensitive = parse_sensitive(opts["sensitive"])
    cols = generate_lending(opts["n_samples"], request.seed, label_bias=opts["label_bias"],
                            proxy_strength=opts["proxy_strength"],
                            group_b_share=opts["group_b_share"])
    as_input = [c for c in CATEGORICAL if c not in sensitive or opts["keep_in_inputs"]]
    x, names, fixed = _encode_inputs(cols, as_input)
    y = cols["approved"]
    # stratified by group and label together, so that every split has the same groups
    # in the same proportions with the same base rates: per-group figures then compare
    parts = split_indices(len(y), seed=request.seed, val_fraction=request.val_fraction,
                          test_fraction=request.test_fraction, labels=cols["group"] * 2 + y)
    extra = {c: cols[c] for c in sensitive}
    # the unbiased outcome, known only because the data are generated: lets a learner
    # see that the "accuracy" against biased labels is itself biased
    extra["repays"] = cols["repays"]
    info = DatasetInfo(
        name=request.name,
        task="classification",
        input_shape=(x.shape[1],),
        classes=CLASSES,
        feature_names=tuple(names),
        description=DESCRIPTION,
        kind="table",
        sensitive=tuple((c, CATEGORICAL[c]) for c in sensitive),
    )
    splits = finish_splits(info, x, y, parts, normalise=request.normalise,
                           digest=fingerprint(x, y, cols["group"]), fixed=np.asarray(fixed),
                           extra=extra)
    request.progress(1, 1, "generated lending")
    return splits


register(
    DatasetEntry(
        name="lending",
        title="Lending (synthetic, biased labels)",
        description=DESCRIPTION,
        task="classification",
        kind="table",
        loader=_load_lending,
        options=(
            Option("n_samples", int, 8000, "number of applicants", minimum=200,
                   maximum=1_000_000),
            Option("label_bias", float, 1.0,
                   "how much higher the past decisions set the bar for group B, in standard "
                   "deviations of creditworthiness (the planted bias; 0 = none)",
                   minimum=0.0, maximum=3.0),
            Option("proxy_strength", float, 0.9,
                   "share of each group living in its own three districts (0.5 = district "
                   "says nothing about the group)", minimum=0.5, maximum=1.0),
            Option("group_b_share", float, 0.4, "share of applicants in group B",
                   minimum=0.05, maximum=0.95),
            Option("sensitive", str, "group",
                   "comma-separated columns kept out of the inputs and evaluated per group: "
                   "group, district (empty: none)"),
            Option("keep_in_inputs", bool, False,
                   "also give the sensitive columns to the model as inputs (default: they "
                   "are kept out, and used only to evaluate)",
                   former_names=("sensitive_as_input",)),
        ),
        group="Generated",
    )
)
