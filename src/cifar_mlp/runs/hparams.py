"""Every stored run in TensorBoard's HParams view: `python -m cifar_mlp.runs.hparams`.

Written from the run records (results/), not during training, so the view
covers runs trained before it existed and runs trained on other machines,
whose TensorBoard logs were never committed. `make tensorboard` runs this,
then opens TensorBoard on runs/, next to the training logs of local runs.
"""

from __future__ import annotations

import argparse
import math
import shutil
from pathlib import Path

from cifar_mlp import paths
from cifar_mlp.runs import store

EVENTS = "events.out.tfevents."  # how TensorBoard names the files it writes

# Final numbers of a record, shown as the HParams table's metric columns.
METRICS = ("best_val_accuracy", "val_accuracy", "test_accuracy", "train_accuracy",
           "seconds_per_epoch", "wall_seconds", "epochs_run", "params")


def hparam_values(record: store.Record, keys) -> dict:
    """The record's values of `keys` (and its seed), as the numbers or strings HParams shows."""
    values = record.config.to_dict()
    shown = {k: values[k] for k in keys}
    # HParams takes bool, number or string: a per-layer tuple shows as "128,128,128".
    shown = {k: ",".join(map(str, v)) if isinstance(v, tuple) else ("None" if v is None else v)
             for k, v in shown.items()}
    return {**shown, "seed": record.seed}


def check_is_view(logdir: Path) -> None:
    """Refuse to replace a folder that holds anything but TensorBoard event files:
    `--logdir results` must not delete the run store."""
    other = next((f for f in logdir.rglob("*") if f.is_file() and not f.name.startswith(EVENTS)), None)
    if other is not None:
        raise FileExistsError(f"{logdir} is not an HParams view (it holds {other.relative_to(logdir)}), "
                              "so it is not replaced: give a new folder or runs/hparams/ as --logdir")


def export(root: Path | None = None, logdir: Path | None = None) -> int:
    """Write one HParams session per stored run under `logdir`; returns how many.

    The columns are the config keys some run changed from its default; keys no
    run touches would only repeat the default in every row.
    """
    root = root or paths.RESULTS_DIR
    if not root.is_dir():
        raise FileNotFoundError(f"no run store at {root}: give the folder of run records "
                                "(results/, or --results PATH)")
    records = store.read_all(root)
    logdir = logdir or paths.RUNS_DIR / "hparams"
    if logdir.exists():
        check_is_view(logdir)
        shutil.rmtree(logdir)  # rewritten from the store each time: never a stale session
    # TensorFlow loads only now: a bad argument or record fails in a second, not ten.
    from cifar_mlp.core.backend import tf
    from tensorboard.plugins.hparams import api as hp

    keys = sorted({k for r in records for k in r.config.changed()})
    with tf.summary.create_file_writer(str(logdir)).as_default():
        hp.hparams_config(hparams=[hp.HParam(k) for k in [*keys, "seed"]],
                          metrics=[hp.Metric(m) for m in METRICS]
                          + [hp.Metric("epoch/val_accuracy", display_name="val accuracy per epoch")])
    for r in records:
        with tf.summary.create_file_writer(str(logdir / r.key)).as_default():
            hp.hparams(hparam_values(r, keys), trial_id=r.key)
            for m in METRICS:
                value = r.metrics.get(m)
                if isinstance(value, (int, float)) and math.isfinite(value):
                    tf.summary.scalar(m, value, step=0)
            for epoch, acc in enumerate(r.history["val_accuracy"], 1):
                tf.summary.scalar("epoch/val_accuracy", acc, step=epoch)
    return len(records)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cifar_mlp.runs.hparams", description=__doc__.splitlines()[0],
                                     epilog="--debug (or CIFAR_MLP_DEBUG=1) shows the traceback of an error.")
    parser.add_argument("--results", type=Path, default=None, help="run store (default results/)")
    parser.add_argument("--logdir", type=Path, default=None, help="default runs/hparams/")
    args = parser.parse_args(argv)
    logdir = args.logdir or paths.RUNS_DIR / "hparams"
    print(f"hparams: {export(args.results, logdir)} stored runs written to {logdir}")


if __name__ == "__main__":
    from cifar_mlp import cli
    cli.run(main)
