"""What a record says about where it trained."""

import json
import os
import subprocess
from datetime import datetime, timedelta, timezone
from importlib import metadata

from cifar_mlp import paths
from cifar_mlp.core import environment

FIELDS = {"started", "host", "python", "tensorflow", "keras", "numpy", "cpu_model", "cpu_vector",
          "cpu_cores", "usable_cores", "cpu_gflops", "commit"}


def test_capture_names_versions_cpu_host_time_and_commit():
    before = datetime.now(timezone.utc)
    got = environment.capture()
    assert set(got) == FIELDS
    json.dumps(got)  # flat and plain: it goes into environment.json and a table row
    assert all(not isinstance(v, (dict, list)) for v in got.values())
    started = datetime.fromisoformat(got["started"])
    assert before - timedelta(seconds=1) <= started <= datetime.now(timezone.utc)
    assert got["tensorflow"] == metadata.version("tensorflow") and got["numpy"] == metadata.version("numpy")
    assert 1 <= got["usable_cores"] <= got["cpu_cores"] == os.cpu_count()
    assert got["cpu_model"] and got["host"]
    head = subprocess.run(["git", "-C", str(paths.project_root()), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    assert got["commit"] is None if not head else got["commit"].split("+")[0] == head


def test_the_cpus_speed_is_measured_once_per_process_and_quickly():
    import time
    environment._GFLOPS.clear()
    start = time.perf_counter()
    first = environment.cpu_gflops()
    took = time.perf_counter() - start
    assert 0 < first < 1e5 and took < 1.5  # a real GFLOP/s figure, within the 1 s a worker allows
    start = time.perf_counter()
    assert environment.cpu_gflops() == first and time.perf_counter() - start < 0.01


def test_outside_a_checkout_the_commit_is_none(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR_MLP_ROOT", str(tmp_path))
    assert environment.commit() is None


def test_the_cpus_widest_vector_extension_tells_apart_cpus_of_one_name():
    flags = "flags\t\t: fpu sse4_2 avx avx2 fma"
    assert environment.cpu_vector(f"model name\t: AMD EPYC\n{flags}\n") == "AVX2"
    assert environment.cpu_vector(f"model name\t: AMD EPYC\n{flags} avx512f avx512bw\n") == "AVX-512"
    assert environment.cpu_vector("flags\t: fpu sse2\n") is None
    assert environment.cpu_vector("") is None


def test_the_commit_is_dirty_for_changed_sources_not_for_rerendered_reports(tmp_path, monkeypatch):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "index.html").write_text("old page")
    (tmp_path / "study.py").write_text("x = 1")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    monkeypatch.setenv("CIFAR_MLP_ROOT", str(tmp_path))
    (tmp_path / "reports" / "index.html").write_text("new page")
    assert not environment.commit().endswith("+dirty")
    (tmp_path / "study.py").write_text("x = 2")
    assert environment.commit().endswith("+dirty")
