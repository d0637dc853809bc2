"""How long the whole study takes: `make report` in the full profile, from nothing, then again.

The first render trains every run into a scratch store (never the committed
results/), one section at a time, so an interrupted measurement goes on with
`--resume`; the second finds everything stored and only re-renders. Both are the
command a user runs, `python -m cifar_mlp.report.build --profile full`. Meanwhile the
memory of the whole process tree (report, notebook kernels, training workers)
is sampled every second. Writes benchmarks/results/report.{json,md}.

    python benchmarks/report_bench.py            # all notebooks: hours on 2 cores
    python benchmarks/report_bench.py --only 01 02
    python benchmarks/report_bench.py --resume     # after an interruption: the next section on
    python benchmarks/report_bench.py --table      # rewrite report.md from report.json
    python benchmarks/report_bench.py --estimate   # seconds: what the committed runs took
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "benchmarks" / "results"
# The goals on the study's 2-core machine, in seconds and GiB.
GOALS = {"01-05": 60 * 60, "01-06": 90 * 60, "01-07": 150 * 60, "stored": 2 * 60, "memory_gib": 4}
SECTION_LINE = re.compile(r"^\[(\d+)/(\d+)\] (\S+) \(")


# ---------------------------------------------------------------- memory of a process tree

def _children(pid: int) -> list[int]:
    """Every descendant of `pid`. A process's children are listed per thread that
    started them: the training workers are started from a kernel's worker thread."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = []
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids += map(int, (task / "children").read_text().split())
            except OSError:
                continue
        found += kids
        todo += kids
    return found


def _memory_kib(pid: int) -> tuple[int, int]:
    """PSS and RSS of one process in KiB (0, 0 once it has ended)."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    values = dict(re.findall(r"^(Pss|Rss):\s+(\d+) kB", text, re.M))
    return int(values.get("Pss", 0)), int(values.get("Rss", 0))


class TreeMemory(threading.Thread):
    """Samples the summed PSS (shared pages split between sharers) and RSS of a process tree."""

    def __init__(self, pid: int, every: float = 1.0):
        super().__init__(daemon=True)
        self.pid, self.every, self.samples = pid, every, []  # (time, pss GiB, rss GiB, processes)
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            pids = [self.pid, *_children(self.pid)]
            pss, rss = map(sum, zip(*(_memory_kib(p) for p in pids)))
            self.samples.append((time.time(), pss / 2**20, rss / 2**20, len(pids)))
            self.done.wait(self.every)


# ---------------------------------------------------------------- one render

class Every(threading.Thread):
    """Calls `fn()` every `seconds` until `done` is set."""

    def __init__(self, seconds: float, fn):
        super().__init__(daemon=True)
        self.seconds, self.fn, self.done = seconds, fn, threading.Event()

    def run(self):
        while not self.done.wait(self.seconds):
            self.fn()


def render(env: dict, only: list[str], log: Path, checkpoint=None, every: float = 60.0) -> dict:
    """Run the report once; its wall time, each section's start, and the memory samples.

    `checkpoint(elapsed seconds, memory samples)`, if given, is called every `every`
    seconds while it runs, so that a render cut off from outside has said how far it got.
    """
    command = [sys.executable, "-m", "cifar_mlp.report.build", "--profile", "full"]
    if only:
        command += ["--only", *only]
    start = time.time()
    sections = []  # (name, start time)
    with open(log, "w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        memory = TreeMemory(proc.pid)
        memory.start()
        ticks = Every(every, lambda: checkpoint(time.time() - start, list(memory.samples)))
        if checkpoint:
            ticks.start()
        for line in proc.stdout:
            out.write(line)
            out.flush()
            if m := SECTION_LINE.match(line):
                sections.append((m.group(3), time.time()))
                print(f"{time.strftime('%H:%M:%S')} {line.rstrip()}", flush=True)
            elif re.match(r"^\S+: (ok|FAILED)", line):
                print(f"{time.strftime('%H:%M:%S')} {line.rstrip()}", flush=True)
        proc.wait()
        ticks.done.set()
        memory.done.set()
        memory.join()
    return {"exit": proc.returncode, "start": start, "end": time.time(), "sections": sections,
            "memory": memory.samples, "command": " ".join(command[1:])}


def per_section(run: dict, results: Path, reports: Path) -> list[dict]:
    """Each section's wall time (from provenance.json), runs it trained and its peak memory."""
    prov = json.loads((reports / "provenance.json").read_text())
    seconds = {s["name"]: (s["seconds"], s["status"]) for s in prov["sections"]}
    bounds = [t for _, t in run["sections"]] + [run["end"]]
    records = [json.loads(p.read_text()) | {"mtime": p.stat().st_mtime, "key": p.parent.name}
               for p in results.glob("[!.]*/metrics.json")]
    rows = []
    for (name, begin), end in zip(run["sections"], bounds[1:]):
        mine = [r for r in records if begin <= r["mtime"] < end]
        memory = [s for s in run["memory"] if begin <= s[0] < end] or [(0, 0, 0, 0)]
        rows.append({"section": name, "seconds": seconds[name][0], "status": seconds[name][1],
                     "runs_trained": len(mine),
                     "training_seconds": sum(r.get("wall_seconds", 0) for r in mine),
                     "peak_pss_gib": max(s[1] for s in memory),
                     "peak_rss_gib": max(s[2] for s in memory)})
    return rows


def widest(results: Path) -> dict | None:
    """The MLP with the most weights the study trained, and what an epoch of it took."""
    best = None
    for path in results.glob("[!.]*/config.json"):
        config = json.loads(path.read_text())["config"]
        metrics = json.loads((path.parent / "metrics.json").read_text())
        if not config.get("filters") and (best is None or metrics["params"] > best[2]["params"]):
            best = (config, path.parent, metrics)
    if best is None:
        return None
    config, folder, metrics = best
    return {"width": max(config["widths"]), "depth": len(config["widths"]), "key": folder.name,
            "params": metrics["params"], "seconds_per_epoch": metrics["seconds_per_epoch"],
            "epochs": metrics["epochs_run"], "wall_seconds": metrics["wall_seconds"],
            "runs_at_once": metrics.get("runs_at_once", 1)}


def against_committed(results: Path, committed: Path = ROOT / "results") -> dict:
    """Runs trained here that the committed store also holds: are their histories the same?

    Training columns (loss, accuracy) should match to the bit; evaluation may differ
    in the last float32 digits when code or machine changes how it sums.
    """
    import pandas as pd

    same, compared, diff = 0, 0, {}
    for mine in sorted(results.glob("[!.]*/history.csv")):
        theirs = committed / mine.parent.name / "history.csv"
        if not theirs.exists():
            continue
        a, b = pd.read_csv(mine), pd.read_csv(theirs)
        compared += 1
        if len(a) != len(b):
            diff["epochs"] = diff.get("epochs", 0) + 1
            continue
        # seconds per epoch is timing, not something the run computed
        columns = [c for c in a.columns if c in b.columns and c not in ("epoch", "seconds")]
        gaps = {c: float((a[c] - b[c]).abs().max()) for c in columns}
        same += all(g == 0 for c, g in gaps.items() if not c.startswith("val_"))
        for c, g in gaps.items():
            diff[c] = max(diff.get(c, 0.0), g)
    return {"compared": compared, "training_identical": same, "max_abs_diff": diff}


# What a record may differ in when the same run trains again: when and where it ran.
TIMING = {"wall_seconds", "seconds_per_epoch", "runs_at_once", "executor"}


def same_run(mine: Path, theirs: Path, tolerance: float = 1e-6) -> bool:
    """Whether two records of one run computed the same: training columns to the bit,
    evaluation within `tolerance` (XLA may sum in another order), equal final metrics."""
    import numpy as np
    import pandas as pd

    a, b = pd.read_csv(mine / "history.csv"), pd.read_csv(theirs / "history.csv")
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    train = [c for c in a.columns if c != "seconds" and not c.startswith("val_")]
    val = [c for c in a.columns if c.startswith("val_")]
    if not (a[train].equals(b[train]) and np.allclose(a[val], b[val], atol=tolerance, rtol=0)):
        return False
    ma, mb = (json.loads((d / "metrics.json").read_text()) for d in (mine, theirs))
    return all(abs(v - mb.get(k, np.nan)) <= tolerance if isinstance(v, float) else v == mb.get(k)
               for k, v in ma.items() if k not in TIMING)


def retime(results: Path, committed: Path = ROOT / "results") -> tuple[list[str], list[str]]:
    """Give committed records the timings of this measurement, where the run computed the same.

    Records trained over many sessions were timed with other work sharing the CPU;
    a measurement from nothing times every run the way `make report` trains it, on one
    CPU. Returns the keys retimed and the keys kept as committed (they differ).
    """
    done, kept = [], []
    for mine in sorted(p.parent for p in results.glob("[!.]*/metrics.json")):
        theirs = committed / mine.name
        if not theirs.is_dir():
            continue
        if not same_run(mine, theirs):
            kept.append(mine.name)
            continue
        for f in mine.iterdir():
            if f.is_file():
                shutil.copy2(f, theirs / f.name)
        done.append(mine.name)
    return done, kept


# ---------------------------------------------------------------- the table

def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:02.0f} s"


def _gib(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.2f} GiB"


def table(result: dict) -> str:
    first, second = result["first"], result["stored"]
    again = {r["section"]: r for r in second["sections"]}
    rows = ["| notebook | status | first render | runs trained | their training time "
            "| peak memory (PSS) | stored re-render | runs trained again |",
            "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in first["sections"]:
        a = again.get(r["section"], {})
        rows.append(f"| {r['section']} | {r['status']} | {_minutes(r['seconds'])} | {r['runs_trained']} "
                    f"| {_minutes(r['training_seconds'])} | {_gib(r['peak_pss_gib'])} "
                    f"| {a.get('seconds', 0):.1f} s | {a.get('runs_trained', '–')} |")
    lines = rows + [""]
    for span, total in result["totals"].items():
        goal = GOALS.get(span)
        verdict = "" if goal is None else (f" (goal {goal // 60} min: "
                                           f"{'met' if total <= goal else 'NOT met'})")
        lines.append(f"- Notebooks {span}: **{_minutes(total)}**{verdict}")
    if (on_goal := scaled(first["sections"])) is not None:
        lines.append(f"- All of them scaled to a CPU where ours takes {GOAL_SECONDS_PER_EPOCH} s per "
                     f"epoch (each section by the speed of ours where it ran): **{_minutes(on_goal)}** "
                     f"(goal {GOALS['01-07'] // 60} min: {'met' if on_goal <= GOALS['01-07'] else 'NOT met'})")
    pieces = len(first.get("pieces", [])) or 1
    lines.append(f"- Whole first render, wall clock: **{_minutes(first['wall'])}**"
                 + (f" (the sum of its {pieces} section renders)" if pieces > 1 else "") + "; "
                 f"peak memory of all its processes **{first['peak_pss_gib']:.2f} GiB** PSS "
                 f"({first['peak_rss_gib']:.2f} GiB summed RSS, which counts shared pages once per "
                 f"process; goal {GOALS['memory_gib']} GiB: "
                 f"{'met' if first['peak_pss_gib'] < GOALS['memory_gib'] else 'NOT met'})"
                 + "".join(f"; {r['section']}: not measured" for r in first["sections"]
                           if r["peak_pss_gib"] is None))
    if lost := sum(r.get("lost_at_cuts_seconds", 0) for r in first["sections"]):
        lines.append(f"- Of that wall clock, {_minutes(lost)} went to runs still training when a "
                     "section was cut off, which trained again in its next piece: not in the "
                     "sections' times above")
    lines.append(f"- Stored re-render: **{second['wall']:.0f} s**, {second['runs_trained']} runs "
                 f"trained (goal {GOALS['stored']} s: "
                 f"{'met' if second['wall'] <= GOALS['stored'] and not second['runs_trained'] else 'NOT met'})")
    if w := result["widest"]:
        lines.append(f"- Widest net: {w['depth']}×{w['width']} ({w['params']:,} weights): "
                     f"**{w['seconds_per_epoch']:.1f} s per epoch**, {w['epochs']} epochs in "
                     f"{_minutes(w['wall_seconds'])} (with up to {w['runs_at_once']} runs sharing the CPU)")
    if (c := result.get("committed")) and c["compared"]:
        gaps = ", ".join(f"{k} {v:.1e}" for k, v in sorted(c["max_abs_diff"].items()) if v)
        lines.append(f"- Against the committed `results/`: {c['compared']} runs trained again, "
                     f"**{c['training_identical']} with the same training history to the bit**; "
                     f"largest differences: {gaps or 'none'}")
    lines += ["", f"{result['runs']} runs, {_minutes(result['training_seconds'])} of summed run time; "
              f"{result['workers']} training workers. Machine: {result['machine']}. "
              f"{result['date']}, commit {result['git']}. Command: `{result['command']}`."]
    return "\n".join(lines) + "\n"


def estimate(results: Path = ROOT / "results", reports: Path = ROOT / "reports",
             workers: int = 2) -> dict:
    """What a first render would cost, from the committed records: each section's runs
    that no earlier section trained, and the training time their records measured.

    A projection, not a measurement: each record's wall time was taken with however
    many other runs shared the CPU then (`runs_at_once` says how many of its own sweep),
    so the total over `workers` is what a first render would take if every run cost
    what it did then, with no time for kernels and figures.
    """
    seen, sections = set(), []
    for path in sorted((reports / "summaries").glob("[0-9]*.json")):
        summary = json.loads(path.read_text())
        keys = [r["key"] for r in summary.get("runs", []) if r["key"] not in seen]
        seen.update(keys)
        metrics = [json.loads((results / k / "metrics.json").read_text()) for k in keys]
        times = [m.get("wall_seconds", 0) for m in metrics]
        sections.append({"section": summary["section"], "runs": len(keys), "seconds": sum(times),
                         "longest": max(times, default=0.0), "times": times,
                         "shared": sum(1 for m in metrics if m.get("runs_at_once", 1) > 1)})
    total = sum(s["seconds"] for s in sections)
    split = {n: sum(makespan(s["times"], n) for s in sections) for n in SPLIT_WORKERS}
    return {"sections": sections, "runs": len(seen), "seconds": total, "workers": workers,
            "wall_seconds": total / workers, "split": split,
            "longest": max((s["longest"] for s in sections), default=0.0)}


SPLIT_WORKERS = (1, 2, 4, 8, 16)


def makespan(seconds: list[float], workers: int) -> float:
    """When the last of `seconds` ends, run longest first on `workers` (a sweep's order):
    never under the longest run, nor under the total over the workers."""
    ends = [0.0] * workers  # a heap of when each worker is next free
    for s in sorted(seconds, reverse=True):
        heapq.heapreplace(ends, ends[0] + s)
    return max(ends)


def estimate_table(result: dict) -> str:
    lines = ["# What a first full-profile render would cost, from the committed records", "",
             "| notebook | runs it trains first | their training time (summed) |", "|---|---:|---:|"]
    lines += [f"| {s['section']} | {s['runs']} | {_minutes(s['seconds'])} |" for s in result["sections"]]
    lines += ["", f"- {result['runs']} runs, **{_minutes(result['seconds'])}** of summed training time; "
              f"over {result['workers']} workers about **{_minutes(result['wall_seconds'])}** of wall "
              "time, before kernels and figures.",
              "- A projection: each record's time was measured while other runs shared the CPU "
              "(up to five training processes on 2 cores for some rounds), so it overstates what "
              "`make bench-report` measures from nothing. Only that measurement says whether the "
              "study fits its goal of 300 minutes on 2 cores of the goal CPU.", "",
              "## Over N workers (e.g. Dask, each worker a machine like this one)", "",
              "Sections run one after another; within one, runs go longest first to the next free "
              f"worker. The longest single run took **{_minutes(result['longest'])}**: no number of "
              "workers finishes under it.", "",
              "| workers | wall time, sections in turn | the total over the workers |", "|---:|---:|---:|"]
    lines += [f"| {n} | {_minutes(t)} | {_minutes(result['seconds'] / n)} |" for n, t in result["split"].items()]
    return "\n".join(lines + [""])


# ---------------------------------------------------------------- measured in pieces

# The study from nothing takes longer than a session may last: the first render
# goes one section at a time, and after each the scratch folder keeps what it
# measured and which records existed then. A section can itself take longer
# than a session on a slow CPU, so every minute its render also saves how long
# it has run and which of its runs are stored ("partial"). `--resume` goes on
# with the section that was cut off: the runs stored by its last checkpoint are
# kept, the rest of its records and run folders removed, and its time is the sum
# of its pieces (each scaled by the speed of ours where it ran). What a cut
# costs (the runs in flight, the minute since the checkpoint, a kernel's start)
# is trained and timed again: a section measured in pieces is never cheaper
# than one uninterrupted render.
PROGRESS = "progress.json"
COMMITTED_PROGRESS = OUT_DIR / "report_progress.json"


def notebooks(only: list[str]) -> list[str]:
    """The sections a full render runs, in order (all of them, or those in `only`)."""
    from cifar_mlp import paths
    from cifar_mlp.report import build as report

    names = sorted(nb.stem for nb in paths.notebooks_dir().glob(report.NOTEBOOK_GLOB))
    return report._chosen(names, only)


def _keys(results: Path) -> set[str]:
    return {p.parent.name for p in results.glob("[!.]*/metrics.json")}


def forget_unfinished(scratch: Path, kept: set[str]) -> list[str]:
    """Remove the records and run folders that no finished section left: a cut-off
    section's runs, which would otherwise make its next attempt look cheap."""
    gone = []
    for folder in ("results", "runs"):
        for path in sorted((scratch / folder).glob("[!.]*")):
            if path.is_dir() and path.name not in kept:
                shutil.rmtree(path)
                gone.append(path.name)
    return sorted(set(gone))


def load_progress(scratch: Path, only: list[str], resume: bool,
                  committed: Path = ROOT / "results") -> dict:
    """What an interrupted measurement had measured, or a fresh start (the scratch folder emptied).

    A fresh clone has no scratch folder, only the committed copy of the progress
    (`report_progress.json`): the records it names are put back from the committed
    store, as they only have to exist for the next section to be timed as it would be.
    """
    path = scratch / PROGRESS
    if resume and not path.exists() and COMMITTED_PROGRESS.exists():
        progress = json.loads(COMMITTED_PROGRESS.read_text())
        scratch.mkdir(parents=True, exist_ok=True)
        keys = progress["keys"] + (progress.get("partial") or {}).get("keys", [])
        missing = [k for k in keys if not (committed / k).is_dir()]
        if missing:
            sys.exit(f"--resume: {COMMITTED_PROGRESS.name} names {len(missing)} runs that "
                     f"{committed} does not hold (e.g. {missing[0]}): start from nothing, "
                     "without --resume.")
        for key in keys:
            shutil.copytree(committed / key, scratch / "results" / key, dirs_exist_ok=True)
        path.write_text(json.dumps(progress, indent=1) + "\n")
    if resume and path.exists():
        progress = json.loads(path.read_text())
        if progress["only"] != only:
            sys.exit(f"--resume: {path} measures --only {' '.join(progress['only']) or '(all)'}, "
                     f"not --only {' '.join(only) or '(all)'}. Run with the same --only, or "
                     "without --resume to start from nothing.")
        return _with_committed_note(progress)
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    return {"only": only, "sections": [], "pieces": [], "keys": []}


def _with_committed_note(progress: dict) -> dict:
    """The note written by hand into the committed copy (where and when each piece was
    measured) goes on with the measurement it describes; a fresh start drops it."""
    if progress.get("note") or not COMMITTED_PROGRESS.exists():
        return progress
    note = json.loads(COMMITTED_PROGRESS.read_text()).get("note")
    return progress | {"note": note} if note else progress


def save_progress(scratch: Path, progress: dict) -> None:
    """In the scratch folder, and a copy to commit, so that a fresh clone can resume."""
    (scratch / PROGRESS).write_text(json.dumps(progress, indent=1) + "\n")
    # The copy to commit keeps each piece's peaks, not its per-second memory samples.
    pieces = [{k: v for k, v in piece.items() if k != "memory_samples"} for piece in progress["pieces"]]
    COMMITTED_PROGRESS.write_text(json.dumps(progress | {"pieces": pieces}, indent=1) + "\n")


def restore_summaries(env: dict, scratch: Path, done: list[str]) -> None:
    """Render the measured sections whose summaries the scratch reports lack, from their
    stored records, with training forbidden and untimed.

    Later sections read earlier ones' summaries (06 reads 02's), and a resume on a
    fresh clone restores the records but not the reports they were rendered into.
    """
    missing = [n for n in done if not (scratch / "reports" / "summaries" / f"{n}.json").exists()]
    if not missing:
        return
    print(f"{time.strftime('%H:%M:%S')} re-render from their stored records, untimed: "
          f"{', '.join(missing)}", flush=True)
    run = render(env | {"CIFAR_MLP_NO_TRAIN": "1"}, missing, scratch / "restore.log")
    if run["exit"] != 0:
        sys.exit(f"re-rendering {', '.join(missing)} from stored records failed "
                 f"(exit {run['exit']}): see {scratch / 'restore.log'}")


def _peaks(samples) -> dict:
    return {"peak_pss_gib": max((s[1] for s in samples), default=None),
            "peak_rss_gib": max((s[2] for s in samples), default=None)}


def _partial(progress: dict, name: str) -> dict | None:
    partial = progress.get("partial")
    return partial if partial and partial["section"] == name else None


def measure_first(env: dict, scratch: Path, progress: dict, only: list[str]) -> None:
    """Render each section not yet measured, from nothing but the sections before it
    (and, for a section that was cut off, the runs it had stored by its last checkpoint)."""
    results, reports = scratch / "results", scratch / "reports"
    done = {r["section"] for r in progress["sections"]}
    kept = set(progress["keys"]) | set((progress.get("partial") or {}).get("keys", []))
    gone = forget_unfinished(scratch, kept)
    if gone:
        print(f"removed {len(gone)} records of a section that was cut off after its last "
              "checkpoint", flush=True)
    if any(name not in done for name in notebooks(only)):
        restore_summaries(env, scratch, [n for n in notebooks(only) if n in done])
    for name in notebooks(only):
        if name in done:
            continue
        # Sessions get CPUs of different speeds, and one CPU's speed drifts within a
        # session (neighbours on the host): ours is timed right before each section and
        # right after it, and the section is scaled to the goal's CPU by the mean of both.
        speed = ours_seconds_per_epoch()
        before, earlier = set(progress["keys"]), (_partial(progress, name) or {}).get("pieces", [])
        again = (f", going on after {_minutes(sum(p['seconds'] for p in earlier))} in "
                 f"{len(earlier)} earlier piece(s)") if earlier else ""
        print(f"{time.strftime('%H:%M:%S')} first render of {name} (ours: {speed:.2f} s/epoch "
              f"here{again}): log in {scratch / name}.log", flush=True)

        def checkpoint(elapsed, samples, name=name, before=before, earlier=earlier):
            keys = sorted(_keys(results) - before)
            progress["partial"] = {"section": name, "keys": keys,
                                   "pieces": earlier + [{"seconds": elapsed, "ours_seconds_per_epoch":
                                                         speed, "stored_by": stored_by(results, keys, elapsed),
                                                         **_peaks(samples)}]}
            save_progress(scratch, progress)

        run = render(env, [name], scratch / f"{name}.log", checkpoint)
        if run["exit"] != 0:
            sys.exit(f"{name} failed (exit {run['exit']}): see {scratch / name}.log")
        row = per_section(run, results, reports)[0]
        readings = [speed, ours_seconds_per_epoch()]
        print(f"{time.strftime('%H:%M:%S')} ours after {name}: {readings[1]:.2f} s/epoch here",
              flush=True)
        pieces = earlier + [{"seconds": row["seconds"], "ours_seconds_per_epoch": sum(readings) / 2,
                             "ours_readings": readings,
                             "peak_pss_gib": row["peak_pss_gib"], "peak_rss_gib": row["peak_rss_gib"]}]
        progress["sections"].append(whole_section(row, pieces, results, before))
        progress["pieces"] += [{"wall": p["seconds"], "command": f"{run['command']} (cut off)",
                                "peak_pss_gib": p["peak_pss_gib"], "peak_rss_gib": p["peak_rss_gib"]}
                               for p in earlier] + [piece(run)]
        progress["keys"] = sorted(_keys(results))
        progress.pop("partial", None)
        save_progress(scratch, progress)


def stored_by(results: Path, keys: list[str], elapsed: float) -> float:
    """Seconds into a piece (now `elapsed` in) at which the newest of its records `keys` was stored."""
    start = time.time() - elapsed
    return max((max((results / k / "metrics.json").stat().st_mtime - start, 0.0) for k in keys),
               default=0.0)


def counted(piece: dict) -> float:
    """A piece's seconds that a measurement without the cut would spend too: a cut-off piece's
    up to its newest stored record (`stored_by`). The runs still training at the cut are not
    kept (`forget_unfinished`) and train again in the next piece, so their time there is lost."""
    return piece.get("stored_by", piece["seconds"])


def whole_section(row: dict, pieces: list[dict], results: Path, before: set[str]) -> dict:
    """A section's row from all its pieces: their seconds summed (but the time lost at each
    cut), the runs stored since the section began, the highest memory, and the speed of
    ours that scales the sum as each piece scaled by its own."""
    mine = [json.loads((results / k / "metrics.json").read_text()) for k in sorted(_keys(results) - before)]
    peak = {k: max((p[k] for p in pieces if p[k] is not None), default=None)
            for k in ("peak_pss_gib", "peak_rss_gib")}
    return row | peak | {"runs_trained": len(mine),
                         "training_seconds": sum(m.get("wall_seconds", 0) for m in mine)} \
        | summed(pieces) | ({"pieces": pieces} if len(pieces) > 1 else {})


def summed(pieces: list[dict]) -> dict:
    """The pieces' counted seconds, the seconds lost at their cuts, and the speed of ours
    that scales the sum as each piece scaled by its own."""
    seconds = sum(counted(p) for p in pieces)
    speed = seconds / sum(counted(p) / p["ours_seconds_per_epoch"] for p in pieces)
    return {"seconds": seconds, "lost_at_cuts_seconds": sum(p["seconds"] - counted(p) for p in pieces),
            "ours_seconds_per_epoch": speed}


# The goal's CPU: one on which `make bench` gives ours about this many seconds per epoch.
GOAL_SECONDS_PER_EPOCH = 0.7


def ours_seconds_per_epoch(epochs: int = 6) -> float:
    """Seconds per epoch of ours on this CPU, as `make bench` times it (median after the first)."""
    line = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--engine", "ours",
                           "--epochs", str(epochs)], capture_output=True, text=True,
                          check=True).stdout.strip().splitlines()[-1]
    walls = [e["wall"] for e in json.loads(line)["epochs"][1:]]
    return sorted(walls)[len(walls) // 2]


def scaled(rows: list[dict]) -> float | None:
    """The sections' seconds on the goal's CPU (None if a section's CPU speed is unknown)."""
    if any(not r.get("ours_seconds_per_epoch") for r in rows):
        return None
    return sum(r["seconds"] * GOAL_SECONDS_PER_EPOCH / r["ours_seconds_per_epoch"] for r in rows)


def piece(run: dict) -> dict:
    """One render's wall time and memory, as the table needs them."""
    return {"wall": run["end"] - run["start"], "command": run["command"],
            "peak_pss_gib": max(s[1] for s in run["memory"]),
            "peak_rss_gib": max(s[2] for s in run["memory"]),
            "memory_samples": [[round(t - run["start"], 1), round(p, 3), round(r, 3), n]
                               for t, p, r, n in run["memory"]]}


def progress_table(progress: dict, remaining: list[str]) -> str:
    """What an unfinished measurement has timed so far, and what it has still to time."""
    rows = ["# How long the whole study takes, measured so far (one section at a time, from nothing)",
            "", "| notebook | first render | runs trained | their training time | peak memory (PSS) "
            f"| ours here (s/epoch) | first render at ours = {GOAL_SECONDS_PER_EPOCH} s/epoch |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for r in progress["sections"]:
        speed, on_goal = r.get("ours_seconds_per_epoch"), scaled([r])
        rows.append(f"| {r['section']} | {_minutes(r['seconds'])} | {r['runs_trained']} "
                    f"| {_minutes(r['training_seconds'])} | {_gib(r['peak_pss_gib'])} "
                    f"| {f'{speed:.2f}' if speed else '–'} "
                    f"| {_minutes(on_goal) if on_goal is not None else '–'} |")
    done, on_goal = sum(r["seconds"] for r in progress["sections"]), scaled(progress["sections"])
    scale = (f" ({_minutes(on_goal)} scaled to a CPU where ours takes {GOAL_SECONDS_PER_EPOCH} s "
             "per epoch)") if on_goal is not None else ""
    rows += ["", f"- Measured: **{_minutes(done)}**{scale} for {len(progress['sections'])} sections; "
             + (f"not yet measured: {', '.join(remaining)}. `make bench-report RESUME=1` goes on "
                "with the next one." if remaining else "every section is measured (report.md).")]
    rows += [f"- {r['section']} was measured in {len(r['pieces'])} pieces (cut off and resumed): "
             + ", ".join(f"{_minutes(p['seconds'])} at {p['ours_seconds_per_epoch']:.2f} s/epoch"
                         + (f" ({_minutes(p['seconds'] - counted(p))} of it lost at the cut: runs "
                            "still training, trained again in the next piece)" if counted(p) < p["seconds"] else "")
                         for p in r["pieces"]) for r in progress["sections"] if r.get("pieces")]
    if partial := progress.get("partial"):
        so_far = partial["pieces"]
        rows.append(f"- In progress: {partial['section']}, cut off after "
                    f"{_minutes(sum(p['seconds'] for p in so_far))} in {len(so_far)} piece(s) with "
                    f"{len(partial['keys'])} of its runs stored; `RESUME=1` goes on with it.")
    rows += [f"- {progress['note']}"] if progress.get("note") else []
    return "\n".join(rows) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", default=[], help="notebooks, e.g. 01 02 (default: all)")
    parser.add_argument("--scratch", type=Path, default=ROOT / "build" / "bench-report",
                        help="where the runs and reports go (emptied first, unless --resume)")
    parser.add_argument("--resume", action="store_true",
                        help="go on where an interrupted measurement stopped, with the next "
                             "section not yet measured")
    parser.add_argument("--out", type=Path, default=OUT_DIR / "report.md",
                        help="the table; its numbers go beside it as .json")
    parser.add_argument("--table", action="store_true",
                        help="only rewrite report.md from report.json and the scratch store")
    parser.add_argument("--retime", action="store_true",
                        help="give the committed records the timings of the scratch store's "
                             "runs that computed the same (then re-render the reports)")
    parser.add_argument("--progress", action="store_true",
                        help="only write report_progress.md: the sections measured so far")
    parser.add_argument("--estimate", action="store_true",
                        help="project a first render's time from the committed records "
                             "(report_estimate.md), without training")
    args = parser.parse_args(argv)
    if args.estimate:
        md = estimate_table(estimate())
        (OUT_DIR / "report_estimate.md").write_text(md)
        return print(md)
    args.scratch = args.scratch.resolve()
    if args.retime:
        done, kept = retime(args.scratch / "results")
        return print(f"{len(done)} committed records retimed; {len(kept)} kept as committed, "
                     f"as their runs computed otherwise: {', '.join(kept) or 'none'}")
    if args.progress:
        progress = json.loads(COMMITTED_PROGRESS.read_text())
        measured = {r["section"] for r in progress["sections"]}
        md = progress_table(progress, [n for n in notebooks(progress["only"]) if n not in measured])
        COMMITTED_PROGRESS.with_suffix(".md").write_text(md)
        return print(md)
    if args.table:
        result = json.loads(args.out.with_suffix(".json").read_text())
        result["committed"] = against_committed(args.scratch / "results")
        result["widest"] = widest(args.scratch / "results")
        return write(result, args.out)

    notebooks(args.only)  # a wrong --only is refused before anything is removed
    progress = load_progress(args.scratch, args.only, args.resume)
    results, reports = args.scratch / "results", args.scratch / "reports"
    env = {**os.environ, "CIFAR_MLP_RESULTS": str(results), "CIFAR_MLP_RUNS": str(args.scratch / "runs"),
           "CIFAR_MLP_REPORTS": str(reports), "PYTHONUNBUFFERED": "1"}
    measure_first(env, args.scratch, progress, args.only)

    print(f"{time.strftime('%H:%M:%S')} render stored: log in {args.scratch / 'stored'}.log", flush=True)
    before = len(_keys(results))
    run = render(env, args.only, args.scratch / "stored.log")
    if run["exit"] != 0:
        sys.exit(f"the stored render failed (exit {run['exit']}): see {args.scratch / 'stored'}.log")
    stored = piece(run) | {"sections": per_section(run, results, reports),
                           "runs_trained": len(_keys(results)) - before}
    pieces = progress["pieces"]
    first = {"wall": sum(p["wall"] for p in pieces), "sections": progress["sections"],
             "runs_trained": sum(r["runs_trained"] for r in progress["sections"]),
             "peak_pss_gib": max(p["peak_pss_gib"] for p in pieces if p["peak_pss_gib"] is not None),
             "peak_rss_gib": max(p["peak_rss_gib"] for p in pieces if p["peak_rss_gib"] is not None),
             "pieces": pieces}
    seconds = {r["section"][:2]: r["seconds"] for r in progress["sections"]}
    totals = {}
    for last in ("05", "06", "07"):
        span = [f"{i:02d}" for i in range(1, int(last) + 1)]
        if all(s in seconds for s in span):
            totals[f"01-{last}"] = sum(seconds[s] for s in span)
    metrics = [json.loads(p.read_text()) for p in results.glob("[!.]*/metrics.json")]
    prov = json.loads((reports / "provenance.json").read_text())
    from cifar_mlp.runs import executors
    result = {"first": first, "stored": stored, "totals": totals,
              "widest": widest(results), "committed": against_committed(results),
              "runs": len(metrics),
              "training_seconds": sum(m.get("wall_seconds", 0) for m in metrics),
              "workers": executors.workers(), "goals": GOALS,
              "machine": f"{prov['cpu']['model']}, {prov['cpu']['cores']} cores, "
                         f"Python {prov['python']}, TensorFlow {prov['packages']['tensorflow']}",
              "git": prov["git"], "date": time.strftime("%Y-%m-%d %H:%M"),
              "command": "make bench-report  # = python benchmarks/report_bench.py"
                         + (f" --only {' '.join(args.only)}" if args.only else "")
                         + (f" --out {args.out}" if args.out != OUT_DIR / "report.md" else "")}
    write(result, args.out)


def write(result: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    md = "# How long the whole study takes: `make report`, full profile\n\n" + table(result)
    out.write_text(md)
    print(md)


if __name__ == "__main__":
    main()
