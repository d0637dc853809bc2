"""Every stored run in TensorBoard's HParams view: `python -m cifar_mlp.hparams`.

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

from cifar_mlp import paths, store

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


def export(root: Path | None = None, logdir: Path | None = None) -> int:
    """Write one HParams session per stored run under `logdir`; returns how many.

    The columns are the config keys some run changed from its default; keys no
    run touches would only repeat the default in every row.
    """
    from cifar_mlp.backend import tf  # TensorFlow loads only when it is needed
    from tensorboard.plugins.hparams import api as hp

    records = store.read_all(root)
    logdir = logdir or paths.RUNS_DIR / "hparams"
    if logdir.exists():
        shutil.rmtree(logdir)  # rewritten from the store each time: never a stale session
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=None, help="run store (default results/)")
    parser.add_argument("--logdir", type=Path, default=None, help="default runs/hparams/")
    args = parser.parse_args(argv)
    logdir = args.logdir or paths.RUNS_DIR / "hparams"
    print(f"hparams: {export(args.results, logdir)} stored runs written to {logdir}")


if __name__ == "__main__":
    main()
