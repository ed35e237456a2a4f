"""Check a built HTML site as readers get it: every page in headless Chromium, offline.

Usage::

    python tests/browser/check_site.py docs/_build/html [--screenshots DIR]

The site is served on 127.0.0.1 (a free port) and every HTML page outside
``_static/`` and ``_sources/`` is loaded in Debian's Chromium through Playwright.
Each page must have

- no console error and no uncaught exception;
- no failed request (network error or HTTP status >= 400);
- no request to anywhere but the local server: every other one is aborted
  before it leaves the browser, and reported;
- every maths element typeset by MathJax (an ``mjx-container`` inside each
  ``.math`` element), no MathJax error (``merror``, or an undefined macro shown
  in red), every web font loaded, and no TeX left as raw text in the prose
  (``$$``, ``\\(``, ``\\[``, ``\\frac``, ...);
- every image loaded (``naturalWidth > 0``);
- every link into the site resolving: the file exists and so does the
  ``#fragment`` id on the target page;
- on a gallery page (``auto_examples/plot_*.html``), links to download its
  ``.py`` script and ``.ipynb`` notebook.

Legibility and accessibility, on every page:

- at 1280 px no code block (``pre``) or display equation in the article is
  wider than its column (it would scroll or be clipped); at 390 px the page
  itself never scrolls sideways;
- every figure in the article (an image 48 px wide or more) is SVG or offers
  at least 2x pixels (``srcset``),
  and an SVG figure's smallest label is no smaller than the body text as shown;
- every image has real alt text: present, not a file name, and empty only for
  the decorative gallery thumbnails (their link carries the name);
- axe-core (``node_modules/axe-core``, installed by ``npm ci`` from the
  project's package-lock.json, never fetched from a CDN) finds no serious or
  critical violation in light mode (every rule) nor in dark mode (its colour
  rules: contrast), WCAG contrast included.

Then each query of ``SEARCH_EXPECTATIONS`` must rank its concept page first
(a query whose page the build lacks is skipped with a printed notice); the pages in
``SCREENSHOT_PAGES`` are opened again from disk (``file://``) and must render
their maths there too, and with ``--screenshots`` full-page screenshots of them
are saved. A page in ``SCREENSHOT_PAGES`` that the build lacks is a failure.

Every failure is collected, then all are printed with the page, the check and
the offending element or request; the exit status is 1 if there was any.
Playwright drives the system's Chromium (``--chromium``); it never downloads a
browser of its own.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import re
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

CHROMIUM = "/usr/bin/chromium"
# The flags Chromium needs headless as root on a closed network: without the
# background-networking ones it keeps trying to reach Google's services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Full-page screenshots (site-relative page -> PNG name). Each page is expected
# in the build: a missing one fails the check.
SCREENSHOT_PAGES = {
    "index.html": "landing.png",
    "explanations/dual_numbers.html": "dual_numbers.png",
    "explanations/reverse_mode.html": "reverse_mode.png",
    "auto_examples/plot_tangent_line.html": "gallery_plot_tangent_line.png",
}
# Search: each query must list its concept page first. A page the build lacks is
# skipped with a notice (the learning path's pages come with their own branch).
SEARCH_EXPECTATIONS = {
    "dual number": "tutorials/dual_numbers.html",
    "Wengert list": "tutorials/three_ways.html",
    "adjoint": "tutorials/reverse_mode.html",
    "Jacobian": "tutorials/jacobians.html",
}

# axe-core, installed by `npm ci` (package.json / package-lock.json at the root).
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# axe's impacts that fail the check; "minor" and "moderate" ones are counted only.
AXE_FAILING = ("serious", "critical")
# Dark mode changes colours only: there axe runs just its colour rules (every
# rule runs in light mode), which halves the time of the check.
AXE_DARK_RULES = ["color-contrast", "link-in-text-block"]
# The narrow viewport of a phone: the page must not scroll sideways there.
PHONE_WIDTH = 390

# Folders of a Sphinx build that hold assets, not pages.
ASSET_DIRS = {"_static", "_sources", "_images", "_downloads"}
# Gallery pages offer their script and notebook for download.
GALLERY_GLOB = "auto_examples/plot_*.html"

VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_MS = 30_000
# At most this many offending elements are listed per page and check.
MAX_LISTED = 8

# Runs in the page once it has loaded: waits for MathJax's first typesetting,
# the images and the web fonts, then reports what it sees.
INSPECT_JS = r"""
async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    if (el.classList.length) s += "." + [...el.classList].slice(0, 3).join(".");
    return s;
  };
  const snippet = (text, at, len) =>
    text.slice(Math.max(0, at - 40), at + len + 40).replace(/\s+/g, " ").trim();
  const out = {mathjax: null, untypeset: [], mathErrors: [], rawTex: [], badImages: [],
               badFonts: [], links: [], ids: [], downloads: [], mathCount: 0, imageCount: 0};

  // --- maths: wait for MathJax (loaded with "defer") to finish typesetting.
  const mathEls = [...document.querySelectorAll(".math")];
  out.mathCount = mathEls.length;
  if (mathEls.length) {
    const ready = () => window.MathJax && MathJax.startup && MathJax.startup.promise;
    for (let t = 0; !ready() && t < 15000; t += 50) await sleep(50);
    if (ready()) {
      await MathJax.startup.promise;
      out.mathjax = MathJax.version || "unknown";
      try {
        for (const item of MathJax.startup.document.math) {
          let bad = null;
          item.root.walkTree((node) => {
            if (node.isKind("merror")) bad = "MathJax error";
            else if (node.isKind("mtext") && node.attributes.get("mathcolor") === "red")
              bad = "undefined macro";
          });
          if (bad) out.mathErrors.push(`${bad} in: ${item.math.slice(0, 120)}`);
        }
      } catch (e) {
        out.mathErrors.push("could not inspect MathJax's output: " + e);
      }
    }
    for (const el of mathEls) {
      if (!el.querySelector("mjx-container"))
        out.untypeset.push(`${describe(el)}: ${el.textContent.trim().slice(0, 100)}`);
    }
  }

  // --- TeX left as text in the prose (code, typeset maths and scripts excluded).
  const SKIP = "script,style,noscript,template,pre,code,kbd,samp,textarea,.highlight," +
               "mjx-container,.math";
  const RAW = [
    [/\$\$/, "$$"],
    [/\\[()[\]]/, "TeX delimiter"],
    [/\\[A-Za-z]{2,}/, "TeX command"],
    [/\$[^\s$][^$]*?[\\^_{}][^$]*?\$/, "$...$"],
  ];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(SKIP)) continue;
    if (parent.checkVisibility && !parent.checkVisibility()) continue;
    for (const [re, what] of RAW) {
      const m = re.exec(node.data);
      if (m) {
        const text = snippet(node.data, m.index, m[0].length);
        out.rawTex.push(`${what} in ${describe(parent)}: "${text}"`);
        break;
      }
    }
  }

  // --- images: load lazy ones too, then each must have decoded to a real size.
  const imgs = [...document.images];
  out.imageCount = imgs.length;
  for (const img of imgs) if (img.loading === "lazy") img.loading = "eager";
  await Promise.all(imgs.map((img) => img.complete ? null : new Promise((r) => {
    img.addEventListener("load", r); img.addEventListener("error", r); setTimeout(r, 10000);
  })));
  for (const img of imgs) {
    if (!(img.complete && img.naturalWidth > 0))
      out.badImages.push(img.getAttribute("src") || img.outerHTML.slice(0, 200));
  }

  // --- web fonts (the theme's icons, MathJax's glyphs).
  await document.fonts.ready;
  for (const face of document.fonts) {
    if (face.status === "error")
      out.badFonts.push(`${face.family} (${face.style}, ${face.weight})`);
  }

  // --- links, anchors, download links.
  for (const a of document.querySelectorAll("a[href]")) {
    out.links.push([a.href, a.getAttribute("href"), (a.textContent || "").trim().slice(0, 60)]);
  }
  for (const el of document.querySelectorAll("[id]")) out.ids.push(el.id);
  for (const a of document.querySelectorAll("a[name]")) out.ids.push(a.getAttribute("name"));
  for (const a of document.querySelectorAll(".sphx-glr-download a[href]")) {
    out.downloads.push(a.getAttribute("href"));
  }
  return out;
}
"""


# Code blocks and display equations wider than their column, in the article
# (closed dropdowns are opened first: their code is part of the page).
OVERFLOW_JS = r"""
() => {
  const article = document.querySelector("article") || document.body;
  for (const d of article.querySelectorAll("details")) d.open = true;
  const found = [];
  for (const el of article.querySelectorAll("pre, mjx-container[display='true']")) {
    if (el.checkVisibility && !el.checkVisibility()) continue;
    const excess = el.scrollWidth - el.clientWidth;
    if (excess <= 1) continue;
    const lines = el.textContent.split("\n");
    const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), "");
    const what = el.tagName === "PRE"
      ? `code, longest line ${longest.length} characters: ${longest.trim().slice(0, 50)}`
      : `display equation: ${(el.getAttribute("aria-label") || el.textContent).slice(0, 50)}`;
    found.push(`${what} (${excess} px too wide)`);
  }
  return found;
}
"""

# Does the page itself scroll sideways (at the current viewport)?
SIDEWAYS_JS = r"""
() => {
  const doc = document.documentElement;
  if (doc.scrollWidth <= window.innerWidth + 1) return null;
  // The widest element that sticks out, to say what to fix.
  let widest = null, right = window.innerWidth;
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.right > right + 1 && el.checkVisibility && el.checkVisibility()) {
      right = r.right; widest = el;
    }
  }
  const name = widest ? widest.tagName.toLowerCase() + (widest.className && typeof
    widest.className === "string" ? "." + widest.className.split(" ").slice(0, 2).join(".") : "")
    : "?";
  return `${doc.scrollWidth} px wide at ${window.innerWidth} px; widest: ${name}`;
}
"""

# Alt text of every image, and the resolution and label size of the figures.
IMAGES_JS = r"""
async () => {
  const out = {alt: [], resolution: [], labels: [], figures: 0};
  const FILE = /(^|\/)[^\s\/]+\.(png|svg|jpe?g|gif|webp)$/i;
  const ICON_PX = 48;
  const article = document.querySelector("article") || document.body;
  const bodyText = article.querySelector("p") || article;
  const bodyPx = parseFloat(getComputedStyle(bodyText).fontSize);
  for (const img of document.images) {
    const src = img.getAttribute("src") || "";
    const alt = img.getAttribute("alt");
    const thumbnail = img.closest(".sphx-glr-thumbcontainer");
    if (alt === null) out.alt.push(`no alt attribute: ${src}`);
    else if (alt.trim() === "" && !thumbnail) out.alt.push(`empty alt text: ${src}`);
    else if (FILE.test(alt.trim()) || alt.includes("_images/"))
      out.alt.push(`alt text is a file name: ${src}`);
    // Icons (the module index's +/- boxes) are not figures.
    if (thumbnail || !article.contains(img) || img.clientWidth < ICON_PX) continue;
    out.figures += 1;
    const url = img.currentSrc || img.src;
    if (/\.svg($|[?#])/i.test(url)) {
      // matplotlib draws each label's glyphs at scale(size/100): sizes in SVG units.
      let text = "";
      try { text = await (await fetch(url)).text(); } catch (e) { continue; }
      const box = /viewBox="[\d.\-]+ [\d.\-]+ ([\d.]+)/.exec(text);
      const scales = [...text.matchAll(/scale\(([\d.]+) -\1\)/g)].map((m) => +m[1] * 100);
      if (!box || !scales.length) continue;
      const smallest = Math.min(...scales) * img.clientWidth / +box[1];
      if (smallest < bodyPx - 0.5)
        out.labels.push(
          `${src}: smallest label ${smallest.toFixed(1)} px, body text ${bodyPx} px`);
    } else {
      const twice = /\s2(\.0+)?x\s*(,|$)/.test(img.getAttribute("srcset") || "");
      if (!twice && img.naturalWidth < 2 * img.clientWidth)
        out.resolution.push(`${src}: ${(img.naturalWidth / img.clientWidth).toFixed(2)}x, ` +
                            "no 2x srcset (use SVG or image_srcset)");
    }
  }
  return out;
}
"""

# Runs axe-core (injected first) on the page; the violations, in short.
AXE_JS = r"""
async (rules) => {
  const options = {resultTypes: ["violations"]};
  if (rules) options.runOnly = {type: "rule", values: rules};
  const result = await axe.run(document, options);
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
    targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
  }));
}
"""

# pydata-sphinx-theme's modes: its CSS follows these attributes of <html>. The
# theme animates colour changes: transitions are switched off first, so axe
# reads the final colours, not ones half-way between the modes.
SET_MODE_JS = r"""
(mode) => {
  if (!document.getElementById("check-site-no-transitions")) {
    const style = document.createElement("style");
    style.id = "check-site-no-transitions";
    style.textContent = "*, *::before, *::after { transition: none !important; " +
                        "animation: none !important; }";
    document.head.appendChild(style);
  }
  document.documentElement.dataset.theme = mode;
  document.documentElement.dataset.mode = mode;
}
"""


@dataclass(frozen=True)
class Failure:
    """One failed check: where, which check, and what offended."""

    page: str
    check: str
    detail: str


@dataclass
class PageReport:
    """What one page load saw, filled in by the page's event handlers."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    remote_requests: list[str] = field(default_factory=list)
    # The requests this page made: one still in flight from the page before
    # (aborted by the navigation) is not this page's failure.
    requests: set[Any] = field(default_factory=set)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would bury the report


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 at a free port; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def find_pages(html: Path) -> list[str]:
    """Every HTML page of the site, as paths relative to ``html`` (POSIX)."""
    pages = []
    for path in sorted(html.rglob("*.html")):
        rel = path.relative_to(html)
        if rel.parts[0] not in ASSET_DIRS:
            pages.append(rel.as_posix())
    return pages


class _IdCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name == "id" or (tag == "a" and name == "name")):
                self.ids.add(value)


def static_ids(path: Path) -> set[str]:
    """The ids in an HTML file that was not loaded in the browser."""
    collector = _IdCollector()
    collector.feed(path.read_text(encoding="utf-8", errors="replace"))
    return collector.ids


def _site_path(html: Path, url_path: str) -> str:
    """The site-relative file a URL path names (a folder names its index.html)."""
    rel = unquote(url_path).lstrip("/")
    if rel == "" or rel.endswith("/") or (html / rel).is_dir():
        rel = (rel.rstrip("/") + "/index.html").lstrip("/")
    return rel


class SiteChecker:
    """Loads pages in one browser context and collects every failure."""

    def __init__(self, html: Path, base_url: str, context: Any) -> None:
        self.html = html
        self.base_url = base_url
        self.origin = base_url.rstrip("/")
        self.context = context
        self.failures: list[Failure] = []
        self.ids: dict[str, set[str]] = {}
        self.links: dict[str, list[tuple[str, str, str]]] = {}
        self.stats: defaultdict[str, int] = defaultdict(int)
        self._current: PageReport | None = None
        self._page: Any = None
        self.axe_source: str | None = None
        self.notices: list[str] = []
        # Every request that is not to the local server (nor data:, blob: or a
        # file:// read) is aborted in the browser, so it never leaves, and
        # recorded. Matching a pattern keeps the local requests out of Python.
        not_local = rf"^(?!{re.escape(self.origin)}/|(data|blob|file):)"
        context.route(re.compile(not_local), self._block)

    # -- requests ---------------------------------------------------------------
    def _is_local(self, url: str) -> bool:
        scheme = urlsplit(url).scheme
        if scheme in ("data", "blob", "about", "file"):
            return True
        return url == self.origin or url.startswith(self.origin + "/")

    def _block(self, route: Any) -> None:
        if self._current is not None:
            self._current.remote_requests.append(route.request.url)
        route.abort("blockedbyclient")

    def fail(self, page: str, check: str, detail: str) -> None:
        self.failures.append(Failure(page, check, detail))

    def _fail_list(self, page: str, check: str, items: Sequence[str]) -> None:
        for item in items[:MAX_LISTED]:
            self.fail(page, check, item)
        if len(items) > MAX_LISTED:
            self.fail(page, check, f"... and {len(items) - MAX_LISTED} more")

    # -- one page ---------------------------------------------------------------
    def _tab(self) -> Any:
        """The one tab every page is loaded in, its handlers recording into ``_current``."""
        if self._page is None or self._page.is_closed():
            page = self.context.new_page()

            def on_console(msg: Any) -> None:
                if msg.type == "error" and self._current is not None:
                    where = msg.location.get("url", "")
                    self._current.console_errors.append(f"{msg.text} ({where})")

            def on_page_error(exc: Any) -> None:
                if self._current is not None:
                    self._current.page_errors.append(str(exc))

            def on_request(request: Any) -> None:
                if self._current is not None:
                    self._current.requests.add(request)

            def on_failed(request: Any) -> None:
                report = self._current
                if report is None or request not in report.requests:
                    return
                if (
                    request.url not in report.remote_requests
                ):  # those are reported apart
                    report.failed_requests.append(f"{request.url}: {request.failure}")

            def on_response(response: Any) -> None:
                report = self._current
                if report is not None and response.request in report.requests:
                    if response.status >= 400:
                        report.failed_requests.append(
                            f"{response.url}: HTTP {response.status}"
                        )

            page.on("request", on_request)
            page.on("console", on_console)
            page.on("pageerror", on_page_error)
            page.on("requestfailed", on_failed)
            page.on("response", on_response)
            self._page = page
        return self._page

    def open(self, url: str) -> tuple[Any, PageReport]:
        """Load ``url``; what the page does from now on is recorded in the returned report."""
        page = self._tab()
        report = PageReport()
        self._current = report
        try:
            page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
        except Exception:
            page.close()  # a fresh tab for the next page
            raise
        return page, report

    def inspect(self, name: str, url: str, *, links: bool) -> Any:
        """Load one page, run every in-page check, record failures; return the open page."""
        try:
            page, report = self.open(url)
            seen = page.evaluate(INSPECT_JS)
        except Exception as exc:  # a page that cannot load or be inspected fails
            self.fail(name, "load", f"{type(exc).__name__}: {exc}".splitlines()[0])
            return None
        self.stats["pages"] += 1
        self.stats["math elements"] += seen["mathCount"]
        self.stats["images"] += seen["imageCount"]
        if seen["mathCount"] and seen["mathjax"] is None:
            self.fail(name, "maths", "MathJax never started: the maths stays raw TeX")
        self._fail_list(name, "maths not typeset", seen["untypeset"])
        self._fail_list(name, "maths error", seen["mathErrors"])
        self._fail_list(name, "raw TeX in text", seen["rawTex"])
        self._fail_list(name, "image not loaded", seen["badImages"])
        self._fail_list(name, "font not loaded", seen["badFonts"])
        self._fail_list(name, "console error", report.console_errors)
        self._fail_list(name, "uncaught exception", report.page_errors)
        self._fail_list(name, "failed request", report.failed_requests)
        self._fail_list(name, "remote request (blocked)", report.remote_requests)
        if links:
            self._legibility(name, page)
            self.ids[name] = set(seen["ids"])
            self.links[name] = seen["links"]
            if Path(name).match(GALLERY_GLOB):
                downloads = seen["downloads"]
                for suffix in (".py", ".ipynb"):
                    if not any(
                        href.split("#")[0].endswith(suffix) for href in downloads
                    ):
                        self.fail(
                            name,
                            "gallery download",
                            f"no link to download the {suffix}",
                        )
        return page

    def _legibility(self, name: str, page: Any) -> None:
        """Overflow, sideways scrolling, figures, alt text and axe-core on a loaded page."""
        try:
            images = page.evaluate(IMAGES_JS)
            overflow = page.evaluate(OVERFLOW_JS)
            page.set_viewport_size({"width": PHONE_WIDTH, "height": VIEWPORT["height"]})
            page.wait_for_timeout(50)  # a frame to lay the page out again
            sideways = page.evaluate(SIDEWAYS_JS)
            page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
            violations = self._axe(name, page)
        except Exception as exc:
            self.fail(
                name, "legibility", f"{type(exc).__name__}: {exc}".splitlines()[0]
            )
            return
        self.stats["figures"] += images["figures"]
        for check, items in (
            ("overflow at 1280 px", overflow),
            ("alt text", images["alt"]),
            ("figure resolution", images["resolution"]),
            ("figure labels smaller than body text", images["labels"]),
        ):
            self.stats[check] += len(items)
            self._fail_list(name, check, items)
        if sideways:
            self.stats[f"sideways scroll at {PHONE_WIDTH} px"] += 1
            self.fail(name, f"sideways scroll at {PHONE_WIDTH} px", sideways)
        self._fail_list(name, "axe-core", violations)

    def _axe(self, name: str, page: Any) -> list[str]:
        """axe-core's serious and critical violations in light then dark mode."""
        if self.axe_source is None:
            return []
        page.add_script_tag(content=self.axe_source)
        failing = []
        for mode, rules in (("light", None), ("dark", AXE_DARK_RULES)):
            page.evaluate(SET_MODE_JS, mode)
            page.wait_for_timeout(50)
            for v in page.evaluate(AXE_JS, rules):
                self.stats[f"axe {v['impact']} ({mode})"] += v["count"]
                if v["impact"] in AXE_FAILING:
                    where = "; ".join(v["targets"])
                    what = f"{v['impact']} {v['id']} x{v['count']}: {v['help']}"
                    failing.append(f"{mode} mode, {what} ({where})")
        page.evaluate(SET_MODE_JS, "light")
        return failing

    # -- the whole site -----------------------------------------------------------
    def check_pages(self, pages: Sequence[str]) -> None:
        for name in pages:
            self.inspect(name, self.base_url + name, links=True)

    def check_links(self) -> None:
        """Every link into the site must name an existing file and an existing id."""
        cache: dict[str, set[str]] = {}
        for name, links in self.links.items():
            for absolute, raw, text in links:
                if not self._is_local(absolute) or urlsplit(absolute).scheme != "http":
                    continue  # external links are not followed: no network
                self.stats["links"] += 1
                parts = urlsplit(absolute)
                target = _site_path(self.html, parts.path)
                label = f'<a href="{raw}">{text}</a>'
                if not (self.html / target).is_file():
                    self.fail(name, "broken link", f"{label}: {target} does not exist")
                    continue
                fragment = unquote(parts.fragment)
                if not fragment or not target.endswith(".html"):
                    continue
                if target in self.ids:
                    ids = self.ids[target]
                else:
                    if target not in cache:
                        cache[target] = static_ids(self.html / target)
                    ids = cache[target]
                if fragment not in ids:
                    self.fail(
                        name,
                        "broken anchor",
                        f"{label}: no id {fragment!r} in {target}",
                    )

    def check_searches(self, expectations: dict[str, str]) -> None:
        """Each query lists its concept page first (skipped, with a notice, if it is not built)."""
        for query, expected in expectations.items():
            if not (self.html / expected).is_file():
                self.notices.append(
                    f"search {query!r}: skipped, the build has no {expected} to rank first"
                )
                continue
            hrefs = self.check_search(query)
            if hrefs:
                first = hrefs[0].split("#")[0].split("?")[0]
                if first != expected:
                    self.fail(
                        "search.html",
                        "search ranking",
                        f"{query!r} lists {first} first, not {expected}",
                    )

    def check_search(self, query: str) -> list[str]:
        """The search page, opened with ``?q=``, lists results for ``query``; returns them."""
        name = "search.html"
        if not (self.html / name).is_file():
            self.fail(name, "search", "the build has no search page")
            return []
        url = f"{self.base_url}{name}?q={query.replace(' ', '+')}"
        try:
            page, report = self.open(url)
            # Done when the status says so and the result summaries are fetched.
            page.wait_for_function(
                "() => /Search finished|did not match/.test("
                "document.querySelector('#search-results')?.innerText ?? '')",
                timeout=TIMEOUT_MS,
            )
            page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
            hrefs = page.eval_on_selector_all(
                "#search-results li a", "els => els.map(a => a.getAttribute('href'))"
            )
        except Exception as exc:
            self.fail(
                name, "search", f"no results for {query!r}: {exc}".splitlines()[0]
            )
            return []
        self._fail_list(f"{name}?q={query}", "console error", report.console_errors)
        self._fail_list(f"{name}?q={query}", "failed request", report.failed_requests)
        self._fail_list(
            f"{name}?q={query}", "remote request (blocked)", report.remote_requests
        )
        if not hrefs:
            self.fail(name, "search", f"no results for {query!r}")
        self.stats["searches"] += 1
        return list(hrefs)

    def check_file_urls(self, pages: Sequence[str]) -> None:
        """The pages opened straight from disk must work too (maths, images, fonts)."""
        for name in pages:
            self.inspect(f"file://{name}", (self.html / name).as_uri(), links=False)

    def screenshot(self, pages: dict[str, str], out_dir: Path) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        saved = []
        for name, png in pages.items():
            page = self.inspect(f"screenshot {name}", self.base_url + name, links=False)
            if page is None:
                continue
            path = out_dir / png
            page.screenshot(path=str(path), full_page=True)
            saved.append(path)
        return saved


def check_site(
    html: Path,
    *,
    screenshot_dir: Path | None = None,
    screenshot_pages: dict[str, str] = SCREENSHOT_PAGES,
    searches: dict[str, str] | None = None,
    pages: Sequence[str] | None = None,
    chromium: str = CHROMIUM,
    axe: Path | None = AXE,
    log: Any = print,
) -> list[Failure]:
    """Run every check on the site in ``html``; return the failures (empty: all passed).

    ``pages`` limits the pages loaded (default: all); the screenshot pages are
    also opened from disk, and saved as PNGs when ``screenshot_dir`` is given.
    ``searches`` maps queries to the page they must list first (default
    ``SEARCH_EXPECTATIONS``); ``axe`` is axe-core's ``axe.min.js`` (None: no axe).
    """
    if searches is None:
        searches = SEARCH_EXPECTATIONS
    from playwright.sync_api import sync_playwright  # only the browser checks need it

    html = html.resolve()
    if not (html / "index.html").is_file():
        raise SystemExit(
            f"{html} holds no index.html: pass the folder of an HTML build"
        )
    if not Path(chromium).is_file():
        raise SystemExit(
            f"Chromium not found at {chromium}: install Debian's package "
            "(`apt-get install chromium`) or pass --chromium PATH"
        )
    all_pages = find_pages(html)
    selected = list(all_pages if pages is None else pages)
    missing_shots = [p for p in screenshot_pages if not (html / p).is_file()]
    shots = {p: png for p, png in screenshot_pages.items() if p not in missing_shots}
    started = time.monotonic()
    with serve(html) as base_url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        context.set_default_timeout(TIMEOUT_MS)
        checker = SiteChecker(html, base_url, context)
        if axe is not None:
            if axe.is_file():
                checker.axe_source = axe.read_text(encoding="utf-8")
            else:
                checker.fail(
                    "(setup)",
                    "axe-core",
                    f"{axe} is missing: run `npm ci` at the project root",
                )
        for name in missing_shots:
            checker.fail(
                name,
                "expected page",
                "not in the build, but listed in SCREENSHOT_PAGES (tests/browser/check_site.py)",
            )
        log(f"checking {len(selected)} pages served from {html} at {base_url}")
        checker.check_pages(selected)
        checker.check_links()
        checker.check_searches(searches)
        checker.check_file_urls(list(shots))
        if screenshot_dir is not None:
            for path in checker.screenshot(shots, screenshot_dir):
                log(f"screenshot: {path}")
        context.close()
        browser.close()
    for notice in checker.notices:
        log(f"notice: {notice}")
    stats = ", ".join(f"{n} {what}" for what, n in checker.stats.items())
    log(f"checked in {time.monotonic() - started:.0f} s: {stats}")
    return checker.failures


def format_failures(failures: Sequence[Failure]) -> str:
    """All failures, one per line; one that repeats on many pages is listed once."""
    pages_by_problem: dict[tuple[str, str], list[str]] = defaultdict(list)
    for f in failures:
        pages_by_problem[(f.check, f.detail)].append(f.page)
    lines = []
    for (check, detail), pages in pages_by_problem.items():
        where = (
            pages[0]
            if len(pages) == 1
            else f"{len(pages)} pages ({', '.join(pages[:5])}"
        )
        where += "" if len(pages) <= 1 else (", ...)" if len(pages) > 5 else ")")
        lines.append(f"{where}: {check}: {detail}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "html", type=Path, help="folder of the HTML build (has index.html)"
    )
    parser.add_argument("--screenshots", type=Path, help="save full-page PNGs here")
    parser.add_argument(
        "--chromium", default=CHROMIUM, help=f"browser binary ({CHROMIUM})"
    )
    parser.add_argument(
        "--page",
        action="append",
        dest="pages",
        help="check only this page (repeatable)",
    )
    args = parser.parse_args(argv)
    failures = check_site(
        args.html,
        screenshot_dir=args.screenshots,
        pages=args.pages,
        chromium=args.chromium,
    )
    if failures:
        print(
            f"\n{len(failures)} browser check(s) failed:\n{format_failures(failures)}"
        )
        return 1
    print("every browser check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
