"""Executed notebooks to reader pages, and the index, from the templates in templates/.

A section page is the lab template of nbconvert with the reader template on top
(templates/reader/): code folded, a table of contents, previous / next / index
links, a reproduce box, every image with alt text, and no script or style from
a CDN. Before rendering, outputs are checked for what a reader should not see:
absolute paths of this machine and reprs of library objects, named by cell.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from cifar_mlp import paths
from cifar_mlp.core.environment import cpu_label
from cifar_mlp.report.publish import trained_on
from cifar_mlp.report import words

TEMPLATES = Path(__file__).resolve().parent / "templates"
TOC_PLACEHOLDER = "<!-- toc -->"
# A figure's name as notebooks write it: plots.save(fig, "03_accuracy_vs_gap", ...).
FIGURE_NAME = re.compile(r"""["'](\d\d_[\w-]+?)(?:\.png)?["']""")
# Reprs that say nothing to a reader and show the machine they came from.
INTERNAL_REPRS = re.compile(r"PosixPath\(|WindowsPath\(|<cifar_mlp\.[\w.]+ object at 0x")
TEXT_MIMES = ("text/plain", "text/html", "text/markdown")
# A card with more numbers than this spans the index's full width, as a table.
WIDE_CARD = 8
# Verdict words (cifar_mlp.study.compare's) and the colour of their badge on the index.
VERDICT_TONE = {"better": "better", "supported": "better", "worse": "worse", "refuted": "worse"}


@dataclass
class Neighbour:
    href: str
    title: str


# ---------------------------------------------------------------- section pages

def section_page(executed: Path, target: Path, context: dict) -> list[str]:
    """Render one executed notebook as `target`; return what its outputs should not show."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(executed, as_version=4)
    warnings = internals(nb)
    fill_alt_text(nb, context["title"])
    words.plain_notebook(nb)  # identifiers said in words wherever a reader reads
    # Image outputs are embedded as base64, so each page is a single file.
    exporter = HTMLExporter(template_name="reader", extra_template_basedirs=[str(TEMPLATES)],
                            extra_template_paths=[str(TEMPLATES)], exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(
        nb, resources={"metadata": {"name": context["title"]}, "reader": context})
    target.write_text(body.replace(TOC_PLACEHOLDER, toc(body), 1), encoding="utf-8")
    return warnings


# A section page's first screen: its most decisive verdicts, at most this many.
FINDINGS_BOX = 3
STAGE_WORDS = {"screen": "screen: one choice at a time, at 3×128, judged on the runs that picked it",
               "confirmed": "confirmed: the candidates together, on seeds no earlier stage used"}


def page_context(name: str, titles: dict[str, str], summary: dict, stamp: dict,
                 out: Path, results: Path) -> dict:
    """What the reader template shows around a section: links, reproduce box."""
    order = list(titles)
    at = order.index(name)
    near = {side: Neighbour(f"{order[i]}.html", titles[order[i]])
            for side, i in (("prev", at - 1), ("next", at + 1)) if 0 <= i < len(order)}
    profile = stamp["profile"]
    training = summary.get("training")
    return {"name": name, "title": titles[name], **near,
            "command": f"make report ONLY={name}" + (" PROFILE=smoke" if profile == "smoke" else ""),
            "commit": stamp["git"], "date": stamp["date"],
            "cpu": cpu_label(stamp["cpu"]["model"], stamp["cpu"]["cores"], stamp["cpu"].get("vector")),
            "trained_on": trained_on(Path(results), summary.get("runs", [])),
            "training": training and {"runs": training["runs"],
                                      "duration": duration(training["seconds"])},
            "findings": [{**f, "text": words.plain(f["text"])}
                         for f in (summary.get("findings") or [])[:FINDINGS_BOX]],
            "stage": STAGE_WORDS.get(summary.get("stage"), "") + (
                f"; {summary['comparisons']} comparisons on this page" if summary.get("comparisons") else "")
            or None,
            "tables": [{"name": words.say(t), "href": href}
                       for t, href in (summary.get("tables") or {}).items()],
            "runs": [dict(run, variant=words.plain(run.get("variant", "")),
                          href=relative(Path(results) / run["key"], out) + "/")
                     for run in summary.get("runs", [])]}


def internals(nb) -> list[str]:
    """Outputs showing this machine's absolute paths or library reprs, one line per cell.

    Tracebacks are made repository-relative instead: a failing cell's page still
    shows where it failed, without the machine's folders.
    """
    roots = _machine_roots()
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        shown = []
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                output.traceback = [_strip_roots(line, roots) for line in output.traceback]
                continue
            texts = [output.get("text", "")] + [output.get("data", {}).get(m, "")
                                                 for m in TEXT_MIMES]
            text = "\n".join(t if isinstance(t, str) else "".join(t) for t in texts)
            matched = [root for root in roots if root in text]
            # The shortest folder says it: /work/main/…, not also /work/main/results/….
            shown += [f"{root}/…" for root in matched
                      if not any(root.startswith(other + "/") for other in matched)]
            shown += sorted(set(m.group(0).rstrip("(") + " repr"
                                for m in INTERNAL_REPRS.finditer(text)))
        if shown:
            first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")[:60]
            found.append(f"cell In [{cell.get('execution_count')}] ({first!r}) shows "
                         f"{', '.join(dict.fromkeys(shown))}: print names relative to the "
                         "repository, and end the cell with `;` or a sentence, not an object")
    return found


def fill_alt_text(nb, title: str) -> None:
    """Give every image output alt text: the notebook's, else its figure's file name."""
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        names = FIGURE_NAME.findall(cell.source)
        images = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        for i, output in enumerate(images):
            count += 1
            meta = output.setdefault("metadata", {}).setdefault("image/png", {})
            if not str(meta.get("alt") or "").strip():
                meta["alt"] = (f"Figure {names[min(i, len(names) - 1)]}.png" if names
                               else f"Figure {count} of {title}")


def toc(page: str) -> str:
    """The page's h2 and h3 headings as a nested list of links (the h1 is the title)."""
    headings = _Headings()
    headings.feed(page)
    return _environment().get_template("toc.html.j2").render(headings=headings.found)


class _Headings(HTMLParser):
    """Headings with an id, their text without nbconvert's ¶ anchor link."""

    def __init__(self):
        super().__init__()
        self.found, self._open, self._skip = [], None, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("h2", "h3") and attrs.get("id") and self._open is None:
            self._open = {"level": int(tag[1]), "id": attrs["id"], "text": ""}
        elif self._open is not None and tag == "a" and "anchor-link" in (attrs.get("class") or ""):
            self._skip += 1

    def handle_endtag(self, tag):
        if self._open is not None and tag == "a" and self._skip:
            self._skip -= 1
        elif self._open is not None and tag == f"h{self._open['level']}":
            self._open["text"] = " ".join(self._open["text"].split())
            self.found.append(self._open)
            self._open = None

    def handle_data(self, data):
        if self._open is not None and not self._skip:
            self._open["text"] += data


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(v for k, v in attrs if k == "id" and v)


def page_ids(page: Path) -> set[str]:
    parser = _Ids()
    if page.is_file():
        parser.feed(page.read_text(encoding="utf-8"))
    return parser.ids


def resolve_anchor(anchor: str | None, ids: set[str]) -> str | None:
    """A heading's id from its id or its text, as nbconvert makes them (spaces → '-')."""
    if not anchor:
        return None
    for candidate in (anchor, anchor.strip().replace(" ", "-")):
        if candidate in ids:
            return candidate
    lowered = {i.lower(): i for i in ids}
    return lowered.get(anchor.strip().replace(" ", "-").lower())


# ---------------------------------------------------------------- the index

def index_page(cards: list[dict], findings: list[dict], stamp: dict, reads: dict | None = None) -> str:
    """The study's front page: question, findings, which runs read the test set, one card
    per section, provenance. `reads`: {"shown": runs on the pages that read the test set,
    "unshown": [{"model", "accuracy"}] for stored test reads no page shows}."""
    answer = {}
    for card in cards:  # 06 says the recipe and what matters, 07 how far an MLP gets
        answer.update({k: v for k, v in (card.get("answer") or {}).items() if v})
    return _environment().get_template("index.html.j2").render(
        cards=cards, findings=findings, stamp=stamp, ok=sum(c["status"] == "ok" for c in cards),
        reads=reads or {"shown": 0, "unshown": []}, answer=answer)


def index_content(results, out: Path) -> tuple[list[dict], list[dict], list[str]]:
    """Cards and findings for the index from the sections' results and published
    summaries, with links into each page; and the anchors that named no heading."""
    cards, findings, unresolved = [], [], []
    seen = set()  # run keys of the sections before: a later page may read them again
    for r in results:
        s = words.plain_summary(r.summary or {})
        keys = {run["key"] for run in s.get("runs", [])}
        earlier, seen = len(keys & seen), seen | keys
        page = out / f"{r.name}.html"
        ids = page_ids(page)
        has_page = page.is_file()

        def link(anchor, what):
            if not has_page:
                return None
            found = resolve_anchor(anchor, ids)
            if anchor and not found:
                unresolved.append(f"{r.name}: {what} anchor {anchor!r} is not a heading of "
                                  f"its page; linking to the page's top")
            return f"{r.name}.html" + (f"#{found}" if found else "")

        # The card's numbers link where they are computed: the named heading, else Results.
        numbers_href = (link(s["anchor"], "the card's") if s.get("anchor")
                        else link(resolve_anchor("Results", ids), "the card's"))
        numbers = list(s.get("numbers", {}).items())
        cards.append({
            "name": r.name, "title": r.title, "status": r.status, "seconds": r.seconds,
            "error": r.error, "training": s.get("training"), "headline": s.get("headline"),
            "earlier_runs": earlier,
            "href": has_page and (f"{r.name}.html"
                                  + ("#papermill-error-cell" if r.status == "failed" else "")),
            "numbers_href": numbers_href, "numbers": numbers, "wide": len(numbers) > WIDE_CARD,
            "figure": s.get("href"),
            "answer": {**(s.get("answer") or {}),
                       "matters": [{**m, "href": link(m.get("anchor"), "the answer's") or f"{r.name}.html"}
                                   for m in (s.get("answer") or {}).get("matters", [])]},
            "alt": (s.get("href") and png_description(out / s["href"]))
                   or f"{r.title}, key figure: {s.get('headline') or 'see the section'}"})
        section = r.title.split(":")[0]
        published = s.get("findings") or ([{"text": s["headline"]}] if s.get("headline") else [])
        for i, finding in enumerate(published):
            findings.append({**finding, "section": section,
                             "tone": VERDICT_TONE.get(finding.get("verdict"), "verdict"),
                             "href": link(finding.get("anchor"), f"finding {i}")
                             or f"#card-{r.name}"})
    return _in_reading_order(cards), findings, unresolved


def _in_reading_order(cards: list[dict]) -> list[dict]:
    """Cards in section order with no hole: a narrow card left alone in its row, before a
    full-width card or at the end, is widened too (rather than filled by a later section)."""
    alone = 0
    for i, card in enumerate(cards):
        if card["wide"] and alone % 2:
            cards[i - 1]["wide"] = True
        alone = 0 if card["wide"] else alone + 1
    if alone % 2:
        cards[-1]["wide"] = True
    return cards


def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["number"] = fmt
    env.filters["duration"] = duration
    return env


# ---------------------------------------------------------------- formats and helpers

def fmt(value) -> str:
    """One format per kind: counts with separators, fractions to 3 decimals, and what
    3 decimals would show as 0.000 (a learning rate of 3e-4) in two significant digits."""
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return f"{value:,}"
    size = abs(value)
    return (f"{value:,.0f}" if size >= 1000 else f"{value:.1f}" if size >= 10
            else f"{value:.2f}" if size >= 1 else f"{value:.3f}" if size >= 0.0005 or not size
            else f"{value:.2g}")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"
    return f"{seconds // 3600:.0f} h {seconds % 3600 // 60:02.0f} min"


def png_description(png: Path) -> str | None:
    """The alt text plots.save writes into a PNG's Description field, if any."""
    from PIL import Image

    try:
        with Image.open(png) as image:
            return (image.text.get("Description") or "").strip() or None
    except (OSError, AttributeError):
        return None


def relative(target: Path, start: Path) -> str:
    return Path(os.path.relpath(Path(target).resolve(), Path(start).resolve())).as_posix()


def _machine_roots() -> list[str]:
    """Folders of this machine that a page must not show, longest first."""
    candidates = {paths.project_root(), Path.home(), Path(sys.prefix), paths.data_dir(),
                  *(folder for profile in ("full", "smoke")
                    for folder in paths.profile_dirs(profile).values())}
    roots = {str(p) for c in candidates for p in (Path(c), Path(c).resolve())}
    return sorted((r for r in roots if r.count("/") >= 2 or len(r) > 6), key=len, reverse=True)


def _strip_roots(text: str, roots: list[str]) -> str:
    for root in roots:
        text = text.replace(root + "/", "")
    return text
