"""Sweeps: configs × seeds through the store, as a tidy DataFrame.

A sweep asks the runner (`cifar_mlp.runs.runner`) for every run: stored runs are
read, the others trained by the executor the environment chooses
(`cifar_mlp.runs.executors`: local worker processes, a Dask cluster, or this
process). A sweep interrupted at any point resumes where it stopped:
finished runs are on disk, the interrupted one starts again from scratch.
"""

from __future__ import annotations

import math
import reprlib
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from cifar_mlp.runs import executors, store
from cifar_mlp.config import ConfigError, RunConfig, check_seeds
# Moved to their own modules; importable from here as before (the notebooks use them).
from cifar_mlp.core.costs import (REFERENCE_SECONDS_PER_EPOCH, estimated_seconds,  # noqa: F401
                             multiply_adds, weight_count)
from cifar_mlp.runs.runner import (NO_TRAIN_VARIABLE, TrainingForbidden, label,  # noqa: F401
                              refuse_training, run, train_all)


def sweep(configs: Mapping[str, RunConfig] | Sequence[RunConfig], seeds=(0,),
          root: Path | None = None, quiet: bool = False,
          executor: executors.Executor | None = None) -> pd.DataFrame:
    """Run every config with every seed; one row per run, one line of progress per run trained.

    `configs` is a list or a {name: config} mapping; the name becomes the
    `variant` column that tables and plots group by. Runs not yet stored
    train in `executor` (default: the one the environment chooses,
    `executors.current()`), as many at once as it has workers.
    """
    named = named_configs(configs)
    seeds = check_seeds(seeds)
    jobs = [(name, config, seed) for name, config in named.items() for seed in seeds]
    records = [store.load(c, s, root) for _, c, s in jobs]
    todo = [i for i, r in enumerate(records) if r is None]
    refuse_training([jobs[i][1:] for i in todo])
    if todo:
        executor = executor or executors.current()
    if not quiet:
        where = f" on {executor.name} workers, {executor.slots()} at a time" if todo else ""
        print(f"sweep: {len(jobs)} runs, {len(jobs) - len(todo)} already stored, "
              f"{len(todo)} to train{where}", flush=True)
    start, best = time.perf_counter(), (-1.0, "")
    runs = train_all([jobs[i][1:] for i in todo], root, executor)
    for done, (k, record) in enumerate(runs, 1):
        i = todo[k]
        records[i] = record
        name, _, seed = jobs[i]
        acc = record.metrics.get("val_accuracy", math.nan)
        if acc == acc and acc > best[0]:
            best = (acc, f"{name} seed {seed}")
        if not quiet:
            eta = (time.perf_counter() - start) / done * (len(todo) - done)
            status = "DIVERGED" if record.diverged else f"val_acc {acc:.3f}"
            leader = f"best {best[0]:.3f} ({best[1]})" if best[1] else "no score yet"
            took = record.metrics.get("wall_seconds")
            print(f"[{done}/{len(todo)}] {name} seed {seed}: {status}"
                  f"{f' ({took:.0f} s)' if took is not None else ''} | ETA {_duration(eta)}, {leader}",
                  flush=True)
    return pd.DataFrame([to_row(r, name) for r, (name, _, _) in zip(records, jobs)])


def to_row(record: store.Record, variant: str = "") -> dict:
    """Flatten a record into one DataFrame row: variant, seed, config keys, metrics."""
    config = {k: (str(list(v)) if isinstance(v, tuple) else v)
              for k, v in record.config.to_dict().items()}
    return {"variant": variant, "key": record.key, "seed": record.seed,
            "depth": len(record.config.widths), "width": max(record.config.widths),
            **config, **record.metrics}


def histories(df: pd.DataFrame, root: Path | None = None) -> pd.DataFrame:
    """Per-epoch histories of the runs in `df`, long format, for curve plots."""
    frames = []
    for row in df.itertuples():
        h = store.read(store.record_dir(row.key, root)).history.copy()
        h.insert(0, "variant", row.variant)
        h.insert(1, "seed", row.seed)
        frames.append(h)
    return pd.concat(frames, ignore_index=True)


def plan(*sweeps: tuple[Mapping[str, RunConfig], Sequence[int]], root: Path | None = None) -> int:
    """Announce a notebook's sweeps before any trains: runs, stored, rough minutes.

    Each argument is a (configs, seeds) pair as given to `sweep`; a run shared
    by two sweeps (same config and seed) is counted and trained once. Returns
    the number of distinct runs, for the sanity checks.
    """
    jobs = {store.run_key(c, s): c for configs, seeds in sweeps
            for c in named_configs(configs).values() for s in check_seeds(seeds)}
    todo = [c for key, c in jobs.items() if not (store.record_dir(key, root) / "metrics.json").exists()]
    if not todo:
        print(f"plan: {len(jobs)} runs, all stored: nothing to train", flush=True)
        return len(jobs)
    minutes = sum(estimated_seconds(c) for c in todo) / 60
    print(f"plan: {len(jobs)} runs, {len(jobs) - len(todo)} stored, {len(todo)} to train, "
          f"about {_duration(minutes * 60)} at {REFERENCE_SECONDS_PER_EPOCH} s per epoch of 3×128",
          flush=True)
    return len(jobs)


def named_configs(configs) -> dict[str, RunConfig]:
    """{name: config} from a mapping or a list, refusing anything but RunConfigs before any run."""
    if isinstance(configs, (RunConfig, str)) or not isinstance(configs, (Mapping, Sequence)):
        raise ConfigError(f"configs={reprlib.repr(configs)} is not allowed: a list of RunConfig "
                          "or a {name: RunConfig} mapping, e.g. {'baseline': RunConfig()}.")
    items = configs.items() if isinstance(configs, Mapping) else enumerate(configs)
    for name, config in items:
        if not isinstance(config, RunConfig):
            raise ConfigError(f"configs[{name!r}]={reprlib.repr(config)} is not allowed: a "
                              "RunConfig, made with RunConfig(...) or study.base(...) so every "
                              "value is checked.")
    if not configs:
        raise ConfigError("configs is empty: give at least one RunConfig.")
    if isinstance(configs, Mapping):
        return dict(configs)
    named = {label(c): c for c in configs}
    if len(named) < len(set(configs)):  # differ only in epochs or data: one would vanish
        raise ConfigError("two configs of the list get the same name; pass a {name: RunConfig} "
                          f"mapping instead. Names: {', '.join(label(c) for c in configs)}.")
    return named


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"
