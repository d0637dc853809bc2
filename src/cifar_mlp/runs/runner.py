"""One (config, seed) through the store: lock, load, train, save.

`train_all(runs)` is the one path by which any run is trained, one run or a
sweep's hundred: each run's lock is taken, the store read again (another
process may have finished it), the run trained by an executor
(`cifar_mlp.runs.executors`), and the record saved by this process alone, so a
worker on another machine needs no access to the store. A run interrupted
at any point leaves nothing stored and trains again from scratch next time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, wait
from pathlib import Path

from cifar_mlp.core import costs
from cifar_mlp.runs import executors, store
from cifar_mlp import paths
from cifar_mlp.config import RunConfig


def run(config: RunConfig, seed: int, root: Path | None = None, progress_every: int = 0,
        executor: executors.Executor | None = None) -> store.Record:
    """The record of (config, seed): read from the store, or trained and stored.

    If another process is training the same run, its record is read once stored.
    """
    return next(train_all([(config, seed)], root, executor, progress_every))[1]


def train_all(runs: Sequence[tuple[RunConfig, int]], root: Path | None = None,
              executor: executors.Executor | None = None,
              progress_every: int = 0) -> Iterator[tuple[int, store.Record]]:
    """Yield (index, record) for every run, training those not stored, as each is stored.

    Runs train `executor.slots()` at a time (default: `executors.current()`),
    the longest first, so no long run is left alone at the end. A run another
    process is training is not waited on while others can start; its record
    is read once that process stores it.
    """
    missing = [i for i, (c, s) in enumerate(runs) if store.load(c, s, root) is None]
    refuse_training([runs[i] for i in missing])
    for i in sorted(set(range(len(runs))) - set(missing)):
        yield i, store.load(*runs[i], root)
    if not missing:
        return
    executor = executor or executors.current()
    at_once = min(executor.per_machine(), len(missing))
    waiting = sorted(missing, key=lambda i: -costs.estimated_seconds(runs[i][0]))
    running = {}  # future -> (index, held lock)
    try:
        while waiting or running:
            for i in list(waiting):
                if len(running) >= executor.slots():
                    break
                held = store.try_lock(*runs[i], root)
                if held is None:
                    continue  # another process trains it: come back to it later
                waiting.remove(i)
                if found := store.load(*runs[i], root):
                    store.unlock(held)
                    yield i, found
                    continue
                running[_submit(executor, *runs[i], at_once, progress_every, root)] = (i, held)
            if not running:
                time.sleep(1)  # only runs that other processes hold are left
                continue
            # Wake every second, not only when a run ends: a Ctrl-C that the kernel hands
            # to another thread is seen only when this (the main) thread next runs Python.
            done, _ = wait(running, timeout=1, return_when=FIRST_COMPLETED)
            for future in done:
                i, held = running.pop(future)
                try:
                    record = _save(executor, future, *runs[i], root)
                finally:
                    store.unlock(held)
                yield i, record
    except KeyboardInterrupt:
        executor.stop()  # workers do not see Ctrl-C: stop their runs here
        raise
    finally:
        for future, (_, held) in running.items():  # an error or an interrupt: nothing is saved
            future.cancel()
            store.unlock(held)


def _submit(executor: executors.Executor, config: RunConfig, seed: int, at_once: int,
            progress_every: int, root: Path | None = None):
    # Workers on other machines keep a run's TensorBoard logs in their own runs/.
    run_dir = paths.runs_dir() / store.run_key(config, seed) if executor.local_files else None
    if run_dir is not None and (trained := _trained_twin(config, seed, root, run_dir.parent)):
        return executor.submit(score_task, config, seed, *trained, run_dir, progress_every, at_once)
    return executor.submit(train_task, config, seed, run_dir, progress_every, at_once)


def _trained_twin(config: RunConfig, seed: int, root: Path | None, runs: Path):
    """A run scored on the test set whose training is stored already, without it, with its
    best-epoch checkpoint on this machine: (its record, the checkpoint), or None.

    Reading the test set changes no step of training (`config.ENDING`), and a run with
    `checkpoint` ends on its best epoch's weights: the test set can read that file.
    """
    if not (config.test and config.checkpoint):
        return None
    twin = store.load(config.replace(test=False), seed, root)
    weights = runs / twin.key / paths.CHECKPOINT if twin is not None else None
    return (twin, weights) if weights is not None and weights.exists() else None


def _save(executor: executors.Executor, future, config: RunConfig, seed: int,
          root: Path | None) -> store.Record:
    try:
        history, metrics, predictions, environment = future.result()
    except executor.lost_worker:
        executor.worker_lost()
        raise RuntimeError(
            f"a training worker ({executor.name} executor) died during run "
            f"{store.run_key(config, seed)} ({label(config)}, seed {seed}); nothing of it was "
            f"stored. Killed or out of memory?{executor.lost_worker_hint}") from None
    # Where it trained: the executor in the metrics (a table column beside runs_at_once), and
    # versions, CPU, host and commit in environment.json; neither is part of the key.
    metrics = {**metrics, "executor": executor.name}
    return store.save(config, seed, history, metrics, root, predictions,
                      environment=environment, executor=executor.name)


def train_task(config: RunConfig, seed: int, run_dir: Path | None = None, progress_every: int = 0,
               runs_at_once: int = 1):
    """Train one run where the executor put it; (history, metrics, predictions, environment).

    `run_dir` None: this machine's runs/<key>, for TensorBoard logs and checkpoints.
    """
    from cifar_mlp.core import training  # TensorFlow loads only where something trains

    run_dir = run_dir or paths.runs_dir() / store.run_key(config, seed)
    result = training.train(config, seed, run_dir, progress_every)
    # How many runs could share the CPU meanwhile: what its seconds per epoch mean.
    metrics = {**result["metrics"], "runs_at_once": runs_at_once}
    return result["history"], metrics, result["predictions"], result.get("environment")


def score_task(config: RunConfig, seed: int, twin: store.Record, weights: Path,
               run_dir: Path | None = None, progress_every: int = 0, runs_at_once: int = 1):
    """`train_task`'s result for a run whose training `twin` holds: its history, where and
    how long it trained, and the final model scored from `weights` (the test set too).
    Trains after all if the weights are not the twin's final model."""
    from cifar_mlp.core import training

    scored = training.score_checkpoint(config, seed, weights, twin.metrics["val_accuracy"])
    if scored is None:
        return train_task(config, seed, run_dir, progress_every, runs_at_once)
    metrics = {**twin.metrics, **scored["metrics"]}
    environment = {**(twin.environment or {}), "trained_as": twin.key}
    return twin.history.drop(columns="epoch").to_dict("list"), metrics, scored["predictions"], environment


# ---------------------------------------------------------------- refusing to train

# A render must never train: on another CPU a retrained run is not the stored one
# to the last digit, and a page would show numbers no record holds.
NO_TRAIN_VARIABLE = "CIFAR_MLP_NO_TRAIN"


class TrainingForbidden(RuntimeError):
    """A run is missing from the store where training is not allowed."""


def refuse_training(missing: Sequence[tuple[RunConfig, int]]) -> None:
    """Raise TrainingForbidden, naming every missing run, when $CIFAR_MLP_NO_TRAIN=1."""
    if not missing or os.environ.get(NO_TRAIN_VARIABLE) != "1":
        return
    shown = [f"{store.run_key(c, s)} ({label(c)}, seed {s})" for c, s in missing[:5]]
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    raise TrainingForbidden(
        f"{len(missing)} run(s) not stored, and training is forbidden here "
        f"({NO_TRAIN_VARIABLE}=1): {'; '.join(shown)}{more}. Train them with "
        "`make report ONLY=<this notebook>` on a machine that may train (without "
        f"{NO_TRAIN_VARIABLE}), then commit their folders under results/.")


def label(config: RunConfig) -> str:
    """A config's name in messages and tables: what differs from the defaults."""
    return ", ".join(f"{k}={v}" for k, v in config.changed().items()
                     if k not in ("epochs", "train_size", "val_size")) or "default"
