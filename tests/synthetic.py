"""A learnable 10-class problem shaped like flattened CIFAR-10, for fast training tests.

Shared by the test fixtures and the worker processes of test_reliability.py.
"""

import numpy as np

from cifar_mlp.core import data


def make_split(n_train: int = 600, n_val: int = 200) -> data.Split:
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(10, data.INPUT_DIM)).astype(np.float32)

    def make(n):
        y = np.arange(n) % 10
        x = np.clip(centers[y] * 0.3 + rng.normal(size=(n, data.INPUT_DIM)) * 0.5, -1, 1)
        return x.astype(np.float32), y.astype(np.int32)

    return data.Split(*make(n_train), *make(n_val))
