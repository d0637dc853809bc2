"""Execute the study notebooks and render them as HTML reports with an index.

`python -m cifar_mlp.report --profile smoke` runs notebooks/NN_*.ipynb in
order with papermill, renders each to <out>/<name>.html and writes
<out>/index.html: one card per section (status, wall time, key figure and
numbers) and a provenance stamp, also saved as <out>/provenance.json.
A failing notebook is rendered up to its failing cell; the others still run.

Notebooks fill their card with `publish(...)`, which writes
<reports>/summaries/<section>.json next to <reports>/figures/.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import html
import json
import os
import platform
import re
import subprocess
import sys
import time
from importlib import metadata
from numbers import Integral, Real
from pathlib import Path

from cifar_mlp import paths
from cifar_mlp.config import PROFILES

# papermill and nbconvert are imported inside the functions that use them,
# so a notebook can import `publish` without loading the whole Jupyter stack.
KERNEL = "cifar-mlp"  # registered by `make setup`; the notebooks' metadata names it
TITLE = "Training MLPs on CIFAR-10"
SUBTITLE = "A literate, reproducible study of multilayer perceptrons with TensorFlow/Keras"
PACKAGES = ("tensorflow", "keras", "numpy", "pandas", "cifar_mlp")
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"


@dataclasses.dataclass
class SectionResult:
    name: str                    # the notebook's stem, e.g. "01_baseline"
    title: str                   # its first markdown heading
    status: str                  # "ok" | "failed" | "not run"
    seconds: float | None = None
    error: str | None = None     # "cell 3 (In [3]): ValueError: ..." when failed
    fresh: bool = False          # executed now, not kept from an earlier run
    summary: dict | None = None  # what the notebook published, read back for its card


# ---------------------------------------------------------------- called by notebooks

def publish(study, section: str, headline: str, numbers: dict[str, str | float],
            figure: Path | None = None, choices: dict | None = None, runs=None) -> Path:
    """Write this section's card for the index: a headline, key numbers, one figure.

    `section` is the notebook's name (e.g. "01_baseline"); `numbers` are
    computed from the results, never typed in, e.g. {"val accuracy": "0.52 ± 0.01"}.
    `choices` are the RunConfig values that won on validation (e.g.
    {"batchnorm": "before"}); the recipe notebook assembles its model from them.
    `runs` (the sweeps' DataFrames, or run keys) puts the section's training
    time on its card: what its runs took, however quickly the page re-renders.
    """
    if choices:
        from cifar_mlp.config import RunConfig

        RunConfig.from_dict(choices)  # refuse a typo here, not in the recipe later
    if not re.fullmatch(r"[\w-]+", section):
        raise ValueError(f"section={section!r}: use the notebook's name, e.g. '01_baseline'")
    bad = {k: v for k, v in numbers.items()
           if isinstance(v, bool) or not isinstance(v, (str, Real))}
    if bad:
        raise TypeError(f"publish numbers must be strings or numbers, got {bad!r}")
    # NumPy scalars are Real but not all JSON-serializable: store plain ints and floats.
    numbers = {k: v if isinstance(v, str) else int(v) if isinstance(v, Integral) else float(v)
               for k, v in numbers.items()}
    reports = Path(study.figures_dir).resolve().parent
    if figure is not None:
        figure = Path(figure).resolve()
        if not figure.is_file():
            raise FileNotFoundError(f"figure {figure} does not exist: save it before publishing")
        # Relative to the reports folder, so the link survives moving the folder.
        figure = figure.relative_to(reports) if figure.is_relative_to(reports) else figure
    summary = {"section": section, "headline": headline, "numbers": numbers,
               "figure": figure and figure.as_posix(), "profile": study.profile,
               "choices": choices or {}, "written": _now()}
    if runs is not None:
        summary["training"] = training_time(Path(study.results_dir), runs)
    target = reports / "summaries" / f"{section}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(target)  # atomic, so the index never reads half a card
    return target


def choices(study, sections: list[str]) -> dict:
    """The winning config values the given sections published, merged in order."""
    folder = Path(study.figures_dir).resolve().parent / "summaries"
    merged = {}
    for section in sections:
        path = folder / f"{section}.json"
        if not path.exists():
            raise FileNotFoundError(
                f"{path} is missing: run notebook {section} in the {study.profile!r} profile "
                f"first (make report{' PROFILE=smoke' if study.profile == 'smoke' else ''})")
        merged.update(_read_json(path).get("choices", {}))
    return merged


# ---------------------------------------------------------------- execute and render

def _execute(notebook: Path, executed: Path, profile: str) -> str | None:
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
        print(f"  cell {count:>2}/{total} {elapsed:7.1f} s  {first[:64]}", flush=True)

    try:
        pm.execute_notebook(notebook, executed, parameters={"profile": profile},
                            kernel_name=KERNEL, cwd=notebook.parent, log_output=False,
                            progress_bar=False, on_cell_execute=on_cell_execute)
    except PapermillExecutionError as e:
        evalue = e.evalue if len(e.evalue) < 300 else e.evalue[:300] + "…"
        return f"cell {e.cell_index} (In [{e.exec_count}]): {e.ename}: {evalue}"
    except Exception as e:  # a missing or dead kernel: report it, go on with the others
        return f"{type(e).__name__}: {e}"
    return None


def _render(executed: Path, target: Path, title: str) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    # Image outputs are embedded as base64, so each page is a single file.
    exporter = HTMLExporter(template_name="lab", exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4),
                                          resources={"metadata": {"name": title}})
    target.write_text(body, encoding="utf-8")


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
            summary = _read_json(path)
            if summary.get("section") not in (name, name[:2], name[3:]):
                continue
            if since is not None and path.stat().st_mtime < since:
                continue  # from an earlier run: this one stopped before publishing
            figure = summary.get("figure") and folder.parent / summary["figure"]
            summary["href"] = (Path(os.path.relpath(figure, out)).as_posix()
                               if figure and figure.is_file() else None)
            return summary
    return None


def build(profile: str, only=None, out=None, notebooks_dir=None) -> list[SectionResult]:
    """Execute the notebooks (all, or those named in `only`), render them, write the index."""
    out = Path(out or paths.profile_dirs(profile)["reports"])
    notebooks_dir = Path(notebooks_dir or paths.NOTEBOOKS_DIR)
    notebooks = sorted(notebooks_dir.glob(NOTEBOOK_GLOB))
    names = [nb.stem for nb in notebooks]
    if not notebooks:
        raise ValueError(f"no notebooks matching {NOTEBOOK_GLOB} in {notebooks_dir}")
    for wanted in only or []:
        if not any(wanted in (n, n[:2]) for n in names):
            raise ValueError(f"--only {wanted!r} is not a notebook. "
                             f"Choose from: {', '.join(names)}.")
    chosen = [n for n in names if not only or any(w in (n, n[:2]) for w in only)]
    # Sections not run this time keep their last status, as long as their page is still there.
    previous = {s["name"]: s for s in _read_json(out / "provenance.json").get("sections", [])}
    folders = list(dict.fromkeys([out / "summaries",
                                  paths.profile_dirs(profile)["reports"] / "summaries"]))
    (out / "_executed").mkdir(parents=True, exist_ok=True)
    stamp = provenance(profile)  # taken first, so it describes the code that ran

    results = []
    for nb in notebooks:
        name, title, page = nb.stem, _title(nb), out / f"{nb.stem}.html"
        if name not in chosen:
            kept = previous.get(name, {}) if page.exists() else {}
            results.append(SectionResult(name, title, kept.get("status", "not run"),
                                         kept.get("seconds"), kept.get("error"),
                                         summary=_summary(name, folders, out, None)))
            continue
        print(f"[{chosen.index(name) + 1}/{len(chosen)}] {name} ({profile} profile)", flush=True)
        started, start = time.time(), time.perf_counter()
        executed = out / "_executed" / f"{name}.ipynb"
        for stale in (executed, page):  # never pass an earlier run's page off as this one's
            stale.unlink(missing_ok=True)
        error = _execute(nb, executed, profile)
        seconds = time.perf_counter() - start
        if executed.exists():  # a partial notebook too, so the reader sees where it failed
            _render(executed, page, title)
        print(f"{name}: {'FAILED at ' + error if error else 'ok'} ({_duration(seconds)})",
              flush=True)
        results.append(SectionResult(name, title, "failed" if error else "ok", seconds, error,
                                     fresh=True, summary=_summary(name, folders, out, started)))

    stamp["total_seconds"] = sum(r.seconds or 0 for r in results)
    stamp["sections"] = [{k: getattr(r, k) for k in ("name", "title", "status", "seconds", "error")}
                         for r in results]
    (out / "provenance.json").write_text(json.dumps(stamp, indent=2), encoding="utf-8")
    (out / "index.html").write_text(index_html(results, stamp, out), encoding="utf-8")
    return results


# ---------------------------------------------------------------- provenance and index

def provenance(profile: str) -> dict:
    """What made the reports: package versions, Python, CPU, git commit, date, profile."""
    def version(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    def git(*args):
        try:
            return subprocess.run(["git", "-C", str(paths.PROJ_ROOT), *args], check=True,
                                  capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    commit = (git("rev-parse", "--short", "HEAD") or "unknown") + (
        "+dirty" if git("status", "--porcelain") else "")
    return {"title": TITLE, "profile": profile, "date": _now(), "git": commit,
            "python": platform.python_version(),
            "packages": {name: version(name) for name in PACKAGES},
            "cpu": {"model": cpu_model(), "cores": os.cpu_count()},
            "training": training_time(paths.profile_dirs(profile)["results"])}


def cpu_model() -> str:
    """The CPU's name ("AMD EPYC", "Intel Xeon ..."): timings mean little without it."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    cpu = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    return cpu.group(1).strip() if cpu else platform.processor() or "unknown"


def training_time(results: Path, runs=None) -> dict:
    """Stored runs and their summed training seconds (each run's own wall time): all in
    `results`, or those of `runs` (DataFrames with a "key" column, or keys), each once.

    A rendering from stored runs takes a minute; this is what the runs behind it took.
    """
    if runs is None:
        files = list(results.glob("[!.]*/metrics.json"))
    else:
        frames = (runs if isinstance(runs, (list, tuple)) and runs and not isinstance(runs[0], str)
                  else [runs])
        keys = {k for f in frames for k in (f["key"] if hasattr(f, "columns") else f)}
        files = [results / k / "metrics.json" for k in sorted(keys)]
    seconds = [_read_json(p).get("wall_seconds", 0.0) for p in files]
    return {"runs": len(seconds), "seconds": sum(seconds)}


CSS = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 0; background: #f5f6f8; color: #1d2330; }
main { max-width: 1100px; margin: 0 auto; padding: 2.5rem 1.25rem; }
h1 { font-size: 2rem; margin: 0 0 .25rem; }
.lead { color: #5b6473; margin: 0 0 2rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 1.25rem; }
.card { background: #fff; border-radius: 10px; box-shadow: 0 1px 3px rgba(0,0,0,.08);
        padding: 1.1rem 1.25rem; display: flex; flex-direction: column; gap: .6rem; }
.card h2 { font-size: 1.1rem; margin: 0; }
.card h2 a { color: inherit; text-decoration: none; }
.card h2 a:hover { text-decoration: underline; }
.meta { display: flex; gap: .6rem; align-items: center; font-size: .85rem; color: #5b6473; }
.badge { border-radius: 99px; padding: .05rem .6rem; font-weight: 600; font-size: .75rem;
         text-transform: uppercase; }
.ok { background: #e3f4e8; color: #1b7a3a; }
.failed { background: #fde4e4; color: #b42318; }
.not-run { background: #eceef2; color: #5b6473; }
.card img { width: 100%; border-radius: 6px; border: 1px solid #eceef2; }
.headline { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
td { padding: .2rem 0; border-bottom: 1px solid #eceef2; }
td.v { text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
pre.error { white-space: pre-wrap; background: #fff5f5; color: #b42318; padding: .6rem;
            border-radius: 6px; font-size: .8rem; margin: 0; }
footer { margin-top: 2.5rem; font-size: .85rem; color: #5b6473; }
footer td { border: 0; padding: .1rem 1rem .1rem 0; vertical-align: top; }
"""


def _card(r: SectionResult, out: Path) -> str:
    e, s = html.escape, r.summary or {}
    # papermill puts this anchor on the failing cell.
    href = e(f"{r.name}.html" + ("#papermill-error-cell" if r.status == "failed" else ""))
    has_page = (out / f"{r.name}.html").exists()

    def link(inner):  # to the section's page, once it has one
        return f'<a href="{href}">{inner}</a>' if has_page else inner

    parts = [f"<h2>{link(e(r.title))}</h2>",
             f'<div class="meta"><span class="badge {r.status.replace(" ", "-")}">{r.status}'
             f"</span><span>{e(r.name)}</span><span>{_duration(r.seconds)}</span>"
             + (f'<span>{t["runs"]} runs, {_duration(t["seconds"])} of training</span>'
                if (t := s.get("training")) else "") + "</div>"]
    if r.error:
        parts.append(f'<pre class="error">{e(r.error)}</pre>')
    if s.get("href"):
        parts.append(link(f'<img src="{e(s["href"])}" alt="{e(s["headline"])}">'))
    if s.get("headline"):
        parts.append(f'<p class="headline">{e(s["headline"])}</p>')
    rows = "".join(f'<tr><td>{e(k)}</td><td class="v">{e(_fmt(v))}</td></tr>'
                   for k, v in s.get("numbers", {}).items())
    if rows:
        parts.append(f"<table>{rows}</table>")
    return f'<section class="card">{"".join(parts)}</section>'


def index_html(results: list[SectionResult], stamp: dict, out: Path) -> str:
    """One self-contained page: inline CSS, no scripts, figures linked by relative path."""
    e = html.escape
    facts = {"Profile": stamp["profile"], "Date": stamp["date"], "Commit": stamp["git"],
             "Python": stamp["python"],
             "Packages": ", ".join(f"{k} {v}" for k, v in stamp["packages"].items()),
             "CPU": f'{stamp["cpu"]["model"]} ({stamp["cpu"]["cores"]} cores)',
             "Training": f'{stamp["training"]["runs"]:,} stored runs, '
                         f'{stamp["training"]["seconds"] / 3600:.1f} h of training in all '
                         "(the sum of their wall times)",
             "This rendering": f'{_duration(stamp["total_seconds"])}: ' + ", ".join(
                 f"{r.name} {_duration(r.seconds)}" for r in results)}
    rows = "".join(f"<tr><td>{e(k)}</td><td>{e(str(v))}</td></tr>" for k, v in facts.items())
    ok = sum(r.status == "ok" for r in results)
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(TITLE)}</title><style>{CSS}</style></head>\n<body><main>"
            f'<h1>{e(TITLE)}</h1><p class="lead">{e(SUBTITLE)}<br>{ok} of {len(results)} '
            f"sections ran cleanly · {e(stamp['profile'])} profile · {e(stamp['date'])}</p>\n"
            f'<div class="grid">\n{chr(10).join(_card(r, out) for r in results)}\n</div>\n'
            f"<footer><h3>Provenance</h3><table>{rows}</table></footer></main></body></html>\n")


# ---------------------------------------------------------------- helpers and CLI

def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds:.1f} s" if seconds < 60 else f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"


def _fmt(value) -> str:
    if isinstance(value, str):
        return value
    return f"{value:,.0f}" if abs(value) >= 1000 or isinstance(value, int) else f"{value:.4g}"


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cifar_mlp.report",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=PROFILES, default="full",
                        help="smoke: every cell in seconds; full: the real study (default)")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="run only these notebooks, e.g. 01_baseline or 01")
    parser.add_argument("--out", type=Path, help="output folder (default: the profile's reports)")
    parser.add_argument("--notebooks", type=Path, help=f"default: {paths.NOTEBOOKS_DIR}")
    args = parser.parse_args(argv)
    try:
        results = build(args.profile, args.only, args.out, args.notebooks)
    except ValueError as e:
        print(f"report: {e}", file=sys.stderr)
        return 2
    print(f"index: {Path(args.out or paths.profile_dirs(args.profile)['reports']) / 'index.html'}")
    failed = [r for r in results if r.fresh and r.status == "failed"]
    for r in failed:
        print(f"FAILED {r.name}: {r.error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
