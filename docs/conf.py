"""Sphinx configuration for the autodiff_ref site.

Built strictly by ``nox -s docs`` (``sphinx-build -W -n --keep-going``): every
warning fails the build. Pages and gallery scripts are executed on every build,
and the build never needs the network.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: no display on CI
# ...but the page kernels must pick matplotlib's inline backend themselves:
# an inherited MPLBACKEND=Agg would make every figure on the pages vanish.
os.environ.pop("MPLBACKEND", None)

import autodiff_ref

# -- Project -----------------------------------------------------------------
project = "autodiff_ref"
author = "autodiff_ref developers"
copyright = "autodiff_ref developers"
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
        (r"py:class", r"(int|float|complex|bool|str|bytes|object|tuple|list|dict|set|None)"),
    ]

# Words NumPy-style docstrings use for kinds of values: prose, not classes.
nitpick_ignore = [
    ("py:class", word) for word in ("array_like", "array", "ndarray", "number", "callable")
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
    "array_like": ":term:`array_like <numpy:array_like>`" if USE_INTERSPHINX else "array_like",
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
html_static_path = [str(Path(_mathjax_package.origin).parent / "static")]
# tex-chtml: TeX in, HTML+CSS out, with its woff fonts beside it in _static/mathjax/.
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
from sphinx_gallery.sorting import ExplicitOrder  # noqa: E402

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
    "download_all_examples": False,
    "remove_config_comments": True,
    "reset_modules": ("matplotlib",),
    # The timing pages would load scripts from CDNs (see exclude_patterns).
    "write_computation_times": False,
    # The gallery follows the learning path (docs/tutorials/): derivatives, rules,
    # gradients, the chain rule, three ways to differentiate, dual numbers, reverse
    # mode, forward vs reverse, then the applications. Unlisted scripts come last.
    "within_subsection_order": ExplicitOrder(
        [
            "plot_tangent_line.py",
            "plot_finite_difference_error.py",
            "plot_derivative_rules.py",
            "plot_gradient_field.py",
            "plot_chain_rule.py",
            "plot_expression_swell.py",
            "plot_dual_shear.py",
            "plot_computational_graph.py",
            "plot_forward_vs_reverse_cost.py",
            "plot_linear_regression.py",
            "plot_gradient_descent_sgd.py",
            "plot_newton_rosenbrock.py",
            "plot_mlp_decision_boundary.py",
            "*",
        ]
    ),
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
}
# The theme's light/dark default (a template variable, not a theme option).
# Without one it logs a console error ("Got invalid theme mode") on a reader's
# first visit, before it has stored a mode.
html_context = {"default_mode": "auto"}
