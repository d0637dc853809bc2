"""Shared fixtures: a scratch results store and small synthetic splits."""

import numpy as np
import pytest

from cifar_mlp import data


@pytest.fixture
def store_root(tmp_path, monkeypatch):
    """Point results, runs and smoke folders at a temporary directory."""
    from cifar_mlp import paths
    for name, sub in (("RESULTS_DIR", "results"), ("RUNS_DIR", "runs"), ("SMOKE_DIR", "smoke")):
        monkeypatch.setattr(paths, name, tmp_path / sub)
    return tmp_path / "results"


@pytest.fixture
def synthetic_split(monkeypatch):
    """A learnable 10-class problem in place of CIFAR-10, for fast training tests."""
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(10, data.INPUT_DIM)).astype(np.float32)

    def make(n):
        y = np.arange(n) % 10
        x = np.clip(centers[y] * 0.3 + rng.normal(size=(n, data.INPUT_DIM)) * 0.5, -1, 1)
        return x.astype(np.float32), y.astype(np.int32)

    x_train, y_train = make(600)
    x_val, y_val = make(200)
    split = data.Split(x_train, y_train, x_val, y_val)
    from cifar_mlp import training
    training._tensors.cache_clear()
    monkeypatch.setattr(data, "load_split", lambda *a, **k: split)
    yield split
    training._tensors.cache_clear()
