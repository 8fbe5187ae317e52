"""mockscim: a local emulator of Delinea's SCIM Cloud API and Secret Server."""

from __future__ import annotations

__version__ = "0.1.0"

