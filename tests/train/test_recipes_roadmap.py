"""The roadmap's recipes: reconstruction, VAE, GAN, forecasting, next-token, seq2seq.

Models are tiny and runs a few epochs: each test checks that the loss falls, that
the metrics a learner is promised exist, and that a drawing that does not fit
says exactly what is missing.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from nnstudio.data import load_dataset
from nnstudio.data.base import DatasetInfo, DatasetSplits, Split
from nnstudio.graph.compiler import compile_graph
from nnstudio.graph.document import Graph, Project
from nnstudio.train import (
    Callback,
    ConfigError,
    GraphSet,
    OptimizerSet,
    TrainConfig,
    Trainer,
    create_recipe,
    recipe_class,
)
from nnstudio.train.graph_set import role_state_dict
from nnstudio.train.project_run import RunSetupError, prepare_run
from nnstudio.train.recipes_forecast import estimate_season, rollout, seasonal_naive
from nnstudio.train.recipes_gan import GAN_BETAS, mode_coverage
from nnstudio.train.recipes_generative import kl_warmup_factor, latent_codes, sample_images
from nnstudio.train.recipes_tokens import sample_text
from nnstudio.train.requirements import describe_layouts, ordered_outputs, output_order


def cpu(**kwargs: Any) -> TrainConfig:
    return TrainConfig(device="cpu", **kwargs)


def fit(model: nn.Module, splits: DatasetSplits, callbacks=(), **config: Any):
    result = Trainer(model, splits, cpu(**config), list(callbacks)).fit()
    assert result.stopped_reason == "completed", result.message
    return result


def losses(result) -> list[float]:
    return [row["train_loss"] for row in result.history]


def chain(name: str, shape: Sequence[int], steps: Sequence[tuple[str, dict]], *,
          outputs: Sequence[str] = ("output",), dtype: str = "float") -> Graph:
    """Input -> steps in a line -> one Output node per name, all fed by the last step."""
    g = Graph(name)
    prev = g.add_node("Input", "x", {"shape": list(shape), "dtype": dtype}).id
    for kind, params in steps:
        node = g.add_node(kind, params=params)
        g.connect(prev, "out", node.id, "in")
        prev = node.id
    for out in outputs:
        g.connect(prev, "out", g.add_node("Output", out).id, "in")
    return g


def project(*graphs: Graph, dataset: dict, **config: Any) -> Project:
    p = Project()
    for g in graphs:
        p.add_graph(g)
    p.set_training({"dataset": dataset, "config": {"device": "cpu", **config}})
    return p


@pytest.fixture(scope="module")
def digits() -> DatasetSplits:
    return load_dataset("digits", normalise=False)  # pixels in [0, 1]


def mlp(*sizes: int, seed: int = 0, act=nn.ReLU) -> nn.Sequential:
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(sizes):
        layers += [nn.Linear(a, b), act()]
    return nn.Sequential(*layers[:-1])


# ================================================================ reconstruction
def test_reconstruction_learns_and_beats_the_mean_image(digits):
    model = nn.Sequential(nn.Flatten(), mlp(64, 32, 64))
    result = fit(model, digits, recipe="reconstruction", epochs=6, lr=5e-3)
    assert losses(result)[-1] < 0.5 * losses(result)[0]
    test = result.metrics["test"]
    assert set(test) == {"loss", "mse", "baseline_mse", "baseline_ratio"}
    assert test["baseline_ratio"] == pytest.approx(test["baseline_mse"] / test["mse"])
    assert test["baseline_ratio"] > 1.0


def test_reconstruction_of_the_wrong_size_is_refused_with_the_size_wanted(digits):
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32))
    result = Trainer(model, digits, cpu(recipe="reconstruction")).fit()
    assert result.stopped_reason == "error"
    assert ("the reconstruction must have as many values as an example (64 = 1×8×8, "
            "e.g. [B, 1, 8, 8] or [B, 64]); the model gives [B, 32]") in result.message


def test_bce_reconstruction_needs_inputs_in_the_unit_range():
    normalised = load_dataset("digits")
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64))
    result = Trainer(model, normalised, cpu(recipe="reconstruction", loss="bce")).fit()
    assert result.stopped_reason == "error" and "needs inputs in [0, 1]" in result.message


# =========================================================================== VAE
class Encoder(nn.Module):
    def __init__(self, latent: int = 2) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU())
        self.mu, self.logvar = nn.Linear(32, latent), nn.Linear(32, latent)

    def forward(self, x):
        h = self.body(x)
        return self.mu(h), self.logvar(h)


def vae(latent: int = 2) -> GraphSet:
    torch.manual_seed(0)
    decoder = nn.Sequential(nn.Linear(latent, 32), nn.ReLU(), nn.Linear(32, 64),
                            nn.Unflatten(1, (1, 8, 8)))
    return GraphSet({"encoder": Encoder(latent), "decoder": decoder})


def test_kl_warmup_grows_linearly_then_holds():
    assert [kl_warmup_factor(e, 4) for e in (0, 1, 2.5, 4, 9)] == [0, 0.25, 0.625, 1, 1]
    assert kl_warmup_factor(0, 0) == 1.0


def test_vae_trains_two_graphs_with_the_kl_warmup_in_its_history(digits):
    model = vae()
    result = fit(model, digits, recipe="vae", epochs=4, lr=3e-3, kl_warmup_epochs=4)
    assert [row["kl_factor"] for row in result.history] == [0.25, 0.5, 0.75, 1.0]
    assert losses(result)[-1] < losses(result)[0]
    assert {"recon", "kl"} <= set(result.history[0])
    val = result.metrics["val"]
    assert {"elbo", "recon", "kl", "mse", "baseline_ratio"} <= set(val)
    assert val["elbo"] == pytest.approx(-(val["recon"] + val["kl"]))
    # the default loss is bce for pixels in [0, 1]: recon is summed over 64 pixels
    assert val["recon"] > 64 * 0.05


def test_vae_helpers_give_latent_codes_and_seeded_samples(digits):
    model = vae(latent=2)
    recipe = create_recipe(cpu(recipe="vae"), digits.info)
    codes = latent_codes(model, digits.test.x)
    assert codes.shape == (len(digits.test), 2)
    a = sample_images(model, 5, seed=3, latent_shape=(2,))
    assert a.shape == (5, 1, 8, 8) and bool(((a >= 0) & (a <= 1)).all())
    assert torch.equal(a, sample_images(model, 5, seed=3, latent_shape=(2,)))
    assert not torch.equal(a, sample_images(model, 5, seed=4, latent_shape=(2,)))
    assert recipe.name == "vae"


def test_sampling_a_one_graph_vae_says_to_draw_a_decoder_graph():
    with pytest.raises(Exception, match="decoder as a graph of its own"):
        sample_images(nn.Linear(2, 2), 3, latent_shape=(2,))


def test_vae_asks_for_the_outputs_it_needs_by_name():
    p = project(chain("Net", (1, 8, 8), [("Flatten", {}), ("Linear", {"out_features": 64})]),
                dataset={"name": "digits"}, recipe="vae")
    with pytest.raises(RunSetupError) as caught:
        prepare_run(p)
    assert str(caught.value) == (
        "the VAE recipe needs the graph to return 3 outputs (reconstruction, mu, logvar) in "
        "that order; 'Net' returns 1 — add Output nodes for mu and logvar")


def one_graph_vae(output_order: Sequence[str]) -> Graph:
    """Input -> Flatten -> Linear -> (mu, logvar) -> Reparameterize -> decoder, with
    Output nodes added in ``output_order``."""
    g = Graph("VAE")
    x = g.add_node("Input", "x", {"shape": [1, 8, 8]}).id
    flat = g.add_node("Flatten").id
    hidden = g.add_node("Linear", params={"out_features": 16}).id
    mu = g.add_node("Linear", "mu_layer", {"out_features": 2}).id
    logvar = g.add_node("Linear", "logvar_layer", {"out_features": 2}).id
    z = g.add_node("Reparameterize").id
    dec = g.add_node("Linear", params={"out_features": 64}).id
    shape = g.add_node("Unflatten", params={"dim": 1, "sizes": [1, 8, 8]}).id
    for a, b in ((x, flat), (flat, hidden), (hidden, mu), (hidden, logvar), (dec, shape)):
        g.connect(a, "out", b, "in")
    g.connect(mu, "out", z, "mu")
    g.connect(logvar, "out", z, "logvar")
    g.connect(z, "out", dec, "in")
    sources = {"mu": mu, "logvar": logvar, "reconstruction": shape}
    for name in output_order:
        g.connect(sources[name], "out", g.add_node("Output", name).id, "in")
    return g


def test_a_one_graph_vae_reads_outputs_by_their_names_whatever_the_drawing_order():
    p = project(one_graph_vae(["mu", "logvar", "reconstruction"]),
                dataset={"name": "digits", "normalise": False}, recipe="vae", epochs=2, lr=3e-3)
    run = prepare_run(p)
    assert run.model.nnstudio_output_order == (2, 0, 1)
    result = Trainer(run.model, run.splits, run.config).fit()
    assert result.stopped_reason == "completed", result.message
    assert latent_codes(run.model, run.splits.test.x[:7]).shape == (7, 2)


def vae_project() -> Project:
    encoder = Graph("Encoder")
    x = encoder.add_node("Input", "x", {"shape": [1, 8, 8]}).id
    flat = encoder.add_node("Flatten").id
    encoder.connect(x, "out", flat, "in")
    for name in ("mu", "logvar"):
        layer = encoder.add_node("Linear", f"{name}_layer", {"out_features": 2}).id
        encoder.connect(flat, "out", layer, "in")
        encoder.connect(layer, "out", encoder.add_node("Output", name).id, "in")
    decoder = chain("Decoder", (2,), [("Linear", {"out_features": 64}),
                                      ("Unflatten", {"dim": 1, "sizes": [1, 8, 8]})],
                    outputs=("reconstruction",))
    return project(encoder, decoder, dataset={"name": "digits", "normalise": False},
                   recipe="vae", epochs=1)


def test_a_two_graph_vae_is_trained_whichever_of_its_graphs_is_on_screen():
    p = vae_project()
    for shown in (None, p.graph("Decoder"), p.graph("Encoder")):
        run = prepare_run(p, graph=shown)
        assert set(run.graphs) == {"encoder", "decoder"}
    assert isinstance(run.model, GraphSet)
    result = Trainer(run.model, run.splits, run.config).fit()
    assert result.stopped_reason == "completed", result.message
    assert sample_images(run.model, 3).shape == (3, 1, 8, 8)  # z's size from the decoder's Input


# =========================================================================== GAN
def ring(n: int = 400, seed: int = 0) -> DatasetSplits:
    return load_dataset("gaussians8", n_samples=n, seed=seed)


def gan(noise: int = 4, hidden: int = 16) -> GraphSet:
    return GraphSet({"generator": mlp(noise, hidden, 2, seed=1),
                     "discriminator": mlp(2, hidden, 1, seed=2, act=nn.LeakyReLU)})


def test_gan_alternates_updates_and_keeps_a_loss_curve_per_network():
    model = gan()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = fit(model, ring(), recipe="gan", epochs=3, lr=2e-3, batch_size=32)
    for row in result.history:
        assert math.isfinite(row["loss_d"]) and math.isfinite(row["loss_g"])
        assert row["train_loss"] == pytest.approx(row["loss_d"] + row["loss_g"])
    after = model.state_dict()
    for role in ("generator", "discriminator"):
        assert any(not torch.equal(before[k], after[k]) for k in after if k.startswith(role))
    val = result.metrics["val"]
    assert {"loss_d", "loss_g", "modes_covered", "high_quality"} <= set(val)
    assert {"loss_d", "loss_g"} <= set(result.metrics["train"])


def test_gan_has_an_adam_per_network_with_gan_betas_and_its_own_discriminator_lr():
    trainer = Trainer(gan(), ring(), cpu(recipe="gan", epochs=1, lr=1e-3, lr_d=4e-3))
    trainer.fit()
    opt = trainer.optimizer
    assert isinstance(opt, OptimizerSet)
    g, d = opt.optimizers["generator"], opt.optimizers["discriminator"]
    assert g.param_groups[0]["betas"] == GAN_BETAS == d.param_groups[0]["betas"]
    assert (g.param_groups[0]["lr"], d.param_groups[0]["lr"]) == (1e-3, 4e-3)


def test_gan_schedules_and_resumes_both_optimizers(tmp_path):
    config = {"recipe": "gan", "epochs": 2, "schedule": "onecycle", "lr": 1e-3, "lr_d": 2e-3}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "scheduler stepped before optimizer" warning
        first = Trainer(gan(), ring(), cpu(**config), checkpoint_dir=tmp_path).fit()
    assert first.stopped_reason == "completed", first.message
    resumed = Trainer(gan(), ring(), cpu(**{**config, "epochs": 2}),
                      resume_from=tmp_path / "last.pt").fit()
    assert resumed.stopped_reason == "completed", resumed.message
    more = Trainer(gan(), ring(), cpu(**{**config, "schedule": "step", "epochs": 3}),
                   resume_from=tmp_path / "last.pt").fit()
    assert more.stopped_reason == "error" and "schedule" in more.message


def test_the_activation_view_looks_inside_both_networks():
    class Snapshots(Callback):
        def __init__(self) -> None:
            self.layers: set[str] = set()

        def on_activations(self, snapshot) -> None:
            self.layers |= set(snapshot.layers)

    seen = Snapshots()
    fit(gan(), ring(), [seen], recipe="gan", epochs=1)
    assert any(n.startswith("generator.") for n in seen.layers)
    assert any(n.startswith("discriminator.") for n in seen.layers)


def test_a_discriminator_ending_in_sigmoid_is_refused():
    model = GraphSet({"generator": mlp(4, 8, 2),
                      "discriminator": nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())})
    result = Trainer(model, ring(), cpu(recipe="gan")).fit()
    assert result.stopped_reason == "error"
    assert "the discriminator ends in Sigmoid" in result.message


def test_a_generator_making_the_wrong_shape_is_refused():
    model = GraphSet({"generator": mlp(4, 8, 3), "discriminator": mlp(2, 8, 1)})
    result = Trainer(model, ring(), cpu(recipe="gan")).fit()
    assert "the generator makes [B, 3] but the data's examples are [B, 2]" in result.message


def test_modes_covered_counts_modes_with_at_least_one_percent_of_good_points():
    angles = 2 * np.pi * np.arange(8) / 8
    centres = torch.tensor(np.stack([np.cos(angles), np.sin(angles)], axis=1) * 2.0)
    gen = torch.Generator().manual_seed(0)
    every = centres[torch.arange(800) % 8] + 0.05 * torch.randn(800, 2, generator=gen)
    full = mode_coverage(every, centres, 0.05)
    assert full.modes_covered == 8 and full.high_quality > 0.97
    three = centres[torch.arange(600) % 3] + 0.05 * torch.randn(600, 2, generator=gen)
    stray = torch.cat([three, centres[5:6].repeat(3, 1)])  # 3 points of 603 are < 1%
    partial = mode_coverage(stray, centres, 0.05)
    assert partial.modes_covered == 3 and partial.counts[5] == 3
    far = mode_coverage(torch.zeros(10, 2), centres, 0.05)  # the ring's centre
    assert far.high_quality == 0.0 and far.modes_covered == 0


def test_gan_needs_a_generator_and_a_discriminator_graph():
    p = project(chain("Net", (2,), [("Linear", {"out_features": 2})]),
                dataset={"name": "gaussians8"}, recipe="gan")
    with pytest.raises(RunSetupError) as caught:
        prepare_run(p)
    message = str(caught.value)
    assert message.startswith("the GAN recipe needs 2 graphs: 'generator' (noise z → a fake "
                              "example) and 'discriminator' (an example → one real/fake logit)")
    assert "no graph named 'generator' or 'discriminator' (it has 'Net')" in message


def gan_project(**config: Any) -> Project:
    generator = chain("Generator", (4,), [("Linear", {"out_features": 16}), ("ReLU", {}),
                                          ("Linear", {"out_features": 2})])
    critic = chain("Critic", (2,), [("Linear", {"out_features": 16}), ("LeakyReLU", {}),
                                    ("Linear", {"out_features": 1})])
    return project(generator, critic, dataset={"name": "gaussians8", "n_samples": 200},
                   recipe="gan", epochs=1, **config)


def test_roles_map_to_graphs_by_name_or_by_training_graphs():
    p = gan_project()
    with pytest.raises(RunSetupError, match="no graph named 'discriminator'"):
        prepare_run(p)
    p.training["graphs"] = {"discriminator": "Critic"}  # "Generator" is found by its name
    run = prepare_run(p)
    assert {r: g.name for r, g in run.graphs.items()} == {"generator": "Generator",
                                                          "discriminator": "Critic"}
    assert run.code is run.codes["generator"]
    result = Trainer(run.model, run.splits, run.config).fit()
    assert result.stopped_reason == "completed", result.message
    p.training["graphs"] = {"critic": "Critic"}
    with pytest.raises(RunSetupError, match="has the roles 'discriminator', 'generator'"):
        prepare_run(p)


def test_each_graphs_weights_load_into_its_own_exported_class():
    p = gan_project()
    p.training["graphs"] = {"discriminator": "Critic"}
    run = prepare_run(p)
    state = run.model.state_dict()
    assert {k.split(".")[0] for k in state} == {"generator", "discriminator"}
    weights = run.weights_by_graph()
    assert set(weights) == {"Generator", "Critic"}
    for role, name in (("generator", "Generator"), ("discriminator", "Critic")):
        fresh = compile_graph(p.graph(name))  # exactly the class Export writes
        fresh.load_state_dict(weights[name], strict=True)
        assert role_state_dict(state, role).keys() == weights[name].keys()


def test_a_graph_fed_noise_must_take_real_values():
    p = gan_project()
    p.training["graphs"] = {"discriminator": "Critic"}
    p.remove_graph("Generator")
    p.add_graph(chain("Generator", (4,), [("Embedding", {"num_embeddings": 10, "embedding_dim": 2}),
                                          ("Flatten", {}), ("Linear", {"out_features": 2})],
                      dtype="long"))
    with pytest.raises(RunSetupError, match="graph 'Generator' \\(generator\\): .*set the Input's "
                                            "dtype to float"):
        prepare_run(p)


def test_one_graph_recipes_keep_their_old_checks_and_name_extra_outputs():
    p = project(chain("Net", (2,), [("Linear", {"out_features": 2})], outputs=("a", "b")),
                dataset={"name": "moons", "n_samples": 100})
    with pytest.raises(RunSetupError) as caught:
        prepare_run(p)
    assert str(caught.value) == ("the classification recipe needs the graph to return 1 "
                                 "output (scores); 'Net' returns 2 — remove 1 of its Output nodes")


def test_extra_outputs_are_named_and_a_recipes_needs_are_described_in_words():
    p = project(chain("Net", (1, 8, 8), [("Flatten", {})], outputs=("a", "b", "c")),
                dataset={"name": "digits"}, recipe="reconstruction")
    with pytest.raises(RunSetupError) as caught:
        prepare_run(p)
    assert str(caught.value) == (
        "the reconstruction recipe needs the graph to return 1 output (reconstruction), "
        "optionally followed by (code); 'Net' returns 3 — remove 1 of its Output nodes")
    assert describe_layouts(recipe_class("vae").requires) == (
        "the graphs 'encoder' (an example → mu and logvar of its latent code) and 'decoder' "
        "(a latent code z → an example), or one graph returning (reconstruction, mu, logvar)")


def test_output_order_follows_names_and_ignores_unrelated_ones():
    vae_outputs = recipe_class("vae").requires[1].graphs[0]
    assert output_order(["mu", "log_var", "recon"], vae_outputs) == (2, 0, 1)
    assert output_order(["reconstruction", "mu", "logvar"], vae_outputs) is None  # in order
    assert output_order(["output", "output1", "output2"], vae_outputs) is None  # by position
    single = ordered_outputs(nn.Identity(), torch.ones(3))  # a plain module, one output
    assert len(single) == 1 and torch.equal(single[0], torch.ones(3))


# =================================================================== forecasting
def test_seasonal_naive_repeats_the_last_season():
    x = torch.arange(10, dtype=torch.float32).reshape(1, 10, 1)  # values 0..9
    assert seasonal_naive(x, 4, 6).tolist() == [[6, 7, 8, 9, 6, 7]]
    assert seasonal_naive(x, 1, 2).tolist() == [[9, 9]]
    with pytest.raises(ValueError):
        seasonal_naive(x, 11, 1)


def test_the_season_is_the_strongest_autocorrelation_peak():
    t = torch.arange(400, dtype=torch.float64)
    series = torch.sin(2 * math.pi * t / 12) + 0.5 * torch.sin(2 * math.pi * t / 100)
    windows = torch.stack([series[i:i + 30] for i in range(300)])
    assert estimate_season(windows) == 12
    assert estimate_season(torch.randn(50, 30, generator=torch.Generator().manual_seed(0))) in range(1, 30)
    assert estimate_season(t[:60].reshape(2, 30)) == 1  # a trend has no season


class Forecaster(nn.Module):
    def __init__(self, horizon: int = 1) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.rnn = nn.GRU(1, 16, batch_first=True)
        self.head = nn.Linear(16, horizon)

    def forward(self, x):
        return self.head(self.rnn(x)[0][:, -1])


def test_forecast_learns_and_reports_the_seasonal_naive_baseline():
    series = load_dataset("seasonal-series", length=400, window=30, periods="12,100")
    result = fit(Forecaster(), series, recipe="forecast", epochs=6, lr=1e-2)
    assert losses(result)[-1] < losses(result)[0]
    test = result.metrics["test"]
    assert {"mse", "mae", "r2", "seasonal_naive_mse", "naive_ratio"} <= set(test)
    assert test["naive_ratio"] == pytest.approx(test["seasonal_naive_mse"] / test["mse"])
    recipe = create_recipe(cpu(recipe="forecast"), series.info)
    recipe.setup(series.train, series)
    assert recipe.season == 12


def test_rollout_draws_the_forecast_over_the_test_span():
    series = load_dataset("seasonal-series", length=300, window=20, horizon=3)
    model, test = Forecaster(horizon=3), series.test
    one_step = rollout(model, test)
    assert one_step.forecast.shape == one_step.truth.shape == (len(test),)
    assert torch.equal(one_step.index, test.extra["target_index"])
    free = rollout(model, test, recursive=True)
    assert free.forecast.shape == (len(test),)
    start = int(test.extra["target_index"][0])
    assert free.index.tolist() == list(range(start, start + len(test)))
    assert torch.allclose(free.truth, test.extra["series"][start:start + len(test)])


# ==================================================================== next token
@pytest.fixture(scope="module")
def text() -> DatasetSplits:
    return load_dataset("text-chars", max_chars=12_000, seq_len=16)


class CharRNN(nn.Module):
    def __init__(self, vocab: int, bidirectional: bool = False, last: bool = False) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embed = nn.Embedding(vocab, 16)
        self.rnn = nn.GRU(16, 32, batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear(64 if bidirectional else 32, vocab)
        self.last = last

    def forward(self, x):
        h = self.rnn(self.embed(x))[0]
        return self.head(h[:, -1] if self.last else h)


def test_next_token_learns_in_nats_per_character(text):
    model = CharRNN(text.info.n_classes)
    result = fit(model, text, recipe="next_token", epochs=3, lr=1e-2, batch_size=64)
    assert losses(result)[-1] < 0.8 * losses(result)[0]
    val = result.metrics["val"]
    assert val["perplexity"] == pytest.approx(math.exp(val["loss"]))
    assert val["bits_per_char"] == pytest.approx(val["loss"] / math.log(2))
    assert 0 < val["accuracy"] < 1


def test_sampling_is_seeded_and_cools_to_the_most_likely_character(text):
    vocab = text.info.classes
    model = CharRNN(len(vocab))
    a = sample_text(model, vocab, "The ", 30, temperature=1.0, seed=7)
    assert a.startswith("The ") and len(a) == 34
    assert a == sample_text(model, vocab, "The ", 30, temperature=1.0, seed=7)
    assert a != sample_text(model, vocab, "The ", 30, temperature=1.0, seed=8)
    greedy = sample_text(model, vocab, "The ", 30, temperature=0.0, seed=1)
    assert greedy == sample_text(model, vocab, "The ", 30, temperature=0.0, seed=2)
    assert sample_text(model, vocab, "The ", 30, temperature=1e-4, seed=3) == greedy
    assert len(sample_text(model, vocab, "", 5, seed=0)) == 5
    with pytest.raises(ValueError, match="does not know"):
        sample_text(model, vocab, "\x00", 3)


def test_next_token_refuses_a_model_that_sees_the_characters_it_predicts(text):
    result = Trainer(CharRNN(text.info.n_classes, bidirectional=True), text,
                     cpu(recipe="next_token")).fit()
    assert result.stopped_reason == "error"
    assert "lets earlier positions see later characters" in result.message


def test_next_token_says_to_output_every_step_when_only_the_last_is_scored(text):
    v = text.info.n_classes
    result = Trainer(CharRNN(v, last=True), text, cpu(recipe="next_token")).fit()
    assert (f"needs a score for each of the {v} tokens at every position ([B, 16, {v}]); the "
            f"model gives [B, {v}] — it scores one position only: set the recurrent layer's "
            "output to 'sequence'") in result.message


# ======================================================================= seq2seq
def test_seq2seq_tokens_learns_to_reverse_and_reports_whole_sequence_accuracy():
    data = load_dataset("sequence-reverse", n_samples=600, length=4, vocab=5)

    class Reverser(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(0)
            self.embed = nn.Embedding(5, 8)
            self.head = nn.Linear(4 * 8, 4 * 5)

        def forward(self, x):
            return self.head(self.embed(x).flatten(1)).reshape(len(x), 4, 5)

    result = fit(Reverser(), data, recipe="seq2seq_tokens", epochs=8, lr=2e-2)
    assert losses(result)[-1] < 0.5 * losses(result)[0]
    test = result.metrics["test"]
    assert test["accuracy"] > 0.8 and 0 <= test["sequence_accuracy"] <= test["accuracy"]


def test_token_recipes_need_a_target_at_every_position(digits):
    info = DatasetInfo("labels", "classification", (4,), ("a", "b"), input_dtype="int64")
    split = Split(torch.zeros(8, 4, dtype=torch.int64), torch.zeros(8, dtype=torch.int64))
    data = DatasetSplits(info, split, split, split)
    result = Trainer(nn.Embedding(2, 2), data, cpu(recipe="seq2seq_tokens")).fit()
    assert "needs a target token at every position ([N, T])" in result.message


# ======================================================================== config
@pytest.mark.parametrize("field, value", [("kl_weight", -1.0), ("kl_warmup_epochs", -1),
                                          ("lr_d", -1e-3)])
def test_recipe_settings_are_validated(field, value):
    with pytest.raises(ConfigError, match=f"^{field}: "):
        TrainConfig(**{field: value})


def test_every_roadmap_recipe_is_registered_with_its_metrics():
    for name, metric in (("reconstruction", "baseline_ratio"), ("vae", "elbo"),
                         ("gan", "modes_covered"), ("forecast", "naive_ratio"),
                         ("next_token", "perplexity"), ("seq2seq_tokens", "sequence_accuracy")):
        assert metric in recipe_class(name).metric_modes
        TrainConfig(recipe=name, monitor=metric)
