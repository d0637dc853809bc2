"""Sweeps train several runs at once: longest first, never more than WORKERS, same results."""

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from worker_data import alive, log_lines, use_synthetic_split, wait_for

from cifar_mlp.config import RunConfig
from cifar_mlp.runs import executors, runner, store, sweep

# Estimated cost grows with width, so the scheduler should start 1024 first, then 512, then 128.
CONFIGS = {f"w{w}": RunConfig(widths=(w,), epochs=2) for w in (128, 1024, 512)}


class FakeWorkers(executors.Executor):
    """Threads in place of the training processes: each 'run' takes a moment, and
    the fake records which runs started, in what order, and how many ran at once."""

    name = "fake"

    def __init__(self, workers=2, seconds=0.2):
        self.started, self.most_at_once, self.seconds = [], 0, seconds
        self._now, self._lock = 0, threading.Lock()
        self.workers, self.pool = workers, ThreadPoolExecutor(workers)

    def slots(self):
        return self.workers

    def submit(self, fn, config, seed, run_dir, progress_every=0, runs_at_once=1):
        assert fn is runner.train_task
        return self.pool.submit(self.train, config, seed, runs_at_once)

    def shutdown(self, wait=True, *, cancel_futures=False):
        self.pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    def train(self, config, seed, runs_at_once):
        with self._lock:
            self.started.append(store.run_key(config, seed))
            self._now += 1
            self.most_at_once = max(self.most_at_once, self._now)
        time.sleep(self.seconds)
        with self._lock:
            self._now -= 1
        return (*fake_record(config.widths[0] / 10000, runs_at_once), {}, None)


def fake_record(acc, runs_at_once=1):
    history = {"loss": [2.0, 1.5], "accuracy": [0.2, 0.3], "val_accuracy": [0.2, acc]}
    return history, {"status": "ok", "val_accuracy": acc, "wall_seconds": 0.2,
                     "runs_at_once": runs_at_once}


def test_sweep_trains_longest_first_two_at_a_time_rows_in_order(store_root, monkeypatch, capsys):
    fake = FakeWorkers()
    df = sweep.sweep(CONFIGS, seeds=[0, 1], executor=fake)

    key = {(n, s): store.run_key(c, s) for n, c in CONFIGS.items() for s in (0, 1)}
    assert set(fake.started[:2]) == {key["w1024", 0], key["w1024", 1]}  # the longest runs first
    assert set(fake.started[4:]) == {key["w128", 0], key["w128", 1]}
    assert sorted(fake.started) == sorted(key.values())  # each run trained once
    assert fake.most_at_once == 2
    # Rows keep the sweep's order, whatever order the runs finished in.
    assert list(zip(df["variant"], df["seed"])) == list(key)
    assert list(df["key"]) == list(key.values())
    assert (df["runs_at_once"] == 2).all() and (df["val_accuracy"] == df["width"] / 10000).all()
    assert (df["executor"] == "fake").all()  # each record says where it trained
    out = capsys.readouterr().out
    assert "sweep: 6 runs, 0 already stored, 6 to train on fake workers, 2 at a time" in out
    assert "[6/6] " in out
    # Everything is stored now: a second sweep trains nothing.
    again = sweep.sweep(CONFIGS, seeds=[0, 1], executor=fake)
    assert len(fake.started) == 6 and again.equals(df)


def test_a_run_another_process_holds_is_not_waited_on_nor_trained_again(store_root, monkeypatch):
    fake = FakeWorkers(seconds=0.1)
    held_config = CONFIGS["w1024"]
    held = threading.Event()

    def other_process():
        # Another sweep trains w1024 (the one ours would start first), then stores it.
        with store.lock(held_config, 0):
            held.set()
            while len(fake.started) < 2:  # ours goes on with the other runs meanwhile
                time.sleep(0.01)
            store.save(held_config, 0, *fake_record(0.9))

    other = threading.Thread(target=other_process)
    other.start()
    held.wait()
    df = sweep.sweep(CONFIGS, seeds=[0], executor=fake)
    other.join()
    assert store.run_key(held_config, 0) not in fake.started  # read from the store, not retrained
    assert len(fake.started) == 2
    assert df.set_index("variant").loc["w1024", "val_accuracy"] == 0.9


def test_try_lock_never_waits_for_a_run_someone_holds(store_root):
    config = RunConfig(epochs=1)
    with store.lock(config, 0):
        assert store.try_lock(config, 0) is None
        other = store.try_lock(config, 1)  # another run is free
        assert other is not None
        store.unlock(other)
    held = store.try_lock(config, 0)
    assert held is not None
    store.unlock(held)


def test_bad_worker_count_is_refused_with_what_is_allowed(monkeypatch):
    monkeypatch.setenv("CIFAR_MLP_WORKERS", "two")
    with pytest.raises(sweep.ConfigError, match="CIFAR_MLP_WORKERS='two' is not allowed: a whole number"):
        executors.current()
    monkeypatch.setenv("CIFAR_MLP_WORKERS", "0")
    with pytest.raises(sweep.ConfigError, match="a whole number >= 1"):
        executors.workers()


@pytest.mark.real
@pytest.mark.slow
def test_two_workers_give_the_numbers_of_training_here(store_root, monkeypatch, in_workers):
    """Real worker processes, two runs at once: the same histories as one run at a time here."""
    monkeypatch.setenv("CIFAR_MLP_WORKERS", "2")
    base = RunConfig(widths=(32,), epochs=2, train_size=1000, val_size=500)
    configs = {"a": base, "b": base.replace(widths=(48,))}
    df = sweep.sweep(configs, seeds=[0], quiet=True)
    assert (df["status"] == "ok").all() and (df["runs_at_once"] == 2).all()
    for name, config in configs.items():
        here = in_workers(config, 0)["history"]
        stored = store.load(config, 0).history
        np.testing.assert_allclose(here["loss"], stored["loss"], rtol=1e-7)
        np.testing.assert_allclose(here["val_accuracy"], stored["val_accuracy"], rtol=1e-7)


def tiny(lr: float, epochs: int = 1) -> RunConfig:
    return RunConfig(widths=[16], epochs=epochs, batch_size=50, train_size=600, val_size=200, lr=lr)


@pytest.mark.slow
def test_local_workers_are_replaced_after_n_runs_with_the_same_numbers(store_root, synthetic_split,
                                                                       tmp_path, monkeypatch):
    from cifar_mlp.core import training

    monkeypatch.setenv("WORKER_LOG", str(tmp_path / "log"))
    pool = executors.LocalPool(workers=1, runs_per_worker=2, setup=use_synthetic_split)
    configs = {f"lr {lr}": tiny(lr) for lr in (1e-3, 2e-3, 3e-3)}  # one cost: in this order
    try:
        df = sweep.sweep(configs, seeds=[0], executor=pool, quiet=True)
    finally:
        pool.shutdown()
    pids = [pid for pid, event, _ in log_lines(tmp_path / "log") if event == "end"]
    assert pids[0] == pids[1] != pids[2] and os.getpid() not in pids  # two runs, then a new one
    assert (df["executor"] == "local").all() and (df["runs_at_once"] == 1).all()
    # The seed decides the numbers, not the process: the same run trained here.
    here = training.train(configs["lr 0.003"], 0)["history"]
    stored = store.load(configs["lr 0.003"], 0).history
    for column in ("loss", "val_accuracy"):
        np.testing.assert_allclose(here[column], stored[column], rtol=1e-7)


def test_a_ctrl_c_another_thread_receives_stops_the_sweep_within_a_second(store_root, ctrl_c_raises):
    """The kernel hands a Ctrl-C (a signal to the process) to any of its threads, and
    Python runs the handler only when the main thread next runs: a sweep blocked on its
    runs must wake on its own to see it, not once the running run ends."""
    fake = FakeWorkers(workers=1, seconds=8)
    sent = []

    def ctrl_c_in_this_thread_once_it_trains():
        while not fake.started:
            time.sleep(0.01)
        sent.append(time.monotonic())
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)

    threading.Thread(target=ctrl_c_in_this_thread_once_it_trains, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        sweep.sweep({"long": RunConfig(widths=(128,), epochs=2)}, seeds=[0], executor=fake,
                    quiet=True)
    assert time.monotonic() - sent[0] < 3  # the run would have taken 8 s
    assert store.load(RunConfig(widths=(128,), epochs=2), 0) is None


@pytest.mark.slow
def test_ctrl_c_stops_the_runs_of_the_local_workers(store_root, tmp_path, monkeypatch, ctrl_c_raises):
    log = tmp_path / "log"
    monkeypatch.setenv("WORKER_LOG", str(log))
    pool = executors.LocalPool(workers=1, setup=use_synthetic_split)
    config = tiny(1e-3, epochs=1000)  # minutes, if nothing stopped it

    def ctrl_c_once_it_trains():
        wait_for(lambda: log_lines(log), 120, "the run to start")
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=ctrl_c_once_it_trains).start()
    with pytest.raises(KeyboardInterrupt):
        sweep.sweep({"long": config}, seeds=[0], executor=pool, quiet=True)
    worker = log_lines(log)[0][0]
    wait_for(lambda: not alive(worker), 5, f"worker {worker} to end")
    assert pool.closed and store.load(config, 0) is None
    held = store.try_lock(config, 0)  # the lock was given back
    assert held is not None
    store.unlock(held)
