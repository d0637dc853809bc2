"""The report pipeline on two tiny fixture notebooks: one publishes figures, one fails.

The notebooks run in the real `cifar-mlp` kernel (a few seconds each) and
train nothing. CIFAR_MLP_REPORTS points the kernel's reports folder at a temp dir.
The rest are unit tests of publish, render and provenance on small inputs.
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
import pandas as pd
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbformat.v4 import new_code_cell, new_notebook, new_output

from cifar_mlp import paths
from cifar_mlp.report import build as report
from cifar_mlp.report import provenance, publish, render

FIXTURES = Path(__file__).parent / "fixtures"
needs_kernel = pytest.mark.skipif(
    report.KERNEL not in KernelSpecManager().find_kernel_specs(),
    reason=f"Jupyter kernel {report.KERNEL!r} is not registered: run `make setup`")
PLACEHOLDER = "No description has been provided"


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
        code, printed = run_main(["--profile", "full", "--out", str(out),
                                  "--notebooks", str(FIXTURES)])
        yield SimpleNamespace(code=code, printed=printed, out=out, root=root, mp=mp,
                              index=(out / "index.html").read_text(),
                              page=(out / "01_figure.html").read_text())


@needs_kernel
@pytest.mark.slow
def test_every_notebook_is_rendered_and_indexed(reports):
    for name in ("01_figure", "02_fails"):
        assert (reports.out / f"{name}.html").stat().st_size > 10_000
        assert f'href="{name}.html' in reports.index
    assert "cell  3/6" in reports.printed  # per-cell progress


@needs_kernel
@pytest.mark.slow
def test_figure_is_embedded_and_card_published(reports):
    assert re.search(r'<img[^>]+src="data:image/png;base64,', reports.page)
    summary = json.loads((reports.out / "summaries" / "01_figure.json").read_text())
    assert summary["figure"] == "figures/01_figure_curve.png" and summary["profile"] == "full"
    # The index links the figure by relative path (a click opens it) and shows the numbers.
    assert 'href="figures/01_figure_curve.png"' in reports.index
    assert 'src="figures/01_figure_curve.png"' in reports.index
    assert "Accuracy rises with epochs" in reports.index and "val accuracy" in reports.index
    assert "<script" not in reports.index and "http" not in reports.index  # self-contained


@needs_kernel
@pytest.mark.slow
def test_alt_text_comes_from_the_output_metadata_else_the_figure_name(reports):
    alts = re.findall(r'<img[^>]*\balt="([^"]*)"', reports.page)
    assert alts == ["Accuracy over epochs: validation accuracy rises from 0.30 to 0.50",
                    "Figure 01_figure_bars.png"]
    assert PLACEHOLDER not in reports.page


@needs_kernel
@pytest.mark.slow
def test_section_page_is_a_reader_view(reports):
    page = reports.page
    code_cells = [c for c in nbformat.read(reports.out / "_executed" / "01_figure.ipynb",
                                           as_version=4).cells if c.cell_type == "code"]
    # Every code cell folded, none open; a page-wide toggle beside them.
    assert page.count('<details class="code-fold">') == len(code_cells)
    assert 'class="toggle-code"' in page
    # The table of contents lists the headings, the reproduce box included.
    toc = re.split(r'<nav[^>]*class="toc"', page)[1].split("</nav>")[0]
    assert re.findall(r'href="#([^"]+)"', toc) == [
        "Results", "Accuracy-over-epochs", "A-figure-without-alt-text", "Conclusions",
        "reproduce-title"]
    # Links around: the index and the next section; no previous one for the first.
    assert 'href="index.html"' in page and 'href="02_fails.html" rel="next"' in page
    assert 'rel="prev"' not in page
    # The reproduce box: command, commit, hardware, the table to download.
    box = page.split('id="reproduce"')[1]
    assert "make report ONLY=01_figure" in box
    stamp = json.loads((reports.out / "provenance.json").read_text())
    assert stamp["git"] in box and stamp["cpu"]["model"] in box
    assert 'href="tables/01_figure/accuracy.csv"' in box
    assert pd.read_csv(reports.out / "tables" / "01_figure" / "accuracy.csv").shape == (3, 2)
    # Offline: no script or stylesheet from another host.
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?:', page)


@needs_kernel
@pytest.mark.slow
def test_index_opens_with_findings_linked_to_their_headings(reports):
    index = reports.index
    assert index.index('id="findings"') < index.index('id="sections"')
    finding = index.split('id="findings"')[1].split('id="sections"')[0]
    assert "Accuracy rises with epochs" in finding and "+20.0 points" in finding
    assert "95 % CI [+15.0, +25.0]" in finding and "2 seeds" in finding and "better" in finding
    assert 'href="01_figure.html#Accuracy-over-epochs"' in finding
    # The card's numbers link to the heading that computes them.
    card = index.split('id="card-01_figure"')[1].split("</article>")[0]
    assert card.count('href="01_figure.html#Accuracy-over-epochs"') == 2
    assert "Cómo enseñar a una red a aprender mejor" in index and "2025-10-06" in index


@needs_kernel
@pytest.mark.slow
def test_failing_notebook_is_reported_kept_and_rendered(reports):
    assert reports.code == 1
    assert re.search(r"02_fails: FAILED at cell 3 \(In \[3\]\): ValueError: fixture failure",
                     reports.printed)
    card = reports.index.split('id="card-02_fails"')[1]
    assert 'class="badge failed"' in card and "In [3]" in card and "ValueError" in card
    executed = nbformat.read(reports.out / "_executed" / "02_fails.ipynb", as_version=4)
    last = executed.cells[-1]
    assert "never reached" in last.source and last.execution_count is None  # stopped there
    page = (reports.out / "02_fails.html").read_text()
    assert "fixture failure" in page
    assert page.count('<details class="code-fold" open="">') == 1  # the failing cell's code shows
    assert 'class="badge ok"' in reports.index.split('id="card-02_fails"')[0]


@needs_kernel
@pytest.mark.slow
def test_provenance_stamp_records_the_sources(reports):
    stamp = json.loads((reports.out / "provenance.json").read_text())
    assert set(stamp["packages"]) == {"tensorflow", "keras", "numpy", "pandas", "cifar_mlp"}
    assert stamp["profile"] == "full" and stamp["cpu"]["cores"] >= 1 and stamp["python"]
    assert [(s["name"], s["status"]) for s in stamp["sections"]] == [
        ("01_figure", "ok"), ("02_fails", "failed")]
    assert stamp["total_seconds"] == pytest.approx(sum(s["seconds"] for s in stamp["sections"]))
    assert stamp["git"] in reports.index and stamp["cpu"]["model"] in reports.index
    assert f'{stamp["training"]["runs"]:,} stored runs' in reports.index
    sources = stamp["sections"][0]["sources"]
    assert sources["notebook"]["path"] == "tests/fixtures/01_figure.ipynb"  # repo-relative
    assert sources["library"] == provenance.library_hash() == stamp["library"]
    assert provenance.stale(reports.out) == []


def test_training_time_sums_the_stored_runs(tmp_path):
    for key, seconds in (("a1", 30.5), ("b2", 12.0)):
        (tmp_path / key).mkdir()
        (tmp_path / key / "metrics.json").write_text(json.dumps({"wall_seconds": seconds}))
    (tmp_path / ".tmp-c3-99").mkdir()  # a run still being written: not counted
    (tmp_path / ".tmp-c3-99" / "metrics.json").write_text(json.dumps({"wall_seconds": 5.0}))
    assert report.training_time(tmp_path) == {"runs": 2, "seconds": 42.5}
    # A section's own runs: from its sweeps' DataFrames (a run in two of them counts once) or keys.
    frames = [pd.DataFrame({"key": ["a1", "b2"]}), pd.DataFrame({"key": ["a1"]})]
    assert report.training_time(tmp_path, frames) == {"runs": 2, "seconds": 42.5}
    assert report.training_time(tmp_path, frames[1]) == {"runs": 1, "seconds": 30.5}
    assert report.training_time(tmp_path, ["b2"]) == {"runs": 1, "seconds": 12.0}


@needs_kernel
@pytest.mark.slow
def test_only_one_section_keeps_the_others(reports):
    out = reports.root / "only"
    shutil.copytree(reports.out, out)
    for section in ("01_figure", "02_fails"):  # tables an earlier render published
        (out / "tables" / section).mkdir(parents=True, exist_ok=True)
        (out / "tables" / section / "old.csv").write_text("a\n1\n")
    reports.mp.setenv("CIFAR_MLP_REPORTS", str(out))
    code, printed = run_main(["--out", str(out), "--notebooks", str(FIXTURES), "--only", "01"])
    assert code == 0 and "02_fails" not in printed
    assert not (out / "tables" / "01_figure" / "old.csv").exists()  # re-rendered: not kept
    assert (out / "tables" / "02_fails" / "old.csv").exists()  # not re-rendered: kept
    index = (out / "index.html").read_text()
    assert 'class="badge failed"' in index  # 02's last status is kept, with its page
    assert 'href="02_fails.html#papermill-error-cell"' in index
    kept = json.loads((out / "provenance.json").read_text())["sections"][1]
    assert kept["name"] == "02_fails" and kept["sources"]["notebook"]["sha256"]


def test_unknown_only_names_the_notebooks(tmp_path):
    code, printed = run_main(["--out", str(tmp_path), "--notebooks", str(FIXTURES), "--only", "07"])
    assert code == 2 and "01_figure, 02_fails" in printed


# ---------------------------------------------------------------- publish

@pytest.fixture
def study(tmp_path):
    study = SimpleNamespace(figures_dir=tmp_path / "figures", results_dir=tmp_path / "results",
                            profile="smoke")
    study.figures_dir.mkdir()
    return study


def test_publish_checks_its_inputs(study, tmp_path):
    with pytest.raises(TypeError, match="strings or numbers"):
        report.publish(study, "01_x", "h", {"acc": [0.5]})
    with pytest.raises(FileNotFoundError, match="save it before publishing"):
        report.publish(study, "01_x", "h", {"acc": 0.5}, study.figures_dir / "missing.png")
    with pytest.raises(ValueError, match="notebook's name"):
        report.publish(study, "01 x/y", "h", {})
    figure = study.figures_dir / "f.png"
    figure.write_bytes(b"png")
    assert report.publish(study, "01_x", "h", {"acc": np.float32(0.5), "params": np.int64(7)},
                          figure) is None  # nothing for the page to print
    summary = json.loads((tmp_path / "summaries" / "01_x.json").read_text())
    assert summary["figure"] == "figures/f.png" and summary["numbers"] == {"acc": 0.5, "params": 7}
    assert summary["findings"] == [] and "runs" not in summary


@pytest.mark.parametrize("findings,error,words", [
    ("better", TypeError, "a list of dicts"),
    ([{"effect": "+1 point"}], ValueError, "findings[0]: 'text' is required"),
    ([{"text": "x", "effct": 1}], ValueError, "unknown key 'effct'. Allowed: text, effect, ci"),
    ([{"text": "x", "seeds": 0}], ValueError, "seeds=0 is not allowed: a positive integer"),
    ([{"text": "x", "seeds": True}], ValueError, "seeds=True is not allowed"),
    ([{"text": "x", "ci": [1, 2]}], TypeError, "ci=[1, 2] must be a string or a number"),
])
def test_publish_refuses_bad_findings(study, findings, error, words):
    with pytest.raises(error) as e:
        report.publish(study, "01_x", "h", {}, findings=findings)
    assert words in str(e.value)


def test_publish_writes_findings_tables_and_runs(study, tmp_path):
    frame = pd.DataFrame({"key": ["k2", "k1", "k2"], "variant": ["b", "a", "b"],
                          "seed": np.array([1, 0, 1])})
    report.publish(study, "03_x", "h", {}, runs=frame, anchor="Results",
                   findings=[{"text": "BatchNorm helps", "effect": 0.021, "seeds": np.int64(3)}],
                   tables={"grid": frame.drop_duplicates("key")})
    summary = json.loads((tmp_path / "summaries" / "03_x.json").read_text())
    assert summary["findings"] == [{"text": "BatchNorm helps", "effect": 0.021, "seeds": 3}]
    assert summary["runs"] == [{"key": "k1", "variant": "a", "seed": 0},
                               {"key": "k2", "variant": "b", "seed": 1}]
    assert summary["tables"] == {"grid": "tables/03_x/grid.csv"} and summary["anchor"] == "Results"
    assert pd.read_csv(tmp_path / "tables" / "03_x" / "grid.csv").columns.tolist() == [
        "key", "variant", "seed"]  # a plain 0..n-1 index is left out
    with pytest.raises(ValueError, match="tables: name 'a b' is not allowed"):
        report.publish(study, "03_x", "h", {}, tables={"a b": frame})
    with pytest.raises(TypeError, match=r"tables\['t'\] is a list: give a DataFrame"):
        report.publish(study, "03_x", "h", {}, tables={"t": [1, 2]})
    with pytest.raises(ValueError, match="without a 'key' column"):
        report.publish(study, "03_x", "h", {}, runs=pd.DataFrame({"seed": [0]}))


def test_a_finding_on_a_variant_that_peaked_late_carries_the_flag(study, tmp_path):
    frame = pd.DataFrame({"key": ["k1", "k2", "k3", "k4"], "variant": ["a", "a", "b", "b"],
                          "seed": [0, 1, 0, 1], "epochs": [15] * 4, "best_epoch": [14, 13, 5, 6]})
    found = [{"text": "a against b", "variants": ["a", "b"]}, {"text": "b alone", "variants": ["b"]}]
    report.publish(study, "03_x", "h", {}, runs=frame, findings=found)
    late, settled = json.loads((tmp_path / "summaries" / "03_x.json").read_text())["findings"]
    assert late["late"] == "⚑ peaked in the last fifth of its epochs: a (13.5 of 15)"
    assert "late" not in settled
    with pytest.raises(TypeError, match="variants='a' must be a list"):
        report.publish(study, "03_x", "h", {}, findings=[{"text": "t", "variants": "a"}])


# ---------------------------------------------------------------- execution

def test_a_kernel_that_dies_at_start_is_started_once_more(monkeypatch, tmp_path, capsys):
    import papermill

    notebook = FIXTURES / "01_figure.ipynb"
    calls = []

    def execute(nb, out, **kwargs):
        calls.append(out)
        if len(calls) == 1:  # as papermill reports a kernel that died before kernel_info
            raise RuntimeError("Kernel died before replying to kernel_info")
        Path(out).write_text("{}")

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    assert report._execute(notebook, tmp_path / "x.ipynb", "smoke") is None
    assert len(calls) == 2
    assert "the kernel died before the first cell ran" in capsys.readouterr().out
    # Twice in a row: reported as the failure, not retried forever.
    calls.clear()
    monkeypatch.setattr(papermill, "execute_notebook",
                        lambda *a, **k: calls.append(1) or (_ for _ in ()).throw(
                            RuntimeError("Kernel died before replying to kernel_info")))
    assert report._execute(notebook, tmp_path / "y.ipynb", "smoke") == (
        "RuntimeError: Kernel died before replying to kernel_info")
    assert len(calls) == 2


def test_a_kernel_that_dies_mid_notebook_is_not_run_again(monkeypatch, tmp_path):
    import papermill

    calls = []

    def execute(nb, out, on_cell_execute, **kwargs):
        calls.append(out)
        on_cell_execute(nbformat.v4.new_code_cell("train()"), 0)  # a cell started: runs may exist
        raise RuntimeError("Kernel died")

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    assert report._execute(FIXTURES / "01_figure.ipynb", tmp_path / "x.ipynb", "smoke") == (
        "RuntimeError: Kernel died")
    assert len(calls) == 1


# ---------------------------------------------------------------- render

def test_outputs_showing_this_machine_are_named_by_cell():
    root = str(paths.project_root())
    nb = new_notebook(cells=[
        new_code_cell("study", execution_count=4, outputs=[new_output(
            "execute_result", {"text/plain": f"Study(results_dir=PosixPath('{root}/results'))"},
            execution_count=4)]),
        new_code_cell("print(1)", execution_count=5, outputs=[
            new_output("stream", name="stdout", text="sweep: 2 runs, 2 stored\n")]),
        new_code_cell("fail()", execution_count=6, outputs=[new_output(
            "error", ename="E", evalue="x", traceback=[f"File {root}/src/cifar_mlp/sweep.py:3"])]),
    ])
    found = render.internals(nb)
    assert len(found) == 1, found
    assert found[0].startswith("cell In [4] ('study') shows ")
    assert f"{root}/…" in found[0] and "PosixPath repr" in found[0]
    # A traceback keeps its lines, relative to the repository.
    assert nb.cells[2].outputs[0].traceback == ["File src/cifar_mlp/sweep.py:3"]


def test_alt_text_falls_back_to_the_figure_name_never_the_placeholder():
    png = {"image/png": "iVBORw0KGgo="}
    nb = new_notebook(cells=[
        new_code_cell('plots.bars(df, "03_dropout", study.figures_dir)', outputs=[
            new_output("display_data", png)]),
        new_code_cell("fig", outputs=[new_output("display_data", png)]),
        new_code_cell("show()", outputs=[new_output(
            "display_data", png, metadata={"image/png": {"alt": "Dropout: accuracy by rate"}})]),
    ])
    render.fill_alt_text(nb, "03 · Regularization")
    alts = [c.outputs[0].metadata["image/png"]["alt"] for c in nb.cells]
    assert alts == ["Figure 03_dropout.png", "Figure 2 of 03 · Regularization",
                    "Dropout: accuracy by rate"]


def test_toc_lists_h2_and_h3_without_anchor_marks():
    page = ('<h1 id="T">Title<a class="anchor-link" href="#T">¶</a></h1>'
            '<h2 id="Results">Results<a class="anchor-link" href="#Results">¶</a></h2>'
            '<h3 id="Depth-&amp;-width">Depth &amp; <em>width</em>'
            '<a class="anchor-link" href="#x">¶</a></h3><h2>No id</h2>')
    toc = render.toc(page)
    assert re.findall(r'<li class="toc-(\d)"><a href="#([^"]+)">([^<]+)</a>', toc) == [
        ("2", "Results", "Results"), ("3", "Depth-&amp;-width", "Depth &amp; width")]


def test_anchors_resolve_by_id_or_heading_text():
    ids = {"Results", "Dropout:-rate-×-position"}
    assert render.resolve_anchor("Dropout: rate × position", ids) == "Dropout:-rate-×-position"
    assert render.resolve_anchor("results", ids) == "Results"
    assert render.resolve_anchor("Claims", ids) is None and render.resolve_anchor(None, ids) is None


def test_index_shows_sections_not_run(tmp_path):
    stamp = provenance.stamp("smoke") | {"total_seconds": 0.0}
    later = report.SectionResult("03_later", "Later <study>", "not run")
    cards, findings, _ = render.index_content([later], tmp_path)
    page = render.index_page(cards, findings, stamp)
    assert 'class="badge not-run"' in page and "Later &lt;study&gt;" in page
    assert "03_later.html" not in page  # no page to link to yet
    assert [render.fmt(v) for v in (0.51234, 394634, 1234.5, 7.246, 0.005533, "0.52 ± 0.01",
                                    0.0003, 0.0)] == [
        "0.512", "394,634", "1,234", "7.25", "0.006", "0.52 ± 0.01", "0.0003", "0.000"]


def test_a_card_with_many_numbers_spans_the_index(tmp_path):
    (tmp_path / "06_x.html").write_text('<h2 id="Results">Results</h2>')
    many = report.SectionResult("06_x", "06 · Claims", "ok", 1.0, summary={
        "headline": "h", "numbers": {f"claim {i}": "confirmed" for i in range(10)}})
    few = report.SectionResult("05_y", "05 · Few", "ok", 1.0,
                               summary={"headline": "h", "numbers": {"a": 0.5}})
    other = report.SectionResult("04_z", "04 · Other", "ok", 1.0,
                                 summary={"headline": "h", "numbers": {"a": 0.5}})
    cards, findings, unresolved = render.index_content([other, few, many], tmp_path)
    assert [c["wide"] for c in cards] == [False, False, True]
    assert cards[2]["numbers_href"] == "06_x.html#Results" and unresolved == []
    # Without published findings, each section's headline stands in, linked to its card.
    assert [f["href"] for f in findings] == ["#card-04_z", "#card-05_y", "06_x.html"]
    # A narrow card alone in its row, before a wide one or last, is widened: no hole, no
    # reordering.
    cards, _, _ = render.index_content([few, many, other], tmp_path)
    assert [(c["name"], c["wide"]) for c in cards] == [("05_y", True), ("06_x", True),
                                                      ("04_z", True)]


# ---------------------------------------------------------------- provenance

def test_stale_names_each_page_rendered_from_other_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR_MLP_ROOT", str(tmp_path))
    notebook = tmp_path / "notebooks" / "01_a.ipynb"
    notebook.parent.mkdir()
    notebook.write_text("{}")
    notebook.with_suffix(".py").write_text("# %% the source of truth\n")
    reports = tmp_path / "reports"
    reports.mkdir()

    def render_now():
        section = {"name": "01_a", "status": "ok", "sources": provenance.section_sources(notebook)}
        (reports / "provenance.json").write_text(json.dumps({"sections": [section]}))

    render_now()
    assert provenance.section_sources(notebook)["notebook"]["path"] == "notebooks/01_a.py"
    assert provenance.stale(reports) == []
    notebook.with_suffix(".py").write_text("# %% edited\n")
    (problem,) = provenance.stale(reports)
    assert problem.startswith("01_a.html was rendered from other sources than this checkout's: "
                              "notebooks/01_a.py changed since")
    assert "make report ONLY=01_a" in problem
    library = tmp_path / "src" / "lib"
    (library / "templates").mkdir(parents=True)
    (library / "a.py").write_text("A = 1\n")
    (library / "templates" / "page.j2").write_text("{{ x }}\n")
    (library / "notes.txt").write_text("not a source\n")
    monkeypatch.setattr(provenance, "LIBRARY", library)
    render_now()
    (library / "notes.txt").write_text("edited, and not a source\n")
    assert provenance.stale(reports) == []
    (tmp_path / "requirements.lock").write_text("numpy==2.0\n")  # a lock file appears
    (library / "templates" / "page.j2").write_text("{{ y }}\n")
    (library / "b.py").write_text("B = 2\n")
    (problem,) = provenance.stale(reports)
    assert "the library (src/lib: b.py, templates/page.j2)" in problem
    assert "the lock file (requirements.lock)" in problem
    (reports / "provenance.json").unlink()
    assert "run `make report`" in provenance.stale(reports)[0]


def test_library_hash_covers_code_and_templates_only():
    files = {p.relative_to(provenance.LIBRARY).as_posix() for p in provenance.LIBRARY.rglob("*")
             if p.is_file()}
    assert "templates/reader/index.html.j2" in files and "publish.py" in files
    assert len(provenance.library_hash()) == 64


def test_reproduce_box_names_the_cpus_the_runs_trained_on(tmp_path):
    # Two CPUs of one name that differ in their vector extension compute other last digits.
    for key, cpu, vector in (("a", "AMD EPYC", None), ("b", "AMD EPYC", None), ("c", None, None),
                             ("d", "AMD EPYC", "AVX2")):
        (tmp_path / key).mkdir()
        if cpu:
            (tmp_path / key / "environment.json").write_text(json.dumps(
                {"cpu_model": cpu, "cpu_cores": 2} | ({"cpu_vector": vector} if vector else {})))
    runs = [{"key": k} for k in "abcd"]
    assert publish.trained_on(tmp_path, runs) == (
        "AMD EPYC, 2 cores (2 runs); AMD EPYC with AVX2, 2 cores (1 run); "
        "not recorded for 1 of 4 runs (trained before records kept it)")
    assert publish.trained_on(tmp_path, []) is None


def test_a_finding_from_a_comparison_carries_its_effect_interval_seeds_and_verdict():
    from cifar_mlp.report import publish
    from cifar_mlp.study import compare

    c = compare.Comparison("hidden 0.1", "baseline", "best_val_accuracy", diff=0.0123,
                           ci_low=-0.0031, ci_high=0.0277, n=3, verdict=compare.NO_DIFFERENCE)
    assert publish.finding("Dropout 0.1 on the hidden units", c, anchor="Dropout") == {
        "text": "Dropout 0.1 on the hidden units", "effect": "+1.2 points",
        "ci": "\u22120.3 to +2.8", "seeds": 3, "verdict": "no detectable difference",
        "anchor": "Dropout", "variants": ["hidden 0.1", "baseline"]}
    one = compare.Comparison("a", "b", "epochs_run", diff=-4.0, ci_low=float("nan"),
                             ci_high=float("nan"), n=1, verdict=compare.ONE_SEED)
    assert publish.finding("Stops sooner", one, unit="epochs", digits=0) == {
        "text": "Stops sooner", "effect": "\u22124 epochs", "seeds": 1,
        "verdict": "undetermined (one seed)", "variants": ["a", "b"]}
    # Where the rule cannot judge (an epoch picked on the images that score it), no verdict word.
    assert publish.finding("Best against last", one, verdict="optimistic: no verdict")[
        "verdict"] == "optimistic: no verdict"


def test_a_card_figure_takes_its_alt_text_from_the_png(tmp_path):
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    (tmp_path / "figures").mkdir()
    info = PngInfo()
    info.add_text("Description", "Dropout: accuracy by rate, 3 seeds")
    Image.new("RGB", (4, 4)).save(tmp_path / "figures" / "a.png", pnginfo=info)
    Image.new("RGB", (4, 4)).save(tmp_path / "figures" / "b.png")
    sections = [report.SectionResult(n, f"{n} title", "ok", 1.0,
                                     summary={"headline": "h", "href": f"figures/{f}"})
                for n, f in (("01_a", "a.png"), ("02_b", "b.png"))]
    cards, _, _ = render.index_content(sections, tmp_path)
    assert [c["alt"] for c in cards] == ["Dropout: accuracy by rate, 3 seeds",
                                         "02_b title, key figure: h"]


def test_the_index_lists_stored_test_reads_that_no_page_shows(tmp_path):
    stamp = provenance.stamp("smoke") | {"total_seconds": 0.0}
    reads = {"shown": 10, "unshown": [{"model": "3×1024 MLP, 40 epochs", "accuracy": "0.646 (3 seeds)"}]}
    page = render.index_page([], [], stamp, reads)
    assert "10 runs on these pages read it" in page and "for 1 model no page shows" in page
    assert "3×1024 MLP, 40 epochs, 0.646 (3 seeds)." in page
    assert "The test set" not in render.index_page([], [], stamp)  # nothing read: nothing said


def test_a_card_counts_the_runs_it_reads_again_from_earlier_sections(tmp_path):
    first = report.SectionResult("02_a", "02 · A", "ok", 1.0, summary={
        "headline": "h", "runs": [{"key": "k1"}, {"key": "k2"}],
        "training": {"runs": 2, "seconds": 60.0}})
    later = report.SectionResult("06_b", "06 · B", "ok", 1.0, summary={
        "headline": "h", "runs": [{"key": "k2"}, {"key": "k3"}],
        "training": {"runs": 2, "seconds": 60.0}})
    cards, findings, _ = render.index_content([first, later], tmp_path)
    assert [c["earlier_runs"] for c in cards] == [0, 1]
    page = render.index_page(cards, findings, provenance.stamp("smoke") | {"total_seconds": 0.0})
    assert "2 runs, 1 min 00 s of training (1 of them from earlier sections, read again)" in page
