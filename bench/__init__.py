"""mockscim's benchmark suite: ``python -m bench [--quick]`` (not part of the installed package)."""
