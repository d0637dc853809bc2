"""Every study notebook: the shared skeleton, a synced stripped pair, and a smoke run.

The smoke run executes each notebook through the report pipeline on real
CIFAR-10 images (2,000 training images, 3 epochs) and checks the HTML.
Runs already stored under build/smoke are reused, so a second run is quick.
"""

import json
import re
from pathlib import Path

import jupytext
import pytest

from cifar_mlp import paths
from cifar_mlp.report import build as report

NOTEBOOKS = sorted(paths.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.py"))
SECTIONS = ["## Setup", "## Data", "## Runs", "## Results", "## Conclusions"]


def test_there_are_study_notebooks():
    assert len(NOTEBOOKS) >= 5, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_skeleton(source: Path):
    nb = jupytext.read(source)
    header = nb.cells[0]
    assert header.cell_type == "markdown" and re.match(r"# \d\d · ", header.source)
    for word in ("**Scientific**", "**Nuisance**", "**Fixed**"):
        assert word in header.source, f"{source.name}: header lacks {word}"
    headings = [line for c in nb.cells if c.cell_type == "markdown"
                for line in c.source.splitlines() if line.startswith("## ")]
    assert [h for h in headings if h in SECTIONS] == SECTIONS, headings
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{source.name}: needs exactly one cell tagged parameters"
    params = tagged[0].source
    assert re.search(r'^profile = "full"', params, re.M)
    # Every parameter carries a why-comment.
    for line in params.splitlines():
        if re.match(r"\w+ = ", line):
            assert "#" in line, f"{source.name}: parameter without a comment: {line}"
    assert nb.metadata["kernelspec"]["name"] == report.KERNEL


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_ipynb_is_paired_in_sync_and_stripped(source: Path):
    ipynb = source.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} missing: run `make sync`"
    raw = json.loads(ipynb.read_text())
    for cell in raw["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, \
                f"{ipynb.name} carries outputs: commit it stripped"
    paired, text = jupytext.read(ipynb), jupytext.read(source)
    assert [(c.cell_type, c.source) for c in paired.cells] == \
        [(c.cell_type, c.source) for c in text.cells], f"{source.name} and {ipynb.name} differ: `make sync`"
    assert raw["metadata"]["kernelspec"]["name"] == report.KERNEL


@pytest.fixture(scope="module")
def smoke():
    """Execute and render every notebook in the smoke profile, once."""
    out = paths.profile_dirs("smoke")["reports"]
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("CIFAR_MLP_TRAIN_IN_PROCESS", raising=False)  # as a user runs them: in the worker
        results = report.build("smoke", out=out)
    return out, {r.name: r for r in results}


@pytest.mark.real
@pytest.mark.slow
def test_every_notebook_runs_in_smoke_and_renders_with_figures(smoke):
    out, results = smoke
    failed = {n: r.error for n, r in results.items() if r.status != "ok"}
    assert not failed, failed
    for source in NOTEBOOKS:
        page = out / f"{source.stem}.html"
        assert page.exists(), page
        html = page.read_text()
        assert "data:image/png;base64" in html, f"{page.name} has no embedded figure"
        assert "Traceback" not in html
        summary = json.loads((out / "summaries" / f"{source.stem}.json").read_text())
        assert summary["profile"] == "smoke" and (out / summary["figure"]).exists()
    index = (out / "index.html").read_text()
    for source in NOTEBOOKS:
        assert f'href="{source.stem}.html"' in index


@pytest.mark.slow
@pytest.mark.real
def test_a_bad_parameter_stops_the_notebook_at_once_naming_it(tmp_path):
    """Through papermill, as a headless user passes it: nothing trains."""
    import papermill
    with pytest.raises(papermill.PapermillExecutionError) as error:
        papermill.execute_notebook(str(paths.NOTEBOOKS_DIR / "02_architecture_activations.ipynb"),
                                   str(tmp_path / "out.ipynb"), kernel_name=report.KERNEL,
                                   parameters={"profile": "smoke", "seeds": [0, 0],
                                               "results_dir": str(tmp_path / "results")},
                                   cwd=str(paths.NOTEBOOKS_DIR), progress_bar=False)
    assert "seeds=[0, 0] is not allowed: each seed once" in str(error.value)
    assert not (tmp_path / "results").exists(), "a run was stored"


# A result typed into prose drifts from the records: accuracies, "N times faster", shares.
TYPED_RESULT = re.compile(
    r"\b0\.[4-9]\d+\b|\b\d+(\.\d+)?\s*(×|times)\s+(slower|faster|larger|smaller|more|less|the)\b"
    r"|\b(two|three|four|five|ten|hundred) times\b|\b(?!95 %)\d+(\.\d+)?\s?%", re.I)
# What the source documents report may be quoted (a claim under test is not our result).
QUOTED = re.compile(r"report|claim|quot|«|“", re.I)


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_markdown_states_no_typed_results(source: Path):
    """Markdown cells hold questions, methods and what to look at; numbers come from records."""
    typed = [line for cell in jupytext.read(source).cells if cell.cell_type == "markdown"
             for line in cell.source.splitlines()
             if TYPED_RESULT.search(line) and not QUOTED.search(line)]
    assert not typed, f"{source.name}: typed results in markdown (render them from the records): {typed}"


def test_the_typed_result_scan_can_fail():
    for line in ("Width 512 reaches 0.536.", "batch 32 is 3× slower", "about three times",
                 "it gains 12 % over the baseline"):
        assert TYPED_RESULT.search(line), line
    for line in ("a 95 % interval over seeds", "dropout 0.1 after each layer", "5,000 images"):
        assert not TYPED_RESULT.search(line), line


CONCLUSIONS_SHARE = 0.20  # at most this share of a notebook's code comes after "## Conclusions"


def code_lines(source: str) -> int:
    return sum(1 for line in source.splitlines() if line.strip() and not line.strip().startswith("#"))


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_conclusions_are_prose_from_the_records_not_code(source: Path):
    cells = jupytext.read(source).cells
    at = next(i for i, c in enumerate(cells) if c.cell_type == "markdown" and "## Conclusions" in c.source)
    total = sum(code_lines(c.source) for c in cells if c.cell_type == "code")
    after = sum(code_lines(c.source) for c in cells[at:] if c.cell_type == "code")
    assert after <= CONCLUSIONS_SHARE * total, \
        f"{source.name}: {after} of {total} code lines after Conclusions (at most {CONCLUSIONS_SHARE:.0%})"
