"""Twice the epochs: each decisive comparison again at double its budget, so its verdict can settle.

A comparison is decisive when a page reports it as a finding (it picks a setting,
feeds a claim, or is the section's answer). Its two arms train again with twice the
epochs (a schedule stretches to the new length) on the first three seeds both have;
both budgets are then read on those seeds, each run at its best validation epoch. A
verdict that differs between the two is "changes at 2×", and a page does not use it.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from cifar_mlp.runs import store
from cifar_mlp.study import compare
from cifar_mlp.study.base import Experiment

HOLDS, CHANGES = "holds at 2×", "changes at 2×"
SEEDS = 3  # the floor for a check; each arm's runs cost twice its first ones
RULE = "best_epoch"  # both budgets read alike: a run's best validation epoch


def frame_of(comparison: compare.Comparison, frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """The first of `frames` that holds both arms of `comparison` (sections name a variant
    alike in different experiments, e.g. a width in a long and a short sweep)."""
    for frame in frames:
        if {comparison.a, comparison.b} <= set(frame["variant"]):
            return frame
    raise ValueError(f"no runs hold both {comparison.a!r} and {comparison.b!r}: pass the frame the "
                     "finding was computed from")


def experiments(comparisons: Iterable[compare.Comparison], frames: Iterable[pd.DataFrame],
                results_dir) -> list[Experiment]:
    """One experiment per comparison: its two arms, as their stored records were trained,
    at twice the epochs, on the first SEEDS seeds both arms have."""
    frames = list(frames)
    found = []
    for c in comparisons:
        runs = frame_of(c, frames)
        configs = {}
        for name in (c.a, c.b):
            key = runs.loc[runs["variant"] == name, "key"].iloc[0]
            config = store.read(store.record_dir(key, results_dir)).config
            configs[name] = config.replace(epochs=2 * config.epochs, test=False)
        shared = sorted(set(runs.loc[runs["variant"] == c.a, "seed"]) & set(runs.loc[runs["variant"] == c.b, "seed"]))
        found.append(Experiment(configs, tuple(shared[:SEEDS]), reference=c.b))
    return found


def checks(comparisons: Iterable[compare.Comparison], frames: Iterable[pd.DataFrame],
           doubled: list[pd.DataFrame]) -> pd.DataFrame:
    """Each comparison at its own budget and at twice it, on the doubled runs' seeds.

    Columns: comparison, at its epochs, at 2×, check (HOLDS or CHANGES); `doubled`
    holds each comparison's doubled runs, in order.
    """
    frames = list(frames)
    rows = []
    for c, twice in zip(comparisons, doubled, strict=True):
        seeds = set(twice["seed"])
        normal = frame_of(c, frames)
        at = {}
        for label, runs in (("at its epochs", normal[normal["seed"].isin(seeds)]), ("at 2×", twice)):
            runs = runs[runs["variant"].isin([c.a, c.b])]
            at[label] = compare.paired(compare.score(runs, RULE), c.a, c.b, metric="score")
        rows.append({"comparison": f"{c.a} − {c.b}", **{k: compare.difference(v) for k, v in at.items()},
                     "check": HOLDS if at["at its epochs"].verdict == at["at 2×"].verdict else CHANGES})
    return pd.DataFrame(rows, columns=["comparison", "at its epochs", "at 2×", "check"])


def table(study, comparisons: Iterable[compare.Comparison], *frames: pd.DataFrame) -> pd.DataFrame:
    """`study`'s decisive comparisons at both budgets (`checks`), their doubled runs read
    back from the store, or trained where missing (`study.run`)."""
    comparisons = list(comparisons)
    doubled = [study.run(e, quiet=True) for e in experiments(comparisons, frames, study.results_dir)]
    return checks(comparisons, frames, doubled)
