"""Train and study multilayer perceptrons on CIFAR-10 with Keras."""

__version__ = "0.1.0"
