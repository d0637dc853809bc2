"""The rendered reports, as a reader's browser sees them (`make check-report`).

Headless Chromium loads index.html and every section page and reports JS
errors, images that do not decode or lack alt text, and links between pages
that lead nowhere; on each section page the code is folded until a reader
asks for it (per cell and page-wide), and the table of contents, the previous
/ next / index links and the reproduce box are there. It saves screenshots of
the index and of one section page under <reports>/screenshots/ for the README.
The pages must have been rendered from this checkout's sources (hashes in
provenance.json), and show no absolute path of the machine that rendered them.

Which reports: $CIFAR_MLP_CHECK_REPORTS if set; else reports/ if it has an
index.html, else build/smoke/reports; if neither has one, the two fixture
notebooks in tests/fixtures are rendered into a temp dir (seconds).

Marked `browser`, so the default `pytest` run leaves it out: run
`make check-report` or `pytest -m browser`. Chromium comes from Debian
(`apt-get install chromium`), installed here if missing and possible.
The pages load offline: external hosts (the CDN of MathJax and require.js)
are made unreachable, so the check is the same with or without a network
and shows the pages work without one.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from cifar_mlp import paths
from cifar_mlp.report import build as report
from cifar_mlp.report import provenance

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).parent / "fixtures"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars",
         # Offline: every host name fails to resolve; file:// pages are unaffected.
         "--host-resolver-rules=MAP * ~NOTFOUND"]
MARKER = "__reliability_check__"
WINDOW = (1400, 900)  # a reader's laptop screen: the size every page is laid out at here
# nbconvert's alt text for an image without one: never acceptable on our pages.
PLACEHOLDER_ALT = "No description has been provided for this image"
# The section page the README shows, if it was rendered; else the first section.
SHOWN_SECTION = "06_recipe"
# Runs first in <head>: collects errors, then after `load` writes what it saw into the DOM,
# which --dump-dom prints.
CHECKER = """<script>(() => {
  const seen = {errors: [], resources: [], console: []};
  addEventListener("error", (e) => {
    const t = e.target;
    if (t && t !== window && (t.src || t.href)) {
      seen.resources.push(`${t.tagName} ${t.src || t.href}`);
    } else {
      seen.errors.push(`${e.message} (line ${e.lineno})`);
    }
  }, true);
  addEventListener("unhandledrejection", (e) => seen.errors.push(`unhandled: ${e.reason}`));
  const consoleError = console.error;
  console.error = (...args) => { seen.console.push(args.join(" ")); consoleError(...args); };
  // Closed <details> hide their content with content-visibility, which leaves it a size.
  const shown = (el) => !!el && el.checkVisibility() && el.getBoundingClientRect().height > 0;
  addEventListener("load", () => setTimeout(() => {
    seen.title = document.title;
    seen.images = [...document.images].map((img) => ({
      src: (img.getAttribute("src") || "").slice(0, 80), alt: img.getAttribute("alt"),
      decoded: img.complete && img.naturalWidth > 0, width: img.naturalWidth}));
    // Where each heading falls, folded as a reader first sees the page.
    seen.height = document.documentElement.scrollHeight;
    seen.headings = [...document.querySelectorAll("h2[id], h3[id]")].map((h) => ({
      id: h.id, top: h.getBoundingClientRect().top + scrollY}));
    seen.toc = [...document.querySelectorAll("nav.toc a")].map((a) => a.getAttribute("href"));
    // The first screen, as a reader sees it before scrolling: the text of what shows there.
    seen.firstScreen = [...document.querySelectorAll("h1, h2, p, li")]
      .filter((el) => shown(el) && el.getBoundingClientRect().top < innerHeight)
      .map((el) => el.innerText).join("\\n");
    // Code: folded at first; one cell's toggle shows its code; the page-wide one shows all.
    const folds = [...document.querySelectorAll("details.code-fold")];
    const code = (d) => d.querySelector(".jp-InputArea");
    seen.code = {cells: folds.length, shownAtFirst: folds.filter((d) => shown(code(d))).length};
    const fold = folds.find((d) => !d.open);
    if (fold) {
      fold.querySelector("summary").click();
      seen.code.oneToggleShows = shown(code(fold));
      fold.querySelector("summary").click();
    }
    const button = document.querySelector(".toggle-code");
    if (button) {
      button.click();
      seen.code.pageToggleShows = folds.filter((d) => shown(code(d))).length;
      button.click();
      seen.code.pageToggleHides = folds.filter((d) => shown(code(d))).length;
    }
    const out = document.createElement("pre");
    out.id = "MARKER";
    out.textContent = JSON.stringify(seen);
    document.body.appendChild(out);
  }, 500));
})();</script>""".replace("MARKER", MARKER)


# ---------------------------------------------------------------- Chromium and the reports

@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium binary; installed with apt-get if missing (Debian, as root)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip("Chromium is not installed and cannot be installed here (needs apt-get as "
                    "root): install it with `apt-get install chromium`, then run "
                    "`make check-report` again")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run("apt-get update -qq && apt-get install -y -qq chromium", shell=True,
                          env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0 or not shutil.which("chromium"):
        pytest.fail(f"`apt-get install chromium` failed:\n{done.stderr[-2000:]}")
    return shutil.which("chromium")


def _default_reports() -> Path | None:
    chosen = os.environ.get("CIFAR_MLP_CHECK_REPORTS")
    if chosen:
        return Path(chosen)
    for folder in (paths.report_output("full"), paths.reports_dir("smoke")):
        if (folder / "index.html").exists():
            return folder
    return None


@pytest.fixture(scope="session")
def reports(tmp_path_factory) -> Path:
    folder = _default_reports()
    if folder is None:  # nothing rendered yet: render the fixture notebooks, in seconds
        folder = tmp_path_factory.mktemp("reports")
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("CIFAR_MLP_REPORTS", str(folder))  # the kernels publish their cards here
            mp.setenv("CIFAR_MLP_RESULTS", str(folder.parent / "results"))
            report.build("full", out=folder, notebooks_dir=FIXTURES)
    assert (folder / "index.html").exists(), f"no index.html in {folder}: run `make report` first"
    return folder


def run_chromium(chromium: str, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"  # fresh per launch
    return subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="session")
def pages(chromium, reports, tmp_path_factory) -> dict[str, dict]:
    """What the browser saw on each page: JS errors, failed loads, images."""
    tmp = tmp_path_factory.mktemp("chromium")
    seen = {}
    for page in [reports / "index.html", *sorted(p for p in reports.glob("*.html")
                                                 if p.name != "index.html")]:
        # A copy with the checker first in <head>; <base> keeps its links and images
        # resolving against the reports folder, and the reports folder stays untouched.
        source = page.read_text(encoding="utf-8")
        inject = f'<base href="{reports.resolve().as_uri()}/">{CHECKER}'
        checked = tmp / f"checked-{page.name}"
        checked.write_text(re.sub(r"(<head[^>]*>)", lambda m: m.group(1) + inject,
                                  source, count=1, flags=re.I), encoding="utf-8")
        done = run_chromium(chromium, tmp, "--virtual-time-budget=5000", "--dump-dom",
                            "--window-size={},{}".format(*WINDOW), checked.as_uri())
        found = re.search(rf'<pre id="{MARKER}">(.*?)</pre>', done.stdout, re.S)
        assert found, f"{page.name} did not finish loading: {done.stderr[-1500:]}"
        seen[page.name] = json.loads(html.unescape(found.group(1)))
    return seen


# ---------------------------------------------------------------- checks

def test_every_page_loads_without_js_errors(pages):
    assert "index.html" in pages and len(pages) >= 2, list(pages)
    errors = {name: seen["errors"] + seen["console"] for name, seen in pages.items()
              if seen["errors"] or seen["console"]}
    assert not errors, errors
    # Only external resources may fail to load (the check runs offline); local ones never.
    local = {name: [r for r in seen["resources"] if " file:" in r] for name, seen in pages.items()}
    assert not any(local.values()), local
    assert all(seen["title"] for seen in pages.values())


def test_every_image_is_decoded(pages):
    broken = {name: [i["src"] for i in seen["images"] if not i["decoded"]]
              for name, seen in pages.items()}
    assert not any(broken.values()), broken
    # Every card's figure and every section's plots are there to be seen.
    assert any(seen["images"] for name, seen in pages.items() if name != "index.html")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.ids.update(v for k, v in attrs.items() if k in ("id", "name") and v)
        for attr in ("href", "src"):
            if attrs.get(attr) and tag in ("a", "img", "link", "script", "iframe", "source"):
                self.links.append(attrs[attr])


def _parse(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_every_relative_link_resolves(reports):
    broken = []
    for page in sorted(reports.glob("*.html")):
        for link in _parse(page).links:
            url = urlsplit(link)
            if url.scheme or link.startswith("//"):
                continue  # data: images, external sites
            target = (page.parent / unquote(url.path)).resolve() if url.path else page.resolve()
            inside = (target.is_relative_to(paths.project_root().resolve())
                      or target.is_relative_to(reports.resolve()))
            if not inside:
                broken.append(f"{page.name}: {link} (outside the repository: {target})")
            elif url.path.endswith("/") and target.is_dir():
                continue  # a run's folder under results/
            elif not target.is_file():
                broken.append(f"{page.name}: {link} (no file {target})")
            elif (url.fragment and target.suffix == ".html"
                  and url.fragment not in _parse(target).ids):
                broken.append(f"{page.name}: {link} (no #{url.fragment} in {target.name})")
    assert not broken, "\n".join(broken)
    index = _parse(reports / "index.html").links
    sections = [p.name for p in reports.glob("*.html") if p.name != "index.html"]
    unlinked = [s for s in sections if not any(link.split("#")[0] == s for link in index)]
    assert not unlinked, f"section pages the index does not link to: {unlinked}"


def test_every_image_has_real_alt_text(pages):
    missing = {name: [i["src"] for i in seen["images"]
                      if not (i["alt"] or "").strip() or i["alt"] == PLACEHOLDER_ALT]
               for name, seen in pages.items()}
    assert not any(missing.values()), (
        f"images without alt text (or with nbconvert's placeholder): {missing}")


def _sections(pages) -> list[str]:
    return [name for name in pages if name != "index.html"]


def test_code_is_folded_until_a_reader_asks(pages, reports):
    for name in _sections(pages):
        code = pages[name]["code"]
        assert code["cells"] > 0, f"{name}: no folded code cells (not rendered with the reader template?)"
        failed = _record(reports, name).get("status") == "failed"
        # A failed section shows the failing cell's code, and only that.
        assert code["shownAtFirst"] == (1 if failed else 0), f"{name}: code shown at first: {code}"
        assert code.get("oneToggleShows"), f"{name}: a cell's 'show code' did not show it"
        assert code.get("pageToggleShows") == code["cells"], f"{name}: page-wide toggle: {code}"
        assert code.get("pageToggleHides") == 0, f"{name}: page-wide toggle did not fold again"


def test_sections_have_contents_and_links_around(pages, reports):
    order = [name for name in (s["name"] for s in _stamp(reports).get("sections", []))
             if (reports / f"{name}.html").exists()]
    for name in _sections(pages):
        toc = pages[name]["toc"]
        assert "#reproduce-title" in toc, f"{name}: table of contents {toc}"
        ids = {h["id"] for h in pages[name]["headings"]}
        assert {href[1:] for href in toc} <= ids, f"{name}: contents link to missing headings"
        links = _parse(reports / name).links
        assert "index.html" in links, f"{name}: no link back to the index"
        stem = name.removesuffix(".html")
        if stem in order:
            at = order.index(stem)
            for neighbour in order[max(at - 1, 0):at] + order[at + 1:at + 2]:
                assert f"{neighbour}.html" in links, f"{name}: no link to {neighbour}"
        text = (reports / name).read_text(encoding="utf-8")
        assert 'id="reproduce"' in text
        # What the section spends, before any of its content: runs, training time, CPU.
        top = text.split("<main>", 1)[1][:1500]
        assert re.search(r'<p class="cost">What this section spends: \d+ stored runs?, ', top), \
            f"{name}: no runs-and-minutes line at the top of the page"


def test_reports_were_rendered_from_this_checkout(reports):
    problems = provenance.stale(reports)
    assert not problems, "\n".join(problems)


def test_pages_show_no_machine_paths_or_object_reprs(reports):
    flagged = {s["name"]: s["warnings"] for s in _stamp(reports).get("sections", [])
               if s.get("warnings")}
    assert not flagged, f"the render flagged these outputs: {flagged}"
    roots = [str(paths.project_root().resolve()), str(Path.home())]
    for page in sorted(reports.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        # Absolute only: a relative link may pass through the same folders (../../work/…).
        shown = [r for r in roots if len(r) > 6 and re.search(rf"(?<!\.){re.escape(r)}/", text)]
        shown += ["PosixPath("] if "PosixPath(" in text else []
        assert not shown, f"{page.name} shows {shown}"


def test_screenshots_are_saved_for_the_readme(chromium, reports, pages, tmp_path):
    from PIL import Image

    folder = reports / "screenshots"
    folder.mkdir(exist_ok=True)
    sections = _sections(pages)
    section = f"{SHOWN_SECTION}.html" if f"{SHOWN_SECTION}.html" in sections else sections[0]
    # The index tall enough for its findings and first cards; a section as one screen.
    for page, size in (("index.html", (WINDOW[0], 1800)), (section, WINDOW)):
        shot = folder / page.replace(".html", ".png")
        shot.unlink(missing_ok=True)
        done = run_chromium(chromium, tmp_path, f"--screenshot={shot}",
                            "--window-size={},{}".format(*size), "--virtual-time-budget=3000",
                            (reports / page).resolve().as_uri())
        assert shot.exists(), done.stderr[-1500:]
        with Image.open(shot) as image:
            assert image.size == size
            colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is None or len(colours) > 50, f"the screenshot of {page} is blank"
    # How long each page is, in screens, and on which screen each heading first shows.
    layout = {name: {"MB": round((reports / name).stat().st_size / 1e6, 2),
                     "screens": round(seen["height"] / WINDOW[1], 1),
                     "headings": {h["id"]: int(h["top"] // WINDOW[1]) + 1 for h in seen["headings"]}}
              for name, seen in pages.items()}
    (folder / "layout.json").write_text(json.dumps(layout, indent=1, ensure_ascii=False) + "\n",
                                        encoding="utf-8")


def _stamp(reports: Path) -> dict:
    try:
        return json.loads((reports / "provenance.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _record(reports: Path, page: str) -> dict:
    stem = page.removesuffix(".html")
    return next((s for s in _stamp(reports).get("sections", []) if s["name"] == stem), {})


# A verdict with its interval, as the pages write it: "… (95 % CI +0.4 to +1.9) …: better".
VERDICT = re.compile(r"95 % CI [−+]?\d[\d.]* to [−+]?\d[\d.]*.*?(better|worse|no detectable difference|no verdict)",
                     re.S | re.I)  # badges show their word in capitals


def test_every_first_screen_shows_a_verdict_with_its_interval(pages):
    bare = [name for name, seen in pages.items() if not VERDICT.search(seen["firstScreen"])]
    assert not bare, f"no verdict with its interval on the first screen ({WINDOW[0]}×{WINDOW[1]}): {bare}"


def test_the_index_first_screen_answers_how_far_and_with_what(pages):
    first = pages["index.html"]["firstScreen"]
    assert re.search(r"How far an MLP gets: \d\.\d{3} \(95 % CI", first), first[:500]
    assert "The recipe:" in first, first[:500]


class _VisibleText(HTMLParser):
    """A page's text as a reader reads it: no code (folded cells, <pre>, <code>), no script."""

    HIDDEN = {"script", "style", "pre", "code"}

    def __init__(self):
        super().__init__()
        self.depth, self.text = 0, []

    def handle_starttag(self, tag, attrs):
        folded = tag == "details" and "code-fold" in (dict(attrs).get("class") or "")
        if self.depth or tag in self.HIDDEN or folded:
            self.depth += tag not in VOID

    def handle_endtag(self, tag):
        if self.depth and tag not in VOID:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.text.append(data)


VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr", "col", "area", "base"}


def test_no_config_identifier_in_visible_text(reports):
    from cifar_mlp.report import words
    pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, words.identifiers())) + r")(?!\w)")
    found = {}
    for page in sorted(reports.glob("*.html")):
        reader = _VisibleText()
        reader.feed(page.read_text(encoding="utf-8"))
        hits = sorted(set(pattern.findall(" ".join(reader.text))))
        if hits:
            found[page.name] = hits
    assert not found, f"config identifiers where a reader reads (say them in words, report/words.py): {found}"
