"""The report pipeline on two tiny fixture notebooks: one publishes a figure, one fails.

The notebooks run in the real `cifar-mlp` kernel (a few seconds each) and
train nothing. CIFAR_MLP_REPORTS points the kernel's reports folder at a temp dir.
"""

import contextlib
import io
import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import pytest
from jupyter_client.kernelspec import KernelSpecManager

from cifar_mlp import paths, report

FIXTURES = Path(__file__).parent / "fixtures"
needs_kernel = pytest.mark.skipif(
    report.KERNEL not in KernelSpecManager().find_kernel_specs(),
    reason=f"Jupyter kernel {report.KERNEL!r} is not registered: run `make setup`")


def run_main(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = report.main(argv)
    return code, out.getvalue() + err.getvalue()


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Run the pipeline once on the fixtures; the tests read what it left."""
    root = tmp_path_factory.mktemp("report")
    out = root / "reports"
    with pytest.MonkeyPatch.context() as mp:
        # The kernel inherits the environment, so the notebooks publish into `out`.
        mp.setenv("CIFAR_MLP_REPORTS", str(out))
        mp.setenv("CIFAR_MLP_RESULTS", str(root / "results"))
        mp.setattr(paths, "REPORTS_DIR", out)
        mp.setattr(paths, "FIGURES_DIR", out / "figures")
        code, printed = run_main(["--profile", "full", "--out", str(out),
                                  "--notebooks", str(FIXTURES)])
        yield SimpleNamespace(code=code, printed=printed, out=out, root=root, mp=mp,
                              index=(out / "index.html").read_text())


@needs_kernel
@pytest.mark.slow
def test_every_notebook_is_rendered_and_indexed(reports):
    for name in ("01_figure", "02_fails"):
        assert (reports.out / f"{name}.html").stat().st_size > 10_000
        assert f'href="{name}.html' in reports.index
    assert "cell  3/5" in reports.printed  # per-cell progress


@needs_kernel
@pytest.mark.slow
def test_figure_is_embedded_and_card_published(reports):
    page = (reports.out / "01_figure.html").read_text()
    assert re.search(r'<img[^>]+src="data:image/png;base64,', page)
    summary = json.loads((reports.out / "summaries" / "01_figure.json").read_text())
    assert summary["figure"] == "figures/01_figure_curve.png" and summary["profile"] == "full"
    # The index links the figure by relative path and shows the numbers.
    assert 'src="figures/01_figure_curve.png"' in reports.index
    assert "Accuracy rises with epochs" in reports.index and "val accuracy" in reports.index
    assert "<script" not in reports.index and "http" not in reports.index  # self-contained


@needs_kernel
@pytest.mark.slow
def test_failing_notebook_is_reported_kept_and_rendered(reports):
    assert reports.code == 1
    assert re.search(r"02_fails: FAILED at cell 3 \(In \[3\]\): ValueError: fixture failure",
                     reports.printed)
    card = reports.index.split("02_fails.html")[1]
    assert 'class="badge failed"' in card and "In [3]" in card and "ValueError" in card
    executed = nbformat.read(reports.out / "_executed" / "02_fails.ipynb", as_version=4)
    last = executed.cells[-1]
    assert "never reached" in last.source and last.execution_count is None  # stopped there
    assert "fixture failure" in (reports.out / "02_fails.html").read_text()
    assert 'class="badge ok"' in reports.index.split("02_fails.html")[0]


@needs_kernel
@pytest.mark.slow
def test_provenance_stamp(reports):
    stamp = json.loads((reports.out / "provenance.json").read_text())
    assert set(stamp["packages"]) == {"tensorflow", "keras", "numpy", "pandas", "cifar_mlp"}
    assert stamp["profile"] == "full" and stamp["cpu"]["cores"] >= 1 and stamp["python"]
    assert [(s["name"], s["status"]) for s in stamp["sections"]] == [
        ("01_figure", "ok"), ("02_fails", "failed")]
    assert stamp["total_seconds"] == pytest.approx(sum(s["seconds"] for s in stamp["sections"]))
    assert stamp["git"] in reports.index and stamp["cpu"]["model"] in reports.index
    assert f'{stamp["training"]["runs"]:,} stored runs' in reports.index


def test_training_time_sums_the_stored_runs(tmp_path):
    for key, seconds in (("a1", 30.5), ("b2", 12.0)):
        (tmp_path / key).mkdir()
        (tmp_path / key / "metrics.json").write_text(json.dumps({"wall_seconds": seconds}))
    (tmp_path / ".tmp-c3-99").mkdir()  # a run still being written: not counted
    (tmp_path / ".tmp-c3-99" / "metrics.json").write_text(json.dumps({"wall_seconds": 5.0}))
    assert report.training_time(tmp_path) == {"runs": 2, "seconds": 42.5}
    # A section's own runs: from its sweeps' DataFrames (a run in two of them counts once) or keys.
    import pandas as pd
    frames = [pd.DataFrame({"key": ["a1", "b2"]}), pd.DataFrame({"key": ["a1"]})]
    assert report.training_time(tmp_path, frames) == {"runs": 2, "seconds": 42.5}
    assert report.training_time(tmp_path, frames[1]) == {"runs": 1, "seconds": 30.5}
    assert report.training_time(tmp_path, ["b2"]) == {"runs": 1, "seconds": 12.0}


@needs_kernel
@pytest.mark.slow
def test_only_one_section_keeps_the_others(reports):
    out = reports.root / "only"
    shutil.copytree(reports.out, out)
    reports.mp.setenv("CIFAR_MLP_REPORTS", str(out))
    code, printed = run_main(["--out", str(out), "--notebooks", str(FIXTURES), "--only", "01"])
    assert code == 0 and "02_fails" not in printed
    index = (out / "index.html").read_text()
    assert 'class="badge failed"' in index  # 02's last status is kept, with its page
    assert 'href="02_fails.html#papermill-error-cell"' in index


def test_unknown_only_names_the_notebooks(tmp_path):
    code, printed = run_main(["--out", str(tmp_path), "--notebooks", str(FIXTURES), "--only", "07"])
    assert code == 2 and "01_figure, 02_fails" in printed


def test_publish_checks_its_inputs(tmp_path):
    study = SimpleNamespace(figures_dir=tmp_path / "figures", profile="smoke")
    study.figures_dir.mkdir()
    with pytest.raises(TypeError, match="strings or numbers"):
        report.publish(study, "01_x", "h", {"acc": [0.5]})
    with pytest.raises(FileNotFoundError, match="save it before publishing"):
        report.publish(study, "01_x", "h", {"acc": 0.5}, study.figures_dir / "missing.png")
    with pytest.raises(ValueError, match="notebook's name"):
        report.publish(study, "01 x/y", "h", {})
    figure = study.figures_dir / "f.png"
    figure.write_bytes(b"png")
    target = report.publish(study, "01_x", "h", {"acc": np.float32(0.5), "params": np.int64(7)},
                            figure)
    assert target == tmp_path / "summaries" / "01_x.json"
    summary = json.loads(target.read_text())
    assert summary["figure"] == "figures/f.png" and summary["numbers"] == {"acc": 0.5, "params": 7}


def test_index_shows_sections_not_run(tmp_path):
    stamp = report.provenance("smoke") | {"total_seconds": 0.0}
    later = report.SectionResult("03_later", "Later <study>", "not run")
    page = report.index_html([later], stamp, tmp_path)
    assert 'class="badge not-run"' in page and "Later &lt;study&gt;" in page
    assert "03_later.html" not in page  # no page to link to yet
    assert [report._fmt(v) for v in (0.51234, 394634, 1234.5, "0.52 ± 0.01")] == [
        "0.5123", "394,634", "1,234", "0.52 ± 0.01"]
