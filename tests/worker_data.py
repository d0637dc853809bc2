"""What the tests' worker processes call as they start (an executor's `setup`).

Monkeypatches do not cross processes, so a worker puts the synthetic split
(tests/synthetic.py) in place of CIFAR-10 itself, and, when $WORKER_LOG names
a file, notes every training's start and end there as "<pid> <event> <key>".
"""

import os
import sys


def use_synthetic_split() -> None:
    sys.path.insert(0, os.path.dirname(__file__))
    from synthetic import make_split

    from cifar_mlp import data, store, training

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
