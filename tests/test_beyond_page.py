"""07's page: the goal its header types, its one budget rule, and the test reads it discloses."""

import re

import jupytext
import pandas as pd
import pytest

from cifar_mlp import paths
from cifar_mlp.config import RunConfig
from cifar_mlp.runs import store
from cifar_mlp.study.sections import Beyond

NOTEBOOK = paths.NOTEBOOKS_DIR / "07_beyond.py"


def test_the_header_types_the_goal_the_study_declares():
    # The goal is a design target typed at the top; it must not drift from the knob's default.
    cells = jupytext.read(NOTEBOOK).cells
    header = cells[0].source
    params = next(c.source for c in cells if "parameters" in c.metadata.get("tags", []))
    study = Beyond.at("full")
    assert float(re.search(r"≥ (0\.\d+) test accuracy", header).group(1)) == study.goal
    assert float(re.search(r"≤ (\d+(?:\.\d+)?) minutes", header).group(1)) == study.budget_minutes
    assert float(re.search(r"about (\d+(?:\.\d+)?) s per epoch", header).group(1)) == Beyond.REFERENCE_BENCH
    assert f"(full: {study.goal:g}, the header's)" in params
    assert f"(full: {study.budget_minutes:g}, the header's)" in params


def runs(rows):
    return pd.DataFrame([dict(zip(("variant", "seed", "key", "wall_seconds", "runs_at_once"), r),
                              epochs_run=30, seconds_per_epoch=r[3] / 30) for r in rows])


def test_one_model_under_two_names_gets_one_budget_judgement():
    study = Beyond.at("full")  # a 10-minute budget
    table = study.budget(runs([
        ("06 recipe", 0, "a", 300.0, 2), ("06 recipe", 0, "a", 300.0, 2),  # one run read twice
        ("+ batch norm", 0, "b", 700.0, 3), ("+ batch norm", 1, "c", 500.0, 3),
        ("ladder's MLP", 0, "d", 460.0, 3), ("CNN", 0, "e", 2100.0, 2)]),
        same={"ladder's MLP": "+ batch norm"})
    assert list(table.index) == ["06 recipe", "+ batch norm", "ladder's MLP", "CNN"]
    # The slowest run of the model wherever it trained: the ladder's MLP is its last step.
    assert table.loc["ladder's MLP", "minutes"] == table.loc["+ batch norm", "minutes"] == pytest.approx(700 / 60)
    assert table.loc["ladder's MLP", "key"] == "b" and table.loc["ladder's MLP", "runs"] == 3
    assert table["within_budget"].tolist() == [True, False, False, False]
    assert table.loc["06 recipe", "runs"] == 1 and table.loc["CNN", "runs_at_once"] == 2


def test_earlier_test_reads_are_the_sections_kinds_of_model_missing_from_the_page(tmp_path):
    history = {"loss": [1.0], "accuracy": [0.5], "val_loss": [1.0], "val_accuracy": [0.5]}

    def stored(seed, test_accuracy=None, **config):
        metrics = {"status": "ok", "best_val_accuracy": 0.5, "wall_seconds": 1.0}
        if test_accuracy is not None:
            metrics["test_accuracy"] = test_accuracy
        return store.save(RunConfig(epochs=40, **config), seed, history, metrics, root=tmp_path).key

    wide = dict(widths=(1024,) * 3, augment="flip_shift", label_smoothing=0.1, test=True)
    hidden = [stored(s, 0.64 + s / 100, **wide) for s in (0, 1)]
    shown = stored(0, 0.7, widths=(512,) * 3, augment="flip_shift", test=True)
    stored(0, 0.5, widths=(512,) * 3, test=True)           # another section's kind of model
    stored(1, widths=(512,) * 3, augment="flip_shift")     # validation only
    earlier = Beyond.at("full", results_dir=tmp_path).earlier_test_reads(pd.DataFrame({"key": [shown]}))
    assert list(earlier.index) == ["3×1024 MLP, 40 epochs, flips + shifts, label smoothing 0.1"]
    assert earlier["n"].tolist() == [2] and earlier["mean"].iloc[0] == pytest.approx(0.645)
    assert hidden and Beyond.at("full", results_dir=tmp_path / "empty").earlier_test_reads(
        pd.DataFrame({"key": []})).empty
