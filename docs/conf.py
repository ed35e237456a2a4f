"""Sphinx configuration for the autodiff_ref site.

Built strictly by ``nox -s docs`` (``sphinx-build -W -n --keep-going``): every
warning fails the build. Pages and gallery scripts are executed on every build,
and the build never needs the network.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import matplotlib
from sphinx_gallery.sorting import ExplicitOrder

matplotlib.use("Agg")  # headless: no display on CI
# ...but the page kernels must pick matplotlib's inline backend themselves:
# an inherited MPLBACKEND=Agg would make every figure on the pages vanish.
os.environ.pop("MPLBACKEND", None)

import autodiff_ref

DOCS = Path(__file__).resolve().parent
# docs/_ext: the site's own extensions (the gallery scripts' time limit, which
# sphinx-gallery imports by name; each tutorial page as a notebook).
sys.path.insert(0, str(DOCS / "_ext"))
# Files the build writes for itself, outside the sources (see the MathJax and
# kernel sections); the builds clean docs/_build, so each starts afresh.
BUILD_SUPPORT = DOCS / "_build" / "support"

# -- Project -----------------------------------------------------------------
project = "autodiff_ref"
author = "The autodiff_ref developers"
# The footer shows it (the theme's "copyright" item), with the licence.
copyright = "The autodiff_ref developers. Released under the BSD 3-Clause licence"
release = autodiff_ref.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------
extensions = [
    "myst_nb",
    "sphinx_gallery.gen_gallery",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx_copybutton",
    "sphinx_design",
    "sphinxcontrib.bibtex",
    "sphinx.ext.viewcode",  # [source] links on the API pages
    "notfound.extension",  # 404.html, with links that work from any depth
    "sphinxext.opengraph",  # OpenGraph <meta> tags for link previews
    "tutorial_notebooks",  # docs/_ext/: each tutorial page as a reader's notebook
]

exclude_patterns = [
    "_build",
    "jupyter_execute",
    "**.ipynb_checkpoints",
    # Sources of the gallery: sphinx-gallery reads them itself and writes
    # auto_examples/; Sphinx must not treat examples/README.rst as a page.
    "examples",
    # sphinx-gallery also writes a notebook next to each generated .rst page;
    # myst-nb would otherwise read it as a second source for the same page.
    "auto_examples/*.ipynb",
    # sphinx-gallery's timing pages load jQuery and DataTables from CDNs; the
    # site loads nothing remote, so they are not written (see
    # sphinx_gallery_conf) and a stale copy from an older build is no page.
    "sg_execution_times.rst",
    "auto_examples/sg_execution_times.rst",
]

# Cross-links to Python/NumPy docs need their inventories from the network, so
# they are opt-in (and on for Read the Docs builds).
USE_INTERSPHINX = os.environ.get("AUTODIFF_REF_INTERSPHINX") == "1" or bool(
    os.environ.get("READTHEDOCS")
)
if USE_INTERSPHINX:
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        "matplotlib": ("https://matplotlib.org/stable/", None),
    }
else:
    # Offline, nitpicky mode (-n) cannot resolve references into the Python
    # and NumPy docs (e.g. type hints rendered by autodoc). Ignore only those
    # external targets; references into this project are still checked.
    nitpick_ignore_regex = [
        (r"py:.*", r"(numpy|np)(\..*)?"),
        (r"py:.*", r"(typing|collections\.abc|numbers)\..*"),
        # The standard library's containers, in annotations (no inventory offline).
        (r"py:class", r"(collections\.Counter|weakref\.WeakKeyDictionary)"),
        (
            r"py:class",
            r"(int|float|complex|bool|str|bytes|object|tuple|list|dict|set|None)",
        ),
    ]

# Words NumPy-style docstrings use for kinds of values: prose, not classes.
nitpick_ignore = [
    ("py:class", word)
    for word in ("array_like", "array", "ndarray", "number", "callable")
]
if not USE_INTERSPHINX:  # offline: matplotlib's inventory is not at hand
    nitpick_ignore.append(("py:class", "matplotlib.axes.Axes"))

# -- autodoc / autosummary / napoleon ----------------------------------------
autosummary_generate = True  # pages go to generated/ (":toctree: generated")
autosummary_ignore_module_all = False  # a module's __all__ says what is public
templates_path = ["_templates"]
# The module template skips names re-exported at the top level (see its comment).
autosummary_context = {
    "toplevel": [
        f"{getattr(autodiff_ref, name).__module__}.{name}"
        for name in autodiff_ref.__all__
        if hasattr(getattr(autodiff_ref, name), "__module__")
    ]
}
autodoc_typehints = "description"
autodoc_member_order = "bysource"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
# NumPy-style type descriptions are prose ("array_like, optional", "{'a', 'b'}"),
# not cross-reference targets: napoleon turns these words into plain text.
napoleon_preprocess_types = True
napoleon_type_aliases = {
    "array_like": ":term:`array_like <numpy:array_like>`"
    if USE_INTERSPHINX
    else "array_like",
}

# -- MyST / myst-nb ----------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
nb_execution_mode = "force"  # run every page on every build: what you read is what ran
nb_execution_raise_on_error = True
nb_execution_timeout = 120

# -- Maths: MathJax 3, served from the site itself ---------------------------
# Sphinx 9 defaults to MathJax 4 from a CDN; the site must render with no
# network (and opened from disk). The PyPI package sphinx-mathjax-offline (docs
# dependency group) ships MathJax 3.2.2 in its static/mathjax/ folder; Sphinx
# copies that into _static/mathjax/ like any static file. Its extension hook is
# not used: it declares no parallel safety (so -j with -W fails) and copies
# only after a build without errors.
_mathjax_package = importlib.util.find_spec("sphinx-mathjax-offline")
if _mathjax_package is None or _mathjax_package.origin is None:
    raise RuntimeError(
        "The site serves MathJax itself, from the sphinx-mathjax-offline package: "
        "install the docs dependencies (`pip install --group docs`, or run `nox -s docs`)."
    )
# The package holds all of MathJax (24 MB): the site ships only what its pages
# load. tex-chtml.js is TeX in, HTML+CSS out, with the menu; it loads its woff
# fonts, and a TeX extension (\\boldsymbol, \\cancel, ...) the first time a page
# uses one of its macros. nox -s browser fails on any request for a file not
# shipped.
_MATHJAX = Path(_mathjax_package.origin).parent / "static" / "mathjax"
MATHJAX_SHIPPED = ("tex-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions")
_mathjax_static = BUILD_SUPPORT / "static"
shutil.rmtree(_mathjax_static / "mathjax", ignore_errors=True)
for _shipped in MATHJAX_SHIPPED:
    if (_MATHJAX / _shipped).is_dir():
        shutil.copytree(_MATHJAX / _shipped, _mathjax_static / "mathjax" / _shipped)
    else:
        (_mathjax_static / "mathjax" / _shipped).parent.mkdir(
            parents=True, exist_ok=True
        )
        shutil.copy2(_MATHJAX / _shipped, _mathjax_static / "mathjax" / _shipped)
html_static_path = [str(_mathjax_static), "_static"]
mathjax_path = "mathjax/tex-chtml.js"
# A MathJax 3 configuration (window.MathJax = ...). Setting it makes myst-parser
# put its options here too, instead of into a MathJax 4 mathjax4_config.
mathjax3_config = {
    # myst-parser marks MyST pages "ignore" and requires exactly this list (its
    # default): there only elements marked as maths are typeset, and a "\(" in
    # prose stays as written.
    "options": {"processHtmlClass": "tex2jax_process|mathjax_process|math|output_area"},
}

# -- sphinx-gallery ----------------------------------------------------------
# The gallery follows the learning path: slope, finite differences, rules and the
# chain rule, gradients, symbolic vs automatic, dual numbers, graphs and reverse
# mode, forward vs reverse, then models; Newton's method (Hessians) goes further.
# A script not listed comes after these, by name; tests/test_gallery.py fails
# until it is listed here.
GALLERY_ORDER = [
    "plot_tangent_line.py",
    "plot_finite_difference_error.py",
    "plot_derivative_rules.py",
    "plot_chain_rule.py",
    "plot_gradient_field.py",
    "plot_expression_swell.py",
    "plot_dual_shear.py",
    "plot_computational_graph.py",
    "plot_forward_vs_reverse_cost.py",
    "plot_linear_regression.py",
    "plot_gradient_descent_sgd.py",
    "plot_mlp_decision_boundary.py",
    "plot_newton_rosenbrock.py",
    "plot_gaussian_mle.py",
]
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # execute every plot_*.py
    "abort_on_example_error": True,
    "doc_module": ("autodiff_ref",),
    # Same folder as the autosummary pages, so the "Examples using ..." blocks
    # (generated/gallery_backreferences/<name>.examples) sit beside them.
    "backreferences_dir": "generated/gallery_backreferences",
    "matplotlib_animations": False,
    # An instance of sphinx-gallery's own class, so the configuration can be pickled.
    "within_subsection_order": ExplicitOrder([*GALLERY_ORDER, "*"]),
    "download_all_examples": False,
    "remove_config_comments": True,
    # Before and after each script: matplotlib's settings reset, and a time limit
    # (docs/_ext/gallery_time_limit.py) so a script that hangs fails the build,
    # naming itself and its line, as nb_execution_timeout does for the pages.
    "reset_modules": ("matplotlib", "gallery_time_limit.reset"),
    "reset_modules_order": "both",
    # Figures at twice the resolution too, for high-density screens.
    "image_srcset": ["2x"],
    # The timing pages would load scripts from CDNs (see exclude_patterns).
    "write_computation_times": False,
}

# -- sphinxcontrib-bibtex ----------------------------------------------------
bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "unsrt"
bibtex_reference_style = "author_year"

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"autodiff_ref {release}"
html_theme_options = {
    "show_toc_level": 2,
    # The copyright item carries the licence (see `copyright` above).
    "footer_start": ["copyright", "sphinx-version"],
    # The version the site documents (_templates/documented-version.html).
    "footer_end": ["documented-version", "theme-version"],
}
# Site-wide fixes: contrast in dark mode, visually hidden thumbnail link names.
html_css_files = ["custom.css"]
# Sphinx's search scores, except that the glossary's entries rank just below the
# page that teaches the same concept (see the file).
html_search_scorer = str(Path(__file__).parent / "_static" / "search_scorer.js")
# The theme's light/dark default (a template variable, not a theme option).
# Without one it logs a console error ("Got invalid theme mode") on a reader's
# first visit, before it has stored a mode.
html_context = {"default_mode": "auto"}

# -- Copy buttons ----------------------------------------------------------------
# Copy the code only: no ">>> "/"... " prompts, no doctest output lines, no line
# numbers (only lines that had a prompt are copied from a prompted block).
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_exclude = ".linenos, .gp, .go"

# -- 404 page and OpenGraph ----------------------------------------------------
# The 404 page's links are absolute, so they work from any missing URL. Read the
# Docs sets its own prefix; elsewhere the site is served from the root.
if not os.environ.get("READTHEDOCS"):
    notfound_urls_prefix = "/"
notfound_context = {
    "title": "Page not found",
    "body": (
        "<h1>Page not found</h1>\n<p>There is no page at this address. Start from "
        '<a href="/index.html">the home page</a> or use the search box.</p>'
    ),
}
# No public address exists yet: og:url is left out rather than invented (set
# ogp_site_url once the site has one; Read the Docs builds get theirs).
ogp_site_url = ""
# Social-card images would be drawn with matplotlib for every page: not needed.
ogp_social_cards = {"enable": False}

# -- Page kernels: quiet, and figures as SVG ------------------------------------
# The pages' kernels read this IPython profile (IPYTHONDIR is inherited): their
# figures are SVG (sharp at every zoom) with labels as large as the body text, and the
# kernel does not log "running over TCP without encryption" once per page (the
# kernels listen on 127.0.0.1 only).
_ipython_dir = BUILD_SUPPORT / "ipython"
(_ipython_dir / "profile_default").mkdir(parents=True, exist_ok=True)
(_ipython_dir / "profile_default" / "ipython_kernel_config.py").write_text(
    'c.IPKernelApp.log_level = "ERROR"\n'
    'c.InlineBackend.figure_formats = {"svg"}\n'
    # 12 pt: at a figure's natural size (a 6.4-inch figure fits the column)
    # that is 16 px, the body text's size; nox -s browser measures it.
    'c.InlineBackend.rc = {"svg.fonttype": "path", "font.size": 12}\n',
    encoding="utf-8",
)
os.environ["IPYTHONDIR"] = str(_ipython_dir)
# The JAX cells beside grad, jvp, vjp and the custom rules: CPU only, so JAX neither
# looks for accelerators nor warns that it found none (the kernels inherit this).
os.environ["JAX_PLATFORMS"] = "cpu"


# -- Quieter build log -----------------------------------------------------------
class _NoConfigDump(logging.Filter):
    """Drop myst's and myst-nb's one-line dumps of their whole configuration."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not any(
            type(a).__name__ in ("MdParserConfig", "NbParserConfig") for a in args
        )


for _logger in ("sphinx.myst_parser.sphinx_ext.main", "sphinx.myst_nb.sphinx_ext"):
    logging.getLogger(_logger).addFilter(_NoConfigDump())


# -- Accessible names for the theme's collapse toggles ---------------------------
# pydata-sphinx-theme puts only a decorative chevron in each <summary> of the
# navigation: screen readers announce an unnamed control. Give each one a
# visually hidden name from the link beside it.
_TOGGLE = re.compile(
    r'(<a (?:aria-current="page" )?class="[^"]*reference internal" href="[^"]*">'
    r"(?P<title>.*?)</a>"
    r"<details(?: open=\"open\")?><summary>)"
    r'(<span class="toctree-toggle" role="presentation">)'
)


def _name_toggles(html: str) -> str:
    def named(match: re.Match[str]) -> str:
        title = re.sub(r"<[^>]+>", "", match["title"])
        hidden = f'<span class="visually-hidden">Pages under {title}</span>'
        return match[1] + hidden + match[3]

    return _TOGGLE.sub(named, html)


def _wrap_toctree(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    generate = context.get("generate_toctree_html")
    if generate is None:
        return

    def generate_named(*args: Any, **kwargs: Any) -> Any:
        return _name_toggles(str(generate(*args, **kwargs)))

    context["generate_toctree_html"] = generate_named


# Two ARIA mismatches in what the extensions write into the page body, which
# axe-core reports as serious or critical:
# - myst-nb names each hidden-cell toggle "Toggle hidden content" while it shows
#   "Show code cell source": the visible text should be (part of) the name;
# - docutils makes a bibliography a role="list" of role="doc-biblioentry"
#   entries, a DPUB role axe does not accept as a list's item.
_BODY_FIXES = (
    ('<summary aria-label="Toggle hidden content">', "<summary>"),
    ('role="doc-biblioentry"', 'role="listitem"'),
)


def _fix_body(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    body = context.get("body")
    if isinstance(body, str):
        for old, new in _BODY_FIXES:
            body = body.replace(old, new)
        context["body"] = body


# viewcode's "[docs]" links back from the source pages name the object by the
# module it is defined in or the one it is documented under, whichever it saw
# (autodiff_ref.core.primal_value, documented as autodiff_ref.primal_value), so
# some anchors miss. Point each at the one id on its target page that ends with
# the same dotted name; nox -s browser checks every anchor.
_BACKLINK = re.compile(r'(<a class="viewcode-back" href=")([^"#]+)#([^"]+)(")')


def _repair_viewcode_backlinks(app: Any, exception: Exception | None) -> None:
    if exception is not None or getattr(app.builder, "format", "") != "html":
        return
    ids: dict[Path, set[str]] = {}

    def ids_of(path: Path) -> set[str]:
        if path not in ids:
            text = path.read_text(encoding="utf-8") if path.is_file() else ""
            ids[path] = set(re.findall(r'id="([^"]+)"', text))
        return ids[path]

    for page in (Path(app.outdir) / "_modules").rglob("*.html"):
        text = page.read_text(encoding="utf-8")

        def repaired(link: re.Match[str], page: Path = page) -> str:
            found = ids_of((page.parent / link[2]).resolve())
            name = link[3]
            if name in found:
                return link[0]
            parts = name.split(".")
            for start in range(1, len(parts)):
                suffix = "." + ".".join(parts[start:])
                matches = [i for i in found if i.endswith(suffix)]
                if len(matches) == 1:
                    return f"{link[1]}{link[2]}#{matches[0]}{link[4]}"
            return link[0]

        fixed = _BACKLINK.sub(repaired, text)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")


def setup(app: Any) -> None:
    app.connect("build-finished", _repair_viewcode_backlinks)
    # After the theme's own handler, which puts generate_toctree_html in the context.
    app.connect("html-page-context", _wrap_toctree, priority=900)
    app.connect("html-page-context", _fix_body)
