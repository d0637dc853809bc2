"""Decisive comparisons trained again: at twice the epochs, and on one kind of CPU (synthetic data)."""

import pandas as pd
import pytest

from cifar_mlp.config import RunConfig
from cifar_mlp.runs import store
from cifar_mlp.study import compare, twice
from cifar_mlp.study.base import Experiment
from cifar_mlp.study.sections import Baseline

SMALL = dict(widths=(32,), epochs=2, batch_size=50, train_size=300, val_size=100, checkpoint=True)


@pytest.fixture
def stored(synthetic_split, tmp_path):
    """A study on a scratch store, and two arms' runs on three seeds read back from it."""
    study = Baseline.at("smoke", results_dir=tmp_path / "results")
    arms = {"wide": RunConfig(**SMALL).replace(widths=(64,)), "narrow": RunConfig(**SMALL)}
    runs = study.run(Experiment(arms, (0, 1, 2), reference="narrow"), quiet=True)
    c = compare.paired(compare.score(runs, twice.RULE), "wide", "narrow", metric="score")
    return study, runs, c


def test_twice_trains_each_arm_again_at_double_its_epochs_on_three_shared_seeds(stored):
    study, runs, c = stored
    (doubled,) = twice.experiments([c], [runs], study.results_dir, lambda x: x.replace(epochs=2 * x.epochs),
                                   twice.SEEDS)
    assert doubled.seeds == (0, 1, 2) and doubled.reference == "narrow"
    assert doubled.variants["wide"] == RunConfig(**SMALL).replace(widths=(64,), epochs=4)
    table = twice.table(study, [c], runs)
    assert list(table.columns) == ["comparison", "at its epochs", "at 2×", "check"]
    assert table["check"].iloc[0] in (twice.HOLDS, twice.CHANGES)
    # Both versions are read from the store: the doubled runs are there now.
    assert store.load(doubled.variants["wide"], 0, study.results_dir).config.epochs == 4


def test_the_check_says_changes_when_the_verdicts_differ():
    rows = []
    for seed in range(3):
        for variant, normal, doubled in (("a", 0.60, 0.50), ("b", 0.50, 0.50 + 0.001 * seed)):
            rows.append(dict(variant=variant, seed=seed, key=f"{variant}{seed}", best_val_accuracy=normal + 0.001 * seed,
                             best_epoch=3, epochs=3, status="ok", epochs_run=3, val_accuracy=normal))
    normal = pd.DataFrame(rows)
    again = normal.assign(best_val_accuracy=[0.50, 0.50, 0.501, 0.501, 0.502, 0.502])
    c = compare.paired(compare.score(normal, twice.RULE), "a", "b", metric="score")
    table = twice.checks([c], [normal], [again])
    assert table["check"].tolist() == [twice.CHANGES]
    assert twice.checks([c], [normal], [normal])["check"].tolist() == [twice.HOLDS]


def test_a_finding_whose_runs_are_not_given_is_named():
    c = compare.Comparison("x", "y", "score", 0.0, 0.0, 0.0, 3, compare.NO_DIFFERENCE)
    with pytest.raises(ValueError, match="no runs hold both 'x' and 'y'"):
        twice.frame_of(c, [pd.DataFrame({"variant": ["x"]})])


def test_one_kind_trains_the_same_runs_into_a_store_of_their_own(stored, tmp_path):
    study, runs, c = stored
    table = twice.one_kind(study, [c], runs, results_dir=tmp_path / "one_kind")
    assert list(table.columns) == ["comparison", "as stored", "stored on", "on one kind", "trained again on", "check"]
    again = list((tmp_path / "one_kind").glob("*/metrics.json"))
    assert {p.parent.name for p in again} == set(runs["key"]), "the same run keys, in the other store"
    # The same code on the same CPU trains the same runs: nothing moves.
    assert table["check"].tolist() == [twice.SAME]
