"""Content-addressed run records: each (config, seed) is trained once.

A record is a folder `results/<key>/` of small files: `config.json`,
`history.csv`, `metrics.json`, `predictions.npz` (the final model's class
for each validation image, and each test image when the run was scored on
it) and `environment.json` (versions, CPU, host, start time, commit and
executor the run trained with; outside its key, and absent from records
stored before it existed). They are enough to redraw every table and figure,
confusion matrices included, so they are committed and a report never needs
a model; TensorBoard logs and checkpoints go to `runs/<key>/`, which git
ignores. A record appears by one atomic rename, so a reader never sees half
of one, and a lock stops two processes training the same run at once.

`table()` gives every stored run as one DataFrame row;
`python -m cifar_mlp.runs.store export runs.csv` (or .parquet) writes it out.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cifar_mlp import paths
from cifar_mlp.config import ConfigError, RunConfig
from cifar_mlp.core.environment import FILE as ENVIRONMENT

# Bump when what a run computes or records changes, so old records are not reused.
SCHEMA = 1
# The data a run saw: the verified arrays (their checksum) and the split in the config.
DATA_ID = "cifar10-sha256-47af8b02"


@dataclass(frozen=True)
class Record:
    key: str
    config: RunConfig
    seed: int
    history: pd.DataFrame
    metrics: dict
    # Where it trained (environment.json); None for records stored before runs kept it.
    environment: dict | None = None

    @property
    def diverged(self) -> bool:
        return self.metrics["status"] == "diverged"


def run_key(config: RunConfig, seed: int) -> str:
    identity = {"schema": SCHEMA, "data": DATA_ID, "seed": seed, "config": config.changed()}
    text = json.dumps(identity, sort_keys=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def record_dir(key: str, root: Path | None = None) -> Path:
    return (root or paths.results_dir()) / key


def load(config: RunConfig, seed: int, root: Path | None = None) -> Record | None:
    """The stored record of this run, or None if it was never completed."""
    return read(record_dir(run_key(config, seed), root))


class StoreError(RuntimeError):
    """A stored record that cannot be read; the message names it and what to do."""


def read(folder: Path) -> Record | None:
    if not (folder / "metrics.json").exists():
        return None
    try:
        meta = json.loads((folder / "config.json").read_text())
        return Record(key=folder.name, config=RunConfig.from_dict(meta["config"]), seed=meta["seed"],
                      history=pd.read_csv(folder / "history.csv"),
                      metrics=json.loads((folder / "metrics.json").read_text()),
                      environment=_read_environment(folder))
    except ConfigError:
        raise  # a key or value this version does not know: the config's own message says which
    except (OSError, ValueError, KeyError) as e:
        raise StoreError(f"run record {folder} is unreadable ({type(e).__name__}: {e}); restore it "
                         "with git, or delete the folder to train the run again") from None


def _read_environment(folder: Path) -> dict | None:
    path = folder / ENVIRONMENT
    return json.loads(path.read_text()) if path.exists() else None


def read_all(root: Path | None = None) -> list[Record]:
    root = root or paths.results_dir()
    # Dot-folders are records still being written (or locks): never read them.
    return [r for f in sorted(root.glob("[!.]*")) if f.is_dir() and (r := read(f))]


def find(like: RunConfig, vary, root: Path | None = None) -> list[Record]:
    """Every stored record whose config equals `like` except in the keys `vary`.

    Reads back a comparison another notebook chose from its own runs (each
    optimizer at the rate it tuned, say) without repeating how it chose.
    """
    from cifar_mlp.config import check_keys

    vary = set(vary)
    check_keys(vary, allowed=list(like.to_dict()), what="config key")
    want = {k: v for k, v in like.to_dict().items() if k not in vary}
    found = []
    for folder in sorted((root or paths.results_dir()).glob("[!.]*")):
        if not (folder / "metrics.json").exists():
            continue
        # The small config file first: most records differ, and need no history read.
        config = RunConfig.from_dict(json.loads((folder / "config.json").read_text())["config"])
        if {k: v for k, v in config.to_dict().items() if k not in vary} == want:
            found.append(read(folder))
    return found


PREDICTIONS = "predictions.npz"


def predictions(record: Record, root: Path | None = None) -> dict[str, np.ndarray]:
    """The stored predicted class per image of a run: {"val": ..., "test": ...}.

    Records written before predictions were stored have none; the message
    says how to add them.
    """
    path = record_dir(record.key, root) / PREDICTIONS
    if not path.exists():
        raise FileNotFoundError(
            f"run {record.key} (seed {record.seed}) has no stored predictions ({path.name}): "
            "add them with `python -m cifar_mlp.runs.predictions` on a machine that may train, "
            "then commit the record.")
    with np.load(path, allow_pickle=False) as stored:
        return {name: stored[name] for name in stored.files}


def _write_predictions(path: Path, predictions: dict) -> None:
    # Compressed uint8 classes: about 3 KB for 5,000 images, no pickles.
    with open(path, "wb") as f:
        np.savez_compressed(f, **{k: np.asarray(v, dtype=np.uint8) for k, v in predictions.items()})


def add_predictions(record: Record, predictions: dict, root: Path | None = None) -> Path:
    """Put predictions into a record stored without them, in one atomic rename."""
    folder = record_dir(record.key, root)
    tmp = folder / f".{PREDICTIONS}.tmp-{os.getpid()}"
    _write_predictions(tmp, predictions)
    os.replace(tmp, folder / PREDICTIONS)
    return folder / PREDICTIONS


def save(config: RunConfig, seed: int, history: dict, metrics: dict,
         root: Path | None = None, predictions: dict | None = None,
         environment: dict | None = None, executor: str = "local") -> Record:
    """Write the record's files into a temporary folder, then rename it into place.

    `environment` is what `environment.capture()` gave where the run trained
    (`training.train` returns it); `executor` names what ran it ("local", "dask").
    """
    tmp, final = _write_tmp(config, seed, history, metrics, root, predictions,
                            {**(environment or {}), "executor": executor})
    try:
        os.rename(tmp, final)
    except OSError:
        if read(final) is None:  # a leftover folder without metrics.json, never a record
            warnings.warn(f"{final} was not a complete record; replaced by the run just trained")
            _swap(tmp, final)
        else:  # someone stored the same run first: theirs stands
            shutil.rmtree(tmp, ignore_errors=True)
    return read(final)


def replace(config: RunConfig, seed: int, history: dict, metrics: dict,
            root: Path | None = None, predictions: dict | None = None,
            environment: dict | None = None, executor: str = "local") -> Record:
    """Store a run in place of its existing record (a record retrained on purpose)."""
    tmp, final = _write_tmp(config, seed, history, metrics, root, predictions,
                            {**(environment or {}), "executor": executor})
    if final.exists():
        _swap(tmp, final)
    else:
        os.rename(tmp, final)
    return read(final)


def _write_tmp(config, seed, history, metrics, root, predictions, trained_in) -> tuple[Path, Path]:
    key = run_key(config, seed)
    final = record_dir(key, root)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_tmp(final.parent)
    # The writer's pid in the name tells a later save whether the writer is gone.
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key}-{os.getpid()}-", dir=final.parent))
    meta = {"key": key, "schema": SCHEMA, "data": DATA_ID, "seed": seed,
            "config": config.to_dict(), "changed": config.changed()}
    (tmp / "config.json").write_text(json.dumps(meta, indent=1, default=list) + "\n")
    _write_history(tmp / "history.csv", history)
    (tmp / "metrics.json").write_text(json.dumps(metrics, indent=1, sort_keys=True) + "\n")
    if predictions:
        _write_predictions(tmp / PREDICTIONS, predictions)
    (tmp / ENVIRONMENT).write_text(json.dumps(trained_in, indent=1, sort_keys=True) + "\n")
    for f in tmp.iterdir():
        with open(f, "rb+") as fh:
            os.fsync(fh.fileno())
    os.chmod(tmp, 0o755)
    return tmp, final


def _swap(tmp: Path, final: Path) -> None:
    """Move `final` aside and `tmp` into its place; the old folder is deleted."""
    aside = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-{os.getpid()}-", dir=final.parent))
    os.rename(final, aside / "old")
    os.rename(tmp, final)
    shutil.rmtree(aside, ignore_errors=True)


# A save takes milliseconds: a temp folder this old was left by a killed writer.
STALE_TMP_SECONDS = 3600


def remove_stale_tmp(root: Path) -> list[Path]:
    """Delete temp folders that a killed save left behind; return what was removed.

    A folder goes if it is older than STALE_TMP_SECONDS, or if the process
    named in it has ended and it is over a minute old (the minute spares a
    live writer on another machine that shares the store, whose pid means
    nothing here).
    """
    removed = []
    for tmp in root.glob(".tmp-*"):
        try:
            age = time.time() - tmp.stat().st_mtime
        except FileNotFoundError:  # its writer just renamed or removed it
            continue
        pid = tmp.name.split("-")[2] if tmp.name.count("-") >= 3 else ""
        if age > STALE_TMP_SECONDS or (age > 60 and pid.isdigit() and not _alive(int(pid))):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _write_history(path: Path, history: dict) -> None:
    columns = list(history)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch", *columns])
        for i in range(len(history[columns[0]])):
            writer.writerow([i + 1, *(repr(history[c][i]) for c in columns)])


@contextmanager
def lock(config: RunConfig, seed: int, root: Path | None = None):
    """Hold an exclusive lock on one run while it trains; released even on a crash."""
    held = _open_lock(config, seed, root)
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        yield
    finally:
        unlock(held)


def try_lock(config: RunConfig, seed: int, root: Path | None = None):
    """The lock of one run if no other process holds it, else None (never waits).

    A sweep that trains several runs at once holds their locks together, so it
    must not wait on another's: two sweeps could each wait on a run the other holds.
    """
    held = _open_lock(config, seed, root)
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        held.close()
        return None
    return held


def unlock(held) -> None:
    fcntl.flock(held, fcntl.LOCK_UN)
    held.close()


def _open_lock(config: RunConfig, seed: int, root: Path | None):
    lock_dir = (root or paths.results_dir()) / ".locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    return open(lock_dir / f"{run_key(config, seed)}.lock", "w")


# ---------------------------------------------------------------- every run as one table

def table(root: Path | None = None) -> pd.DataFrame:
    """One row per stored run: key, seed, status, every config value (sequences as
    tuples), every metric (final and best validation scores, seconds per epoch, test
    scores where measured), whether predictions are stored, and the environment it
    trained in as `env_*` columns (empty for records stored before runs kept it).

    Reads each record's small JSON files, not its history: the whole store in a second.
    """
    rows = []
    for folder in sorted((root or paths.results_dir()).glob("[!.]*")):
        if not (folder / "metrics.json").exists():
            continue
        meta = json.loads((folder / "config.json").read_text())
        metrics = json.loads((folder / "metrics.json").read_text())
        trained_in = _read_environment(folder) or {}
        rows.append({"key": folder.name, "seed": meta["seed"], "status": metrics.get("status"),
                     **RunConfig.from_dict(meta["config"]).to_dict(), **metrics,
                     "predictions": (folder / PREDICTIONS).exists(),
                     **{f"env_{k}": v for k, v in trained_in.items()}})
    return pd.DataFrame(rows) if rows else pd.DataFrame(
        columns=["key", "seed", "status", *RunConfig().to_dict(), "predictions"])


EXPORTS = {".csv": "csv", ".parquet": "parquet"}


class ExportError(RuntimeError):
    """The table cannot be written in the format asked for; the message says what to do."""


def export(path: Path, root: Path | None = None) -> pd.DataFrame:
    """Write `table(root)` to `path`, as CSV or Parquet by its extension.

    Sequences (widths, per-layer values, filters) become JSON text, "[128, 128, 128]",
    so both formats hold one plain value per cell.
    """
    path = Path(path)
    kind = EXPORTS.get(path.suffix.lower())
    if kind is None:
        raise ConfigError(f"cannot export to {path.name!r}: its extension is not one of "
                          f"{', '.join(EXPORTS)} (e.g. runs.csv).")
    if kind == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise ExportError(f"{path.name}: writing Parquet needs pyarrow, which is not installed; "
                          "export to .csv, or `pip install pyarrow` first.")
    frame = table(root)
    flat = frame.map(lambda v: json.dumps(list(v)) if isinstance(v, tuple) else v)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        flat.to_csv(path, index=False)
    else:
        flat.to_parquet(path, index=False)
    return frame


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m cifar_mlp.runs.store",
                                     description="The stored run records.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    out = commands.add_parser("export", help="every stored run as one table: runs.csv or runs.parquet")
    out.add_argument("path", type=Path, help="the file to write; its extension picks the format")
    out.add_argument("--results", type=Path, help="the records' folder (default: the full profile's)")
    args = parser.parse_args(argv)
    root = args.results.resolve() if args.results else None
    if root is not None and not root.is_dir():
        raise FileNotFoundError(2, "no such results folder", str(root))
    frame = export(args.path, root)
    print(f"{len(frame)} runs, {frame.shape[1]} columns -> {args.path}")
    return 0


if __name__ == "__main__":
    from cifar_mlp import cli

    cli.run(main)
