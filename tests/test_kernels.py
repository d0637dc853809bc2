"""Notebooks as a Jupyter user drives them: a real kernel, cell by cell.

Run All; the parameters and study cells again; a parameter changed to another
stored value and everything after it again; restart and Run All. No cell may
fail, nothing may train (every run is stored), and neither the committed
`reports/` nor `results/` may change: a notebook run by hand writes under build/.
"""

import hashlib
import os
from pathlib import Path

import jupytext
import pytest
from jupyter_client.manager import start_new_kernel

from cifar_mlp import paths
from cifar_mlp.report import build as report
from cifar_mlp.runs import sweep

pytestmark = [pytest.mark.slow, pytest.mark.real]

# Each notebook, and a parameter edit whose runs are stored (a subset of the full profile's).
EDITS = {"01_baseline": ("seeds", "[0, 1]"),
         "05_callbacks_schedules": ("seeds", "[0, 1, 2]")}
CELL_SECONDS = 600


def fingerprint(*folders: Path) -> dict[str, str]:
    """Every file under `folders`, by path: its size and a hash of its bytes."""
    return {str(p): f"{p.stat().st_size}:{hashlib.sha1(p.read_bytes()).hexdigest()}"
            for folder in folders if folder.exists() for p in sorted(folder.rglob("*")) if p.is_file()}


class Kernel:
    """A kernel of the project's kernelspec, started in notebooks/ as Jupyter starts it."""

    def __init__(self, env):
        self.env = env
        self.manager, self.client = start_new_kernel(kernel_name=report.KERNEL, cwd=str(paths.notebooks_dir()),
                                                     env=env)

    def run(self, source: str) -> None:
        errors = []

        def output(message):
            if message["msg_type"] == "error":
                errors.append(f"{message['content']['ename']}: {message['content']['evalue']}")

        reply = self.client.execute_interactive(source, timeout=CELL_SECONDS, output_hook=output)
        assert reply["content"]["status"] == "ok" and not errors, \
            f"cell failed: {errors or reply['content']}\n--- cell ---\n{source[:400]}"

    def restart(self) -> None:
        self.manager.restart_kernel(now=True)
        self.client.wait_for_ready(timeout=120)

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel_env(monkeypatch):
    """The user's environment, less any folder the test suite moved, and training forbidden."""
    env = {k: v for k, v in os.environ.items() if k not in paths.VARIABLES}
    env[sweep.NO_TRAIN_VARIABLE] = "1"  # a run that is not stored fails by name instead of training
    return env


@pytest.mark.parametrize("name", list(EDITS))
def test_a_user_can_run_all_rerun_edit_and_restart(name, kernel_env):
    cells = [c for c in jupytext.read(paths.notebooks_dir() / f"{name}.py").cells
             if c.cell_type == "code" and c.source.strip()]
    params = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    study = params + 1  # the cell that turns the parameters into the study
    assert "from_notebook(globals())" in cells[study].source
    root = paths.project_root()
    before = fingerprint(root / "reports", root / "results")
    kernel = Kernel(kernel_env)
    try:
        for cell in cells:  # Run All
            kernel.run(cell.source)
        kernel.run(cells[params].source)  # the parameters and the study again
        kernel.run(cells[study].source)
        key, value = EDITS[name]  # a parameter edited, then everything after it again
        kernel.run(cells[params].source.replace(f"{key} = None", f"{key} = {value}"))
        for cell in cells[study:]:
            kernel.run(cell.source)
        kernel.restart()  # Restart and Run All
        for cell in cells:
            kernel.run(cell.source)
    finally:
        kernel.stop()
    after = fingerprint(root / "reports", root / "results")
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"a notebook run by hand changed committed files: {changed[:5]}"
