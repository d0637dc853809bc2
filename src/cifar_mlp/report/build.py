"""Execute the study notebooks and render them as reader pages with an index.

`python -m cifar_mlp.report --profile smoke` runs notebooks/NN_*.ipynb in
order with papermill, renders each to <out>/<name>.html (cifar_mlp.report.render)
and writes <out>/index.html: the study's findings, then one card per section
(status, key figure and numbers). What made the pages, with hashes of the
sources each was rendered from, goes to <out>/provenance.json
(cifar_mlp.report.provenance). A failing notebook is rendered up to its failing
cell; the others still run.

Notebooks fill their card with `report.publish(...)` (cifar_mlp.report.publish).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shutil
import sys
import time
from pathlib import Path

from cifar_mlp import paths
from cifar_mlp.config import PROFILES
from cifar_mlp.report import provenance, render

# What notebooks call, kept importable from here: `report.publish(study, ...)`.
from cifar_mlp.report.provenance import cpu_model
from cifar_mlp.report.publish import publish, read_json, training_time
from cifar_mlp.study import compare, held_out

__all__ = ["build", "cpu_model", "main", "publish", "training_time", "KERNEL"]

# papermill and nbconvert are imported inside the functions that use them,
# so a notebook can import `publish` without loading the whole Jupyter stack.
KERNEL = "cifar-mlp"  # registered by `make setup`; the notebooks' metadata names it
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
KERNEL_RETRIES = 1  # a kernel that dies before its first cell is started once more


@dataclasses.dataclass
class SectionResult:
    name: str                    # the notebook's stem, e.g. "01_baseline"
    title: str                   # its first markdown heading
    status: str                  # "ok" | "failed" | "not run"
    seconds: float | None = None
    error: str | None = None     # "cell 3 (In [3]): ValueError: ..." when failed
    fresh: bool = False          # executed now, not kept from an earlier run
    summary: dict | None = None  # what the notebook published, read back for its card
    record: dict = dataclasses.field(default_factory=dict)  # commit, date, sources, warnings

    def as_record(self) -> dict:
        return {"name": self.name, "title": self.title, "status": self.status,
                "seconds": self.seconds, "error": self.error, **self.record}


# ---------------------------------------------------------------- execute

def _execute(notebook: Path, executed: Path, profile: str, retries: int = KERNEL_RETRIES) -> str | None:
    """Run one notebook with papermill: None if it succeeded, else what failed where."""
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    cells = nbformat.read(notebook, as_version=4).cells
    # +1: papermill injects a cell with the parameters after the `parameters` cell.
    total = sum(c.cell_type == "code" and bool(c.source.strip()) for c in cells) + 1
    start, count = time.perf_counter(), 0

    def on_cell_execute(cell, cell_index):  # an nbclient hook; papermill passes it through
        nonlocal count
        count += 1
        first = next((line for line in cell.source.splitlines() if line.strip()), "")
        elapsed = time.perf_counter() - start
        print(f"  cell {count:>2}/{total} {elapsed:7.1f} s  {first[:56]}", flush=True)

    try:
        # The kernel starts in notebooks/: it gets the study's folders as absolute paths.
        with paths.env_for_children():
            pm.execute_notebook(notebook, executed, parameters={"profile": profile},
                                kernel_name=KERNEL, cwd=notebook.parent, log_output=False,
                                progress_bar=False, on_cell_execute=on_cell_execute)
    except PapermillExecutionError as e:
        evalue = e.evalue if len(e.evalue) < 300 else e.evalue[:300] + "…"
        return f"cell {e.cell_index} (In [{e.exec_count}]): {e.ename}: {evalue}"
    except Exception as e:  # a missing or dead kernel: report it, go on with the others
        if count == 0 and retries > 0 and _kernel_died(e):
            # Kernels started at once can pick the same free port; one dies before it answers.
            print(f"  the kernel died before the first cell ran ({_first_line(e)}): "
                  "starting it again, once", flush=True)
            executed.unlink(missing_ok=True)
            return _execute(notebook, executed, profile, retries - 1)
        return f"{type(e).__name__}: {_first_line(e)}"
    return None


def _kernel_died(error: Exception) -> bool:
    return type(error).__name__ == "DeadKernelError" or "Kernel died" in str(error)


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [""])[0][:300]


def _title(notebook: Path) -> str:
    import nbformat

    for cell in nbformat.read(notebook, as_version=4).cells:
        heading = re.search(r"^#\s+(.+)$", cell.source, re.M)
        if cell.cell_type == "markdown" and heading:
            return heading.group(1).strip()
    return notebook.stem


def _summary(name: str, folders: list[Path], out: Path, since: float | None) -> dict | None:
    """The card a notebook published, found by section name; `since` skips stale ones."""
    for folder in folders:
        for path in sorted(folder.glob("*.json")):
            summary = read_json(path)
            if summary.get("section") not in (name, name[:2], name[3:]):
                continue
            if since is not None and path.stat().st_mtime < since:
                continue  # from an earlier run: this one stopped before publishing
            figure = summary.get("figure") and folder.parent / summary["figure"]
            summary["href"] = (render.relative(figure, out)
                               if figure and figure.is_file() else None)
            return summary
    return None


# ---------------------------------------------------------------- build

def _chosen(names: list[str], only) -> list[str]:
    for wanted in only or []:
        if not any(wanted in (n, n[:2]) for n in names):
            raise ValueError(f"--only {wanted!r} is not a notebook. "
                             f"Choose from: {', '.join(names)}.")
    return [n for n in names if not only or any(w in (n, n[:2]) for w in only)]


def build(profile: str, only=None, out=None, notebooks_dir=None) -> list[SectionResult]:
    """Execute the notebooks (all, or those named in `only`), render them, write the index."""
    out = Path(out or paths.report_output(profile)).resolve()
    notebooks_dir = Path(notebooks_dir or paths.notebooks_dir())
    notebooks = sorted(notebooks_dir.glob(NOTEBOOK_GLOB))
    if not notebooks:
        raise ValueError(f"no notebooks matching {NOTEBOOK_GLOB} in {notebooks_dir}")
    chosen = _chosen([nb.stem for nb in notebooks], only)
    # The sections a page links to as previous / next: those with a page, or about to get one.
    titles = {nb.stem: _title(nb) for nb in notebooks
              if nb.stem in chosen or (out / f"{nb.stem}.html").exists()}
    # Sections not run this time keep their last record, as long as their page is still there.
    previous = {s["name"]: s for s in read_json(out / "provenance.json").get("sections", [])}
    folders = list(dict.fromkeys([out / "summaries",
                                  paths.profile_dirs(profile)["reports"] / "summaries"]))
    (out / "_executed").mkdir(parents=True, exist_ok=True)
    stamp = provenance.stamp(profile)  # taken first, so it describes the code that ran

    results = []
    # The notebooks write their figures and summaries beside these pages (a notebook run by
    # hand writes them under build/ instead: `paths.profile_dirs`).
    with paths.variable("CIFAR_MLP_REPORTS", out if profile == "full" else None):
        for nb in notebooks:
            results.append(_section(nb, out, profile, stamp, titles, folders, chosen, previous))
    return _finish(results, out, profile, stamp)


def _section(nb, out, profile, stamp, titles, folders, chosen, previous) -> SectionResult:
    """A chosen notebook executed and rendered; another one's last record, if its page is still there."""
    name, page = nb.stem, out / f"{nb.stem}.html"
    if name not in chosen:
        kept = previous.get(name, {}) if page.exists() else {}
        record = {k: v for k, v in kept.items()
                  if k not in ("name", "title", "status", "seconds", "error")}
        return SectionResult(name, _title(nb), kept.get("status", "not run"),
                             kept.get("seconds"), kept.get("error"),
                             summary=_summary(name, folders, out, None), record=record)
    return _run_section(nb, out, profile, stamp, titles, folders,
                        f"[{chosen.index(name) + 1}/{len(chosen)}]")


def _finish(results: list[SectionResult], out: Path, profile: str, stamp: dict) -> list[SectionResult]:
    """The index and provenance.json, from every section's result."""
    stamp["total_seconds"] = sum(r.seconds or 0 for r in results)
    stamp["sections"] = [r.as_record() for r in results]
    cards, findings, unresolved = render.index_content(results, out)
    for line in unresolved:
        print(f"warning: {line}", flush=True)
    (out / "provenance.json").write_text(json.dumps(stamp, indent=2, ensure_ascii=False),
                                         encoding="utf-8")
    (out / "index.html").write_text(render.index_page(cards, findings, stamp,
                                                      _test_reads(results, profile)),
                                    encoding="utf-8")
    return results


def _test_reads(results, profile: str) -> dict:
    """How many stored runs read the test set on the pages, and those on no page."""
    shown = {run["key"] for r in results for run in (r.summary or {}).get("runs", [])}
    root = paths.profile_dirs(profile)["results"]
    read = held_out.stored(root)
    unshown = held_out.unshown(shown, root)
    return {"shown": int(read["key"].isin(shown).sum()) if not read.empty else 0,
            "unshown": [{"model": name, "accuracy": compare.describe(unshown, name)}
                        for name in unshown.index]}


def _run_section(nb: Path, out: Path, profile: str, stamp: dict, titles: dict,
                 folders: list[Path], counter: str) -> SectionResult:
    """Execute one notebook and render its page: its result, with what it was made from."""
    name, page = nb.stem, out / f"{nb.stem}.html"
    print(f"{counter} {name} ({profile} profile)", flush=True)
    sources = provenance.section_sources(nb)  # before it runs: what it ran from
    started, start = time.time(), time.perf_counter()
    executed = out / "_executed" / f"{name}.ipynb"
    for stale in (executed, page):  # never pass an earlier run's page off as this one's
        stale.unlink(missing_ok=True)
    shutil.rmtree(out / "tables" / name, ignore_errors=True)  # nor a table it no longer publishes
    error = _execute(nb, executed, profile)
    seconds = time.perf_counter() - start
    summary = _summary(name, folders, out, started)
    warnings = []
    if executed.exists():  # a partial notebook too, so the reader sees where it failed
        context = render.page_context(name, titles, summary or {}, stamp, out,
                                      paths.profile_dirs(profile)["results"])
        warnings = render.section_page(executed, page, context)
    for line in warnings:
        print(f"  warning: {line}", flush=True)
    print(f"{name}: {'FAILED at ' + error if error else 'ok'} ({render.duration(seconds)})",
          flush=True)
    record = {"commit": stamp["git"], "date": stamp["date"], "sources": sources,
              "warnings": warnings}
    return SectionResult(name, titles[name], "failed" if error else "ok", seconds, error,
                         fresh=True, summary=summary, record=record)


# ---------------------------------------------------------------- command line

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cifar_mlp.report",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=PROFILES, default="full",
                        help="smoke: every cell in seconds; full: the real study (default)")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="run only these notebooks, e.g. 01_baseline or 01")
    parser.add_argument("--out", type=Path, help="output folder (default: the profile's reports)")
    parser.add_argument("--notebooks", type=Path, help="default: the repository's notebooks/")
    args = parser.parse_args(argv)
    try:
        results = build(args.profile, args.only, args.out, args.notebooks)
    except ValueError as e:
        print(f"report: {e}", file=sys.stderr)
        return 2
    out = Path(args.out or paths.report_output(args.profile))
    print(f"index: {provenance.shown(out / 'index.html')}")
    failed = [r for r in results if r.fresh and r.status == "failed"]
    for r in failed:
        print(f"FAILED {r.name}: {r.error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    from cifar_mlp import cli
    cli.run(main)
