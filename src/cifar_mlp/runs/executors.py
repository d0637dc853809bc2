"""Where runs train: executors with the `concurrent.futures` interface.

Runs train in worker processes, never in the notebook's own, chosen by
configuration read when a sweep needs one (`current()`):

| CIFAR_MLP_EXECUTOR | where runs train |
|---|---|
| `local` (default) | spawned processes on this machine, CIFAR_MLP_WORKERS at a time |
| `dask` | a Dask cluster: CIFAR_MLP_SCHEDULER=tcp://host:8786 joins one, without it a LocalCluster on 127.0.0.1 starts (`cifar_mlp.runs.cluster`) |
| `in-process` | the calling process, one run at a time (the tests' synthetic data lives there); also CIFAR_MLP_TRAIN_IN_PROCESS=1 |

How each trains: `cifar_mlp.runs.pools` (this machine), `cifar_mlp.runs.cluster` (Dask).
"""

from __future__ import annotations

import atexit
import os

from cifar_mlp.config import ConfigError
# The pools, importable from here as before.
from cifar_mlp.runs.pools import (DEFAULT_WORKERS, RUNS_PER_WORKER, Executor, InProcess,  # noqa: F401
                                  LocalPool, die_with_parent)


# ---------------------------------------------------------------- choosing by configuration

def workers() -> int:
    """$CIFAR_MLP_WORKERS: how many runs train at once on this machine."""
    value = os.environ.get("CIFAR_MLP_WORKERS", str(DEFAULT_WORKERS))
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"CIFAR_MLP_WORKERS={value!r} is not allowed: a whole number >= 1 "
                          "(how many runs train at once).")
    return int(value)


def _local(settings: dict) -> Executor:
    return LocalPool(settings["workers"])


def _dask(settings: dict) -> Executor:
    try:
        from cifar_mlp.runs import cluster  # Dask is an optional extra: imported only when chosen
    except ImportError as error:
        raise ConfigError(f"CIFAR_MLP_EXECUTOR=dask needs Dask's distributed ({error}): install "
                          "the extra with `pip install -e '.[cluster]'` (`make setup` does).") from None

    return cluster.DaskExecutor(settings["scheduler"], settings["workers"])


BUILDERS = {"local": _local, "dask": _dask, "in-process": lambda settings: InProcess()}


def settings() -> dict:
    """The executor the environment asks for, checked: name, workers, scheduler."""
    name = os.environ.get("CIFAR_MLP_EXECUTOR", "")
    if os.environ.get("CIFAR_MLP_TRAIN_IN_PROCESS") == "1":
        if name not in ("", "in-process"):
            raise ConfigError(f"CIFAR_MLP_TRAIN_IN_PROCESS=1 and CIFAR_MLP_EXECUTOR={name!r} "
                              "disagree: unset one of them.")
        name = "in-process"
    name = name or "local"
    if name not in BUILDERS:
        raise ConfigError(f"CIFAR_MLP_EXECUTOR={name!r} is not allowed: one of "
                          f"{', '.join(BUILDERS)}.")
    scheduler = os.environ.get("CIFAR_MLP_SCHEDULER") or None
    if scheduler and name != "dask":
        raise ConfigError(f"CIFAR_MLP_SCHEDULER={scheduler!r} is set, but CIFAR_MLP_EXECUTOR is "
                          f"{name!r}: set CIFAR_MLP_EXECUTOR=dask to train on that cluster, or "
                          "unset CIFAR_MLP_SCHEDULER.")
    return {"name": name, "workers": workers(), "scheduler": scheduler}


_current: tuple[dict, Executor] | None = None


def current() -> Executor:
    """The executor the environment asks for now, kept between sweeps (its workers
    stay warm); a new one when the settings change or the last one was stopped."""
    global _current
    wanted = settings()
    if _current is not None and (_current[0] != wanted or _current[1].closed):
        close()
    if _current is None:
        _current = (wanted, BUILDERS[wanted["name"]](wanted))
    return _current[1]


@atexit.register
def close() -> None:
    """Shut the current executor down (its workers finish what they run)."""
    global _current
    if _current is not None:
        executor, _current = _current[1], None
        executor.shutdown(wait=True, cancel_futures=True)
