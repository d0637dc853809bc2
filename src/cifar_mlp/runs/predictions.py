"""Add stored predictions to records written before runs stored them.

`python -m cifar_mlp.runs.predictions` finds every stored run scored on the test
set (`--all`: every run) whose record has no `predictions.npz`, trains it
again in the training workers (the store keeps no weights), and adds the
predictions only if the new run reproduces the record: the same history and
metrics (accuracies to the last digit, losses to a relative 1e-5), timings
aside. A run that does not reproduce (on another CPU the last digits can
differ) is listed and left as it is, unless
`--replace` stores the new run in its place.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import as_completed
from pathlib import Path

import numpy as np

from cifar_mlp.core import costs, data
from cifar_mlp.runs import executors, runner, store
from cifar_mlp import paths

# What a run says of the machine it trained on, not of the model: allowed to differ.
TIMING = {"seconds", "wall_seconds", "seconds_per_epoch", "runs_at_once", "executor"}


def missing(root: Path | None = None, every: bool = False, keys=()) -> list[store.Record]:
    """Stored, finished runs without predictions: those scored on test (`every`: all runs;
    `keys`: only these)."""
    return [r for r in store.read_all(root)
            if not r.diverged and (every or r.config.test) and (not keys or r.key in keys)
            and not (store.record_dir(r.key, root) / store.PREDICTIONS).exists()]


# Reproduced means: every count and accuracy to the bit, losses to a relative 1e-5 (a
# retrained run's evaluation losses can differ in float32's last digits).
LOSS_RTOL = 1e-5


def _same(stored, now) -> bool:
    if isinstance(stored, (int, float)) and isinstance(now, (int, float)):
        return bool(np.isclose(stored, now, rtol=LOSS_RTOL, atol=0, equal_nan=True))
    return stored == now


def differences(record: store.Record, history: dict, metrics: dict) -> list[str]:
    """Where a retrained run differs from its record, timings aside."""
    found = [f"{k}: stored {record.metrics.get(k)!r}, now {metrics.get(k)!r}"
             for k in sorted(set(record.metrics) | set(metrics) - TIMING)
             if k not in TIMING and not _same(record.metrics.get(k), metrics.get(k))]
    for column in record.history.columns.drop(["epoch", *TIMING], errors="ignore"):
        stored, now = record.history[column].to_numpy(), history.get(column)
        exact = "loss" not in column
        if now is None or len(now) != len(stored) or not np.allclose(
                stored, now, rtol=0 if exact else LOSS_RTOL, atol=0, equal_nan=True):
            found.append(f"history column {column!r} differs")
    return found


def check_accuracy(record: store.Record, predictions: dict) -> None:
    """The predictions must score what the record says (argmax ties aside: 1 image in 1,000)."""
    truth = {"test": data.load_test(scaled=False)[1]}
    for name, predicted in predictions.items():
        if name in truth and abs(np.mean(predicted == truth[name])
                                 - record.metrics[f"{name}_accuracy"]) >= 1e-3:
            raise AssertionError(f"run {record.key}: its {name} predictions do not score its "
                                 f"stored {name}_accuracy")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="every run, not only those scored on test")
    parser.add_argument("--replace", action="store_true",
                        help="store a run that does not reproduce its record in place of the record")
    parser.add_argument("--results", type=Path, default=None, help="the run store (default results/)")
    parser.add_argument("keys", nargs="*", help="only these runs (default: every run it applies to)")
    args = parser.parse_args(argv)
    root = args.results.resolve() if args.results else paths.RESULTS_DIR
    todo = sorted(missing(root, args.all, set(args.keys)), key=lambda r: -costs.estimated_seconds(r.config))
    print(f"predictions: {len(todo)} stored runs have none; training them again", flush=True)
    futures = {executors.current().submit(runner.train_task, r.config, r.seed,
                                          paths.runs_dir() / r.key): r for r in todo}
    failed = []
    for future in as_completed(futures):  # each run as it finishes: none waits on a longer one
        record = futures[future]
        history, metrics, predictions, environment = future.result()
        diff = differences(record, history, metrics)
        if not diff:
            check_accuracy(record, predictions)
            store.add_predictions(record, predictions, root)
            print(f"{record.key} seed {record.seed}: reproduced (accuracies to the bit, losses to 1e-5); predictions added",
                  flush=True)
        elif args.replace:
            store.replace(record.config, record.seed, history, metrics, root, predictions,
                          environment=environment)
            print(f"{record.key} seed {record.seed}: REPLACED ({'; '.join(diff[:3])})", flush=True)
        else:
            failed.append(record.key)
            print(f"{record.key} seed {record.seed}: NOT reproduced ({'; '.join(diff[:3])}); "
                  "left as it is (--replace stores the new run)", flush=True)
    if failed:
        print(f"predictions: {len(failed)} runs did not reproduce: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    from cifar_mlp import cli
    cli.run(main)
