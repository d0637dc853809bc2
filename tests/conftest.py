"""Shared fixtures: a scratch results store and small synthetic splits."""

import pytest
from synthetic import make_split

from cifar_mlp.core import data


@pytest.fixture(autouse=True)
def train_in_process(monkeypatch):
    """Train in the test's own process (and its subprocesses), where the synthetic
    data and the monkeypatches live; tests of the worker itself undo this."""
    monkeypatch.setenv("CIFAR_MLP_TRAIN_IN_PROCESS", "1")


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
    split = make_split()
    from cifar_mlp.core import training
    training._tensors.cache_clear()
    for name in ("load_split", "make_split"):
        monkeypatch.setattr(data, name, lambda *a, **k: split)
    yield split
    training._tensors.cache_clear()


@pytest.fixture
def in_workers(monkeypatch):
    """Runs must train in worker processes (real data only: the workers cannot see
    monkeypatches). Training in the test's process fails the test; the fixture gives
    the real `training.train`, to train the same run here for comparison."""
    from cifar_mlp.core import training
    from cifar_mlp.runs import executors
    monkeypatch.delenv("CIFAR_MLP_TRAIN_IN_PROCESS")
    monkeypatch.setattr(executors, "_current", None)
    in_process = training.train
    monkeypatch.setattr(training, "train", lambda *a, **k: pytest.fail("trained in the test process"))
    yield in_process
    executors.close()


@pytest.fixture
def ctrl_c_raises():
    """Ctrl-C raises KeyboardInterrupt during the test, as in any terminal. A Python started
    as a background job of a non-interactive shell (`make test &`) inherits SIGINT ignored
    and never installs that handler, so a test of Ctrl-C would see nothing."""
    import signal

    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)
