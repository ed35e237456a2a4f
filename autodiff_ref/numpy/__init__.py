"""The NumPy namespace of autodiff_ref (filled in by the next commit)."""
