"""Where and with what a run trained: versions, CPU, host, start time, commit.

`capture()` runs in the process that trains (a worker, perhaps on another
machine) as the run starts; the store writes what it returns beside the record
as `environment.json`, outside the run's key: the same run trained elsewhere
is the same run, and its record says where that was. Timings and last digits
depend on these (README, "Reproducibility"), so a record keeps them.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from cifar_mlp import paths

PACKAGES = ("tensorflow", "keras", "numpy")
FILE = "environment.json"


def capture() -> dict:
    """This process's environment, flat (one value per key) so a table can hold it."""
    return {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "host": platform.node(), "python": platform.python_version(),
            **{name: version(name) for name in PACKAGES},
            "cpu_model": cpu_model(), "cpu_vector": cpu_vector(), "cpu_cores": os.cpu_count(),
            "usable_cores": usable_cores(), "cpu_gflops": cpu_gflops(), "commit": commit()}


_GFLOPS: list[float] = []  # measured once per process: a worker's CPU does not change


def cpu_gflops(seconds: float = 0.3) -> float:
    """The CPU's float32 matrix-multiply speed in GFLOP/s, measured once per process.

    Records of one CPU name can come from CPUs of different speed (a vector extension,
    a neighbour's load); this number lets a page scale a run's minutes to the goal's CPU.
    The best of repeated 512×512 products over `seconds`: the best, not the mean, so a
    moment's load elsewhere does not count against the CPU.
    """
    if not _GFLOPS:
        import numpy as np
        a = np.random.default_rng(0).standard_normal((512, 512), dtype=np.float32)
        best, end = float("inf"), time.perf_counter() + seconds
        while time.perf_counter() < end:
            start = time.perf_counter()
            a @ a
            best = min(best, time.perf_counter() - start)
        _GFLOPS.append(round(2 * 512 ** 3 / best / 1e9, 1))
    return _GFLOPS[0]


def version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def cpu_model() -> str:
    """The CPU's name ("AMD EPYC", "Intel Xeon ..."): timings mean little without it."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    cpu = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    return cpu.group(1).strip() if cpu else platform.processor() or "unknown"


# The widest vector extension first: oneDNN picks its kernels by it, so the same run
# computes other last digits under AVX-512 than under AVX2, and two CPUs that both call
# themselves "AMD EPYC" can differ in it.
VECTOR_FLAGS = (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sse4_2", "SSE4.2"))


def cpu_vector(cpuinfo: str | None = None) -> str | None:
    """The CPU's widest vector extension ("AVX-512", "AVX2", ...); None where /proc/cpuinfo
    does not say (not Linux)."""
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        cpuinfo = path.read_text() if path.exists() else ""
    flags = re.search(r"^flags\s*:\s*(.+)$", cpuinfo, re.M)
    have = set(flags.group(1).split()) if flags else set()
    return next((name for flag, name in VECTOR_FLAGS if flag in have), None)


def cpu_label(model: str, cores, vector: str | None = None) -> str:
    """How pages name a CPU: "AMD EPYC with AVX2, 2 cores" (records from before the
    vector extension was kept name only the model)."""
    return f"{model}{f' with {vector}' if vector else ''}, {cores} cores"


def usable_cores() -> int | None:
    """The cores this process may run on: fewer than the machine's under a cluster
    worker's or a container's limit, and what a run's seconds per epoch mean."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count()


def commit() -> str | None:
    """The checkout's commit, "+dirty" if tracked files changed; None outside a git checkout.

    The rendered reports are not sources: a render from a clean commit stays clean while
    it rewrites them, and the reports committed after it name the commit they came from.
    """
    def git(*args):
        try:
            return subprocess.run(["git", "-C", str(paths.project_root()), *args], check=True,
                                  capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    head = git("rev-parse", "--short", "HEAD")
    if not head:
        return None
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)reports")
    return head + ("+dirty" if changed else "")
