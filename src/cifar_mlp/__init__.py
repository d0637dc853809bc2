"""Train and study multilayer perceptrons on CIFAR-10 with Keras."""

import os

# Before TensorFlow loads anywhere: keep its C++ start-up log out of notebooks and reports.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
