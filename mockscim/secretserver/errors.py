"""The Secret Server API's errors (docs/behaviour.md §8, §9): one class per error code, rendered as
``{"errorCode", "message"}`` by :mod:`mockscim.http.errors`. Every 4xx carries a string ``message``: Delinea's
SDK 2.0.1 fails on a body without one."""

from __future__ import annotations

from mockscim.http.errors import SecretServerError
from mockscim.secretserver import rules

__all__ = ["AccessDenied", "AuthenticationFailed", "BadRequest", "CheckOutRequired", "CommentRequired",
           "FieldNotFound", "FolderNotEmpty", "SecretCheckedOut", "Unavailable", "refused"]


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


class CommentRequired(SecretServerError):
    """A secret with ``requiresComment`` read without ``autoComment`` (docs/behaviour.md §9)."""

    def __init__(self) -> None:
        super().__init__(400, "API_ValidateSecretAccessCommentRequired",
                         "The requested Secret requires a comment when viewed.")


class CheckOutRequired(SecretServerError):
    """A secret with ``checkOutEnabled`` read without holding its check-out (docs/behaviour.md §9 [C])."""

    def __init__(self) -> None:
        super().__init__(400, "API_CheckOutRequired", "The secret must be checked out before it can be viewed.")


class SecretCheckedOut(SecretServerError):
    """A secret checked out by another user (docs/behaviour.md §9 [C])."""

    def __init__(self) -> None:
        super().__init__(400, "API_SecretCheckedOut", "The secret is checked out by another user.")


class FolderNotEmpty(SecretServerError):
    """Deleting a folder that still holds secrets or folders (docs/behaviour.md §9 [C])."""

    def __init__(self) -> None:
        super().__init__(400, "API_FolderNotEmpty", "The folder is not empty.")


def refused(refusal: rules.Refusal) -> SecretServerError:
    """The API error for a refusal of the rules (:mod:`mockscim.secretserver.rules`): one class per error code."""
    if isinstance(refusal, rules.Invalid):
        return BadRequest(refusal.message)
    if isinstance(refusal, rules.UnknownField):
        return FieldNotFound(refusal.message)
    if isinstance(refusal, rules.CommentRequired):
        return CommentRequired()
    if isinstance(refusal, rules.CheckOutRequired):
        return CheckOutRequired()
    if isinstance(refusal, rules.CheckedOutByOther):
        return SecretCheckedOut()
    if isinstance(refusal, rules.FolderNotEmpty):
        return FolderNotEmpty()
    return AccessDenied()
