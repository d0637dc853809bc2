"""Records hold the predictions the reports draw from; old records get them by retraining."""

import json

import numpy as np
import pytest

from cifar_mlp import predictions, store, sweep
from cifar_mlp.config import RunConfig

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
    with pytest.raises(FileNotFoundError, match="python -m cifar_mlp.predictions"):
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
