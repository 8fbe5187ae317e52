"""`python -m mockscim`: the same as the `mockscim` command."""

from __future__ import annotations

import sys

from mockscim.cli import main

sys.exit(main())
