"""Sphinx configuration for the autodiff_ref site.

Built strictly by ``nox -s docs`` (``sphinx-build -W -n --keep-going``): every
warning fails the build. Pages and gallery scripts are executed on every build,
and the build never needs the network.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # headless: no display on CI

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

# -- autodoc / autosummary / napoleon ----------------------------------------
autosummary_generate = True  # pages go to generated/ (":toctree: generated")
autosummary_ignore_module_all = False  # a module's __all__ says what is public
templates_path = ["_templates"]
# The module template skips names re-exported at the top level (see its comment).
autosummary_context = {"toplevel": list(autodiff_ref.__all__)}
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

# -- sphinx-gallery ----------------------------------------------------------
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
