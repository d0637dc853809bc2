"""A render never trains: with CIFAR_MLP_NO_TRAIN=1 a missing run fails at once, by name."""

import os
import subprocess
import sys
import time

import pytest

from cifar_mlp import paths
from cifar_mlp.config import RunConfig
from cifar_mlp.runs import store, sweep

TINY = RunConfig(widths=[16], epochs=1, train_size=200, val_size=100)


def test_a_missing_run_is_refused_before_anything_trains(store_root, monkeypatch):
    from cifar_mlp.core import training
    monkeypatch.setenv(sweep.NO_TRAIN_VARIABLE, "1")
    monkeypatch.setattr(training, "train", lambda *a, **k: pytest.fail("a run trained"))
    with pytest.raises(sweep.TrainingForbidden) as error:
        sweep.sweep({"tiny": TINY}, seeds=[0, 1])
    message = str(error.value)
    for seed in (0, 1):
        assert store.run_key(TINY, seed) in message
    assert "2 run(s) not stored" in message and "make report ONLY=" in message
    with pytest.raises(sweep.TrainingForbidden):
        sweep.run(TINY, 0)
    assert not store_root.exists() or not any(store_root.glob("[!.]*"))


def test_stored_runs_are_read_while_training_is_forbidden(store_root, synthetic_split, monkeypatch):
    first = sweep.sweep({"tiny": TINY}, seeds=[0])
    monkeypatch.setenv(sweep.NO_TRAIN_VARIABLE, "1")
    again = sweep.sweep({"tiny": TINY}, seeds=[0])
    assert again["key"].tolist() == first["key"].tolist()
    assert again["val_accuracy"].tolist() == first["val_accuracy"].tolist()


@pytest.mark.slow
@pytest.mark.real
def test_a_render_that_needs_a_missing_run_fails_fast_naming_it(tmp_path):
    """The report's own path: a notebook whose runs are not stored stops at its first sweep."""
    env = {**os.environ, sweep.NO_TRAIN_VARIABLE: "1", "CIFAR_MLP_SMOKE_DIR": str(tmp_path / "smoke"),
           "CIFAR_MLP_RUNS": str(tmp_path / "runs")}
    env.pop("CIFAR_MLP_TRAIN_IN_PROCESS", None)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "cifar_mlp.report.build", "--profile", "smoke",
                           "--only", "01_baseline"], env=env, cwd=paths.PROJ_ROOT,
                          capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - start
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "TrainingForbidden" in output and "not stored" in output, output
    assert not any((tmp_path / "smoke" / "results").glob("[!.]*")), "a run was stored"
    assert seconds < 120, f"took {seconds:.0f} s: it should stop at the first sweep"
