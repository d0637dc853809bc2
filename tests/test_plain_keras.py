"""01's plain-Keras cell computes what the library's training loop computes.

The cell is taken from notebooks/01_baseline.py as a reader sees it and run on a
small synthetic problem. One batch per epoch (the batch holds every training
image), so the order each path shuffles to cannot matter: what is compared is the
model, its initial weights, the optimizer, the loss and the metrics.
"""

import jupytext
import numpy as np
import pandas as pd
import pytest

from cifar_mlp import paths
from cifar_mlp.config import RunConfig
from cifar_mlp.core import data, training

# Observed about 1e-7 apart (XLA and TensorFlow's kernels round differently);
# the margin is for other CPUs, whose kernels may sum in other orders.
RTOL = 1e-4
N_TRAIN, N_VAL = 200, 100


def plain_keras_cell() -> str:
    cells = jupytext.read(paths.notebooks_dir() / "01_baseline.py").cells
    found = [c.source for c in cells if c.cell_type == "code" and "keras.Sequential(" in c.source]
    assert len(found) == 1, "01 needs one visible cell that builds the model in plain Keras"
    return found[0]


@pytest.fixture
def uint8_split(monkeypatch):
    """Stored pixels as the study keeps them (flat uint8), learnable from their class."""
    rng = np.random.default_rng(0)
    centers = rng.integers(40, 216, (10, data.INPUT_DIM))

    def make(n):
        y = (np.arange(n) % 10).astype(np.int32)
        x = np.clip(centers[y] + rng.normal(0, 40, (n, data.INPUT_DIM)), 0, 255).astype(np.uint8)
        return x, y

    split = data.Split(*make(N_TRAIN), *make(N_VAL))
    training._tensors.cache_clear()
    monkeypatch.setattr(data, "make_split", lambda *a, **k: split)
    yield split
    training._tensors.cache_clear()


def test_the_plain_keras_cell_gives_the_library_loops_history(uint8_split):
    config = RunConfig(widths=(32, 16), batch_size=N_TRAIN, epochs=1, train_size=N_TRAIN,
                       val_size=N_VAL)
    namespace = {"data": data, "pd": pd, "split": uint8_split, "baseline": config}
    exec(plain_keras_cell(), namespace)
    plain = {k: v[0] for k, v in namespace["history"].history.items()}

    ours = training.train(config, seed=0)
    history = {k: v[0] for k, v in ours["history"].items()}
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(history[key], plain[key], rtol=RTOL, err_msg=key)
    assert namespace["plain"].count_params() == ours["model"].count_params()
    for a, b in zip(namespace["plain"].get_weights(), ours["model"].get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-6)
