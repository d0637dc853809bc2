"""The joint stage's factorial: its cells, and effects that match hand-computed contrasts."""

import itertools

import numpy as np
import pandas as pd
import pytest

from cifar_mlp.study import design

NAMES = ["A", "B", "C", "D", "E", "F"]


def test_the_half_fraction_has_every_main_effect_and_interaction_balanced():
    cells = design.cells(NAMES)
    assert len(cells) == 32 and (cells.prod(axis=1) == 1).all()
    for a, b in itertools.combinations(NAMES, 2):  # every pair at every level combination
        assert (cells.groupby([a, b]).size() == 8).all()
    assert len(design.cells(NAMES, fraction=False)) == 64
    assert len(design.cells(NAMES[:4])) == 16  # a half of four factors would alias pairs: all 16


def synthetic(noise: float, seeds=(10, 11, 12)) -> pd.DataFrame:
    """Scores with known effects: A +2, B −1, C 0, …, A×B +0.6, a shift per seed."""
    rng = np.random.default_rng(0)
    cells = design.cells(NAMES)
    effects = dict(A=2.0, B=-1.0, C=0.0, D=0.5, E=0.0, F=-0.3)
    rows = []
    for seed_shift, seed in zip((0.0, 1.5, -0.7), seeds):
        for signs in cells.to_dict("records"):
            # Effects are low → high changes: half of each per unit of sign.
            y = 50 + seed_shift + sum(effects[n] / 2 * signs[n] for n in NAMES) \
                + 0.6 / 2 * signs["A"] * signs["B"] + rng.normal(0, noise)
            rows.append({**signs, "seed": seed, "score": y})
    return pd.DataFrame(rows)


def test_effects_are_the_hand_computed_contrasts():
    runs = synthetic(noise=0.3)
    table = design.effects(runs, NAMES).set_index("term")
    for name in NAMES:  # mean at the high level minus mean at the low level
        by_hand = runs.loc[runs[name] == 1, "score"].mean() - runs.loc[runs[name] == -1, "score"].mean()
        assert table.loc[name, "effect"] == pytest.approx(by_hand, abs=1e-9)
    for a, b in itertools.combinations(NAMES, 2):  # A's effect when B is high, less when low, halved
        product = runs[a] * runs[b]
        by_hand = runs.loc[product == 1, "score"].mean() - runs.loc[product == -1, "score"].mean()
        assert table.loc[f"{a} × {b}", "effect"] == pytest.approx(by_hand, abs=1e-9)


def test_intervals_cover_the_true_effects_and_exclude_zero_only_where_one_is():
    table = design.effects(synthetic(noise=0.3), NAMES).set_index("term")
    truth = {"A": 2.0, "B": -1.0, "C": 0.0, "D": 0.5, "E": 0.0, "F": -0.3, "A × B": 0.6}
    for term, value in truth.items():
        assert table.loc[term, "low"] < value < table.loc[term, "high"], term
    assert table.loc["A", "low"] > 0 and table.loc["B", "high"] < 0
    assert table.loc["C", "low"] < 0 < table.loc["C", "high"]


def test_the_seed_block_takes_out_seed_shifts():
    # Without noise, the seed shifts are all there is beyond the effects: the intervals shrink to nothing.
    table = design.effects(synthetic(noise=0.0), NAMES)
    assert (table["high"] - table["low"]).max() < 1e-6


def test_cells_against_the_best_are_the_models_contrasts():
    runs = synthetic(noise=0.0)
    model = design.fit(runs, NAMES)
    table = design.against_best(model, design.cells(NAMES))
    # Without noise the fitted means are the true cell means over the seeds.
    truth = runs.groupby(NAMES)["score"].mean()
    got = table.set_index(NAMES)["fitted"]
    np.testing.assert_allclose(got.loc[truth.index], truth, atol=1e-9)
    best = table[table["best"]].iloc[0]
    assert best["A"] == 1 and best["B"] == -1 and best["D"] == 1 and best["F"] == -1
    others = table[~table["best"]]
    np.testing.assert_allclose(others["diff"], others["fitted"] - best["fitted"], atol=1e-9)


def test_only_cells_the_noise_cannot_tell_from_the_best_overlap_it():
    table = design.against_best(design.fit(synthetic(noise=0.3), NAMES), design.cells(NAMES))
    # C and E have no effect: the best's twins in C and E overlap it; a cell with A low cannot.
    assert table["overlaps"].sum() >= 2
    assert not table.loc[table["A"] == -1, "overlaps"].any()
