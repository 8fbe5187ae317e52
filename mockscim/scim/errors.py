"""The SCIM error catalogue (docs/behaviour.md §7): every error class, its verbatim text, and its body.

Hierarchy::

    ScimError (status, scim_type, key, template)
    ├── RequiredAttribute        400 invalidValue  required
    ├── InvalidAttribute         400 invalidValue  invalid_attribute
    ├── Immutable                400 mutability    immutable
    ├── FilterFormat             400 invalidFilter filter_format
    ├── FilterUnsupported        400 invalidFilter filter_unsupported
    ├── FilterCombination        400 invalidFilter filter_combination
    ├── InvalidValue             400 invalidValue / invalidSyntax / invalidPath / noTarget   invalid_value
    ├── NotAuthorized            400 —             not_authorized (federated users)
    ├── Unauthenticated          401               unauthenticated
    ├── OwnerRequired            403               owner_required
    ├── NotFound                 404               not_found
    ├── MethodNotAllowed         405               method_not_allowed
    ├── NotUnique                409 uniqueness    not_unique
    ├── PreconditionFailed       412               precondition_failed
    ├── PayloadTooLarge          413               payload_too_large
    ├── UnsupportedMediaType     415               unsupported_media_type
    ├── TooManyRequests          429               too_many_requests
    ├── InternalError            500               internal_error
    ├── NotImplementedFeature    501               not_implemented
    ├── ServiceUnavailable       503               service_unavailable
    └── InsufficientStorage      507               insufficient_storage

Nothing else in mockscim writes SCIM error text: endpoints and middleware raise or build these classes, and
:func:`error_body` turns one into the RFC 7644 §3.12 body (``status`` as a string).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class ScimError(Exception):
    """A SCIM error: an HTTP status, an optional ``scimType`` and a ``detail`` filled from the catalogue."""

    status: ClassVar[int] = 500
    scim_type: str | None = None
    key: ClassVar[str] = "internal_error"
    template: ClassVar[str] = "Internal Server Error."

    def __init__(
        self, arg: str = "", *, scim_type: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        self.arg = arg
        self.detail = self.template.replace("{0}", arg)
        if scim_type is not None:
            self.scim_type = scim_type
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(self.detail)

    def body(self) -> dict[str, Any]:
        """This error as an RFC 7644 §3.12 body."""
        return error_body(self.status, self.detail, self.scim_type)


def error_body(status: int, detail: str, scim_type: str | None = None) -> dict[str, Any]:
    """Render a SCIM error body; ``status`` is a string (RFC 7644 §3.12), ``scimType`` only when there is one."""
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(status)}
    if scim_type:
        body["scimType"] = scim_type
    body["detail"] = detail
    return body


class RequiredAttribute(ScimError):
    status = 400
    scim_type = "invalidValue"
    key = "required"
    template = "Attribute '{0}' is required."


class InvalidAttribute(ScimError):
    status = 400
    scim_type = "invalidValue"
    key = "invalid_attribute"
    template = "The '{0}' attribute was invalid."


class Immutable(ScimError):
    status = 400
    scim_type = "mutability"
    key = "immutable"
    template = "Attribute '{0}' is immutable and cannot be changed."


class FilterFormat(ScimError):
    status = 400
    scim_type = "invalidFilter"
    key = "filter_format"
    template = "Filter string '{0}' is not in proper format."


class FilterUnsupported(ScimError):
    status = 400
    scim_type = "invalidFilter"
    key = "filter_unsupported"
    template = "Filter string '{0}' is not supported by Delinea."


class FilterCombination(ScimError):
    status = 400
    scim_type = "invalidFilter"
    key = "filter_combination"
    template = "Specified attribute and filter comparison combination is not supported."


class InvalidValue(ScimError):
    """An invalid PatchOp or body; ``scim_type`` is invalidSyntax, invalidPath or noTarget where RFC 7644 names one."""

    status = 400
    scim_type = "invalidValue"
    key = "invalid_value"
    template = (
        "A required value was missing, or the value specified was not compatible with the operation or "
        "attribute type, or resource schema"
    )


class NotAuthorized(ScimError):
    """Delinea's answer to an edit of a federated (Active Directory) user's displayName, emails or name."""

    status = 400
    scim_type = None
    key = "not_authorized"
    template = (
        "You are not authorized to perform this operation. Please contact your IT helpdesk. "
        "No additional diagnostic information is available."
    )


class Unauthenticated(ScimError):
    status = 401
    key = "unauthenticated"
    template = "Authentication failed."

    def __init__(self, arg: str = "", *, scim_type: str | None = None, headers: Mapping[str, str] | None = None):
        # RFC 6750 §3: a 401 names the scheme the client must use.
        super().__init__(arg, scim_type=scim_type, headers={"WWW-Authenticate": "Bearer", **(headers or {})})


class OwnerRequired(ScimError):
    status = 403
    key = "owner_required"
    template = "Owner-level permission is required for this operation."


class NotFound(ScimError):
    status = 404
    key = "not_found"
    template = "Resource '{0}' not found."


class MethodNotAllowed(ScimError):
    status = 405
    key = "method_not_allowed"
    template = "The method is not allowed on this resource."

    def __init__(self, arg: str = "", *, allow: tuple[str, ...] = (), headers: Mapping[str, str] | None = None):
        # RFC 9110 §15.5.6: a 405 carries Allow.
        merged = dict(headers or {})
        if allow:
            merged["Allow"] = ", ".join(allow)
        super().__init__(arg, headers=merged)


class NotUnique(ScimError):
    status = 409
    scim_type = "uniqueness"
    key = "not_unique"
    template = "Attribute '{0}' MUST be unique."


class PreconditionFailed(ScimError):
    status = 412
    key = "precondition_failed"
    template = "The resource has changed: its version does not match If-Match."


class PayloadTooLarge(ScimError):
    status = 413
    key = "payload_too_large"
    template = "The request body is larger than the server accepts."


class UnsupportedMediaType(ScimError):
    status = 415
    key = "unsupported_media_type"
    template = "The request body must be application/scim+json or application/json."


class TooManyRequests(ScimError):
    status = 429
    key = "too_many_requests"
    template = "Too many requests."


class InternalError(ScimError):
    status = 500
    key = "internal_error"
    template = "Internal Server Error."


class NotImplementedFeature(ScimError):
    status = 501
    key = "not_implemented"
    template = "Bulk operations are not supported."


class ServiceUnavailable(ScimError):
    status = 503
    key = "service_unavailable"
    template = "Secret Server service unavailable."


class InsufficientStorage(ScimError):
    # RFC 4918 §11.5; docs/behaviour.md §13 [C]: the store's disk refused the write, which was not applied.
    status = 507
    key = "insufficient_storage"
    template = "The change could not be stored (the server's disk refused the write); nothing was changed."


CATALOGUE: dict[str, type[ScimError]] = {
    cls.key: cls
    for cls in (
        RequiredAttribute,
        InvalidAttribute,
        Immutable,
        FilterFormat,
        FilterUnsupported,
        FilterCombination,
        InvalidValue,
        NotAuthorized,
        Unauthenticated,
        OwnerRequired,
        NotFound,
        MethodNotAllowed,
        NotUnique,
        PreconditionFailed,
        PayloadTooLarge,
        UnsupportedMediaType,
        TooManyRequests,
        InternalError,
        NotImplementedFeature,
        ServiceUnavailable,
        InsufficientStorage,
    )
}
"""Catalogue keys (docs/behaviour.md §7) → error class; scenarios name errors by these keys (docs/behaviour.md §10)."""


def from_key(key: str, arg: str = "") -> ScimError:
    """Build the catalogue error named ``key`` with ``{0}`` filled by ``arg``."""
    return CATALOGUE[key](arg)
