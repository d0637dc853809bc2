import json
import math

import pandas as pd
import pytest

from cifar_mlp import store, sweep
from cifar_mlp.config import RunConfig


def fake_train(calls):
    """Stand-in for training.train: records its calls, diverges for lr >= 1."""
    def train(config, seed, run_dir=None, progress_every=0):
        calls.append((config.lr, seed))
        loss = math.nan if config.lr >= 1 else 1.0 / (seed + 1)
        history = {"loss": [2.0, loss], "accuracy": [0.2, 0.3], "val_loss": [2.1, loss],
                   "val_accuracy": [0.2, 0.25 + config.lr], "lr": [config.lr] * 2, "seconds": [1.0, 1.0]}
        metrics = {"status": "diverged" if loss != loss else "ok", "epochs_run": 2,
                   "val_accuracy": 0.25 + config.lr, "params": 10}
        return {"history": history, "metrics": metrics, "predictions": {}}
    return train


@pytest.fixture
def calls(monkeypatch):
    from cifar_mlp import training
    made = []
    monkeypatch.setattr(training, "train", fake_train(made))
    return made


def test_record_round_trips_as_small_text_files(store_root, calls):
    config = RunConfig(lr=0.01, widths=(64,))
    record = sweep.run(config, 3)
    folder = store_root / record.key
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "history.csv", "metrics.json"]
    meta = json.loads((folder / "config.json").read_text())
    assert meta["seed"] == 3 and meta["config"]["widths"] == [64] and meta["changed"]["lr"] == 0.01
    again = store.load(config, 3)
    assert again.config == config and again.metrics == record.metrics
    assert list(again.history["epoch"]) == [1, 2]
    assert sweep.run(config, 3).key == record.key and len(calls) == 1  # stored: not retrained


def test_sweep_resumes_and_reports_divergence(store_root, calls, capsys):
    configs = {"a": RunConfig(lr=0.01), "b": RunConfig(lr=0.02), "huge": RunConfig(lr=5.0)}
    df = sweep.sweep(configs, seeds=[0, 1])
    assert len(df) == 6 and len(calls) == 6
    assert (df.loc[df.variant == "huge", "status"] == "diverged").all()
    assert "DIVERGED" in capsys.readouterr().out
    calls.clear()
    df2 = sweep.sweep(configs, seeds=[0, 1, 2])
    assert calls == [(0.01, 2), (0.02, 2), (5.0, 2)]  # only the new seed trains
    summary = sweep.summarize(df2)
    assert list(summary.index) == ["b", "a", "huge"]
    assert summary.loc["huge", "diverged"] == 3 and pd.isna(summary.loc["huge", "mean"])
    hist = sweep.histories(df2)
    assert len(hist) == 18 and set(hist.columns) >= {"variant", "seed", "epoch", "val_accuracy"}


def test_half_written_records_are_never_read(store_root, calls):
    sweep.run(RunConfig(), 0)
    tmp = store_root / ".tmp-abc-123"
    tmp.mkdir()
    (tmp / "metrics.json").write_text("{}")
    incomplete = store_root / "0123456789abcdef"
    incomplete.mkdir()
    (incomplete / "config.json").write_text("{")
    assert [r.seed for r in store.read_all()] == [0]
