"""run_tutorials.py is a script that ``nox -s notebooks`` runs, not a test module.

It needs nbclient and a kernel, which the test environment does not have.
"""

collect_ignore = ["run_tutorials.py"]
