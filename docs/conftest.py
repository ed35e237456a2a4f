"""pytest collects only the ``>>>`` examples of the MyST pages from docs/.

The gallery scripts run as tests in tests/test_gallery.py (as scripts, not
imported as modules), and conf.py and build output are not tests.
"""

collect_ignore = ["conf.py"]
collect_ignore_glob = [
    "examples/*",
    "_build/*",
    "auto_examples/*",
    "generated/*",
    "jupyter_execute/*",
    "_templates/*",
]
