"""The CNN classics: AlexNet, VGG-11, VGG-16 and ResNet-18 as torchvision defines them, and
the scaled-down VGG and ResNet that train on the 8x8 digits.

torchvision is not a dependency, so its definitions are written out below (from
torchvision/models/{alexnet,vgg,resnet}.py) and the drawn networks are checked against
them: the published parameter counts, every tensor's shape in order, and — with the
same weights — the same outputs.
"""

from __future__ import annotations

import re
import time

import pytest
import torch
from torch import nn

from nnstudio.cli import main as cli_main
from nnstudio.graph import compile_graph, infer_shapes
from nnstudio.graph.templates import load_template, templates_dir

# the totals torchvision's documentation gives for these models
REFERENCE = {"alexnet": 61_100_840, "vgg11": 132_863_336, "vgg16": 138_357_544,
             "resnet18": 11_689_512}


# ----------------------------------------------------------------------------- references
def tv_alexnet() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.AdaptiveAvgPool2d((6, 6)), nn.Flatten(),
        nn.Dropout(p=0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
        nn.Dropout(p=0.5), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
        nn.Linear(4096, 1000))


VGG_CFGS = {"vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
            "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
                      512, 512, 512, "M"]}


def tv_vgg(name: str) -> nn.Module:
    layers: list[nn.Module] = []
    in_channels = 3
    for v in VGG_CFGS[name]:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(in_channels, v, kernel_size=3, padding=1), nn.ReLU(True)]
            in_channels = v
    return nn.Sequential(
        *layers, nn.AdaptiveAvgPool2d((7, 7)), nn.Flatten(),
        nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=0.5),
        nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=0.5), nn.Linear(4096, 1000))


class TvBasicBlock(nn.Module):
    def __init__(self, inplanes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


def tv_resnet18() -> nn.Module:
    layers: list[nn.Module] = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                               nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
    inplanes = 64
    for planes, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [TvBasicBlock(inplanes, planes, stride), TvBasicBlock(planes, planes)]
        inplanes = planes
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
                         nn.Linear(512, 1000))


REFERENCE_MODELS = {"alexnet": tv_alexnet, "vgg11": lambda: tv_vgg("vgg11"),
                    "vgg16": lambda: tv_vgg("vgg16"), "resnet18": tv_resnet18}


# ----------------------------------------------------------------------------- counts
@pytest.mark.parametrize("name", list(REFERENCE))
def test_inference_counts_the_published_parameter_totals(name):
    project = load_template(name)
    result = infer_shapes(project.graph())
    assert result.ok, result.all_errors()
    assert result.total_params == REFERENCE[name]
    assert result.output_shape(project.graph().find("fc3" if "resnet" not in name
                                                     else "fc").id) == ("B", 1000)


@pytest.mark.parametrize("name", list(REFERENCE))
def test_nnstudio_summary_prints_the_published_total(name, capsys):
    assert cli_main(["summary", str(templates_dir() / f"{name}.nnstudio")]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().splitlines()[-1] == f"total parameters: {REFERENCE[name]}"
    graph = load_template(name).graph()
    assert f"parameters in {graph.name}: {REFERENCE[name]}" in out


@pytest.mark.parametrize("name", list(REFERENCE))
def test_every_tensor_has_torchvisions_shape_in_torchvisions_order(name):
    with torch.device("meta"):  # shapes only: nothing is allocated or initialised
        ours = compile_graph(load_template(name).graph())
        ref = REFERENCE_MODELS[name]()
    assert sum(p.numel() for p in ours.parameters()) == REFERENCE[name]
    assert sum(p.numel() for p in ref.parameters()) == REFERENCE[name]
    assert [tuple(t.shape) for t in ours.state_dict().values()] == \
        [tuple(t.shape) for t in ref.state_dict().values()]


@pytest.mark.parametrize("name", ["alexnet", "vgg11", "resnet18"])
def test_with_the_same_weights_the_drawing_computes_what_torchvision_does(name):
    torch.manual_seed(0)
    ours = compile_graph(load_template(name).graph()).eval()
    ref = REFERENCE_MODELS[name]().eval()
    # same weights, matched by position: the shapes test above shows the orders agree
    ref.load_state_dict(dict(zip(ref.state_dict(), ours.state_dict().values())))
    if name == "resnet18":  # make batch norm do something: statistics that are not 0/1
        with torch.no_grad():
            for m in ours.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.1, 0.1)
                    m.running_var.uniform_(0.5, 1.5)
            ref.load_state_dict(dict(zip(ref.state_dict(), ours.state_dict().values())))
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        got, want = ours(x), ref(x)
    assert got.shape == (1, 1000)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_vgg16_builds_and_runs_once():
    model = compile_graph(load_template("vgg16").graph()).eval()
    assert sum(p.numel() for p in model.parameters()) == REFERENCE["vgg16"]
    with torch.no_grad():
        assert model(torch.randn(1, 3, 224, 224)).shape == (1, 1000)


def test_the_classics_draw_their_stages_as_blocks():
    vgg = load_template("vgg16")
    assert [g.name for g in vgg.graphs] == ["VGG16", "Stage64", "Stage128", "Stage256",
                                            "Stage512"]
    with torch.device("meta"):
        source = compile_graph(vgg.graph()).nnstudio_code.source
    assert "self.stage4 = Stage512(in_channels=256)" in source
    assert "self.stage5 = Stage512(in_channels=512)" in source
    resnet = load_template("resnet18")
    with torch.device("meta"):
        model = compile_graph(resnet.graph())
    keys = list(model.state_dict())
    assert "layer2_0.downsample_conv.weight" in keys and "layer1_1.bn2.running_var" in keys
    assert re.search(r"class DownBlock128\(nn\.Module\)", model.nnstudio_code.source)


# ----------------------------------------------------------------------------- digits
def _train(name: str, **overrides):
    from nnstudio.train.project_run import prepare_run
    from nnstudio.train.trainer import Trainer

    project = load_template(name)
    start = time.perf_counter()
    run = prepare_run(project, config_overrides=overrides)
    result = Trainer(run.model, run.splits, run.config, report_every_s=1.0).fit()
    return result, time.perf_counter() - start


@pytest.mark.parametrize("name", ["vgg-digits", "resnet-digits"])
def test_digits_classics_learn_in_a_few_epochs(name):
    result, _ = _train(name, epochs=2)
    assert result.stopped_reason == "completed", result.message
    assert result.metrics["test"]["accuracy"] >= 0.6


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vgg-digits", "resnet-digits"])
def test_digits_classics_reach_97_percent_in_under_a_minute(name):
    result, seconds = _train(name)  # the template's own settings
    assert result.stopped_reason == "completed", result.message
    assert result.metrics["test"]["accuracy"] >= 0.97
    assert seconds < 60
