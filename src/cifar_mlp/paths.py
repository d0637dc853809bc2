"""The one place that knows where data, results, runs and reports live.

Every location can be moved with an environment variable, read each time a
path is asked for (nothing is fixed at import), so tests, CI and papermill
runs can point the study somewhere else without editing code. A relative
value means a folder under the current one; a process that starts another in
a different folder (the report starts notebook kernels in notebooks/) hands
it `absolute_env()`, so both mean the same folder.
"""

from __future__ import annotations

import os
import sys
import types
from contextlib import contextmanager
from pathlib import Path, PosixPath

# Each folder's variable; unset (or empty), the folder is the default beside it in the functions below.
VARIABLES = ("CIFAR_MLP_ROOT", "CIFAR_MLP_DATA_DIR", "CIFAR_MLP_CACHE", "CIFAR_MLP_RESULTS",
             "CIFAR_MLP_RUNS", "CIFAR_MLP_REPORTS", "CIFAR_MLP_SMOKE_DIR")


def _folder(var: str, default: Path, constant: str) -> Path:
    if constant in _SET:  # a test set the old constant (see the end of this module)
        return Path(_SET[constant])
    value = os.environ.get(var)
    return Path(value).expanduser().resolve() if value else default


def project_root() -> Path:
    return _folder("CIFAR_MLP_ROOT", Path(__file__).resolve().parents[2], "PROJ_ROOT")


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def data_dir() -> Path:
    return _folder("CIFAR_MLP_DATA_DIR", project_root() / "data", "DATA_DIR")


def cache_file() -> Path:
    """The verified uint8 arrays, written once by cifar_mlp.core.data."""
    return _folder("CIFAR_MLP_CACHE", data_dir() / "cifar10.npz", "CACHE_FILE")


def smoke_dir() -> Path:
    """Smoke-profile outputs: scratch, so a quick check never touches committed results."""
    return _folder("CIFAR_MLP_SMOKE_DIR", project_root() / "build" / "smoke", "SMOKE_DIR")


def profile_dirs(profile: str) -> dict[str, Path]:
    """Where a profile's run records, TensorBoard logs, reports and figures go.

    Full: `results/` (small text records, committed: enough to re-render every
    report), `runs/` (logs and checkpoints: large, git-ignored), and `build/reports/`:
    a notebook run by hand writes its figures and summaries there, never into the
    committed `reports/`, which only the report command writes (`report_output`).
    Smoke: the same four under the smoke folder.
    """
    if profile == "full":
        root = project_root()
        reports = _folder("CIFAR_MLP_REPORTS", root / "build" / "reports", "REPORTS_DIR")
        return {"results": _folder("CIFAR_MLP_RESULTS", root / "results", "RESULTS_DIR"),
                "runs": _folder("CIFAR_MLP_RUNS", root / "runs", "RUNS_DIR"),
                "reports": reports, "figures": reports / "figures"}
    if profile == "smoke":
        root = smoke_dir()
        return {"results": root / "results", "runs": root / "runs",
                "reports": root / "reports", "figures": root / "reports" / "figures"}
    raise ValueError(f"profile={profile!r} is not allowed: one of smoke, full.")


def report_output(profile: str = "full") -> Path:
    """Where `python -m cifar_mlp.report` writes its pages: the committed `reports/` (full)
    unless CIFAR_MLP_REPORTS names another folder; it hands that folder to the notebooks
    it runs, so their figures land beside the pages."""
    if profile == "full":
        return _folder("CIFAR_MLP_REPORTS", project_root() / "reports", "REPORTS_DIR")
    return profile_dirs(profile)["reports"]


def results_dir(profile: str = "full") -> Path:
    return profile_dirs(profile)["results"]


# In a run's folder under runs_dir(): its best epoch's weights, kept by a run with `checkpoint`.
CHECKPOINT = "best.weights.h5"


def runs_dir(profile: str = "full") -> Path:
    return profile_dirs(profile)["runs"]


def reports_dir(profile: str = "full") -> Path:
    return profile_dirs(profile)["reports"]


def figures_dir(profile: str = "full") -> Path:
    return profile_dirs(profile)["figures"]


# ---------------------------------------------------------------- handing folders to other processes

def absolute_env() -> dict[str, str]:
    """The folder variables that are set, each made absolute from the current folder.

    What a process started in another folder must be given to mean the same
    folders: `subprocess.run(..., cwd=elsewhere, env={**os.environ, **paths.absolute_env()})`.
    """
    return {var: str(Path(os.environ[var]).expanduser().resolve())
            for var in VARIABLES if os.environ.get(var)}


@contextmanager
def env_for_children():
    """Within the block, os.environ holds `absolute_env()`: for children that inherit
    the environment and take no `env=` (papermill starts its kernels so). Restored after."""
    saved = {var: os.environ.get(var) for var in VARIABLES}
    os.environ.update(absolute_env())
    try:
        yield
    finally:
        for var, value in saved.items():
            if value is not None:
                os.environ[var] = value


@contextmanager
def variable(name: str, value: Path | str | None):
    """Within the block, the folder variable `name` is `value` (absolute; None: as it was)."""
    saved = os.environ.get(name)
    if value is not None:
        os.environ[name] = str(Path(value).expanduser().resolve())
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


# ---------------------------------------------------------------- the old constants
#
# `paths.RESULTS_DIR` and the others were constants fixed at import. They stay
# as attributes read when used, like the functions, while callers move to the
# functions. A test may still set one (monkeypatch.setattr(paths, "RESULTS_DIR",
# tmp)): every function honours it until monkeypatch puts back the value it
# read, which ends the override instead of freezing that value.

class _Read(PosixPath):
    """A path read for an old constant: setting it back is not an override."""


_CONSTANTS = {"PROJ_ROOT": project_root, "NOTEBOOKS_DIR": notebooks_dir, "DATA_DIR": data_dir,
              "CACHE_FILE": cache_file, "SMOKE_DIR": smoke_dir, "RESULTS_DIR": results_dir,
              "RUNS_DIR": runs_dir, "REPORTS_DIR": reports_dir, "FIGURES_DIR": figures_dir}
_SET: dict[str, Path] = {}


def _constant(name: str, read) -> property:
    def get(module):
        return _SET[name] if name in _SET else _Read(read())

    def set_(module, value):
        if type(value) is _Read:  # what `get` gave: putting it back ends the override
            _SET.pop(name, None)
        else:
            _SET[name] = Path(value)

    return property(get, set_, lambda module: _SET.pop(name, None))


class _Module(types.ModuleType):
    """This module, with the old constants as properties."""


for _name, _read in _CONSTANTS.items():
    setattr(_Module, _name, _constant(_name, _read))
sys.modules[__name__].__class__ = _Module
