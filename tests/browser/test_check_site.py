"""The site checker itself: a small site with one defect of each kind must fail each check.

Runs in ``nox -s browser`` (see conftest.py), in the same Chromium as the real
check. The clean pages of the same site must pass, so the checker neither misses
a defect nor invents one.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from .check_site import Failure, check_site, format_failures

SITE = Path(os.environ.get("AUTODIFF_REF_SITE", "."))

# A 1x1 PNG.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
)

HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<script>window.MathJax = {{options: {{processHtmlClass: "math"}}}};</script>
<script defer src="{root}_static/mathjax/tex-chtml.js"></script>
</head><body>
"""

CLEAN = """
<h1 id="top">A clean page</h1>
<p>Maths: <span class="math">\\(x^2 + \\frac{1}{2}\\)</span>, and on its own line:</p>
<div class="math">\\[\\int_0^1 x \\, dx = \\frac{1}{2}\\]</div>
<pre>code may show \\frac, $$ and \\( as they are</pre>
<p><a href="good.html#there">an anchor</a>, <a href="#top">the top</a>,
<a href="sub/">a folder</a>, <a href="https://example.org/page">an external link</a>.</p>
<img src="square.svg" alt="a grey square">
<pre>code that fits its column</pre>
</body></html>
"""

# A vector figure: SVG needs no 2x copy.
SQUARE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="60" height="60" viewBox="0 0 60 60">'
    '<rect width="60" height="60" fill="#888"/>'
    # A label the way matplotlib draws one: glyphs at scale(size/100), here 20 units.
    '<g transform="translate(5 40) scale(0.2 -0.2)"></g></svg>'
)
# The same with a 5-unit label shown 1:1: smaller than the 16-px body text.
TINY_LABELS = SQUARE.replace("scale(0.2 -0.2)", "scale(0.05 -0.05)")

# One defect of each kind the checker looks for.
BAD = """
<section class="tex2jax_ignore mathjax_ignore">
<p>Unrendered display maths: $$ a + b $$.</p>
<p>Unrendered inline maths: \\(x\\).</p>
<p>A stray \\frac{a}{b} in the prose.</p>
<p>Dollar maths left as it was written: $x_1$.</p>
<p>A TeX error: <span class="math">\\(\\frac{1}\\)</span>
and an undefined macro: <span class="math">\\(\\notamacro x\\)</span>
and maths MathJax never saw: <span class="math">y = 1</span>.</p>
</section>
<a href="missing.html">gone</a> <a href="good.html#nowhere">nowhere</a>
<img src="missing.png" alt="missing">
<img src="pixel.png" width="100" height="100">
<img src="tiny_labels.svg" alt="a square with a tiny label">
<img src="pixel.png" alt="../_images/pixel.png" width="100" height="100">
<pre>{long_line}</pre>
<div style="width: 600px">a block wider than a phone</div>
<p style="color: #777; background: #888">text with too little contrast</p>
<script src="https://example.org/remote.js"></script>
<link rel="stylesheet" href="http://127.0.0.1:1/another_server.css">
<script>console.error("boom from the page");</script>
<script>throw new Error("kaboom from the page");</script>
</body></html>
"""

GALLERY_OK = """
<div class="sphx-glr-download"><a href="../_downloads/plot_ok.py">plot_ok.py</a></div>
<div class="sphx-glr-download"><a href="../_downloads/plot_ok.ipynb">plot_ok.ipynb</a></div>
</body></html>
"""


def _page(html: Path, name: str, title: str, body: str) -> None:
    path = html / name
    path.parent.mkdir(parents=True, exist_ok=True)
    root = "../" * name.count("/")
    path.write_text(HEAD.format(title=title, root=root) + body, encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mathjax = SITE / "_static" / "mathjax"
    assert (mathjax / "tex-chtml.js").is_file(), (
        f"the site build has no MathJax in {mathjax}"
    )
    html = tmp_path_factory.mktemp("site")
    (html / "_static").mkdir()
    (html / "_static" / "mathjax").symlink_to(
        mathjax.resolve(), target_is_directory=True
    )
    (html / "pixel.png").write_bytes(PIXEL)
    _page(html, "index.html", "index", CLEAN)
    _page(html, "good.html", "good", '<p id="there">here</p></body></html>')
    _page(html, "sub/index.html", "sub", "<p>a folder's page</p></body></html>")
    (html / "square.svg").write_text(SQUARE)
    (html / "tiny_labels.svg").write_text(TINY_LABELS)
    _page(html, "bad.html", "bad", BAD.replace("{long_line}", "x = 1  # " + "y" * 200))
    _page(html, "auto_examples/plot_ok.html", "ok", GALLERY_OK)
    _page(html, "auto_examples/plot_nodownloads.html", "no downloads", "</body></html>")
    (html / "_downloads").mkdir()
    (html / "_downloads" / "plot_ok.py").write_text("print('ok')\n")
    (html / "_downloads" / "plot_ok.ipynb").write_text("{}\n")
    return html


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


LOG: list[str] = []


@pytest.fixture(scope="module")
def failures(site: Path, shots: Path) -> list[Failure]:
    found = check_site(
        site,
        screenshot_dir=shots,
        screenshot_pages={"index.html": "index.png", "not_built.html": "not_built.png"},
        # The fake site has no search page; the second query's page is not built.
        searches={"dual number": "index.html", "Jacobian": "tutorials/jacobians.html"},
        log=lambda *args: LOG.append(" ".join(map(str, args))),
    )
    print(format_failures(found))
    return found


def _on(failures: list[Failure], page: str) -> dict[str, list[str]]:
    checks: dict[str, list[str]] = {}
    for f in failures:
        if f.page == page:
            checks.setdefault(f.check, []).append(f.detail)
    return checks


def test_clean_pages_pass(failures: list[Failure]) -> None:
    for page in (
        "index.html",
        "good.html",
        "sub/index.html",
        "auto_examples/plot_ok.html",
        "file://index.html",
        "screenshot index.html",
    ):
        assert _on(failures, page) == {}, page


@pytest.mark.parametrize(
    ("check", "offender"),
    [
        ("raw TeX in text", '$$ in p: "Unrendered display maths: $$ a + b $$.'),
        ("raw TeX in text", 'TeX delimiter in p: "Unrendered inline maths: \\(x\\).'),
        ("raw TeX in text", 'TeX command in p: "A stray \\frac{a}{b} in the prose.'),
        ("raw TeX in text", '$...$ in p: "Dollar maths left as it was written: $x_1$.'),
        ("maths error", "\\frac{1}"),
        ("maths error", "\\notamacro"),
        ("maths not typeset", "y = 1"),
        ("broken link", "missing.html does not exist"),
        ("broken anchor", "no id 'nowhere' in good.html"),
        ("image not loaded", "missing.png"),
        ("failed request", "missing.png: HTTP 404"),
        ("remote request (blocked)", "https://example.org/remote.js"),
        ("remote request (blocked)", "http://127.0.0.1:1/another_server.css"),
        ("console error", "boom from the page"),
        ("uncaught exception", "kaboom from the page"),
        ("overflow at 1280 px", "code, longest line 209 characters"),
        ("sideways scroll at 390 px", "px wide at 390 px"),
        ("alt text", "no alt attribute: pixel.png"),
        ("alt text", "alt text is a file name: pixel.png"),
        ("figure resolution", "pixel.png: 0.01x, no 2x srcset"),
        (
            "figure labels smaller than body text",
            "tiny_labels.svg: smallest label 5.0 px",
        ),
        ("axe-core", "light mode, serious color-contrast"),
        ("axe-core", "dark mode, serious color-contrast"),
    ],
)
def test_each_defect_is_reported(
    failures: list[Failure], check: str, offender: str
) -> None:
    details = _on(failures, "bad.html").get(check, [])
    assert any(offender in d for d in details), (check, details)


def test_site_without_search_fails(failures: list[Failure]) -> None:
    assert _on(failures, "search.html") == {"search": ["the build has no search page"]}


def test_search_for_a_page_not_built_is_skipped_with_a_notice(
    failures: list[Failure],
) -> None:
    assert (
        "notice: search 'Jacobian': skipped, the build has no tutorials/jacobians.html "
        "to rank first"
    ) in LOG
    assert not any("Jacobian" in f.detail for f in failures)


def test_gallery_page_without_downloads_fails(failures: list[Failure]) -> None:
    details = _on(failures, "auto_examples/plot_nodownloads.html")["gallery download"]
    assert details == ["no link to download the .py", "no link to download the .ipynb"]


def test_expected_page_missing_fails_and_screenshots_are_saved(
    failures: list[Failure], shots: Path
) -> None:
    assert "expected page" in _on(failures, "not_built.html")
    assert sorted(p.name for p in shots.iterdir()) == ["index.png"]
    assert (shots / "index.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_repeated_failure_is_listed_once_with_its_pages() -> None:
    text = format_failures(
        [
            Failure(f"p{i}.html", "broken link", "x.html does not exist")
            for i in range(7)
        ]
        + [Failure("q.html", "console error", "boom")]
    )
    assert text.splitlines() == [
        "7 pages (p0.html, p1.html, p2.html, p3.html, p4.html, ...): broken link: "
        "x.html does not exist",
        "q.html: console error: boom",
    ]
