"""The executor interface and this machine's pools: in the calling process, or spawned workers.
Memory: TensorFlow keeps every XLA program it compiles for the life of the
process (its compilation cache has no eviction), 35–80 MB per run (more for
runs with schedules and callbacks, ~130 MB for 07's wide augmented ones), so a
notebook that trained 50 runs in its own process grew by ~2 GB. A worker is
therefore replaced after RUNS_PER_WORKER runs, for ~5 s (TensorFlow import,
data load): few enough runs that two workers beside the notebook stay under
the study's 4 GiB. Six were not (05 and 06 peaked above it; benchmarks/results/
report_progress.md has each section's peak).
Speed: on the study's 2-core CPU one run of the 3×128 MLP cannot keep both
cores busy (small products, and a first epoch of single-threaded tracing and
compiling), so two runs at once get through more epochs per second; for wide
nets it is a wash (benchmarks/README.md). Each worker keeps TensorFlow's
threads for all cores, so a run left alone at the end of a sweep still gets
every core.
Orphans: a worker whose parent dies (a killed kernel or script) stops within
a second or two, so no run goes on training for no one (`die_with_parent`).
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures.process import BrokenProcessPool


RUNS_PER_WORKER = 3
DEFAULT_WORKERS = 2  # measured best on the study's 2 cores (above)


class Executor(cf.Executor):
    """A `concurrent.futures.Executor` that says how it trains, for the runner.

    `name` goes into each run's metrics; `slots()` is how many runs train at
    once, `per_machine()` how many of them share one machine's CPU (what a
    run's seconds per epoch mean); `local_files` whether workers see this
    process's folders (else a run's TensorBoard logs go to the worker's own
    runs/); `lost_worker` the errors that mean a worker died, and
    `worker_lost()` what follows one. `stop()` ends everything at once, busy
    workers included (Ctrl-C).
    """

    name = "executor"
    local_files = True
    lost_worker: tuple[type[BaseException], ...] = ()
    lost_worker_hint = ""  # what to try, after "a worker died ... Killed or out of memory?"
    closed = False

    def slots(self) -> int:
        return 1

    def per_machine(self) -> int:
        return self.slots()

    def stop(self) -> None:
        self.shutdown(wait=False, cancel_futures=True)

    def worker_lost(self) -> None:
        """A run's worker died: by default the others go on."""


class InProcess(Executor):
    """Runs each call at once in the calling thread: one run at a time, here."""

    name = "in-process"

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:  # as a pool would: the caller sees it at .result()
            future.set_exception(error)
        return future

    def shutdown(self, wait=True, *, cancel_futures=False) -> None:
        self.closed = True


class LocalPool(Executor):
    """Spawned worker processes on this machine, replaced every `runs_per_worker` runs.

    `setup`, if given, is called once in each new worker (a module-level
    function, so the worker can import it).
    """

    name = "local"
    lost_worker = (BrokenProcessPool,)
    lost_worker_hint = (" In a script, start sweeps under `if __name__ == \"__main__\":` (the "
                        "workers import the script), or set CIFAR_MLP_TRAIN_IN_PROCESS=1 to train "
                        "in the calling process.")

    def __init__(self, workers: int = DEFAULT_WORKERS, runs_per_worker: int = RUNS_PER_WORKER,
                 setup=None):
        # spawn: a fresh interpreter, never a fork of a process that has TensorFlow's threads.
        context = multiprocessing.get_context("spawn")
        self.workers = workers
        self._pids = context.SimpleQueue()  # each worker puts its pid here as it starts
        self._seen: set[int] = set()
        self._pool = cf.ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start_worker,
            initargs=(os.getpid(), self._pids, setup), max_tasks_per_child=runs_per_worker)
        # The pool starts workers in the thread that submits. The parent-death signal
        # comes when that *thread* ends, so every submit goes through this one thread,
        # which lives as long as the pool (a sweep run from a short-lived thread
        # would otherwise take its workers with it).
        self._spawner = cf.ThreadPoolExecutor(1, thread_name_prefix="cifar-mlp-spawner")

    def slots(self) -> int:
        return self.workers

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        return self._spawner.submit(self._pool.submit, fn, *args, **kwargs).result()

    def shutdown(self, wait=True, *, cancel_futures=False) -> None:
        self.closed = True
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)
        self._spawner.shutdown(wait=wait)

    def stop(self) -> None:
        # Workers ignore Ctrl-C (so a stopped kernel does not print their tracebacks)
        # and a pool cannot cancel a call that has started: kill our busy workers.
        for process in self.processes():
            process.kill()
        self.shutdown(wait=True, cancel_futures=True)

    def worker_lost(self) -> None:
        self.stop()  # one dead worker breaks the whole pool: the next run starts new workers

    def processes(self) -> list[multiprocessing.Process]:
        """This pool's live worker processes (pids the workers reported, still our children)."""
        pids = set()
        while not self._pids.empty():
            pids.add(self._pids.get())
        self._seen |= pids
        return [p for p in multiprocessing.active_children() if p.pid in self._seen]


def _start_worker(parent_pid: int, pids, setup) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent_pid)
    pids.put(os.getpid())
    if setup is not None:
        setup()


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent(parent_pid: int, every: float = 1.0) -> None:
    """End this process when `parent_pid` ends, however it ends (SIGKILL included).

    Linux sends the parent-death signal at once; the watch on the parent's pid
    is the fallback elsewhere, and covers a parent that died before the
    signal was armed.
    """
    if sys.platform.startswith("linux"):  # a failure here leaves the watch to do it
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent is already gone: we were adopted
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid, every), daemon=True,
                     name="cifar-mlp-parent-watch").start()


def _watch_parent(parent_pid: int, every: float) -> None:
    while os.getppid() == parent_pid:
        time.sleep(every)
    os._exit(1)  # nothing to save: only the parent writes the store
