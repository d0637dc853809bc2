"""Decisive comparisons trained again: at twice the epochs, or on one kind of CPU.

A comparison is decisive when a page reports it as a finding (it picks a setting,
feeds a claim, or is the section's answer). Its two arms train again, as their
stored records were trained but for one change, and both versions are read on the
same seeds, each run at its best validation epoch:

- **twice the epochs** (`table`): a schedule stretches to the new length, on the
  first three seeds both arms have. A verdict that differs is "changes at 2×", and
  a page does not use it.
- **one kind of CPU** (`one_kind`): the same runs, every seed, trained where the
  study is rendered into a store of their own, for a comparison whose arms trained
  on different kinds of CPU (records of one config can differ by CPU).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from cifar_mlp.config import RunConfig
from cifar_mlp.core.environment import cpu_label
from cifar_mlp.runs import store
from cifar_mlp.study import compare
from cifar_mlp.study.base import Experiment

HOLDS, CHANGES = "holds at 2×", "changes at 2×"
SAME, MOVES = "moves no verdict", "moves the verdict"
SEEDS = 3  # the floor for a 2× check; each arm's runs cost twice its first ones
RULE = "best_epoch"  # every version read alike: a run's best validation epoch


def frame_of(comparison: compare.Comparison, frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """The first of `frames` that holds both arms of `comparison` (sections name a variant
    alike in different experiments, e.g. a width in a long and a short sweep)."""
    for frame in frames:
        if {comparison.a, comparison.b} <= set(frame["variant"]):
            return frame
    raise ValueError(f"no runs hold both {comparison.a!r} and {comparison.b!r}: pass the frame the "
                     "finding was computed from")


def experiments(comparisons: Iterable[compare.Comparison], frames: Iterable[pd.DataFrame], results_dir,
                change: Callable[[RunConfig], RunConfig], seeds: int | None) -> list[Experiment]:
    """One experiment per comparison: its two arms as their stored records were trained,
    with `change`, on the first `seeds` seeds both arms have (None: all of them)."""
    frames = list(frames)
    found = []
    for c in comparisons:
        runs = frame_of(c, frames)
        configs = {}
        for name in (c.a, c.b):
            key = runs.loc[runs["variant"] == name, "key"].iloc[0]
            configs[name] = change(store.read(store.record_dir(key, results_dir)).config.replace(test=False))
        shared = sorted(set(runs.loc[runs["variant"] == c.a, "seed"]) & set(runs.loc[runs["variant"] == c.b, "seed"]))
        found.append(Experiment(configs, tuple(shared[:seeds]), reference=c.b))
    return found


def checks(comparisons: Iterable[compare.Comparison], frames: Iterable[pd.DataFrame],
           again: list[pd.DataFrame], labels=("at its epochs", "at 2×"), words=(HOLDS, CHANGES)) -> pd.DataFrame:
    """Each comparison as stored and trained again (`again`, one frame per comparison, in
    order), on the seeds trained again. Columns: comparison, the two `labels`, check."""
    frames = list(frames)
    rows = []
    for c, other in zip(comparisons, again, strict=True):
        normal = frame_of(c, frames)
        normal = normal[normal["seed"].isin(set(other["seed"]))]
        at = {}
        for label, runs in zip(labels, (normal, other)):
            runs = runs[runs["variant"].isin([c.a, c.b])]
            at[label] = compare.paired(compare.score(runs, RULE), c.a, c.b, metric="score")
        rows.append({"comparison": f"{c.a} − {c.b}", **{k: compare.difference(v) for k, v in at.items()},
                     "check": words[0] if at[labels[0]].verdict == at[labels[1]].verdict else words[1]})
    return pd.DataFrame(rows, columns=["comparison", *labels, "check"])


def table(study, comparisons: Iterable[compare.Comparison], *frames: pd.DataFrame) -> pd.DataFrame:
    """`study`'s decisive comparisons at their epochs and at twice them, the doubled runs
    read back from the store, or trained where missing (`study.run`)."""
    comparisons = list(comparisons)
    doubled = [study.run(e, quiet=True) for e in experiments(
        comparisons, frames, study.results_dir, lambda c: c.replace(epochs=2 * c.epochs), SEEDS)]
    return checks(comparisons, frames, doubled)


def cpu_kinds(runs: pd.DataFrame, results_dir) -> str:
    """The kinds of CPU `runs` trained on, with counts: 'AMD EPYC, 2 cores ×5; …'."""
    kinds = Counter()
    for key in runs["key"]:
        env = store.read(store.record_dir(key, Path(results_dir))).environment or {}
        kinds[cpu_label(env["cpu_model"], env.get("cpu_cores", "?"), env.get("cpu_vector"))
              if env.get("cpu_model") else "not recorded"] += 1
    return "; ".join(f"{kind} ×{n}" for kind, n in kinds.items())


def one_kind(study, comparisons: Iterable[compare.Comparison], *frames: pd.DataFrame,
             results_dir: Path) -> pd.DataFrame:
    """`study`'s decisive comparisons as stored and trained again on one kind of CPU, every
    seed, into `results_dir` (a store of their own: the run keys are the stored runs'),
    with the CPUs behind each version."""
    comparisons = list(comparisons)
    elsewhere = type(study).at(study.profile, results_dir=results_dir)
    again = [elsewhere.run(e, quiet=True)
             for e in experiments(comparisons, frames, study.results_dir, lambda c: c, None)]
    table = checks(comparisons, frames, again, labels=("as stored", "on one kind"), words=(SAME, MOVES))
    def kinds(c, frame, results):
        return " / ".join(f"{name}: {cpu_kinds(frame[frame['variant'] == name], results)}" for name in (c.a, c.b))

    table.insert(2, "stored on", [kinds(c, frame_of(c, frames), study.results_dir) for c in comparisons])
    table.insert(4, "trained again on", [kinds(c, r, results_dir) for c, r in zip(comparisons, again)])
    return table
