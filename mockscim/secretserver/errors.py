"""The Secret Server API's errors (docs/behaviour.md §8, §9): one class per error code, rendered as
``{"errorCode", "message"}`` by :mod:`mockscim.http.errors`. Every 4xx carries a string ``message``: Delinea's
SDK 2.0.1 fails on a body without one."""

from __future__ import annotations

from mockscim.http.errors import SecretServerError

__all__ = ["AccessDenied", "AuthenticationFailed", "BadRequest", "FieldNotFound", "Unavailable"]


class AuthenticationFailed(SecretServerError):
    """No token, or one that stands for nobody (docs/behaviour.md §9)."""

    def __init__(self) -> None:
        super().__init__(401, "AuthenticationFailed", "Authentication failed.")


class AccessDenied(SecretServerError):
    """A denied or missing secret, folder or template: Secret Server does not tell the two apart (§9)."""

    def __init__(self) -> None:
        super().__init__(400, "API_AccessDenied", "Access Denied")


class Unavailable(SecretServerError):
    """Secret Server is down (docs/behaviour.md §8)."""

    def __init__(self) -> None:
        super().__init__(503, "ServiceUnavailable", "Secret Server service unavailable.")


class BadRequest(SecretServerError):
    """A request the API cannot honour; ``message`` names the parameter."""

    def __init__(self, message: str) -> None:
        super().__init__(400, "API_BadRequest", message)


class FieldNotFound(SecretServerError):
    """A field slug the secret does not have."""

    def __init__(self, slug: str) -> None:
        super().__init__(400, "API_FieldNotFound", f"Field '{slug}' not found.")
