"""Every read of the test set in the run store, and which of them no page shows.

The test set is read once per final model, at the end. Earlier versions of the
study read it for models that no page shows any more; a reader is told which,
and what they scored, so no number hides behind a later choice.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cifar_mlp.core import data
from cifar_mlp.runs import store
from cifar_mlp.study import compare


def over_images(final_runs: pd.DataFrame, results_dir) -> pd.Series:
    """Each final model's test accuracy over seeds and test images ('0.612 (95 % CI 0.600–0.624)'):
    the interval a number set against another study's needs (`compare.seeds_and_images`; a
    model of one seed gets the images' interval alone, and says so). From the stored
    predictions of each run, one row per variant in the runs' order."""
    _, y_test = data.load_test(scaled=False)
    found = {}
    for name, runs in final_runs.groupby("variant", sort=False):
        correct = np.stack([store.predictions(store.read(store.record_dir(key, results_dir)),
                                              results_dir)["test"] == y_test for key in runs["key"]])
        if len(correct) > 1:
            mean, low, high = compare.seeds_and_images(correct)
            found[name] = f"{mean:.3f} (95 % CI {low:.3f}–{high:.3f})"
        else:  # one seed: the images' noise alone
            found[name] = f"{compare.describe_images(correct.mean(), correct.shape[1])[:-1]}, 1 seed)"
    return pd.Series(found, name="test, over seeds and images")


def layers(sizes) -> str:
    """(512, 512, 512) -> '3×512'; (128, 256) -> '128×256'."""
    sizes = tuple(sizes)
    return f"{len(sizes)}×{sizes[0]}" if len(set(sizes)) == 1 else "×".join(map(str, sizes))


def augmentation(augment: str) -> str:
    """'flip_shift' -> 'flips + shifts'."""
    return augment.replace("_", " + ").replace("flip", "flips").replace("shift", "shifts")


def described(run) -> str:
    """'3×1024 MLP, 40 epochs, flips + shifts, label smoothing 0.1': what a stored run was."""
    kind = (f"CNN {'-'.join(map(str, run.filters))}" if len(run.filters)
            else f"{layers(run.widths)} MLP")
    parts = [kind, f"{run.epochs} epochs", augmentation(run.augment)]
    if run.label_smoothing:
        parts.append(f"label smoothing {run.label_smoothing:g}")
    if not len(run.filters) and run.batchnorm != "off":
        parts.append(f"batch norm {run.batchnorm} the activation")
    return ", ".join(p for p in parts if p != "none")


def stored(root: Path | None = None) -> pd.DataFrame:
    """The stored runs that read the test set (`store.table` rows)."""
    table = store.table(root)
    if table.empty or "test_accuracy" not in table:
        return table.iloc[0:0]
    return table[table["test"].astype(bool) & (table["status"] == "ok")]


def unshown(shown_keys, root: Path | None = None, which=None) -> pd.DataFrame:
    """The stored runs that read the test set and are not in `shown_keys`, optionally only
    those `which(table)` selects: `compare.summarize` of their test accuracy, one row per
    model, named by `described`."""
    runs = stored(root)
    runs = runs[~runs["key"].isin(set(shown_keys))]
    if which is not None and not runs.empty:
        runs = runs[which(runs)]
    if runs.empty:
        return compare.summarize(pd.DataFrame(columns=["variant", "seed", "test_accuracy"]),
                                 metric="test_accuracy")
    return compare.summarize(runs.assign(variant=[described(r) for r in runs.itertuples()]),
                             metric="test_accuracy")
