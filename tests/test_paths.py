"""Where the study reads and writes, as every process of a report sees it."""

import os
import subprocess
import sys

SHOW = ("import os; from cifar_mlp import paths; "
        "print(paths.RESULTS_DIR); print(os.environ['CIFAR_MLP_RESULTS'])")
# A notebook kernel starts in notebooks/: it must find the folder its parent meant.
CHILD = ("import subprocess, sys; from cifar_mlp import paths; subprocess.run("
         "[sys.executable, '-c', 'from cifar_mlp import paths; print(paths.RESULTS_DIR)'], "
         "cwd=sys.argv[1], check=True)")


def test_a_relative_folder_is_taken_from_where_the_study_started(tmp_path):
    (tmp_path / "notebooks").mkdir()
    env = {**os.environ, "CIFAR_MLP_RESULTS": "scratch/results"}
    shown = subprocess.run([sys.executable, "-c", SHOW], cwd=tmp_path, env=env, check=True,
                           capture_output=True, text=True).stdout.split()
    assert shown == [str(tmp_path.resolve() / "scratch" / "results")] * 2
    child = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "notebooks")], cwd=tmp_path,
                           env=env, check=True, capture_output=True, text=True).stdout.split()
    assert child == shown[:1]
