"""What a notebook hands to the report: its card, findings, tables and winning choices.

`publish(...)` writes <reports>/summaries/<section>.json (and its tables as
CSV under <reports>/tables/<section>/); the build reads them back for the
index and the section page's reproduce box. Light on imports, so a notebook
can call it without loading the Jupyter stack.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from numbers import Integral, Real
from pathlib import Path

import pandas as pd

from cifar_mlp.core.environment import cpu_label

NAME = re.compile(r"[\w-]+")
# A finding as the index shows it: "text" is required; the rest say how sure it is.
# "variants": the two compared; publish adds "late" when either peaked late in its budget.
FINDING_KEYS = ("text", "effect", "ci", "seeds", "verdict", "anchor", "variants", "late", "check")


def publish(study, section: str, headline: str, numbers: dict[str, str | float],
            figure: Path | None = None, choices: dict | None = None, runs=None,
            findings: list[dict] | None = None, tables: dict | None = None,
            anchor: str | None = None, answer: dict | None = None,
            stage: str | None = None) -> None:
    """Write this section's card for the index: a headline, key numbers, one figure.

    `section` is the notebook's name (e.g. "01_baseline"); `numbers` are
    computed from the results, never typed in, e.g. {"val accuracy": "0.52 ± 0.01"}.
    `choices` are the RunConfig values that won on validation (e.g.
    {"batchnorm": "before"}); the recipe notebook assembles its model from them.
    `runs` (the sweeps' DataFrames, or run keys) puts the section's training
    time and its list of runs on its page: what its runs took, however quickly
    the page re-renders.
    `findings` open the index: dicts with "text" and, from the comparison
    behind it, "effect", "ci", "seeds", "verdict", and the "anchor" (a heading
    of the section, e.g. "Dropout: rate × position") where it is computed.
    `tables` ({name: DataFrame}) are offered as CSV on the section page.
    `anchor` is the heading whose cells compute `numbers`; the card links there.
    `answer` is what the index's first screen says from this section (06: the recipe in
    a sentence, its code, the choices that matter; 07: how far an MLP gets, and a CNN).
    The summary also says what kind of verdicts the section gives (`stage`, else
    `study.stage`: "screen" or "confirmed"), for its page's findings box.
    """
    if not NAME.fullmatch(section):
        raise ValueError(f"section={section!r}: use the notebook's name, e.g. '01_baseline'")
    if choices:
        from cifar_mlp.config import RunConfig

        RunConfig.from_dict(choices)  # refuse a typo here, not in the recipe later
    reports = reports_dir(study)
    summary = {"section": section, "headline": headline, "numbers": _numbers(numbers),
               "figure": _figure(figure, reports), "profile": study.profile,
               "choices": choices or {}, "findings": check_findings(findings or []),
               "anchor": anchor, "written": now(), "stage": stage or getattr(study, "stage", None),
               "comparisons": study.comparisons() if hasattr(study, "comparisons") else None,
               "answer": answer or {}}
    if runs is not None:
        results = Path(study.results_dir)
        summary["training"] = training_time(results, runs)
        summary["runs"] = run_list(runs)
        _flag_late(summary["findings"], runs)
    if tables:
        summary["tables"] = _write_tables(tables, reports / "tables" / section, reports)
    target = reports / "summaries" / f"{section}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(target)  # atomic, so the index never reads half a card
    # Returns nothing: a returned path would print this machine's folders on the page.


def _flag_late(findings: list[dict], runs) -> None:
    """Add to each finding whose compared variants peaked in the last fifth of their epochs
    (`compare.budgets` over the section's runs) the flag its page shows, so a card does
    not drop it."""
    from cifar_mlp.study import compare

    frames = [f for f in (runs if isinstance(runs, (list, tuple)) else [runs])
              if hasattr(f, "columns") and {"variant", "seed", "epochs", "best_epoch"} <= set(f.columns)]
    if not frames:
        return
    table = compare.budgets(pd.concat(frames, ignore_index=True))
    late = table[table["late"]]
    for finding in findings:
        named = [v for v in finding.get("variants", ()) if v in late.index]
        if named:
            finding["late"] = "⚑ peaked in the last fifth of its epochs: " + ", ".join(
                f"{v} ({late.loc[v, 'best_epoch']:.1f} of {late.loc[v, 'epochs']})" for v in named)


def training_time(results: Path, runs=None) -> dict:
    """Stored runs and their summed training seconds (each run's own wall time): all in
    `results`, or those of `runs` (DataFrames with a "key" column, or keys), each once.

    A rendering from stored runs takes a minute; this is what the runs behind it took.
    """
    if runs is None:
        files = list(Path(results).glob("[!.]*/metrics.json"))
    else:
        files = [Path(results) / r["key"] / "metrics.json" for r in run_list(runs)]
    seconds = [read_json(p).get("wall_seconds", 0.0) for p in files]
    return {"runs": len(seconds), "seconds": sum(seconds)}


def cpu_counts(results: Path, runs) -> Counter:
    """How many of `runs` (as `run_list` takes them) trained on each CPU, named as pages name
    it, from each record's environment.json; records without a CPU are not counted."""
    cpus = Counter()
    for run in run_list(runs) if runs is not None and len(runs) else []:
        env = read_json(results / run["key"] / "environment.json")
        if env.get("cpu_model"):
            cpus[cpu_label(env["cpu_model"], env.get("cpu_cores", "?"), env.get("cpu_vector"))] += 1
    return cpus


def trained_on(results: Path, runs) -> str | None:
    """The CPUs `runs` (as `run_list` takes them) trained on, in words."""
    runs = run_list(runs) if runs is not None and len(runs) else []
    cpus = cpu_counts(results, runs)
    parts = [f"{cpu} ({n} run{'s' if n != 1 else ''})" for cpu, n in cpus.most_common()]
    if runs and len(runs) > sum(cpus.values()):
        parts.append(f"not recorded for {len(runs) - sum(cpus.values())} of {len(runs)} runs "
                     "(trained before records kept it)")
    return "; ".join(parts) or None


def run_list(runs) -> list[dict]:
    """Each run once, by key, with its variant and seed when the frames carry them."""
    frames = (runs if isinstance(runs, (list, tuple)) and runs and not isinstance(runs[0], str)
              else [runs])
    found = {}
    for frame in frames:
        if hasattr(frame, "columns"):
            if "key" not in frame.columns:
                raise ValueError(f"runs: a DataFrame without a 'key' column ({list(frame.columns)}); "
                                 "pass the sweep's frames or run keys")
            cols = [c for c in ("key", "variant", "seed") if c in frame.columns]
            rows = frame[cols].to_dict("records")
        elif isinstance(frame, str):
            rows = [{"key": frame}]
        elif isinstance(frame, dict):  # a row as run_list gives it
            rows = [{k: v for k, v in frame.items() if k in ("key", "variant", "seed")}]
        else:
            rows = [{"key": k} for k in frame]
        for row in rows:
            row = {k: int(v) if k == "seed" else str(v) for k, v in row.items()}
            found.setdefault(row["key"], row)
    return [found[k] for k in sorted(found)]


def check_findings(findings: list[dict]) -> list[dict]:
    """Findings as the index needs them, or a clear error naming what is wrong."""
    if not isinstance(findings, (list, tuple)):
        raise TypeError(f"findings={findings!r}: give a list of dicts with {', '.join(FINDING_KEYS)}")
    checked = []
    for i, finding in enumerate(findings):
        where = f"findings[{i}]"
        if not isinstance(finding, dict):
            raise TypeError(f"{where}={finding!r}: a dict with {', '.join(FINDING_KEYS)}")
        unknown = set(finding) - set(FINDING_KEYS)
        if unknown:
            raise ValueError(f"{where}: unknown key {sorted(unknown)[0]!r}. "
                             f"Allowed: {', '.join(FINDING_KEYS)}")
        if not isinstance(finding.get("text"), str) or not finding["text"].strip():
            raise ValueError(f"{where}: 'text' is required, the finding in one sentence")
        seeds = finding.get("seeds")
        if seeds is not None and (isinstance(seeds, bool) or not isinstance(seeds, Integral)
                                  or seeds < 1):
            raise ValueError(f"{where}: seeds={seeds!r} is not allowed: a positive integer, "
                             "the number of seeds behind the comparison")
        variants = finding.get("variants")
        if variants is not None and (isinstance(variants, str) or not isinstance(variants, (list, tuple))
                                     or not all(isinstance(v, str) for v in variants)):
            raise TypeError(f"{where}: variants={variants!r} must be a list of variant names")
        for key in ("effect", "ci", "verdict", "anchor", "late", "check"):
            value = finding.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (str, Real))):
                raise TypeError(f"{where}: {key}={value!r} must be a string or a number")
        checked.append({k: _plain(finding[k]) for k in FINDING_KEYS if finding.get(k) is not None})
    return checked


def finding(text: str, comparison, anchor: str | None = None, unit: str = "points",
            digits: int = 1, verdict: str | None = None, check: str | None = None) -> dict:
    """A finding from a `compare.Comparison`: its effect, 95 % CI, seeds and verdict, and
    `check`, what twice the epochs made of it ("holds at 2×", `study.twice`).

    `unit="points"` reads an accuracy difference ×100, as `compare.difference` does;
    any other unit (say "epochs") prints the metric's own numbers. `verdict` replaces
    the rule's word where the rule cannot judge, e.g. an epoch picked on the images
    that score it ("optimistic: no verdict").
    """
    from cifar_mlp.study.compare import bound
    from cifar_mlp.study.compare import signed as signed_number

    scale = 100.0 if unit == "points" else 1.0

    def signed(value: float) -> str:
        return signed_number(value * scale, digits)

    found = {"text": text, "effect": signed(comparison.diff) + (f" {unit}" if unit else ""),
             "seeds": int(comparison.n), "verdict": verdict or comparison.verdict,
             "variants": [str(comparison.a), str(comparison.b)]}
    if comparison.n > 1:  # one seed has no interval
        found["ci"] = f"{bound(comparison.ci_low * scale, digits)} to {bound(comparison.ci_high * scale, digits)}"
    if anchor:
        found["anchor"] = anchor
    if check:
        found["check"] = check
    return check_findings([found])[0]


def reports_dir(study) -> Path:
    """The study's reports folder (its figures folder's parent, for older study objects)."""
    folder = getattr(study, "reports_dir", None)
    return Path(folder if folder is not None else Path(study.figures_dir).parent).resolve()


def _numbers(numbers: dict) -> dict:
    bad = {k: v for k, v in numbers.items()
           if isinstance(v, bool) or not isinstance(v, (str, Real))}
    if bad:
        raise TypeError(f"publish numbers must be strings or numbers, got {bad!r}")
    return {k: _plain(v) for k, v in numbers.items()}


def _plain(value):
    # NumPy scalars are Real but not all JSON-serializable: store plain ints and floats.
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return int(value) if isinstance(value, Integral) else float(value)


def _figure(figure, reports: Path) -> str | None:
    if figure is None:
        return None
    figure = Path(figure).resolve()
    if not figure.is_file():
        raise FileNotFoundError(f"figure {figure.name} does not exist in {figure.parent.name}/: "
                                "save it before publishing")
    # Relative to the reports folder, so the link survives moving the folder.
    return (figure.relative_to(reports) if figure.is_relative_to(reports) else figure).as_posix()


def _write_tables(tables: dict, folder: Path, reports: Path) -> dict[str, str]:
    written = {}
    for name, frame in tables.items():
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise ValueError(f"tables: name {name!r} is not allowed: letters, digits, _ and -, "
                             "e.g. 'claims'; it becomes the CSV's file name")
        if not hasattr(frame, "to_csv"):
            raise TypeError(f"tables[{name!r}] is a {type(frame).__name__}: give a DataFrame")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.csv"
        tmp = path.with_suffix(".tmp")
        # A plain 0..n-1 index says nothing: leave it out of the file.
        frame.to_csv(tmp, index=type(frame.index).__name__ != "RangeIndex")
        tmp.replace(path)
        written[name] = path.relative_to(reports).as_posix()
    return written


def now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def read_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
