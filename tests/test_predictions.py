"""Records hold the predictions the reports draw from; old records get them by retraining."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from cifar_mlp.config import RunConfig
from cifar_mlp.runs import predictions, store, sweep

SCORED = RunConfig(widths=[16], epochs=2, train_size=600, val_size=200, test=True)


@pytest.mark.real
def test_a_run_scored_on_test_stores_the_classes_its_final_model_predicts(store_root, synthetic_split):
    record = sweep.run(SCORED, 0)
    stored = store.predictions(record)
    assert set(stored) == {"val", "test"} and stored["test"].dtype == np.uint8
    assert len(stored["val"]) == len(synthetic_split.y_val) and len(stored["test"]) == 10_000
    assert np.mean(stored["val"] == synthetic_split.y_val) == pytest.approx(
        record.metrics["val_accuracy"], abs=1e-6)


@pytest.mark.real
def test_old_records_get_predictions_only_when_the_retrained_run_reproduces_them(
        store_root, synthetic_split, capsys):
    record = sweep.run(SCORED, 0)
    folder = store.record_dir(record.key)
    kept = store.predictions(record)
    (folder / store.PREDICTIONS).unlink()
    with pytest.raises(FileNotFoundError, match="python -m cifar_mlp.runs.predictions"):
        store.predictions(record)

    assert predictions.main(["--results", str(store_root)]) == 0
    again = store.predictions(record)
    assert all(np.array_equal(kept[k], again[k]) for k in kept)
    assert "reproduced" in capsys.readouterr().out

    # A record the retrained run does not reproduce is left as it is, and said.
    (folder / store.PREDICTIONS).unlink()
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["val_accuracy"] += 0.01
    (folder / "metrics.json").write_text(json.dumps(metrics))
    assert predictions.main(["--results", str(store_root)]) == 1
    assert not (folder / store.PREDICTIONS).exists()
    assert "NOT reproduced (val_accuracy" in capsys.readouterr().out


@pytest.mark.real
def test_a_run_scored_on_test_reads_its_trained_twin_checkpoint_instead_of_training_again(
        store_root, synthetic_split, monkeypatch, tmp_path):
    """07's final model is the ladder's last kept step read on the test set: the same
    training (`RunConfig.same_training`), so the test set reads that run's best-epoch
    checkpoint. The record is the one training it again would store."""
    from cifar_mlp import paths
    from cifar_mlp.core import training

    kept = SCORED.replace(epochs=4, checkpoint=True, test=False)
    twin = sweep.run(kept, 0)
    trained_here = []
    train = training.train
    monkeypatch.setattr(training, "train", lambda *a, **k: trained_here.append(a) or train(*a, **k))
    final = sweep.run(kept.replace(test=True), 0)
    assert not trained_here, "the final model was trained again"
    assert final.key != twin.key and final.environment["trained_as"] == twin.key
    pd.testing.assert_frame_equal(final.history, twin.history)
    assert final.metrics["wall_seconds"] == twin.metrics["wall_seconds"]

    # Trained from nothing in another store, the same run stores the same numbers.
    monkeypatch.setattr(paths, "RUNS_DIR", tmp_path / "elsewhere-runs")
    again = sweep.run(kept.replace(test=True), 0, root=tmp_path / "elsewhere")
    assert trained_here
    for metric in ("val_accuracy", "test_accuracy", "best_epoch"):
        assert final.metrics[metric] == pytest.approx(again.metrics[metric], abs=1e-6), metric
    assert all(np.array_equal(store.predictions(final)[k],
                              store.predictions(again, tmp_path / "elsewhere")[k]) for k in ("val", "test"))


@pytest.mark.real
def test_a_checkpoint_that_is_not_the_twins_final_model_is_not_read(store_root, synthetic_split,
                                                                    monkeypatch):
    from cifar_mlp import paths
    from cifar_mlp.core import training

    kept = SCORED.replace(epochs=4, checkpoint=True, test=False)
    twin = sweep.run(kept, 0)
    mine = paths.runs_dir() / twin.key / paths.CHECKPOINT
    train = training.train
    # Another run's file in its place: one epoch of the same model (its validation accuracy
    # is not the record's), then a narrower model (its weights do not even load).
    for other in (kept.replace(epochs=1), kept.replace(widths=(8,))):
        mine.write_bytes((paths.runs_dir() / sweep.run(other, 0).key / paths.CHECKPOINT).read_bytes())
        shutil.rmtree(store.record_dir(store.run_key(kept.replace(test=True), 0)), ignore_errors=True)
        trained_here = []
        monkeypatch.setattr(training, "train",
                            lambda *a, **k: trained_here.append(a) or train(*a, **k))
        final = sweep.run(kept.replace(test=True), 0)
        assert trained_here and "trained_as" not in final.environment, other.changed()
