"""What a request and its response said, bounded and redacted before it is kept (docs/behaviour.md §12)."""

from __future__ import annotations

import base64
import binascii
import json
import marshal
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode

BODY_CAP = 64 * 1024
"""A body is cut to this many bytes (docs/behaviour.md §12), and marked ``"truncated": true``."""
HEADER_VALUE_CAP = 1024
"""A header value is cut to this many characters, and a header list to :data:`HEADER_COUNT_CAP` names."""
HEADER_COUNT_CAP = 64
REDACTED = "[REDACTED]"

# docs/behaviour.md §12: credentials in headers (RFC 9110 §11.6.2, RFC 6265 §4), whatever their value.
_SECRET_HEADERS = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key", "x-auth-token",
})
# docs/behaviour.md §12: keys whose value is a credential or a secret, wherever they appear in a JSON or form body:
# token-endpoint fields (RFC 6749 §4.3.2, §6, §5.1), User `password` (RFC 7643 §4.1.1), secret `itemValue`s.
_SECRET_KEYS = frozenset({
    "password", "client_secret", "refresh_token", "access_token", "id_token", "itemvalue", "client_assertion",
    "assertion", "newpassword", "currentpassword", "privatekey", "passphrase",
})
# A key of a cut or unparsable JSON text, or of a form, whose value is then replaced in the text itself.
_TEXT_PAIR = re.compile(
    r'("(?:password|client_secret|refresh_token|access_token|id_token|itemValue|value|fields|privateKey|'
    r'passphrase|newPassword|currentPassword)"\s*:\s*)("(?:[^"\\]|\\.)*"?|\[[^\]]*\]?|\{[^}]*\}?)',
    re.IGNORECASE)
# A Secret Server field value (GET/PUT …/secrets/{id}/fields/{slug}) or a generated password: the whole body is it.
_WHOLE_BODY = re.compile(r"/secrets/[^/]+/fields/|generate-password|/secrets/[^/]+/restricted/fields/", re.I)
_PRIVILEGED = re.compile(r"/PrivilegedData", re.I)


def headers_of(raw: Iterable[tuple[bytes, bytes]], known: Sequence[str]) -> dict[str, str]:
    """The headers as ``{name: value}`` (repeated names joined by ``", "``, RFC 9110 §5.3), credentials redacted,
    each value capped at :data:`HEADER_VALUE_CAP` characters and the list at :data:`HEADER_COUNT_CAP` names."""
    out: dict[str, str] = {}
    for name_bytes, value_bytes in raw:
        name = name_bytes[:128].decode("latin-1").lower()
        if name not in out and len(out) >= HEADER_COUNT_CAP:
            continue
        if name in _SECRET_HEADERS:
            value = REDACTED
        else:
            value = value_bytes[:HEADER_VALUE_CAP + 1].decode("latin-1")
            if len(value) > HEADER_VALUE_CAP:
                value = value[:HEADER_VALUE_CAP] + "…"
            value = _known(value, known)
        if name in out:
            value = out[name] + ", " + value
            if len(value) > HEADER_VALUE_CAP:
                value = value[:HEADER_VALUE_CAP] + "…"
        out[name] = value
    return out


def _known(text: str, known: Sequence[str]) -> str:
    for secret in known:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _redact_json(value: Any, known: Sequence[str], privileged: bool) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        op_path = value.get("path") if isinstance(value.get("path"), str) else None
        for key, item in value.items():
            low = str(key).lower()
            if low in _SECRET_KEYS or (privileged and low == "fields"):
                out[key] = REDACTED
            elif low == "value" and op_path is not None and _secret_op_path(op_path, privileged):
                out[key] = REDACTED  # a SCIM PATCH operation (RFC 7644 §3.5.2) setting a secret attribute
            else:
                out[key] = _redact_json(item, known, privileged)
        return out
    if isinstance(value, list):
        return [_redact_json(item, known, privileged) for item in value]
    if isinstance(value, str):
        return _known(value, known)
    return value


def _secret_op_path(path: str, privileged: bool) -> bool:
    low = path.lower()
    last = re.split(r"[.:\[\]]", low.rstrip("]"))[-1] if low else low
    return last in _SECRET_KEYS or "password" in low or (privileged and low.startswith("fields"))


def _redact_text(text: str, known: Sequence[str]) -> str:
    text = _TEXT_PAIR.sub(lambda m: m.group(1) + '"' + REDACTED + '"', text)
    return _known(text, known)


def body_of(raw: bytes, truncated: bool, content_type: str, path: str, known: Sequence[str]) -> dict[str, Any]:
    """``{"body": …}`` (and ``"truncated": true`` when cut): JSON as JSON, other text as a string, binary as
    ``{"base64": …}``, every secret docs/behaviour.md §12 lists replaced by ``"[REDACTED]"``."""
    if not raw:
        return {"body": None}
    out: dict[str, Any] = {}
    ctype = content_type.split(";")[0].strip().lower()
    if _WHOLE_BODY.search(path):
        out["body"] = REDACTED
    else:
        out["body"] = _body(raw, truncated, ctype, path, known)
    if truncated:
        out["truncated"] = True
    return out


def _body(raw: bytes, truncated: bool, ctype: str, path: str, known: Sequence[str]) -> Any:
    privileged = _PRIVILEGED.search(path) is not None
    if not truncated and ("json" in ctype or raw[:1] in (b"{", b"[")):
        try:
            return _redact_json(json.loads(raw), known, privileged)
        except (ValueError, RecursionError):
            pass
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        if truncated:  # a multi-byte character cut at the edge
            try:
                text = raw[:-3].decode("utf-8", errors="strict") if len(raw) > 3 else ""
            except UnicodeDecodeError:
                return {"base64": base64.b64encode(raw).decode("ascii")}
        else:
            return {"base64": base64.b64encode(raw).decode("ascii")}
    if ctype == "application/x-www-form-urlencoded":
        pairs = parse_qsl(text, keep_blank_values=True)
        return urlencode([(k, REDACTED if k.lower() in _SECRET_KEYS else _known(v, known)) for k, v in pairs])
    if ctype.startswith("multipart/"):
        return REDACTED  # a file field upload (docs/behaviour.md §9): its parts are secret values
    return _redact_text(text, known)


class Capture:
    """At most :data:`BODY_CAP` bytes of a body, and whether there was more."""

    __slots__ = ("chunks", "size", "truncated")

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.truncated = False

    def add(self, chunk: bytes) -> None:
        """Keep what of ``chunk`` fits (callers skip empty chunks: most requests have no body)."""
        room = BODY_CAP - self.size
        if room <= 0:
            self.truncated = True
            return
        if len(chunk) > room:
            chunk = chunk[:room]
            self.truncated = True
        self.chunks.append(bytes(chunk))
        self.size += len(chunk)


def content_type(headers: Iterable[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value[:200].decode("latin-1")
    return ""


_encode = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":")).encode


def _side(headers: Headers, body: bytes, truncated: bool, path: str, known: Sequence[str]) -> str:
    """One side of an exchange as the journal shows it: ``{"headers":{…},"body":…}``, redacted."""
    head = _encode(headers_of(headers, known))
    return '{"headers":' + head + "," + _encode(body_of(body, truncated, content_type(headers), path, known))[1:]


Headers = Sequence[tuple[bytes, bytes]]

# marshal's format 2 has no back-references: half the cost of the default format for a head and a body.
_PACKING = 2


def pack_exchange(path: str, request_headers: Headers, request_body: Capture | None, response_headers: Headers,
                  response_body: Capture) -> bytes:
    """What a request (``request_body`` None: it had no body) and its response said, as they came (docs/behaviour.md
    §12), in one bytes object: bounded (bodies by :class:`Capture`, heads by the HTTP edge), counted against the
    journal's body budget by its length, and redacted and formatted only when read (:func:`exchange_text`), so a
    request that nobody reads pays for none of that.

    One object rather than the few dozen of the heads and bodies themselves: a journal keeps ten thousand, and small
    objects kept that long scatter the memory of every later request (docs/performance.md "The journal's memory")."""
    # Headers and chunks as the ASGI messages held them (marshal checks their types: Any for mypy).
    kept: Any = (path, request_headers, None if request_body is None else request_body.chunks,
                 request_body is not None and request_body.truncated, response_headers, response_body.chunks,
                 response_body.truncated)
    try:
        return marshal.dumps(kept, _PACKING)
    except ValueError:  # headers of other types than ASGI's bytes: kept as their text, never failing the request
        sent = [(repr(name).encode(), repr(value).encode()) for name, value in request_headers]
        answered = [(repr(name).encode(), repr(value).encode()) for name, value in response_headers]
        return marshal.dumps((path, sent, *kept[2:4], answered, *kept[5:]), _PACKING)


def exchange_text(packed: bytes) -> str:
    """The ``"request":{…},"response":{…}`` members of a journal entry, redacted (docs/behaviour.md §12), from what
    :func:`pack_exchange` packed."""
    path, sent, sent_chunks, sent_truncated, answered, answered_chunks, answered_truncated = marshal.loads(packed)
    known = credentials(sent)
    request = _side(sent, b"".join(sent_chunks or ()), sent_truncated, path, known)
    response = _side(answered, b"".join(answered_chunks), answered_truncated, path, known)
    return f'"request":{request},"response":{response}'


def credentials(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    """The credential values a request carries (bearer tokens, a Basic client secret): redacted wherever they recur
    (docs/behaviour.md §12)."""
    known: list[str] = []
    for name, value in headers:
        if name == b"authorization":
            scheme, _, rest = value.decode("latin-1").strip().partition(" ")
            rest = rest.strip()
            if len(scheme) == 5 and scheme.lower() == "basic":
                try:
                    rest = base64.b64decode(rest, validate=True).decode("utf-8").partition(":")[2]
                except (binascii.Error, UnicodeDecodeError):
                    pass
                known.append(unquote_plus(rest))  # RFC 6749 §2.3.1: form-encoded inside Basic
            known.append(rest)
    return [k for k in known if len(k) >= 4]  # too short to be a secret, and would mangle everything
