"""The portfolio entry: MkDocs Material builds it strictly, every figure and link resolves,
and the committed entry is what the committed reports make."""

import filecmp
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cifar_mlp import paths
from cifar_mlp.report import portfolio

REPORTS = paths.project_root() / "reports"
COMMITTED = paths.project_root() / "portfolio"
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not (REPORTS / "provenance.json").exists():
        pytest.skip("no rendered reports: run `make report`")
    out = tmp_path_factory.mktemp("portfolio")
    page = portfolio.write(REPORTS, out)
    return out, page


def test_it_is_in_the_documents_format(built):
    _, page = built
    text = page.read_text()
    assert re.match(r'---\ntitle: ".+"\ndate: \d{4}-\d\d-\d\d\n---\n', text)
    assert '???+ info "' in text and '{ width="' in text
    for heading in ("## The answer", "## The source documents' claims, tested", "## Evidence"):
        assert heading in text


def test_every_figure_and_link_resolves(built):
    _, page = built
    links = LINK.findall(page.read_text())
    assert len(links) > 10
    missing = [link for link in links if not (page.parent / link).resolve().exists()]
    assert not missing, f"links that point nowhere: {missing}"


def test_mkdocs_material_builds_it_strictly(built):
    pytest.importorskip("material", reason="mkdocs-material is the portfolio extra (`make setup` installs it)")
    out, _ = built
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q"], cwd=out,
                          capture_output=True, text=True, env={"NO_MKDOCS_2_WARNING": "1", "PATH": ""})
    assert done.returncode == 0, done.stderr[-3000:]
    assert (out / "site" / "entries" / portfolio.ENTRY / "index.html").exists()


def test_the_committed_entry_is_what_the_committed_reports_make(built):
    out, _ = built
    if not COMMITTED.exists():
        pytest.fail("portfolio/ is missing: run `make portfolio` and commit it")
    shutil.rmtree(out / "site", ignore_errors=True)
    # The full pages are copies of reports/, made by `make portfolio` and not committed.
    compared = filecmp.dircmp(COMMITTED, out, ignore=["reports"])
    stale = []

    def walk(d: filecmp.dircmp, where: Path):
        stale.extend(str(where / n) for n in d.left_only + d.right_only + d.diff_files)
        for name, sub in d.subdirs.items():
            walk(sub, where / name)
    walk(compared, Path("portfolio"))
    assert not stale, f"portfolio/ is stale (run `make portfolio`): {stale[:5]}"
