"""The roadmap's sequence and attention stage: lstm-forecast, char-rnn, gru-sequence and
transformer, their data (a CSV column as a series, any text in a fixed alphabet) and the
live pictures their recipes draw (a forecast over the truth, generated text, attention)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
from torch import nn

from nnstudio.cli import main
from nnstudio.data import load_dataset
from nnstudio.data.base import DatasetError
from nnstudio.data.text import ASCII_ALPHABET, UNKNOWN_CHAR, to_ascii
from nnstudio.graph import infer_shapes
from nnstudio.graph.challenge_schema import challenge_of
from nnstudio.graph.templates import load_template, templates_dir
from nnstudio.train import Callback, Trainer, recipe_class
from nnstudio.train.attention_maps import attention_maps
from nnstudio.train.project_run import prepare_run
from nnstudio.train.recipes_forecast import seasonal_naive
from nnstudio.train.recipes_tokens import PREVIEW_CHARS, answers_table, prose_prompt

TEMPLATES = {"lstm-forecast": "forecast", "char-rnn": "next_token",
             "gru-sequence": "classification", "transformer": "seq2seq_tokens"}
# data sets cut down so that one epoch takes about a second
SMALL = {"lstm-forecast": {"length": 400}, "char-rnn": {"max_chars": 20_000},
         "gru-sequence": {"n_samples": 200}, "transformer": {"n_samples": 400}}


class Pictures(Callback):
    """Keeps every preview the trainer sends."""

    def __init__(self) -> None:
        self.previews = []

    def on_preview(self, previews) -> None:
        self.previews.extend(previews)

    def last(self, title: str):
        return [p for p in self.previews if p.title == title][-1]


def run_template(name: str, callbacks=(), dataset=None, **config):
    prepared = prepare_run(load_template(name), dataset={**SMALL[name], **(dataset or {})},
                           config_overrides={"device": "cpu", "epochs": 1, **config})
    result = Trainer(prepared.model, prepared.splits, prepared.config, list(callbacks)).fit()
    assert result.stopped_reason == "completed", result.message
    return prepared, result


# ------------------------------------------------------------------ the templates
@pytest.mark.parametrize("name", TEMPLATES)
def test_template_is_a_sequence_stage_with_a_checkable_challenge(name):
    project = load_template(name)
    assert infer_shapes(project.graph()).ok
    assert project.training["config"]["recipe"] == TEMPLATES[name]
    assert 30 <= project.meta["order"] <= 39
    assert project.meta["stage"] == ("Attention" if name == "transformer" else "Sequences")
    challenge = challenge_of(project.meta)
    assert challenge is not None and challenge.goal.endswith(".")
    # the metric named is one the recipe reports
    assert challenge.metric in recipe_class(TEMPLATES[name]).metric_modes


def test_sequence_templates_have_their_own_places_in_the_roadmap():
    orders = [load_template(n).meta["order"] for n in TEMPLATES]
    assert len(set(orders)) == len(orders)


@pytest.mark.parametrize("name", TEMPLATES)
def test_summary_of_the_template_runs_clean(name, capsys):
    rc = main(["summary", str(templates_dir() / f"{name}.nnstudio")])
    out, err = capsys.readouterr()
    assert rc == 0, err
    total = infer_shapes(load_template(name).graph()).total_params
    assert out.rstrip().endswith(f"total parameters: {total}")


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_trains_one_epoch_headless_and_reports_its_challenge_metric(name):
    challenge = challenge_of(load_template(name).meta)
    _, result = run_template(name)
    value = result.metrics[challenge.split][challenge.metric]
    assert math.isfinite(value)
    assert result.epochs_completed == 1


# ---------------------------------------------------------- a CSV column as a series
def write_csv(path, rows, header="date,temperature,city"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def test_a_csv_column_is_the_series_with_gaps_interpolated(tmp_path):
    values = [f"{math.sin(i / 4):.4f}" for i in range(200)]
    values[50] = ""  # a gap between two readings
    rows = [f"2024-01-{i},{v},oslo" for i, v in enumerate(values)]
    path = write_csv(tmp_path / "weather.csv", rows)
    splits = load_dataset("seasonal-series", path=path, window=12, normalise=False)
    series = splits.train.extra["series"].numpy()
    expected = np.array([math.sin(i / 4) for i in range(200)], np.float32)
    expected[50] = (expected[49] + expected[51]) / 2
    np.testing.assert_allclose(series, expected, atol=1e-4)
    # windows and targets come from the column, in file order
    np.testing.assert_allclose(splits.train.x[0, :, 0].numpy(), expected[:12], atol=1e-4)
    assert float(splits.train.y[0, 0]) == pytest.approx(expected[12], abs=1e-4)
    assert "column 'temperature' of weather.csv" in splits.info.description
    assert "1 gap interpolated" in splits.info.description


def test_the_column_option_picks_the_series(tmp_path):
    rows = [f"{i},{100 - i},x" for i in range(60)]
    path = write_csv(tmp_path / "t.csv", rows, header="step,level,tag")
    first = load_dataset("seasonal-series", path=path, column="step", window=8, normalise=False)
    default = load_dataset("seasonal-series", path=path, window=8, normalise=False)
    assert first.train.extra["series"][:3].tolist() == [0, 1, 2]
    assert default.train.extra["series"][:3].tolist() == [100, 99, 98]  # last numeric column


@pytest.mark.parametrize("column, rows, message", [
    ("city", [f"{i},{i},oslo" for i in range(40)], "column 'city' holds text"),
    ("rain", [f"{i},{i},oslo" for i in range(40)], "no column 'rain'.*date, temperature, city"),
    ("", [f"{i},{i},oslo" for i in range(10)], "too short for window 48"),
])
def test_a_csv_series_that_does_not_fit_says_why(tmp_path, column, rows, message):
    path = write_csv(tmp_path / "w.csv", rows)
    with pytest.raises(DatasetError, match=message):
        load_dataset("seasonal-series", path=path, column=column)


def test_the_forecaster_trains_on_a_column_of_a_csv(tmp_path):
    rows = [f"{i},{math.sin(2 * math.pi * i / 12) + 0.01 * i:.4f},x" for i in range(300)]
    path = write_csv(tmp_path / "sales.csv", rows)
    prepared, result = run_template("lstm-forecast", dataset={"path": path, "column": "temperature"})
    assert "sales.csv" in prepared.splits.info.description
    assert result.metrics["test"]["naive_ratio"] > 0


# ------------------------------------------------------------- any text, fixed alphabet
def test_the_ascii_alphabet_fits_any_text():
    assert len(ASCII_ALPHABET) == 98 and len(set(ASCII_ALPHABET)) == 98
    assert to_ascii("“Smart” quotes – and Ωmega\r\n") == f'"Smart" quotes - and {UNKNOWN_CHAR}mega\n'


def test_char_rnn_trains_on_a_text_file_of_ones_own(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_text("Ünïcode and plain words, over and over. " * 400, encoding="utf-8")
    prepared, result = run_template("char-rnn", dataset={"path": str(path)})
    assert prepared.splits.info.classes == ASCII_ALPHABET  # the drawn network fits as it is
    assert UNKNOWN_CHAR in "".join(ASCII_ALPHABET[i] for i in prepared.splits.train.x[0])
    assert result.metrics["val"]["loss"] < math.log(98)


def test_the_text_alphabet_stays_the_default():
    splits = load_dataset("text-chars", max_chars=5000, seq_len=16)
    assert splits.info.classes == tuple(sorted(set("".join(splits.info.classes))))
    assert len(splits.info.classes) < 98


# ------------------------------------------------------------------ live pictures
def test_forecast_preview_draws_the_forecast_over_the_truth_in_original_units():
    pictures = Pictures()
    prepared, _ = run_template("lstm-forecast", [pictures])
    preview = pictures.last("Forecast over the truth")
    assert preview.kind == "series"
    data, val = preview.data, prepared.splits.val
    n = min(64, len(val))
    lines = {line["name"]: line for line in data["lines"]}
    assert set(lines) == {"truth", "forecast", "seasonal naive (24 steps ago)"}
    assert [line["dashed"] for line in data["lines"]] == [False, False, True]
    std, mean = float(prepared.splits.target_std[0]), float(prepared.splits.target_mean[0])
    np.testing.assert_allclose(lines["truth"]["y"], val.y[:n, 0].numpy() * std + mean, rtol=1e-5)
    naive = seasonal_naive(val.x[:n], 24, 1)[:, 0].numpy() * std + mean
    np.testing.assert_allclose(lines["seasonal naive (24 steps ago)"]["y"], naive,
                               rtol=1e-5)
    with torch.no_grad():
        forecast = prepared.model.eval()(val.x[:n])[:, 0].numpy() * std + mean
    np.testing.assert_allclose(lines["forecast"]["y"], forecast, rtol=1e-4, atol=1e-5)
    # drawn at the series positions of the validation targets
    assert data["x"].tolist() == val.extra["target_index"][:n].tolist()


def test_next_token_preview_writes_on_from_a_validation_passage():
    pictures = Pictures()
    prepared, _ = run_template("char-rnn", [pictures])
    preview = pictures.last("Generated text")
    assert preview.kind == "text"
    vocab = prepared.splits.info.classes
    passages = ["".join(vocab[i] for i in row) for row in prepared.splits.val.x[:64]]
    prompt = preview.data["prompt"]
    assert any(p.endswith(prompt) for p in passages)  # a validation passage...
    assert sum(c.isalpha() for c in prompt) >= 0.7 * len(prompt)  # ...of prose
    assert len(preview.data["text"]) == PREVIEW_CHARS
    assert set(preview.data["text"]) <= set(vocab)
    assert "temperature 0.8" in preview.data["note"]
    assert preview.global_step == prepared.config.epochs * math.ceil(
        len(prepared.splits.train) / prepared.config.batch_size)  # the final picture


def test_next_token_preview_spends_at_most_a_tenth_of_the_time_sampling():
    prepared = prepare_run(load_template("char-rnn"), dataset=SMALL["char-rnn"],
                           config_overrides={"device": "cpu"})
    recipe = recipe_class("next_token")(prepared.config, prepared.splits.info)
    recipe.start_epoch(1, 100)  # the run's last step is 10 epochs x 100 steps
    probe = prepared.splits.val
    t0 = time.perf_counter()
    first = recipe.preview(prepared.model, probe, 1, 1)
    cost = time.perf_counter() - t0
    assert len(first) == 1
    assert recipe.preview(prepared.model, probe, 2, 1) == []  # too soon after the last one
    again = recipe.preview(prepared.model, probe, 1000, 10)  # the last step always draws
    assert again[0].data["text"] == first[0].data["text"]  # same model, same seed, same text
    assert cost < 5.0


def test_seq2seq_preview_shows_each_heads_attention_and_the_answers():
    pictures = Pictures()
    prepared, _ = run_template("transformer", [pictures])
    heat = pictures.last("Attention on the first example")
    assert heat.kind == "heatmap"
    mats = heat.data["matrices"]
    assert mats.shape == (4, 8, 8)  # 4 heads, 8 positions looking at 8
    np.testing.assert_allclose(mats.sum(axis=2), 1.0, atol=1e-5)  # each row is a softmax
    assert heat.data["titles"] == ["head 1", "head 2", "head 3", "head 4"]
    tokens = [str(int(t)) for t in prepared.splits.val.x[0]]
    assert heat.data["row_labels"] == tokens == heat.data["col_labels"]
    answers = pictures.last("Answers")
    assert answers.kind == "text"
    first_block = answers.data["text"].split("\n\n")[0].splitlines()
    assert first_block[0] == "input   " + " ".join(tokens)
    assert first_block[1] == "target  " + " ".join(reversed(tokens))


def _encoder_model(norm_first: bool) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Embedding(10, 16), nn.TransformerEncoderLayer(
        16, 2, 32, dropout=0.0, batch_first=True, norm_first=norm_first)).eval()


@pytest.mark.parametrize("norm_first", [False, True])
def test_attention_maps_are_the_weights_the_layer_computes(norm_first):
    model = _encoder_model(norm_first)
    x = torch.tensor([[1, 2, 3, 4, 5]])
    with torch.no_grad():
        maps = attention_maps(model, x)
        out = model(x)
        src = model[0](x)
        layer = model[1]
        query = layer.norm1(src) if norm_first else src
        _, expected = layer.self_attn(query, query, query, need_weights=True,
                                      average_attn_weights=False)
    assert maps.titles == ["head 1", "head 2"]
    torch.testing.assert_close(maps.weights, expected[0])
    with torch.no_grad():
        torch.testing.assert_close(model(x), out)  # the hook leaves no trace


def test_a_model_without_attention_has_no_attention_maps():
    assert attention_maps(nn.Sequential(nn.Embedding(5, 4)), torch.tensor([[1, 2]])) is None


def test_the_sample_prompt_is_prose_from_the_start_of_a_word():
    vocab = tuple("abc |-")
    table = torch.tensor([[3, 4, 5, 5, 4, 3]])  # " |--| "
    prose = torch.tensor([[0, 1, 3, 2, 0, 1, 2, 0]])  # "ab cabca"
    assert prose_prompt(torch.cat([table[:, :6], prose[:, :6]]), vocab) == [2, 0, 1]
    assert prose_prompt(table, vocab) == [4, 5, 5, 4, 3]  # no prose: the first passage


def test_answers_mark_each_wrong_token():
    text = answers_table([str(i) for i in range(10)], torch.tensor([[1, 2, 3]]),
                         torch.tensor([[3, 2, 1]]), torch.tensor([[3, 5, 1]]))
    assert text.splitlines() == ["input   1 2 3", "target  3 2 1", "model   3 5 1  ✗",
                                 "          ^"]


# ------------------------------------------------------------------ outcomes (slow)
@pytest.mark.slow
@pytest.mark.parametrize("name", TEMPLATES)
def test_the_template_as_shipped_meets_its_challenge(name, record_property):
    project = load_template(name)
    challenge = challenge_of(project.meta)
    prepared = prepare_run(project, config_overrides={"device": "cpu"})
    result = Trainer(prepared.model, prepared.splits, prepared.config).fit()
    value = result.metrics[challenge.split][challenge.metric]
    record_property("value", value)
    record_property("fit_seconds", round(result.elapsed_s, 2))
    print(f"{name}: {challenge.key} = {value:.4f} in {result.elapsed_s:.1f} s")
    if challenge.op == "at_least":
        assert value >= challenge.target
    else:
        assert value <= challenge.target
