"""The Platform token endpoint (docs/behaviour.md §2): client credentials and refresh tokens, at the root and in
Platform mode. The Secret Server's own password grant is the Secret Server API's (``mockscim.secretserver``)."""

from __future__ import annotations

from mockscim.oauth.routes import routes

__all__ = ["routes"]
