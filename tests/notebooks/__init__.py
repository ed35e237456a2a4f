"""The tutorial pages run as readers' notebooks, by ``nox -s notebooks`` (run_tutorials.py)."""
