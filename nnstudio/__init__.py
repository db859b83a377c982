"""nnstudio: draw a neural network, watch it train, export clean PyTorch."""

__version__ = "0.1.0"
