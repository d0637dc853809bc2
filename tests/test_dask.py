"""Sweeps on a Dask cluster: a LocalCluster on 127.0.0.1 with two one-thread workers.

The workers train on the synthetic split (tests/worker_data.py puts it in
place as each worker starts) and note every training's start and end, by
pid, in a log the tests read: which process trained what, how often.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections import Counter

import numpy as np
import pytest

pytest.importorskip("distributed", reason="Dask's distributed is not installed: the optional "
                                          "extra, `pip install -e '.[cluster]'` (make setup)")

from worker_data import alive, log_lines, use_synthetic_split, wait_for  # noqa: E402

from cifar_mlp.config import RunConfig  # noqa: E402
from cifar_mlp.runs import cluster, executors, runner, store, sweep  # noqa: E402

pytestmark = pytest.mark.slow  # worker processes import TensorFlow

RUNS_PER_WORKER = 2
# How long a nanny may take to start a fresh worker: seconds on a quiet machine,
# over a minute on 2 cores shared with other training.
RESTART_SECONDS = 240


def tiny(lr: float, epochs: int = 1) -> RunConfig:
    """A run of a second or two on the synthetic split; each test its own learning rates,
    so the log tells its runs apart."""
    return RunConfig(widths=[16], epochs=epochs, batch_size=50, train_size=600, val_size=200, lr=lr)


@pytest.fixture(scope="module")
def dask_executor(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask")
    log = folder / "log"
    with pytest.MonkeyPatch.context() as mp:
        # Worker processes inherit the environment as they start, restarted ones too.
        mp.setenv("WORKER_LOG", str(log))
        mp.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
        executor = cluster.DaskExecutor(workers=2, runs_per_worker=RUNS_PER_WORKER,
                                        setup=use_synthetic_split)
        executor.log = log
        with scheduler_and_nanny_log(folder / "distributed.log") as executor.cluster_log:
            yield executor
        executor.shutdown()


class scheduler_and_nanny_log:
    """The scheduler's and nannies' (this process's) INFO log in a file, for a test that
    waits for workers in vain: what passing tests logged is otherwise gone."""

    def __init__(self, path):
        self.path, self.handler = path, logging.FileHandler(path)
        self.handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s "
                                                    "%(message)s"))
        self.loggers = [logging.getLogger(n) for n in ("distributed.scheduler",
                                                        "distributed.nanny")]

    def __enter__(self):
        self.levels = [lg.level for lg in self.loggers]
        for lg in self.loggers:
            lg.setLevel(logging.INFO)
            lg.addHandler(self.handler)
        return self

    def __exit__(self, *exc):
        for lg, level in zip(self.loggers, self.levels):
            lg.removeHandler(self.handler)
            lg.setLevel(level)
        self.handler.close()

    def tail(self, lines: int = 40) -> str:
        return "".join(self.path.read_text().splitlines(keepends=True)[-lines:])


def wait_for_workers(executor, enough, what: str) -> None:
    """Wait until enough(number of workers); on a timeout, show the nannies and the log."""
    try:
        wait_for(lambda: enough(len(executor.client.nthreads())), RESTART_SECONDS, what)
    except AssertionError as error:
        raise AssertionError(f"{error}; {cluster_state(executor)}") from None


def cluster_state(executor) -> str:
    """Each nanny's status and its worker process's, and the end of their log."""
    nannies = {name: (str(n.status), n.process and str(n.process.status))
               for name, n in executor.cluster.workers.items()}
    return (f"nannies (status, worker process): {nannies}; "
            f"their log:\n{executor.cluster_log.tail()}")


def pids_that(log, event: str, key: str) -> list[int]:
    return [p for p, e, k in log_lines(log) if e == event and k == key]


def test_a_sweep_lands_its_records_and_a_second_trains_nothing(dask_executor, store_root, capsys):
    configs = {f"lr {lr}": tiny(lr) for lr in (1e-3, 2e-3, 3e-3)}
    keys = [store.run_key(c, 0) for c in configs.values()]
    df = sweep.sweep(configs, seeds=[0], executor=dask_executor)
    assert list(df["key"]) == keys and (df["status"] == "ok").all()
    assert (df["executor"] == "dask").all() and (df["runs_at_once"] == 2).all()
    assert sorted(r.key for r in store.read_all(store_root)) == sorted(keys)
    environment = store.load(configs["lr 0.001"], 0).environment  # taken in the worker
    assert environment["executor"] == "dask" and environment["host"] and environment["tensorflow"]
    trained = [k for _, e, k in log_lines(dask_executor.log) if e == "end" and k in keys]
    assert sorted(trained) == sorted(keys)  # each once
    assert "3 to train on dask workers, 2 at a time" in capsys.readouterr().out

    again = sweep.sweep(configs, seeds=[0], executor=dask_executor)
    assert "3 already stored, 0 to train" in capsys.readouterr().out
    assert again.equals(df)
    starts = [k for _, e, k in log_lines(dask_executor.log) if e == "start" and k in keys]
    assert sorted(starts) == sorted(trained)  # nothing trained again


def test_a_worker_killed_mid_run_leaves_no_torn_record_and_the_run_is_retried(dask_executor,
                                                                              store_root):
    config = tiny(4e-3, epochs=15)
    key, killed = store.run_key(config, 0), []

    def kill_the_first_training():
        wait_for(lambda: pids_that(dask_executor.log, "start", key), 120, "the run to start")
        killed.append(pids_that(dask_executor.log, "start", key)[0])
        os.kill(killed[0], signal.SIGKILL)

    killer = threading.Thread(target=kill_the_first_training)
    killer.start()
    df = sweep.sweep({"long": config}, seeds=[0], executor=dask_executor, quiet=True)
    killer.join()
    started = pids_that(dask_executor.log, "start", key)
    print(f"run {key}: started in {started}, worker {killed[0]} killed, "
          f"ended in {pids_that(dask_executor.log, 'end', key)}")
    assert started[0] == killed[0] and len(started) == 2 and started[1] != killed[0]
    assert pids_that(dask_executor.log, "end", key) == [started[1]]
    record = store.load(config, 0)
    assert record.metrics["status"] == "ok" and df.loc[0, "key"] == key
    assert list(record.history["epoch"]) == list(range(1, 16))  # whole, from the retry
    assert [r.key for r in store.read_all(store_root)] == [key]
    assert not list(store_root.glob(".tmp-*"))


def test_workers_are_recycled_after_n_runs(dask_executor, store_root):
    before = set(dask_executor.client.run(os.getpid).values())
    configs = {f"lr {lr}": tiny(lr) for lr in (1.1e-3, 1.2e-3, 1.3e-3)}  # one worker trains two
    sweep.sweep(configs, seeds=[0], executor=dask_executor, quiet=True)
    runs = Counter(p for p, e, k in log_lines(dask_executor.log) if e == "end")
    print(f"runs per worker process: {dict(runs)}")
    assert max(runs.values()) <= RUNS_PER_WORKER
    # A worker that trained its N runs was replaced by its nanny: two workers, one new.
    wait_for_workers(dask_executor, lambda n: n == 2, "two workers again")
    replaced = before - set(dask_executor.client.run(os.getpid).values())
    assert replaced and not any(alive(pid) for pid in replaced)
    assert all(runs[pid] == RUNS_PER_WORKER for pid in replaced)


# distributed's default lost-worker timeout: the one look its cluster takes, that long
# after a worker leaves, for a worker of the same name (else it closes the nanny).
STOCK_LOST_WORKER_SECONDS = 15


def test_a_worker_replaced_twice_within_the_lost_worker_timeout_keeps_its_nanny(dask_executor):
    def kill_worker(name):
        address = next(a for a, w in dask_executor.client.scheduler_info()["workers"].items()
                       if w["name"] == name)
        os.kill(dask_executor.client.run(os.getpid, workers=[address])[address], signal.SIGKILL)

    kill_worker(1)
    left = time.monotonic()
    wait_for_workers(dask_executor, lambda n: n == 2, "worker 1 replaced")
    # Gone again when the cluster looks: a recycled worker is away for seconds.
    time.sleep(max(0.0, left + STOCK_LOST_WORKER_SECONDS - 0.2 - time.monotonic()))
    kill_worker(1)
    time.sleep(1.0)
    wait_for_workers(dask_executor, lambda n: n == 2, "worker 1 replaced again")
    assert sorted(dask_executor.cluster.workers) == [0, 1]


def test_same_history_through_dask_as_through_the_local_pool(dask_executor, store_root, tmp_path):
    config = tiny(5e-3, epochs=2)
    via_dask = runner.run(config, 0, tmp_path / "dask", executor=dask_executor)
    pool = executors.LocalPool(workers=1, setup=use_synthetic_split)
    try:
        via_pool = runner.run(config, 0, tmp_path / "local", executor=pool)
    finally:
        pool.shutdown()
    assert (via_dask.metrics["executor"], via_pool.metrics["executor"]) == ("dask", "local")
    for column in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(via_dask.history[column], via_pool.history[column], rtol=1e-7)


def test_every_socket_is_on_loopback(dask_executor):
    """The scheduler and nannies (in this process) and the workers listen on and
    talk to 127.0.0.1 only."""
    workers = set(dask_executor.client.run(os.getpid).values())
    ours = workers | {os.getpid()}
    table = subprocess.run(["ss", "-tuanp"], capture_output=True, text=True, check=True).stdout
    sockets = [line.split() for line in table.splitlines()
               if any(f"pid={pid}," in line for pid in ours)]
    seen = {int(part.split("pid=")[1].split(",")[0]) for row in sockets
            for part in row[6].split("(") if "pid=" in part}
    assert workers <= seen  # every worker has sockets, and ss shows them
    for state, local, peer in ((row[1], row[4], row[5]) for row in sockets):
        assert local.rsplit(":", 1)[0] == "127.0.0.1", (state, local, peer)
        if state != "LISTEN":
            assert peer.rsplit(":", 1)[0] == "127.0.0.1", (state, local, peer)


def test_ctrl_c_cancels_the_sweeps_tasks_and_stops_their_runs(dask_executor, store_root,
                                                              ctrl_c_raises):
    # Joining the running cluster by its address, as one would join someone else's: it
    # sees the cluster's workers. (How many: the worker recycled after the previous test's
    # run is not always back; test_workers_are_recycled_after_n_runs is about that.)
    wait_for_workers(dask_executor, lambda n: n >= 1, "a worker")
    joined = cluster.DaskExecutor(dask_executor.cluster.scheduler_address)
    assert not joined.local_files
    assert joined.slots() == sum(dask_executor.client.nthreads().values())
    config = tiny(6e-3, epochs=1000)  # minutes, if nothing stopped it
    key = store.run_key(config, 0)

    ctrl_c = []  # what the thread did: for the message of a sweep that was not interrupted

    def ctrl_c_once_it_trains():
        try:
            wait_for(lambda: pids_that(dask_executor.log, "start", key), RESTART_SECONDS,
                     "the run to start")
        except AssertionError as error:
            ctrl_c.append(str(error))
            return
        os.kill(os.getpid(), signal.SIGINT)
        ctrl_c.append("SIGINT sent")

    threading.Thread(target=ctrl_c_once_it_trains).start()
    try:
        sweep.sweep({"long": config}, seeds=[0], executor=joined, quiet=True)
    except KeyboardInterrupt:
        pass
    else:
        pytest.fail(f"the sweep ended without KeyboardInterrupt; the Ctrl-C thread: {ctrl_c}; "
                    f"SIGINT's handler: {signal.getsignal(signal.SIGINT)}; "
                    f"the run's log: {[l for l in log_lines(dask_executor.log) if l[2] == key]}; "
                    f"{cluster_state(dask_executor)}")
    pid = pids_that(dask_executor.log, "start", key)[0]
    wait_for(lambda: not alive(pid), 20, f"worker {pid}, which trained it, to be restarted")
    assert joined.closed and store.load(config, 0) is None
    assert pids_that(dask_executor.log, "start", key) == [pid]  # cancelled, not retried
    held = store.try_lock(config, 0)  # the lock was given back
    assert held is not None
    store.unlock(held)
    # (The nanny starting a replacement is Dask's business, and took over 60 s on a loaded
    # 2-core CI machine: not what this test is about.)
