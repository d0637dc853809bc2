"""Executors: chosen by configuration read when used, stopped without private attributes,
and never outliving the process that started them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from worker_data import alive, wait_for

from cifar_mlp.config import ConfigError
from cifar_mlp.runs import executors


@pytest.fixture
def environment(monkeypatch):
    """No executor settings but the test's own; the current executor closed after."""
    for name in ("CIFAR_MLP_EXECUTOR", "CIFAR_MLP_SCHEDULER", "CIFAR_MLP_WORKERS",
                 "CIFAR_MLP_TRAIN_IN_PROCESS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(executors, "_current", None)
    yield monkeypatch
    executors.close()


@pytest.mark.parametrize("variables,message", [
    ({"CIFAR_MLP_EXECUTOR": "ray"},
     "CIFAR_MLP_EXECUTOR='ray' is not allowed: one of local, dask, in-process."),
    ({"CIFAR_MLP_SCHEDULER": "tcp://127.0.0.1:8786"},
     "CIFAR_MLP_SCHEDULER='tcp://127.0.0.1:8786' is set, but CIFAR_MLP_EXECUTOR is 'local': set "
     "CIFAR_MLP_EXECUTOR=dask"),
    ({"CIFAR_MLP_TRAIN_IN_PROCESS": "1", "CIFAR_MLP_EXECUTOR": "dask"},
     "CIFAR_MLP_TRAIN_IN_PROCESS=1 and CIFAR_MLP_EXECUTOR='dask' disagree"),
    ({"CIFAR_MLP_WORKERS": "-1"}, "CIFAR_MLP_WORKERS='-1' is not allowed: a whole number >= 1"),
])
def test_bad_settings_are_refused_naming_what_is_allowed(environment, variables, message):
    for name, value in variables.items():
        environment.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        executors.current()
    assert message in str(error.value)


def test_dask_without_its_package_says_how_to_install_it(environment):
    environment.setenv("CIFAR_MLP_EXECUTOR", "dask")
    import cifar_mlp.runs
    environment.delitem(sys.modules, "cifar_mlp.runs.cluster", raising=False)
    environment.delattr(cifar_mlp.runs, "cluster", raising=False)
    environment.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"needs Dask's distributed .*pip install -e '.\[cluster\]'"):
        executors.current()


@pytest.mark.parametrize("address,message", [
    ("tcp://127.0.0.1:9", "no Dask scheduler answered at CIFAR_MLP_SCHEDULER='tcp://127.0.0.1:9' "
                          "within 1 s"),
    ("http://127.0.0.1:8786", "CIFAR_MLP_SCHEDULER='http://127.0.0.1:8786' is not allowed: a Dask "
                              "scheduler's address such as tcp://host:8786"),
])
def test_a_scheduler_that_is_not_there_is_named(environment, address, message):
    pytest.importorskip("distributed", reason="Dask's distributed is not installed (the cluster extra)")
    from cifar_mlp.runs import cluster
    environment.setattr(cluster, "CONNECT_SECONDS", 1)
    environment.setenv("CIFAR_MLP_EXECUTOR", "dask")
    environment.setenv("CIFAR_MLP_SCHEDULER", address)
    with pytest.raises(ConfigError) as error:
        executors.current()
    assert message in str(error.value)


def test_settings_are_read_when_an_executor_is_needed(environment):
    assert executors.settings() == {"name": "local", "workers": 2, "scheduler": None}
    first = executors.current()
    assert isinstance(first, executors.LocalPool) and first.slots() == 2
    assert executors.current() is first  # kept between sweeps: its workers stay warm
    environment.setenv("CIFAR_MLP_WORKERS", "1")
    second = executors.current()  # changed settings: a new executor, the old one shut down
    assert second is not first and first.closed and second.slots() == 1
    environment.setenv("CIFAR_MLP_TRAIN_IN_PROCESS", "1")
    assert isinstance(executors.current(), executors.InProcess) and second.closed
    in_process = executors.current()
    in_process.stop()  # a stopped executor is replaced
    assert executors.current() is not in_process


def test_stop_kills_busy_workers_through_the_pids_they_reported():
    pool = executors.LocalPool(workers=2)
    futures = [pool.submit(time.sleep, 120) for _ in range(2)]
    wait_for(lambda: len(pool.processes()) == 2, 60, "both workers to start")
    pids = [p.pid for p in pool.processes()]
    assert os.getpid() not in pids
    start = time.monotonic()
    pool.stop()
    assert time.monotonic() - start < 10  # not the two minutes the calls would take
    wait_for(lambda: not any(alive(pid) for pid in pids), 5, "the workers to end")
    assert pool.closed and all(f.done() for f in futures)


# A parent that starts a child and waits; the child arms only the watch on its parent
# (no parent-death signal), so this tests the fallback for systems without prctl.
PARENT = textwrap.dedent('''
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", sys.argv[1]])
    print(child.pid, flush=True)
    time.sleep(120)
''')
CHILD = textwrap.dedent('''
    import os, threading, time
    from cifar_mlp.runs import pools
    threading.Thread(target=pools._watch_parent, args=(os.getppid(), 0.2), daemon=True).start()
    print("watching", flush=True)
    time.sleep(120)
''')


def test_the_watch_on_the_parent_alone_ends_an_orphan():
    parent = subprocess.Popen([sys.executable, "-c", PARENT, CHILD], stdout=subprocess.PIPE,
                              text=True)
    try:
        child = int(parent.stdout.readline())
        assert parent.stdout.readline() == "watching\n" and alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        wait_for(lambda: not alive(child), 5, f"orphan {child} to end")
    finally:
        parent.kill()
