"""A person's CSV file: types, missing values, one-hot, sensitive columns, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nnstudio.data import DatasetError, DatasetSplits, csv_head, load_dataset
from nnstudio.data.csv_data import encode_features
from nnstudio.data.csv_table import read_table

COLOURS = ["red", "green", "blue"]


def people_csv(folder: Path, n: int = 30, delimiter: str = ",") -> Path:
    """age (numeric, 2 missing), colour (text, 1 missing), income, sex, label."""
    lines = [delimiter.join(["age", "colour", "income", "sex", "label"])]
    for i in range(n):
        age = "" if i == 3 else ("NA" if i == 8 else str(20 + i))
        colour = "?" if i == 5 else COLOURS[i % 3]
        income = f"{1000 + 37.5 * i:.1f}"
        sex = "F" if i % 2 else "M"
        label = "yes" if i % 3 == 0 else "no"
        lines.append(delimiter.join([age, colour, income, sex, label]))
    path = folder / "people.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def load_all(path: Path, **options: object) -> DatasetSplits:
    # no held-out rows: every statistic then comes from all rows, easy to predict
    return load_dataset("csv", path=path, val_fraction=0.0, test_fraction=0.0, **options)


def test_numeric_and_text_columns_become_features_and_the_last_column_the_target(
    tmp_path: Path,
) -> None:
    splits = load_all(people_csv(tmp_path), normalise=False)
    info = splits.info
    assert info.task == "classification" and info.classes == ("no", "yes")
    assert info.feature_names == (
        "age",
        "colour=blue",
        "colour=green",
        "colour=missing",
        "colour=red",
        "income",
        "sex=F",
        "sex=M",
    )
    assert info.input_shape == (8,) and splits.train.x.dtype == torch.float32
    assert len(splits.val) == 0 and len(splits.test) == 0
    assert "2 text columns" in info.description and "2 numeric" in info.description


def test_missing_values_get_the_training_mean_or_their_own_category(tmp_path: Path) -> None:
    path = people_csv(tmp_path)
    splits = load_all(path, normalise=False)
    x = splits.train.x
    ages = x[:, 0]
    known = [20 + i for i in range(30) if i not in (3, 8)]
    # both missing ages ("" and "NA") hold the mean of the known ones
    assert int((ages == torch.tensor(np.mean(known), dtype=torch.float32)).sum()) == 2
    assert int(x[:, 3].sum()) == 1  # one "?" colour -> colour=missing
    assert torch.all(x[:, 1:5].sum(dim=1) == 1)  # exactly one colour per row


def test_numeric_features_are_standardised_and_one_hot_left_as_is(tmp_path: Path) -> None:
    splits = load_dataset("csv", path=people_csv(tmp_path, n=60), seed=1)
    x, names = splits.train.x, splits.info.feature_names
    numeric = [names.index("age"), names.index("income")]
    one_hot = [i for i, name in enumerate(names) if "=" in name]
    assert len(one_hot) >= 5  # colours (and perhaps "missing") and both sexes
    for column in numeric:
        assert abs(x[:, column].mean().item()) < 1e-5
        assert x[:, column].std(unbiased=False).item() == pytest.approx(1.0, abs=1e-4)
    assert set(torch.unique(x[:, one_hot]).tolist()) == {0.0, 1.0}
    assert torch.all(splits.norm_mean[one_hot] == 0) and torch.all(splits.norm_std[one_hot] == 1)
    # validation rows are scaled with the training statistics, not their own
    assert abs(splits.val.x[:, numeric[1]].mean().item()) > 1e-3


def test_categories_and_fill_values_are_learnt_from_training_rows_only(tmp_path: Path) -> None:
    path = tmp_path / "pets.csv"
    rows = "cat,4,a\ndog,20,b\ncat,5,a\nbird,,b\nfish,100,a\n"
    path.write_text("pet,weight,y\n" + rows, encoding="utf-8")
    table = read_table(path)
    features = encode_features(table, [0, 1], train=np.array([0, 1, 2]), max_categories=50)
    assert features.names == ["pet=cat", "pet=dog", "weight"]  # no bird, no fish
    # unseen categories are all zeros; the missing weight is the mean of training rows
    # only (the 100 kg fish is held out and must not leak into it)
    assert features.x[3].tolist() == [0.0, 0.0, pytest.approx((4 + 20 + 5) / 3)]
    assert features.x[4].tolist() == [0.0, 0.0, 100.0]


def test_sensitive_columns_stay_out_of_the_inputs_but_travel_with_each_split(
    tmp_path: Path,
) -> None:
    splits = load_dataset("csv", path=people_csv(tmp_path), sensitive="sex", seed=2)
    info = splits.info
    assert not any(name.startswith("sex") for name in info.feature_names)
    assert info.sensitive == (("sex", ("F", "M")),)
    for part in (splits.train, splits.val, splits.test):
        codes = part.extra["sex"]
        assert codes.dtype == torch.int64 and codes.shape == (len(part),)
    total = sum(int(p.extra["sex"].sum()) for p in (splits.train, splits.val, splits.test))
    assert total == 15  # 15 of the 30 rows are "M", code 1


def test_target_option_and_automatic_task(tmp_path: Path) -> None:
    path = people_csv(tmp_path)
    regression = load_all(path, target="income", normalise=False)
    assert regression.info.task == "regression" and regression.train.y.shape == (30, 1)
    assert regression.info.classes == ()
    path.write_text("a,rating\n" + "".join(f"{i},{i % 5 + 1}\n" for i in range(25)))
    rating = load_all(path)
    assert rating.info.task == "classification"
    assert rating.info.classes == ("1", "2", "3", "4", "5")
    forced = load_all(path, task="regression")
    assert forced.info.task == "regression"


def test_rows_without_a_target_are_dropped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text("x,y\n" + "".join(f"{i},{'' if i in (2, 6) else i % 2}\n" for i in range(20)))
    splits = load_all(path)
    assert len(splits.train) == 18
    assert "dropped 2 row(s) with no target" in splits.info.description


def test_text_columns_with_too_many_values_are_left_out_and_named(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("id,x,y\n" + "".join(f"user{i},{i},{i % 2}\n" for i in range(30)))
    splits = load_all(path, max_categories=10)
    assert splits.info.feature_names == ("x",)
    assert "left out 'id': 30 distinct text values" in splits.info.description


def test_semicolon_files_and_a_byte_order_mark_are_read(tmp_path: Path) -> None:
    path = people_csv(tmp_path, delimiter=";")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    splits = load_all(path)
    assert splits.info.feature_names[0] == "age" and len(splits.train) == 30


def test_csv_head_gives_header_and_first_rows(tmp_path: Path) -> None:
    header, rows = csv_head(people_csv(tmp_path), n=3)
    assert header == ["age", "colour", "income", "sex", "label"]
    assert rows == [
        ["20", "red", "1000.0", "M", "yes"],
        ["21", "green", "1037.5", "F", "no"],
        ["22", "blue", "1075.0", "M", "no"],
    ]


def test_fingerprint_follows_the_file_contents(tmp_path: Path) -> None:
    path = people_csv(tmp_path)
    first = load_dataset("csv", path=path).fingerprint
    assert load_dataset("csv", path=path, seed=9).fingerprint == first
    path.write_text(path.read_text().replace("1000.0", "1000.5"))
    assert load_dataset("csv", path=path).fingerprint != first


# --- errors: each names the file, and the line and column where there is one ---


def test_a_stray_word_in_a_numeric_column_names_file_line_and_column(tmp_path: Path) -> None:
    rows = [f"{30 + i},{i % 2}" for i in range(30)]
    rows[15] = "abc,1"  # data row 16 is on line 17 (the header is line 1)
    path = tmp_path / "data.csv"
    path.write_text("age,y\n" + "\n".join(rows) + "\n")
    with pytest.raises(DatasetError) as caught:
        load_dataset("csv", path=path)
    assert str(caught.value).startswith(
        "data.csv line 17: column 'age' expected a number, got 'abc'"
    )


@pytest.mark.parametrize(
    ("content", "options", "fragment"),
    [
        ("", {}, "data.csv is empty"),
        ("\n  \n", {}, "data.csv is empty"),
        ("a,b,y\n", {}, "data.csv has a header but no data rows"),
        ("a,y\n1,0\n2,1\n3\n", {}, "data.csv line 4: expected 2 fields like the header, found 1"),
        ("a,a,y\n1,2,0\n", {}, "the header names column 'a' twice"),
        (
            "a,y\n1,0\n2,1\n",
            {"target": "label"},
            "data.csv: no column named 'label' (the target); columns are: a, y",
        ),
        ("a,y\n1,same\n2,same\n3,same\n", {}, "target column 'y' has a single value ('same')"),
        (
            "a,y\n1,x\n2,z\n3,x\n",
            {"task": "regression"},
            "data.csv line 2: column 'y' holds text ('x'); it cannot be a regression target",
        ),
        ("a,y\n1,0\n2,1\n", {"sensitive": "sex"}, "no column named 'sex' (listed as sensitive)"),
        ("a,y\n1,0\n2,1\n", {"sensitive": "y"}, "'y' is the target; it cannot also be sensitive"),
        ("y\n0\n1\n", {}, "data.csv: no input columns left besides the target"),
    ],
)
def test_broken_files_raise_clear_errors(
    tmp_path: Path, content: str, options: dict, fragment: str
) -> None:
    path = tmp_path / "data.csv"
    path.write_text(content)
    with pytest.raises(DatasetError) as caught:
        load_dataset("csv", path=path, **options)
    assert fragment in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="nowhere.csv: cannot read the file"):
        load_dataset("csv", path=tmp_path / "nowhere.csv")
    with pytest.raises(DatasetError, match="nowhere.csv: cannot read the file"):
        csv_head(tmp_path / "nowhere.csv")
