"""The rendered reports, as a reader's browser sees them (`make check-report`).

Headless Chromium loads index.html and every section page and reports JS
errors, images that do not decode and links between pages that lead nowhere;
it also saves a screenshot of the index as <reports>/index.png.

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

from cifar_mlp import paths, report

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).parent / "fixtures"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars",
         # Offline: every host name fails to resolve; file:// pages are unaffected.
         "--host-resolver-rules=MAP * ~NOTFOUND"]
MARKER = "__reliability_check__"
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
  addEventListener("load", () => setTimeout(() => {
    seen.title = document.title;
    seen.images = [...document.images].map((img) => ({
      src: (img.getAttribute("src") || "").slice(0, 80),
      decoded: img.complete && img.naturalWidth > 0, width: img.naturalWidth}));
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
    for folder in (paths.REPORTS_DIR, paths.profile_dirs("smoke")["reports"]):
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
                            checked.as_uri())
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
            target = (page.parent / unquote(url.path)).resolve() if url.path else page
            if not target.is_file():
                broken.append(f"{page.name}: {link} (no file {target})")
            elif (url.fragment and target.suffix == ".html"
                  and url.fragment not in _parse(target).ids):
                broken.append(f"{page.name}: {link} (no #{url.fragment} in {target.name})")
    assert not broken, "\n".join(broken)
    index = _parse(reports / "index.html").links
    sections = [p.name for p in reports.glob("*.html") if p.name != "index.html"]
    unlinked = [s for s in sections if not any(link.split("#")[0] == s for link in index)]
    assert not unlinked, f"section pages the index does not link to: {unlinked}"


def test_index_screenshot_is_saved_next_to_the_reports(chromium, reports, tmp_path):
    from PIL import Image

    shot = reports / "index.png"
    shot.unlink(missing_ok=True)
    done = run_chromium(chromium, tmp_path, f"--screenshot={shot}", "--window-size=1280,1600",
                        "--virtual-time-budget=3000", (reports / "index.html").resolve().as_uri())
    assert shot.exists(), done.stderr[-1500:]
    with Image.open(shot) as image:
        assert image.size == (1280, 1600)
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is None or len(colours) > 50, "the screenshot is blank"
