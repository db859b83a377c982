"""Hand-written PyTorch models, as a person would write them, for the importer tests.

Each model is source text: the tests write it to a file and import that file, as
``nnstudio import`` does.
"""

from __future__ import annotations

HEADER = '''\
import torch
import torch.nn.functional as F
from torch import nn
'''

CIFAR_CNN = HEADER + '''

class CifarNet(nn.Module):
    """The CIFAR-10 tutorial's CNN, with the usual view(-1, ...) before the classifier."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)
'''

RESIDUAL = HEADER + '''

class BasicBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x
        return F.relu(out)


class TinyResNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.layer1 = nn.Sequential(BasicBlock(8), BasicBlock(8))
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8, classes)

    def forward(self, x):
        x = self.layer1(self.stem(x))
        x = torch.flatten(self.pool(x), 1)
        return self.fc(x)
'''

BRANCHES = HEADER + '''

class TwoBranches(nn.Module):
    """Inception-style: two convolutions of the same input, joined along the channels."""

    def __init__(self):
        super().__init__()
        self.left = nn.Sequential(nn.Conv2d(1, 4, 1), nn.ReLU())
        self.right = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.Tanh(),
                                   nn.Conv2d(6, 6, 3, padding="same"))
        self.head = nn.Linear(10, 3)

    def forward(self, x):
        y = torch.cat([self.left(x), self.right(x)], dim=1)
        y = F.max_pool2d(y, 2)
        y = y.mean(dim=(2, 3))
        return torch.softmax(self.head(y), dim=-1)
'''

EMBED_LSTM = HEADER + '''

class TextClassifier(nn.Module):
    """Token ids → embeddings → LSTM → the last step → two classes."""

    def __init__(self, vocab=50, dim=16, hidden=24):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, num_layers=2, batch_first=True, dropout=0.1)
        self.drop = nn.Dropout(0.2)
        self.out = nn.Linear(hidden, 2)

    def forward(self, tokens):
        out, (h, c) = self.lstm(self.embed(tokens))
        return self.out(self.drop(out[:, -1, :]))


class GRUClassifier(nn.Module):
    """The same with a GRU and its final hidden state."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(30, 8)
        self.gru = nn.GRU(8, 12, batch_first=True)
        self.out = nn.Linear(12, 4)

    def forward(self, tokens):
        _, h = self.gru(self.embed(tokens))
        return F.log_softmax(self.out(h[-1]), dim=1)
'''

TRANSFORMER = HEADER + '''

class TinyTransformer(nn.Module):
    """A Transformer encoder layer over a sequence of feature vectors, read at step 0."""

    def __init__(self, features=6, d_model=16):
        super().__init__()
        self.proj = nn.Linear(features, d_model)
        self.encoder = nn.TransformerEncoderLayer(d_model, nhead=4, dim_feedforward=32,
                                                  dropout=0.1, batch_first=True)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, 3)

    def forward(self, x):
        h = self.encoder(self.proj(x))
        return self.head(self.norm(h)[:, 0])


class StackedEncoder(nn.Module):
    """nn.TransformerEncoder (a stack of layers) and self-attention on its own."""

    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(8, 2, 16, 0.0, activation="gelu", batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        x = self.encoder(x)
        x, _ = self.attn(x, x, x)
        x = x.permute(0, 2, 1).mean(-1)
        return self.fc(x)
'''

CIFAR_SEQUENTIAL = HEADER + '''

class CifarSeq(nn.Module):
    """A CIFAR CNN written the torchvision way: features and classifier as nn.Sequential,
    its two convolution stages built by one helper (so they differ only in what enters)."""

    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(stage(3, 8), stage(8, 8))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(8 * 8 * 8, 32), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(32, classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def stage(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                         nn.MaxPool2d(2))
'''

RESNET_ISH = HEADER + '''

class BasicBlock(nn.Module):
    """ResNet's basic block: a 1x1 projection on the shortcut when the shape changes."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class Swish(nn.Module):
    """A layer of one's own without weights, called twice."""

    def forward(self, x):
        return x * torch.sigmoid(x)


class ResNetish(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.act = Swish()
        self.layer1 = nn.Sequential(BasicBlock(8, 8), BasicBlock(8, 8))
        self.layer2 = nn.Sequential(BasicBlock(8, 16, 2), BasicBlock(16, 16))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = self.act(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        x = self.act(self.pool(x).flatten(1))
        return self.fc(x)
'''

# (source, class, input shape, input dtype or None)
ROUND_TRIPS = {
    "cifar_cnn": (CIFAR_CNN, "CifarNet", (1, 3, 32, 32)),
    "residual": (RESIDUAL, "TinyResNet", (1, 3, 8, 8)),
    "branches": (BRANCHES, "TwoBranches", (1, 1, 6, 6)),
    "embed_lstm": (EMBED_LSTM, "TextClassifier", (1, 7)),
    "gru": (EMBED_LSTM, "GRUClassifier", (1, 5)),
    "transformer": (TRANSFORMER, "TinyTransformer", (1, 5, 6)),
    "stacked_encoder": (TRANSFORMER, "StackedEncoder", (1, 4, 8)),
    "cifar_sequential": (CIFAR_SEQUENTIAL, "CifarSeq", (1, 3, 32, 32)),
    "resnet_ish": (RESNET_ISH, "ResNetish", (1, 3, 16, 16)),
}
