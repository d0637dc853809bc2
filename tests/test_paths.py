"""Where the study reads and writes, as every process of a report sees it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cifar_mlp import paths
from cifar_mlp.runs import store

SHOW = ("import os; from cifar_mlp import paths; "
        "print(paths.results_dir()); print(os.environ['CIFAR_MLP_RESULTS'])")
# A notebook kernel starts in notebooks/: handed absolute_env(), it finds the folder its parent meant.
CHILD = ("import os, subprocess, sys; from cifar_mlp import paths; subprocess.run("
         "[sys.executable, '-c', 'from cifar_mlp import paths; print(paths.results_dir())'], "
         "cwd=sys.argv[1], check=True, "
         "env={**os.environ, **(paths.absolute_env() if sys.argv[2] == 'handed' else {})})")


def test_a_relative_folder_is_taken_from_the_current_folder_and_the_environment_is_left_alone(tmp_path):
    (tmp_path / "notebooks").mkdir()
    env = {**os.environ, "CIFAR_MLP_RESULTS": "scratch/results"}
    shown = subprocess.run([sys.executable, "-c", SHOW], cwd=tmp_path, env=env, check=True,
                           capture_output=True, text=True).stdout.split()
    assert shown == [str(tmp_path.resolve() / "scratch" / "results"), "scratch/results"]

    def child(how):
        return subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "notebooks"), how], cwd=tmp_path,
                              env=env, check=True, capture_output=True, text=True).stdout.split()

    assert child("handed") == shown[:1]
    # What happened to kernels before the report handed the folders down absolute:
    assert child("inherited") == [str(tmp_path.resolve() / "notebooks" / "scratch" / "results")]


def test_folders_are_read_when_asked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR_MLP_RESULTS", str(tmp_path / "a"))
    monkeypatch.setenv("CIFAR_MLP_SMOKE_DIR", str(tmp_path / "smoke"))
    monkeypatch.delenv("CIFAR_MLP_REPORTS", raising=False)
    assert paths.results_dir() == paths.RESULTS_DIR == tmp_path / "a"
    assert store.record_dir("k") == tmp_path / "a" / "k"
    monkeypatch.setenv("CIFAR_MLP_RESULTS", str(tmp_path / "b"))
    assert paths.results_dir("full") == tmp_path / "b" and store.record_dir("k").parent == tmp_path / "b"
    assert paths.profile_dirs("smoke") == {
        "results": tmp_path / "smoke" / "results", "runs": tmp_path / "smoke" / "runs",
        "reports": tmp_path / "smoke" / "reports", "figures": tmp_path / "smoke" / "reports" / "figures"}
    # A notebook run by hand writes under build/; only the report command writes reports/.
    assert paths.figures_dir() == paths.project_root() / "build" / "reports" / "figures"
    assert paths.report_output() == paths.project_root() / "reports"
    monkeypatch.setenv("CIFAR_MLP_RESULTS", "")  # empty is unset
    assert paths.results_dir() == paths.project_root() / "results"
    with pytest.raises(ValueError, match="profile='big' is not allowed: one of smoke, full"):
        paths.results_dir("big")


def test_children_get_absolute_folders_and_the_environment_comes_back(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CIFAR_MLP_RESULTS", "rel/results")
    monkeypatch.setenv("CIFAR_MLP_RUNS", str(tmp_path / "runs"))
    monkeypatch.delenv("CIFAR_MLP_REPORTS", raising=False)
    want = {"CIFAR_MLP_RESULTS": str(tmp_path.resolve() / "rel" / "results"),
            "CIFAR_MLP_RUNS": str(tmp_path.resolve() / "runs")}
    assert {k: v for k, v in paths.absolute_env().items() if k in want} == want
    assert "CIFAR_MLP_REPORTS" not in paths.absolute_env()
    with paths.env_for_children():
        assert os.environ["CIFAR_MLP_RESULTS"] == want["CIFAR_MLP_RESULTS"]
    assert os.environ["CIFAR_MLP_RESULTS"] == "rel/results" and "CIFAR_MLP_REPORTS" not in os.environ


def test_an_old_constant_a_test_sets_holds_until_it_is_undone(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR_MLP_RESULTS", str(tmp_path / "env"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(paths, "RESULTS_DIR", tmp_path / "set")
        assert paths.results_dir() == paths.RESULTS_DIR == tmp_path / "set"
        assert store.record_dir("k") == tmp_path / "set" / "k"
    monkeypatch.setenv("CIFAR_MLP_RESULTS", str(tmp_path / "later"))
    assert paths.results_dir() == Path(paths.RESULTS_DIR) == tmp_path / "later"  # not frozen
