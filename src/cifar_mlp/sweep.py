"""Runs and sweeps: configs × seeds through the store, as a tidy DataFrame.

`run(config, seed)` returns the stored record if there is one and trains
only otherwise. A sweep interrupted at any point resumes where it stopped:
finished runs are on disk, the interrupted one starts again from scratch.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import multiprocessing
import os
import reprlib
import signal
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from cifar_mlp import paths, store
from cifar_mlp.config import ConfigError, RunConfig, check_seeds


def run(config: RunConfig, seed: int, root: Path | None = None,
        progress_every: int = 0) -> store.Record:
    """The record of (config, seed): read from the store, or trained and stored."""
    found = store.load(config, seed, root)
    if found:
        return found
    refuse_training([(config, seed)])
    with store.lock(config, seed, root):
        found = store.load(config, seed, root)  # another process may have finished it
        if found:
            return found
        run_dir = paths.RUNS_DIR / store.run_key(config, seed)
        if _in_process():
            history, metrics, predictions = _train(config, seed, run_dir, progress_every)
        else:
            history, metrics, predictions = _in_worker(config, seed, run_dir, progress_every)
        return store.save(config, seed, history, metrics, root, predictions)


# A render must never train: on another CPU a retrained run is not the stored one
# to the last digit, and a page would show numbers no record holds.
NO_TRAIN_VARIABLE = "CIFAR_MLP_NO_TRAIN"


class TrainingForbidden(RuntimeError):
    """A run is missing from the store where training is not allowed."""


def refuse_training(missing: Sequence[tuple[RunConfig, int]]) -> None:
    """Raise TrainingForbidden, naming every missing run, when $CIFAR_MLP_NO_TRAIN=1."""
    if not missing or os.environ.get(NO_TRAIN_VARIABLE) != "1":
        return
    shown = [f"{store.run_key(c, s)} ({_label(c)}, seed {s})" for c, s in missing[:5]]
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    raise TrainingForbidden(
        f"{len(missing)} run(s) not stored, and training is forbidden here "
        f"({NO_TRAIN_VARIABLE}=1): {'; '.join(shown)}{more}. Train them with "
        "`make report ONLY=<this notebook>` on a machine that may train (without "
        f"{NO_TRAIN_VARIABLE}), then commit their folders under results/.")


# ---------------------------------------------------------------- the training workers
#
# Runs train in worker processes, never in the notebook's own.
# Memory: TensorFlow keeps every XLA program it compiles for the life of the
# process (its compilation cache has no eviction), ~35 MB per run here, so a
# notebook that trained 50 runs in its own process grew by ~2 GB. A worker is
# replaced after RUNS_PER_WORKER runs, for ~5 s (TensorFlow import, data load).
# Speed: a sweep trains WORKERS runs at once. On the study's 2-core CPU one run
# of the 3×128 MLP cannot keep both cores busy (small products, and a first
# epoch of single-threaded tracing and compiling), so two at once get through
# 1.2-1.6× more epochs per second; for wide nets, whose products fill both
# cores, it is a wash. Each worker keeps TensorFlow's threads for all cores:
# with both busy that costs 2-3% against one thread each (measured), and a run
# left alone at the end of a sweep still gets every core.
# Results are the same: a run's seed fixes what it computes, in any process.
# CIFAR_MLP_TRAIN_IN_PROCESS=1 trains in the calling process, one run at a time
# (the tests' synthetic data lives there).
RUNS_PER_WORKER = 12
_pool: ProcessPoolExecutor | None = None


def _workers_from_env() -> int:
    value = os.environ.get("CIFAR_MLP_WORKERS", "2")  # 2: measured best on 2 cores (above)
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"CIFAR_MLP_WORKERS={value!r} is not allowed: a whole number >= 1 "
                          "(how many runs train at once).")
    return int(value)


WORKERS = _workers_from_env()


def _train(config: RunConfig, seed: int, run_dir: Path, progress_every: int = 0,
           runs_at_once: int = 1):
    from cifar_mlp import training  # TensorFlow loads only where something trains

    result = training.train(config, seed, run_dir, progress_every)
    # How many runs could share the CPU meanwhile: what its seconds per epoch mean.
    metrics = {**result["metrics"], "runs_at_once": runs_at_once}
    return result["history"], metrics, result["predictions"]


def _in_process() -> bool:
    return os.environ.get("CIFAR_MLP_TRAIN_IN_PROCESS") == "1"


def _workers() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn: a fresh interpreter, never a fork of a process that has TensorFlow's threads.
        _pool = ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn"),
                                    initializer=signal.signal,
                                    initargs=(signal.SIGINT, signal.SIG_IGN),
                                    max_tasks_per_child=RUNS_PER_WORKER)
    return _pool


def _in_worker(config: RunConfig, seed: int, run_dir: Path, progress_every: int):
    with _worker_errors(seed, run_dir):
        return _workers().submit(_train, config, seed, run_dir, progress_every).result()


@contextlib.contextmanager
def _worker_errors(seed: int, run_dir: Path):
    global _pool
    try:
        yield
    except BrokenProcessPool:
        _pool = None  # the next run starts new workers
        raise RuntimeError(
            f"a training worker died during run {run_dir.name} (seed {seed}); nothing of it "
            "was stored. Killed or out of memory? In a script, start sweeps under "
            "`if __name__ == \"__main__\":` (the workers import the script), or set "
            "CIFAR_MLP_TRAIN_IN_PROCESS=1 to train in the calling process.") from None
    except KeyboardInterrupt:
        # Workers ignore Ctrl-C (so a stopped kernel does not print their tracebacks);
        # an interrupted cell stops its runs here, as training in this process would.
        _stop_worker(kill=True)
        raise


@atexit.register
def _stop_worker(kill: bool = False) -> None:
    global _pool
    if _pool is not None:
        if kill:
            for process in list(_pool._processes.values()):  # no public way to stop a busy worker
                process.kill()
        _pool.shutdown(cancel_futures=True)
        _pool = None


def train_all(runs: Sequence[tuple[RunConfig, int]], root: Path | None = None):
    """Train runs that are not stored, WORKERS at a time; yield (index, record) as each is stored.

    The longest runs start first, so no long run is left alone at the end.
    A run another process is training is not waited on while others can
    start; its record is read once that process stores it.
    """
    refuse_training([(c, s) for c, s in runs if store.load(c, s, root) is None])
    if _in_process() or WORKERS == 1:
        for i, (config, seed) in enumerate(runs):
            yield i, run(config, seed, root)
        return
    waiting = sorted(range(len(runs)), key=lambda i: -estimated_seconds(runs[i][0]))
    running = {}  # future -> (index, held lock)
    try:
        while waiting or running:
            for i in list(waiting):
                if len(running) == WORKERS:
                    break
                config, seed = runs[i]
                held = store.try_lock(config, seed, root)
                if held is None:
                    continue  # another process trains it: come back to it later
                waiting.remove(i)
                if found := store.load(config, seed, root):
                    store.unlock(held)
                    yield i, found
                    continue
                run_dir = paths.RUNS_DIR / store.run_key(config, seed)
                running[_workers().submit(_train, config, seed, run_dir, 0, WORKERS)] = (i, held)
            if not running:
                time.sleep(1)  # only runs that other processes hold are left
                continue
            done, _ = wait(running, timeout=1 if waiting else None, return_when=FIRST_COMPLETED)
            for future in done:
                i, held = running.pop(future)
                config, seed = runs[i]
                try:
                    with _worker_errors(seed, paths.RUNS_DIR / store.run_key(config, seed)):
                        history, metrics, predictions = future.result()
                    record = store.save(config, seed, history, metrics, root, predictions)
                finally:
                    store.unlock(held)
                yield i, record
    except KeyboardInterrupt:
        _stop_worker(kill=True)  # the workers ignore Ctrl-C: stop their runs here
        raise
    finally:
        for future, (_, held) in running.items():  # an error or an interrupt: nothing is saved
            future.cancel()
            store.unlock(held)


def sweep(configs: Mapping[str, RunConfig] | Sequence[RunConfig], seeds=(0,),
          root: Path | None = None, quiet: bool = False) -> pd.DataFrame:
    """Run every config with every seed; one row per run, one line of progress per run trained.

    `configs` is a list or a {name: config} mapping; the name becomes the
    `variant` column that tables and plots group by. Runs not yet stored
    train WORKERS at a time (`train_all`).
    """
    named = named_configs(configs)
    seeds = check_seeds(seeds)
    jobs = [(name, config, seed) for name, config in named.items() for seed in seeds]
    records = [store.load(c, s, root) for _, c, s in jobs]
    todo = [i for i, r in enumerate(records) if r is None]
    if not quiet:
        print(f"sweep: {len(jobs)} runs, {len(jobs) - len(todo)} already stored, "
              f"{len(todo)} to train", flush=True)
    start, best = time.perf_counter(), (-1.0, "")
    for done, (k, record) in enumerate(train_all([jobs[i][1:] for i in todo], root), 1):
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


def summarize(df: pd.DataFrame, metric: str = "val_accuracy", by: str = "variant") -> pd.DataFrame:
    """Mean, spread (std) and count over seeds for each variant, best first; diverged runs count as NaN."""
    ok = df.assign(**{metric: df[metric].where(df["status"] == "ok")})
    out = ok.groupby(by, sort=False)[metric].agg(["mean", "std", "min", "max", "count"])
    out["diverged"] = df.groupby(by, sort=False)["status"].apply(lambda s: (s != "ok").sum())
    return out.sort_values("mean", ascending=False)


def within_noise(summary: pd.DataFrame, a: str, b: str) -> bool:
    """Whether two variants of `summarize` are indistinguishable over seeds.

    True when their means are closer than the larger std, or their min–max
    ranges overlap: then the seeds alone could explain the difference.
    """
    x, y = summary.loc[a], summary.loc[b]
    spread = max((s for s in (x["std"], y["std"]) if s == s), default=0.0)  # NaN: one seed
    overlap = x["min"] <= y["max"] and y["min"] <= x["max"]
    return bool(abs(x["mean"] - y["mean"]) < spread or overlap)


def noise_verdict(summary: pd.DataFrame, a: str, b: str) -> str:
    """`within_noise` for prose, also when a variant has a single seed (noise unknown)."""
    if summary.loc[[a, b], "count"].min() < 2:
        return "one seed, so the seed noise is unknown"
    return "inside the seed noise" if within_noise(summary, a, b) else "beyond the seed noise"


def best_against(summary: pd.DataFrame, reference: str) -> str:
    """Prose: the best variant of `summarize` against `reference` (the runner-up if it is the best)."""
    best = summary.index[0]
    other = reference if best != reference else summary.index[min(1, len(summary) - 1)]
    if other == best:
        return f"*{best}* at {mean_std(summary, best)}, the only variant"
    return (f"best is *{best}* at {mean_std(summary, best)}, against *{other}* at "
            f"{mean_std(summary, other)} ({noise_verdict(summary, best, other)})")


def mean_std(summary: pd.DataFrame, variant: str, digits: int = 3) -> str:
    """A variant's 'mean ± std' from `summarize`, for prose; 'mean (1 seed)' without a spread.

    Diverged seeds are said, never hidden: 'diverged (2 of 2 seeds)' when no seed has a
    score, and '0.512 ± 0.004, 1 of 3 seeds diverged' when some have.
    """
    row = summary.loc[variant]
    diverged = int(row.get("diverged", 0))
    if row["count"] == 0:
        return f"diverged ({diverged} of {diverged} seeds)"
    text = (f"{row['mean']:.{digits}f} (1 seed)" if row["count"] < 2
            else f"{row['mean']:.{digits}f} ± {row['std']:.{digits}f}")
    if diverged:
        text += f", {diverged} of {diverged + int(row['count'])} seeds diverged"
    return text


# Seconds per epoch of the reference 3×128 MLP (427,658 weights, batch 128) on
# 45,000 images on the study's 2-core CPU. Only used to announce a plan's cost.
REFERENCE_SECONDS_PER_EPOCH = 1.1
REFERENCE_WEIGHTS = 427_658


def weight_count(config: RunConfig) -> int:
    """Weights and biases of the config's Dense layers (what an MLP's training time scales with)."""
    sizes = (config.filters[-1] if config.filters else 32 * 32 * 3, *config.widths, 10)
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes, sizes[1:]))


def multiply_adds(config: RunConfig) -> int:
    """Multiply-adds of one image's forward pass: the Dense weights, plus every
    conv weight used once per pixel of its stage (32×32, then 16×16, ...)."""
    convs, channels, side = 0, 3, 32
    for width in config.filters:
        convs += side * side * 9 * (channels * width + width * width)
        channels, side = width, side // 2
    return weight_count(config) + convs


def estimated_seconds(config: RunConfig) -> float:
    """A rough training time: the reference's, scaled by work, images and batch size."""
    images = config.train_size or 50000 - config.val_size
    size = max(multiply_adds(config) / REFERENCE_WEIGHTS, 0.7)  # small nets keep per-step costs
    small_batch = max(1.0, 128 / config.batch_size) ** 0.8  # batch 32 is about 3× slower
    return REFERENCE_SECONDS_PER_EPOCH * images / 45000 * size * small_batch * config.epochs


def plan(*sweeps: tuple[Mapping[str, RunConfig], Sequence[int]], root: Path | None = None) -> int:
    """Announce a notebook's sweeps before any trains: runs, stored, rough minutes.

    Each argument is a (configs, seeds) pair as given to `sweep`; a run shared
    by two sweeps (same config and seed) is counted and trained once. Returns
    the number of distinct runs, for the sanity checks.
    """
    jobs = {store.run_key(c, s): c for configs, seeds in sweeps
            for c in named_configs(configs).values() for s in check_seeds(seeds)}
    todo = [c for key, c in jobs.items() if not (store.record_dir(key, root) / "metrics.json").exists()]
    minutes = sum(estimated_seconds(c) for c in todo) / 60
    print(f"plan: {len(jobs)} distinct runs, {len(jobs) - len(todo)} already stored, "
          f"{len(todo)} to train: about {minutes:.1f} min of training "
          f"(at {REFERENCE_SECONDS_PER_EPOCH} s per epoch of the 3×128 reference)", flush=True)
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
    named = {_label(c): c for c in configs}
    if len(named) < len(set(configs)):  # differ only in epochs or data: one would vanish
        raise ConfigError("two configs of the list get the same name; pass a {name: RunConfig} "
                          f"mapping instead. Names: {', '.join(_label(c) for c in configs)}.")
    return named


def _label(config: RunConfig) -> str:
    return ", ".join(f"{k}={v}" for k, v in config.changed().items()
                     if k not in ("epochs", "train_size", "val_size")) or "default"


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"
