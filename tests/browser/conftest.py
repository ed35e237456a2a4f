"""The browser checks run only in ``nox -s browser``, which sets ``AUTODIFF_REF_SITE``.

They need Debian's Chromium, Playwright, nbclient and a built site, none of
which the plain test run has: without the variable pytest skips this folder
entirely (nothing is collected, so nothing is reported as skipped).
check_site.py is the checker itself, run as a script, not a test module.
"""

import os

collect_ignore = ["check_site.py"]
if not os.environ.get("AUTODIFF_REF_SITE"):
    collect_ignore_glob = ["*.py"]
