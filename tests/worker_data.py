"""The tests' worker processes: what they call as they start, and how tests watch them.

Monkeypatches do not cross processes, so a worker puts the synthetic split
(tests/synthetic.py) in place of CIFAR-10 itself (`use_synthetic_split`, an
executor's `setup`), and, when $WORKER_LOG names a file, notes every
training's start and end there as "<pid> <event> <key>" (`log_lines`).
"""

import os
import sys
import time


def use_synthetic_split() -> None:
    sys.path.insert(0, os.path.dirname(__file__))
    from synthetic import make_split

    from cifar_mlp.core import data, training
    from cifar_mlp.runs import store

    split = make_split()
    data.load_split = data.make_split = lambda *a, **k: split
    if os.environ.get("WORKER_LOG"):
        real_train = training.train

        def logged_train(config, seed, *args, **kwargs):
            key = store.run_key(config, seed)
            note("start", key)
            result = real_train(config, seed, *args, **kwargs)
            note("end", key)
            return result

        training.train = logged_train


def note(event: str, key: str = "") -> None:
    with open(os.environ["WORKER_LOG"], "a") as f:  # one short append per line: never interleaved
        f.write(f"{os.getpid()} {event} {key}\n")


def log_lines(log) -> list[tuple[int, str, str]]:
    """The notes so far, as (pid, event, key)."""
    if not os.path.exists(log):
        return []
    with open(log) as f:
        return [(int(pid), event, key.strip()) for pid, event, key in
                (line.split(" ", 2) for line in f)]


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie, ended but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
