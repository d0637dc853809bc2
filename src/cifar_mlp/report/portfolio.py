"""The study as a portfolio entry, in the source documents' own MkDocs Material format.

`python -m cifar_mlp.report.portfolio` (`make portfolio`) reads the rendered reports
(their summaries, tables, figures and pages: every number in it comes from the
records through them) and writes a folder that drops into a portfolio site:

    portfolio/
      mkdocs.yml                       a minimal site, so the entry builds on its own
      docs/index.md                    one line linking the entry
      docs/entries/<ENTRY>.md          front matter, question, answer, recipe, claims, evidence
      docs/assets/<ENTRY>/             the figures the evidence blocks show
      docs/reports/<ENTRY>/            the full pages (self-contained HTML)

The evidence blocks are `???+ info "…"` admonitions with linked thumbnails and
`{ width="…" }` attributes, as in the two documents the study reproduces.
"""

from __future__ import annotations

import argparse
import shutil
from datetime import date
from pathlib import Path

import pandas as pd

from cifar_mlp import paths
from cifar_mlp.config import RunConfig
from cifar_mlp.report import keras_code, words
from cifar_mlp.report.publish import read_json

ENTRY = "cifar-mlp-study"
TITLE = "How far does an MLP get on CIFAR-10, and which choices matter?"
THUMBNAIL = 420  # px: the documents' own width for figures in evidence blocks
MKDOCS = f"""site_name: CIFAR-10 MLP study
theme:
  name: material
markdown_extensions:
  - admonition
  - attr_list
  - tables
  - pymdownx.details
  - pymdownx.superfences
nav:
  - Home: index.md
  - "{TITLE}": entries/{ENTRY}.md
"""


def sections(reports: Path) -> list[dict]:
    """Every rendered section, in reading order: its name, title and summary."""
    stamp = read_json(reports / "provenance.json")
    found = []
    for section in stamp.get("sections", []):
        summary = read_json(reports / "summaries" / f"{section['name']}.json")
        if summary and (reports / f"{section['name']}.html").exists():
            found.append({**section, "summary": summary})
    if not found:
        raise FileNotFoundError(f"no rendered sections in {reports}: run `make report` first")
    return found


def recipe_block(found: list[dict]) -> str:
    """The recipe 06 published, as plain Keras; empty where 06 published none."""
    choices = next((s["summary"].get("choices") for s in found if s["name"].startswith("06")), None)
    if not choices:
        return ""
    return ("## Use this recipe\n\nThe recipe as plain Keras, generated from its config; "
            "`x_train, y_train, x_val, y_val` as `keras.datasets.cifar10.load_data()` gives them, "
            "with 5,000 training images held out for validation.\n\n"
            f"```python\n{keras_code.source(RunConfig.from_dict(choices))}```\n")


def claims_block(reports: Path) -> str:
    table = reports / "tables" / "06_recipe" / "claims.csv"
    if not table.exists():
        return ""
    claims = pd.read_csv(table)
    rows = "\n".join(f"| {i} | {r.claim} | {words.plain(r.ours)} | **{r.verdict}** |"
                     for i, r in enumerate(claims.itertuples(), 1))
    return ("## The source documents' claims, tested\n\n| # | claim | ours | verdict |\n"
            f"|---|---|---|---|\n{rows}\n")


def evidence_block(section: dict) -> str:
    """One `???+ info` block: the section's headline, its figure as a linked thumbnail, its page."""
    summary, name = words.plain_summary(section["summary"]), section["name"]
    lines = [f'???+ info "{section["title"]}"', f"    - {summary['headline']}",
             f"    - [The full page](../reports/{ENTRY}/{name}.html)", ""]
    figure = summary.get("figure")
    if figure:
        asset = f"../assets/{ENTRY}/{Path(figure).name}"
        lines.append(f'    [![{section["title"]}]({asset}){{ width="{THUMBNAIL}" }}]({asset})')
    return "\n".join(lines) + "\n"


def entry(found: list[dict], reports: Path) -> str:
    stamp = read_json(reports / "provenance.json")
    day = str(stamp.get("date", date.today().isoformat()))[:10]
    answer = "\n".join(f"- **{s['title']}**: {words.plain(s['summary']['headline'])}." for s in found
                       if s["name"][:2] in ("06", "07"))
    return "\n".join([
        "---", f'title: "{TITLE}"', f"date: {day}", "---", "", f"# {TITLE}", "",
        "A study of multilayer perceptrons on CIFAR-10 with TensorFlow/Keras: every number below "
        "comes from stored runs, compared paired by seed with 95 % intervals, chosen on "
        "validation and read on the test set once, at the end.", "",
        "## The answer", "", answer, "", recipe_block(found), claims_block(reports),
        "## Evidence", "", *[evidence_block(s) for s in found], "",
        f"[The study's index](../reports/{ENTRY}/index.html) has every section and how each page was made.", ""])


def write(reports: Path, out: Path) -> Path:
    """The portfolio folder from the rendered `reports`; returns the entry's path."""
    found = sections(reports)
    docs = out / "docs"
    for folder in (docs / "entries", docs / "assets" / ENTRY, docs / "reports" / ENTRY):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    for section in found:
        figure = section["summary"].get("figure")
        if figure:
            shutil.copy2(reports / figure, docs / "assets" / ENTRY / Path(figure).name)
        shutil.copy2(reports / f"{section['name']}.html", docs / "reports" / ENTRY)
    shutil.copy2(reports / "index.html", docs / "reports" / ENTRY)
    page = docs / "entries" / f"{ENTRY}.md"
    page.write_text(entry(found, reports), encoding="utf-8")
    (docs / "index.md").write_text(f"# Portfolio\n\n- [{TITLE}](entries/{ENTRY}.md)\n", encoding="utf-8")
    (out / "mkdocs.yml").write_text(MKDOCS, encoding="utf-8")
    return page


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cifar_mlp.report.portfolio",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=Path, default=None, help="rendered reports (default: reports/)")
    parser.add_argument("--out", type=Path, default=None, help="the portfolio folder (default: portfolio/)")
    args = parser.parse_args(argv)
    reports = args.reports or paths.report_output("full")
    page = write(reports, args.out or paths.project_root() / "portfolio")
    print(f"portfolio entry: {page}")
    return 0


if __name__ == "__main__":
    from cifar_mlp import cli
    cli.run(main)
