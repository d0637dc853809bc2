"""What made the reports, and whether the checkout still matches it.

`stamp(profile)` records package versions, Python, CPU, commit and date, and
hashes of the sources a rendering depends on: each notebook's `.py`, the
library (src/cifar_mlp, its .py files and page templates) and the lock file.
Each section keeps the hashes it was rendered from, so `stale(reports)` can
say which pages were rendered from other sources than the checkout's;
`make check-report` fails on them (tests/test_browser.py).
"""

from __future__ import annotations

import hashlib
import os
import platform
from importlib import metadata
from pathlib import Path

from cifar_mlp import paths
from cifar_mlp.core import environment
from cifar_mlp.report.publish import now, read_json, training_time

TITLE = "Training MLPs on CIFAR-10"
PACKAGES = ("tensorflow", "keras", "numpy", "pandas", "cifar_mlp")
LIBRARY = Path(__file__).resolve().parent
# Whichever of these exists at the repository root pins the environment a report ran in.
LOCK_FILES = ("requirements.lock", "constraints.txt")
RERUN = "run `make report` (or `make report ONLY={name}`) and commit reports/"


def stamp(profile: str) -> dict:
    """What makes these reports: versions, Python, CPU, commit, date, profile, sources."""
    def version(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {"title": TITLE, "profile": profile, "date": now(), "git": commit(),
            "python": platform.python_version(),
            "packages": {name: version(name) for name in PACKAGES},
            "cpu": {"model": cpu_model(), "vector": environment.cpu_vector(), "cores": os.cpu_count()},
            "training": training_time(paths.profile_dirs(profile)["results"]),
            "library": library_hash(), "lock": lock_hashes()}


def section_sources(notebook: Path) -> dict:
    """The hashes one section page is rendered from: its notebook, the library, the lock."""
    source = notebook_source(notebook)
    return {"notebook": {"path": shown(source), "sha256": file_hash(source)},
            "library": library_hash(), "library_files": library_files(), "lock": lock_hashes()}


def stale(reports: Path) -> list[str]:
    """One line per section page rendered from other sources than the checkout's."""
    stamp_file = Path(reports) / "provenance.json"
    recorded = read_json(stamp_file)
    if not recorded:
        return [f"no readable provenance.json in {shown(Path(reports))}/: run `make report`"]
    problems = []
    library, lock = library_hash(), lock_hashes()
    for section in recorded.get("sections", []):
        name = section["name"]
        if section.get("status") == "not run" and not (Path(reports) / f"{name}.html").exists():
            continue
        sources = section.get("sources")
        if not sources:
            problems.append(f"{name}.html records no sources (rendered before they were "
                            f"recorded): {RERUN.format(name=name)}")
            continue
        changed = []
        notebook = sources["notebook"]
        path = Path(notebook["path"])
        path = path if path.is_absolute() else paths.project_root() / path
        if file_hash(path) != notebook["sha256"]:
            changed.append(notebook["path"] if path.exists() else f"{notebook['path']} (gone)")
        if sources.get("library") != library:
            changed.append(f"the library ({_changed_files(sources.get('library_files'))})")
        if sources.get("lock") != lock:
            changed.append("the lock file (" + (", ".join(sorted(lock)) or "none now") + ")")
        if changed:
            problems.append(f"{name}.html was rendered from other sources than this checkout's: "
                            f"{', '.join(changed)} changed since; {RERUN.format(name=name)}")
    return problems


def library_files() -> dict[str, str]:
    """The library's Python files and page templates, by relative path: a short hash each."""
    files = sorted(p for p in LIBRARY.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                   and (p.suffix == ".py" or "templates" in p.relative_to(LIBRARY).parts))
    return {p.relative_to(LIBRARY).as_posix(): file_hash(p)[:16] for p in files}


def library_hash() -> str:
    """One hash over the library's files (`library_files`)."""
    listing = "".join(f"{name}\0{digest}\n" for name, digest in library_files().items())
    return hashlib.sha256(listing.encode()).hexdigest()


def _changed_files(recorded: dict | None) -> str:
    """Which library files differ from those a page was rendered with, a few by name."""
    if not recorded:
        return shown(LIBRARY)
    now = library_files()
    changed = sorted(n for n in recorded.keys() | now.keys() if recorded.get(n) != now.get(n))
    listed = ", ".join(changed[:4]) + (f" and {len(changed) - 4} more" if len(changed) > 4 else "")
    return f"{shown(LIBRARY)}: {listed}"


def lock_hashes() -> dict[str, str]:
    root = paths.project_root()
    return {name: file_hash(root / name) for name in LOCK_FILES if (root / name).is_file()}


def notebook_source(notebook: Path) -> Path:
    """The percent-format .py a notebook is edited as, or the notebook if it has none."""
    paired = Path(notebook).with_suffix(".py")
    return paired if paired.is_file() else Path(notebook)


def file_hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def commit() -> str:
    return environment.commit() or "unknown"


cpu_model = environment.cpu_model


def shown(path: Path) -> str:
    """A path as committed files may show it: relative to the repository when inside it."""
    path = Path(path).resolve()
    root = paths.project_root().resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()


def main(argv=None) -> int:
    """`python -m cifar_mlp.report.provenance [REPORTS]`: exit 1 and say why if the pages are stale."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    reports = Path(args[0]) if args else paths.report_output()
    problems = stale(reports)
    for line in problems:
        print(line, file=sys.stderr)
    if not problems:
        print(f"{shown(reports)}: every page was rendered from this checkout's sources")
    return 1 if problems else 0


if __name__ == "__main__":
    from cifar_mlp import cli
    cli.run(main)
