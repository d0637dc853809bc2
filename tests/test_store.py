import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cifar_mlp.config import RunConfig
from cifar_mlp.core import environment
from cifar_mlp.runs import store, sweep
from cifar_mlp.study import compare


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
    from cifar_mlp.core import training
    made = []
    monkeypatch.setattr(training, "train", fake_train(made))
    return made


def test_record_round_trips_as_small_text_files(store_root, calls):
    config = RunConfig(lr=0.01, widths=(64,))
    record = sweep.run(config, 3)
    folder = store_root / record.key
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "environment.json", "history.csv",
                                                        "metrics.json"]
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
    summary = compare.summarize(df2, metric="val_accuracy")
    assert list(summary.index) == ["a", "b", "huge"]  # the sweep's order
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


HISTORY = {"loss": [2.0, 1.5], "accuracy": [0.2, 0.4], "val_loss": [2.1, 1.7],
           "val_accuracy": [0.3, 0.25], "lr": [0.01, 0.01], "seconds": [1.0, 3.0]}


def metrics_of(val, best, status="ok"):
    return {"status": status, "epochs_run": 2, "val_accuracy": val, "best_val_accuracy": best,
            "last_val_accuracy": val, "best_epoch": 1, "seconds_per_epoch": 2.0, "params": 10}


def test_a_record_keeps_where_it_trained_outside_its_key(store_root):
    here = environment.capture()
    record = store.save(RunConfig(lr=0.02), 1, HISTORY, metrics_of(0.25, 0.3), environment=here,
                        executor="dask")
    assert record.key == store.run_key(RunConfig(lr=0.02), 1)  # the key knows nothing of it
    assert record.environment == {**here, "executor": "dask"}
    assert not list(store_root.glob(".tmp-*"))  # written with the rest, in one rename
    # A record stored before runs kept their environment still reads, without one.
    (store_root / record.key / environment.FILE).unlink()
    assert store.read(store_root / record.key).environment is None


def test_table_has_one_row_per_stored_run_with_config_metrics_and_environment(store_root):
    a = store.save(RunConfig(lr=0.02, widths=(64, 32)), 0, HISTORY, metrics_of(0.25, 0.3),
                   predictions={"val": [1, 2, 3]}, environment={"host": "h1", "cpu_cores": 2})
    b = store.save(RunConfig(optimizer="sgd", momentum=0.9), 1, HISTORY, metrics_of(0.4, 0.45),
                   executor="dask")
    c = store.save(RunConfig(lr=9.0), 0, HISTORY, {**metrics_of(0.1, 0.1, "diverged"), "val_accuracy": None})
    (store_root / c.key / environment.FILE).unlink()  # as records stored before environments were kept
    (store_root / "0123456789abcdef").mkdir()  # no metrics.json: not a record
    (store_root / ".tmp-x-1-y").mkdir()
    df = store.table().set_index("key")
    assert sorted(df.index) == sorted([a.key, b.key, c.key])
    assert set(RunConfig().to_dict()) <= set(df.columns)
    assert df.loc[a.key, "widths"] == (64, 32) and df.loc[a.key, "lr"] == 0.02
    assert df.loc[b.key, "optimizer"] == "sgd" and df.loc[b.key, "seed"] == 1
    assert list(df.loc[[a.key, b.key], "val_accuracy"]) == [0.25, 0.4]
    assert list(df.loc[[a.key, b.key], "best_val_accuracy"]) == [0.3, 0.45]
    assert df.loc[c.key, "status"] == "diverged" and pd.isna(df.loc[c.key, "val_accuracy"])
    assert (df["seconds_per_epoch"] == 2.0).all()
    assert df["predictions"].to_dict() == {a.key: True, b.key: False, c.key: False}
    assert df.loc[a.key, "env_host"] == "h1" and df.loc[a.key, "env_executor"] == "local"
    assert df.loc[b.key, "env_executor"] == "dask" and pd.isna(df.loc[c.key, "env_executor"])
    assert store.table(store_root.parent / "empty").empty


COMMITTED = Path(__file__).resolve().parents[1] / "results"


def test_table_of_the_committed_store_has_a_row_per_record_folder():
    folders = {p.parent.name for p in COMMITTED.glob("[!.]*/metrics.json")}
    df = store.table(COMMITTED)
    assert len(df) == len(folders) > 0 and set(df["key"]) == folders
    assert df["key"].is_unique and df["status"].isin(["ok", "diverged"]).all()
    ok = df[df["status"] == "ok"]
    assert ok["val_accuracy"].between(0, 1).all()
    assert (ok["best_val_accuracy"] >= ok["val_accuracy"] - 1e-9).all()


def test_export_writes_csv_with_sequences_as_json(store_root, tmp_path):
    store.save(RunConfig(widths=(64, 32), activation=("relu", "tanh")), 0, HISTORY, metrics_of(0.25, 0.3))
    store.save(RunConfig(), 0, HISTORY, metrics_of(0.3, 0.3))
    store.export(tmp_path / "out" / "runs.csv")
    back = pd.read_csv(tmp_path / "out" / "runs.csv")
    assert len(back) == 2 and sorted(back["widths"]) == ["[128, 128, 128]", "[64, 32]"]
    assert sorted(back["activation"]) == ["[\"relu\", \"tanh\"]", "relu"]


def test_export_to_parquet_needs_pyarrow_and_says_so(store_root, tmp_path, monkeypatch):
    store.save(RunConfig(), 0, HISTORY, metrics_of(0.3, 0.3))
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        pass
    else:
        store.export(tmp_path / "runs.parquet")
        assert len(pd.read_parquet(tmp_path / "runs.parquet")) == 1
    import importlib.util
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(store.ExportError, match="needs pyarrow.*export to .csv, or `pip install pyarrow`"):
        store.export(tmp_path / "runs2.parquet")
    with pytest.raises(store.ConfigError, match="cannot export to 'runs.xlsx'.*not one of .csv, .parquet"):
        store.export(tmp_path / "runs.xlsx")


@pytest.mark.parametrize("args, code, says", [
    (["export", "runs.xlsx"], 2, "cannot export to 'runs.xlsx'"),
    (["exprt", "runs.csv"], 2, "invalid choice: 'exprt'"),
    (["export", "runs.csv", "--results", "missing"], 4, "no such results folder"),
])
def test_the_command_line_fails_in_a_line_or_two(tmp_path, args, code, says):
    done = subprocess.run([sys.executable, "-m", "cifar_mlp.runs.store", *args], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == code and says in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) <= 2
    assert not (tmp_path / "runs.csv").exists()


def test_the_command_line_exports_a_store(store_root, tmp_path):
    store.save(RunConfig(), 0, HISTORY, metrics_of(0.3, 0.3))
    done = subprocess.run([sys.executable, "-m", "cifar_mlp.runs.store", "export", "runs.csv",
                           "--results", str(store_root)], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 runs") and len(pd.read_csv(tmp_path / "runs.csv")) == 1


def test_a_corrupted_record_is_named_with_what_to_do(tmp_path):
    from cifar_mlp.runs import store
    folder = tmp_path / "0123456789abcdef"
    folder.mkdir()
    (folder / "metrics.json").write_text("{}")
    (folder / "config.json").write_text('{"config": {"wid')  # cut short
    with pytest.raises(store.StoreError, match="0123456789abcdef is unreadable.*delete the folder"):
        store.read(folder)
