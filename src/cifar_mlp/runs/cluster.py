"""Sweeps on a Dask cluster: the `dask` executor (the optional extra `cluster`).

CIFAR_MLP_EXECUTOR=dask trains each run as one Dask task. With
CIFAR_MLP_SCHEDULER=tcp://host:8786 the sweep joins that cluster; without it
a LocalCluster starts on 127.0.0.1 only, with no dashboard: CIFAR_MLP_WORKERS
worker processes under their nannies.

- One thread per worker: a run sets process-wide seeds
  (`keras.utils.set_random_seed`), so two runs in one process would draw from
  each other's generators, and one run's TensorFlow already uses every core
  the process may use. Start workers elsewhere the same way:
  `dask worker tcp://host:8786 --nthreads 1 --nworkers K`.
- A task returns (history, metrics, predictions, environment); this process
  alone writes the store, so workers need no shared folder. A task whose
  worker dies is run again by the scheduler on another worker (runs are
  deterministic and idempotent), up to `distributed.scheduler.allowed-failures`
  times.
- A worker that has trained RUNS_PER_WORKER runs takes no new task, closes
  once its results are fetched, and its nanny starts a fresh one: TensorFlow
  never frees the programs XLA compiles. (A worker started without a nanny
  is never recycled, since nothing would replace it: keep `dask worker`'s
  default nanny.) Our own LocalCluster never hard-closes a nanny whose worker
  left (`distributed.deploy.lost-worker-timeout`, set for this process): its
  check is one look, that many seconds after a worker leaves, for a worker of
  the same name, and a worker being recycled at that moment cost the sweep
  its nanny and half its workers.
- Ctrl-C cancels the sweep's tasks and restarts the workers running them
  (our own cluster is closed).
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import logging
import uuid

import dask
from distributed import Client, KilledWorker, LocalCluster, WorkerPlugin, get_worker
from distributed.comm import get_address_host
from distributed.core import Status

from cifar_mlp.config import ConfigError
from cifar_mlp.runs.pools import RUNS_PER_WORKER, Executor

# The nanny sets these before it starts a worker (OMP_NUM_THREADS=1 and the
# like) and leaves them in the process that runs it, here the notebook's:
# our workers get this process's environment, as the local pool's do.
NO_THREAD_LIMITS = {"distributed.nanny.pre-spawn-environ": {}}
# Longer than any sweep: a nanny replaces its own worker (see the module's docstring).
KEEP_NANNIES = {"distributed.deploy.lost-worker-timeout": "1000 days"}
CONNECT_SECONDS = 10


class DaskExecutor(Executor):
    """Runs as tasks on a Dask cluster; see the module's docstring.

    `setup`, if given, is called once in every worker, the ones that replace
    recycled workers included (a module-level function the workers can import).
    """

    name = "dask"
    lost_worker = (KilledWorker,)
    lost_worker_hint = (" The scheduler ran it on fresh workers until "
                        "distributed.scheduler.allowed-failures was reached.")

    def __init__(self, scheduler: str | None = None, workers: int = 2,
                 runs_per_worker: int = RUNS_PER_WORKER, setup=None):
        self.cluster = None
        if scheduler is None:
            # Read by the cluster each time a worker leaves: set for the process, not a block.
            dask.config.set(KEEP_NANNIES)
            with dask.config.set(NO_THREAD_LIMITS):
                self.cluster = LocalCluster(host="127.0.0.1", dashboard_address=None,
                                            n_workers=workers, threads_per_worker=1,
                                            processes=True, silence_logs=logging.ERROR)
        self.client = _connect(scheduler or self.cluster)
        # Only our own cluster's workers are sure to share this process's folders.
        self.local_files = scheduler is None
        self.runs_per_worker = runs_per_worker
        if setup is not None:
            self.client.register_plugin(Setup(setup), name="cifar-mlp-setup")
        self._tasks = {}  # our futures not yet done -> their Dask futures

    def slots(self) -> int:
        return max(1, sum(self.client.nthreads().values()))  # 1: queue until a worker comes

    def per_machine(self) -> int:
        hosts = {}
        for address, threads in self.client.nthreads().items():
            host = get_address_host(address)
            hosts[host] = hosts.get(host, 0) + threads
        return max(hosts.values(), default=1)

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        if self.closed:
            raise RuntimeError("cannot submit runs to a Dask executor that was shut down")
        key = f"cifar-mlp-{getattr(fn, '__name__', 'task')}-{uuid.uuid4().hex}"
        task = self.client.submit(counted, self.runs_per_worker, fn, *args, key=key, pure=False,
                                  **kwargs)
        future = cf.Future()
        self._tasks[future] = task
        future.add_done_callback(lambda f: f.cancelled() and task.cancel())
        task.add_done_callback(lambda t: self._deliver(t, future))
        return future

    def _deliver(self, task, future: cf.Future) -> None:
        # In a client thread as the task ends: its result comes here and the task is
        # released at once, so the worker holds nothing of it (a worker waiting to
        # be recycled closes only then).
        self._tasks.pop(future, None)
        try:
            if task.cancelled():
                if future.cancel():
                    future.set_running_or_notify_cancel()  # wakes concurrent.futures.wait
            elif not future.done():
                future.set_result(task.result())
        except cf.InvalidStateError:  # cancelled here meanwhile
            pass
        except BaseException as error:  # the run's own error, or KilledWorker
            if not future.done():
                future.set_exception(error)
        finally:
            task.release()

    def shutdown(self, wait=True, *, cancel_futures=False) -> None:
        if self.closed:
            return
        self.closed = True
        if cancel_futures:
            for future in list(self._tasks):
                future.cancel()
        if wait:
            cf.wait(list(self._tasks))
        self.client.close()
        if self.cluster is not None:
            # A worker that has loaded TensorFlow can take longer to exit than the
            # nanny's 4 s, and is then killed with an error logged: expected here.
            nanny_log = logging.getLogger("distributed.nanny")
            level = nanny_log.level
            nanny_log.setLevel(logging.CRITICAL)
            try:
                self.cluster.close()
            finally:
                nanny_log.setLevel(level)

    def stop(self) -> None:
        if self.closed:
            return
        ours = {task.key for task in self._tasks.values()}
        # A cancelled task that has started runs on to its end: restart its worker.
        busy = [w for w, keys in self.client.processing().items() if ours & set(keys)]
        for future in list(self._tasks):
            future.cancel()
        if self.cluster is None and busy:
            self.client.restart_workers(busy, raise_for_error=False)
        self.shutdown(wait=False)  # our own cluster closes, and its workers end


def _connect(address) -> Client:
    try:
        return Client(address, timeout=CONNECT_SECONDS)
    except ValueError as error:  # not an address
        raise ConfigError(f"CIFAR_MLP_SCHEDULER={address!r} is not allowed: a Dask scheduler's "
                          f"address such as tcp://host:8786 ({error}).") from None
    except OSError as error:
        raise ConfigError(
            f"no Dask scheduler answered at CIFAR_MLP_SCHEDULER={address!r} within "
            f"{CONNECT_SECONDS} s ({error}). Start one with `dask scheduler` and workers with "
            "`dask worker <address> --nthreads 1`, or unset CIFAR_MLP_SCHEDULER for a local "
            "cluster.") from None


class Setup(WorkerPlugin):
    """Call a function once in every worker as it starts."""

    idempotent = True

    def __init__(self, function):
        self.function = function

    def setup(self, worker) -> None:
        self.function()


# ---------------------------------------------------------------- recycling, in the worker

_runs_here = 0
_recycling = False


def counted(runs_per_worker: int, fn, *args, **kwargs):
    """Run `fn` in a worker; after `runs_per_worker` runs the worker is recycled."""
    global _runs_here, _recycling
    result = fn(*args, **kwargs)
    _runs_here += 1
    worker = get_worker()
    if _runs_here >= runs_per_worker and not _recycling and worker.nanny is not None:
        _recycling = True
        worker.loop.add_callback(_recycle_when_idle, worker, _runs_here)
    return result


# A result or an exception waits in the worker until the client has fetched it.
HOLDING = {"executing", "long-running", "memory", "error"}


async def _recycle_when_idle(worker, runs: int) -> None:
    # Take no new task, as a retiring worker does (the scheduler sends new ones
    # elsewhere), and close only once every result has been fetched: closing with
    # one waiting would lose it, and the run would train again. Tasks sent here
    # but not started go back to the scheduler when the worker closes.
    worker.status = Status.closing_gracefully
    while any(task.state in HOLDING for task in worker.state.tasks.values()):
        await asyncio.sleep(0.1)
    try:
        async with worker.rpc(worker.nanny) as nanny:  # which starts a fresh worker
            await nanny.kill(reason=f"cifar-mlp: recycled after {runs} runs")
    except OSError:  # the call ends with this process: the answer never comes
        pass
