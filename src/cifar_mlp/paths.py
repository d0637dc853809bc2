"""The one place that knows where data, results, runs and reports live.

Every location can be moved with an environment variable, so tests, CI and
papermill runs can point the study somewhere else without editing code.
"""

import os
from pathlib import Path

PROJ_ROOT = Path(os.environ.get("CIFAR_MLP_ROOT", Path(__file__).resolve().parents[2]))


def _dir(var: str, default: Path) -> Path:
    """`default`, or the folder $var names. A relative $var is taken from where this
    process started and written back absolute: notebook kernels start in notebooks/
    and would otherwise read and write somewhere else."""
    path = Path(os.environ.get(var, default)).expanduser().resolve()
    if var in os.environ:
        os.environ[var] = str(path)
    return path


DATA_DIR = _dir("CIFAR_MLP_DATA_DIR", PROJ_ROOT / "data")
# The verified uint8 arrays, written once by cifar_mlp.data.
CACHE_FILE = _dir("CIFAR_MLP_CACHE", DATA_DIR / "cifar10.npz")
# Small text records of every run: committed, enough to re-render every report.
RESULTS_DIR = _dir("CIFAR_MLP_RESULTS", PROJ_ROOT / "results")
# TensorBoard logs and checkpoints: large, git-ignored.
RUNS_DIR = _dir("CIFAR_MLP_RUNS", PROJ_ROOT / "runs")
NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"
REPORTS_DIR = _dir("CIFAR_MLP_REPORTS", PROJ_ROOT / "reports")
FIGURES_DIR = REPORTS_DIR / "figures"
# Smoke-profile outputs: scratch, so a quick check never touches committed results.
SMOKE_DIR = _dir("CIFAR_MLP_SMOKE_DIR", PROJ_ROOT / "build" / "smoke")


def profile_dirs(profile: str) -> dict[str, Path]:
    """Where a profile's run records, reports and figures go."""
    if profile == "full":
        return {"results": RESULTS_DIR, "reports": REPORTS_DIR, "figures": FIGURES_DIR}
    root = SMOKE_DIR
    return {"results": root / "results", "reports": root / "reports",
            "figures": root / "reports" / "figures"}
