"""JSON text from the outside world: parsed, and refused when it could not be stored or served back.

``json.loads`` accepts two things the rest of the server cannot live with: lone UTF-16 surrogates (``"\\ud800"`` is
valid JSON syntax but no Unicode text, RFC 8259 §8.2, so it cannot be encoded again in a response or a store file)
and arbitrarily deep nesting (a ``RecursionError`` deep inside a handler). Both are refused here, once, at the edge,
with numbers JSON cannot carry (``NaN``, ``Infinity``, ``1e400``: RFC 8259 §6), which no response could send back.

Texts are parsed and responses encoded by orjson, ten times faster than the ``json`` module on a SCIM resource (a
1 KB User: 0.4 µs against 6.5 µs to encode, 1.7 against 5.8 to parse); ``json`` takes over wherever orjson would
answer differently (docs/performance.md "JSON").
"""

from __future__ import annotations

import json
import json.scanner
import math
import re
from collections.abc import Iterator
from typing import Any

import orjson

MAX_DEPTH = 64
"""Deeper than any SCIM resource, PatchOp, scenario or state file needs (a User is 3 levels deep)."""

_COUNT_BELOW = 1 << 16
"""Texts this long or longer are walked without counting their brackets first (a fixture holds thousands)."""

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# orjson reads an integer beyond 64 bits as a float, silently: a text with 19 digits in a row goes to `json`. Found
# by mapping every digit to "0" and looking for 19 of them: 0.13 s over a 100k-user fixture, where the pattern
# `\d{19}` takes 0.8 s (it starts again at every digit of every run), and 0.26 µs against 1 µs on a PATCH body.
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_NUMBER = b"0" * 19
_UNPARSED = object()


class JsonTextError(ValueError):
    """The text is not JSON we accept; the message says why."""


def loads(raw: bytes | bytearray | str) -> Any:
    """Parse ``raw``; raise :class:`JsonTextError` for malformed JSON, nesting deeper than :data:`MAX_DEPTH`, or a
    string that is not Unicode text (a lone surrogate)."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    value: Any = _UNPARSED
    if _LONG_NUMBER not in data.translate(_DIGITS_AS_ZERO):
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # `json` says why in its words, or reads what orjson does not (a BOM, UTF-16, a lone surrogate)
    if value is _UNPARSED:
        value = _stdlib_loads(data)
    # Cheap guards first: a walk is needed only when the text could hold deep nesting or a surrogate escape, and
    # the walk for depth visits containers alone (a 100k-user state: ~1M of them, against ~5M values in all).
    if _SURROGATE_ESCAPE.search(data):
        _check(value, 0)
    elif (len(data) > _COUNT_BELOW or data.count(b"{") + data.count(b"[") > MAX_DEPTH) and _too_deep(value):
        raise JsonTextError(f"nested deeper than {MAX_DEPTH} levels")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (RFC 8259 §6)")


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"{text[:40]} is out of range for a number")
    return number


def _stdlib_loads(data: bytes) -> Any:
    try:
        return json.loads(data, parse_constant=_refuse_constant, parse_float=_finite)
    except RecursionError:
        raise JsonTextError(f"nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise JsonTextError(f"malformed JSON: {exc}") from None


_stdlib_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, check_circular=False,
                                  separators=(",", ":")).encode


def dumps(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON, the bytes Starlette's ``JSONResponse`` writes but for a negative exponent
    (``1e-7``, where ``json`` writes ``1e-07``): orjson, or ``json`` for what orjson refuses (an integer beyond 64
    bits, a key that is not a string)."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is one
        return _stdlib_encode(value).encode("utf-8")


def _too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether a value sits deeper than ``limit`` (the root at 0), as :func:`_check` counts: level by level,
    containers only."""
    level = [value] if type(value) is dict or type(value) is list else []
    for depth in range(limit + 1):
        if not level:
            return False
        if depth == limit:
            return any(level)  # a non-empty container here has a value one level deeper
        level = [c for item in level for c in (item.values() if type(item) is dict else item)
                 if type(c) is dict or type(c) is list]
    return False


def _check(value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise JsonTextError(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise JsonTextError("a string holds a lone UTF-16 surrogate, which is not Unicode text") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key, depth + 1)
            _check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check(item, depth + 1)



_SPACE = re.compile(r"[ \t\n\r]*")  # RFC 8259 §2: the four whitespace characters
_AFTER_ELEMENT = re.compile(r"[ \t\n\r]*([,\]])[ \t\n\r]*")
_ELEMENT_DEPTH = 2  # an element of a list that is a value of the root object
_WALK_FROM = 1 << 14  # characters


def stream_lists(data: bytes | str) -> Iterator[tuple[str, Iterator[Any]]]:
    """Read a JSON object whose values are all lists one element at a time: ``(key, elements)`` per member, in
    text order; each ``elements`` must be consumed before the next member is read.

    For a large text (a fixture, docs/store.md "Loading a fixture"): no element
    outlives its use, so the whole parse is never held at once. Whatever this reader yields, :func:`loads` of the
    same text gives too: the same values, the same refusals. It reads only the plain case and raises
    :class:`JsonTextError` for anything else, malformed or not (a byte-order mark, a surrogate escape, a member
    that is not a list), leaving :func:`loads` to accept the text or say why not.
    """
    if isinstance(data, str):
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError:
            raise JsonTextError("not Unicode text: to be read whole") from None
    # A backslash is found at memchr speed (a fixture may hold none); the pattern runs only when there is one.
    if data.find(b"\\") >= 0 and _SURROGATE_ESCAPE.search(data):
        raise JsonTextError("a surrogate escape: to be read whole")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonTextError("not UTF-8: to be read whole") from None
    del data  # the caller passes the only reference: at 1M users, 850 MB less to hold while reading
    cursor = _Cursor(text)
    cursor.expect("{")
    if cursor.peek() == "}":
        cursor.at += 1
    else:
        while True:
            key = cursor.key()
            cursor.expect(":")
            cursor.expect("[")
            yield key, cursor.elements()
            if not cursor.list_read:
                raise JsonTextError(f"the list of {key!r} was not read to its end")
            if cursor.expect(",}") == "}":
                break
    if _SPACE.match(text, cursor.at).end() != len(text):  # type: ignore[union-attr]
        raise JsonTextError(f"text after the object at {cursor.at}")


class _Cursor:
    """A position in a JSON text, read with the ``json`` module's C scanner one list element per call."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        self.list_read = False
        decoder = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite)
        # typeshed types the scanner's context as a scanner; at run time it is the decoder (json/decoder.py)
        self.scan = json.scanner.make_scanner(decoder)  # type: ignore[arg-type]

    def peek(self) -> str:
        """The next character that is not whitespace (the position moves to it)."""
        self.at = _SPACE.match(self.text, self.at).end()  # type: ignore[union-attr]
        if self.at == len(self.text):
            raise JsonTextError("the text ends early")
        return self.text[self.at]

    def expect(self, chars: str) -> str:
        """Read the next character, one of ``chars``."""
        char = self.peek()
        if char not in chars:
            raise JsonTextError(f"expected one of {chars!r} at {self.at}")
        self.at += 1
        return char

    def key(self) -> str:
        if self.peek() != '"':
            raise JsonTextError(f"expected a key at {self.at}")
        try:
            key, self.at = self.scan(self.text, self.at)
        except (StopIteration, ValueError) as exc:
            raise JsonTextError(f"no key at {self.at} ({type(exc).__name__})") from None
        return str(key)  # a string: it starts with a quote

    def elements(self) -> Iterator[Any]:
        """The elements of the list that starts here, each parsed as it is reached."""
        self.list_read = False
        if self.peek() == "]":
            self.at += 1
            self.list_read = True
            return
        text, scan, count, after = self.text, self.scan, self.text.count, _AFTER_ELEMENT.match
        limit = MAX_DEPTH - _ELEMENT_DEPTH
        at = self.at
        while True:
            try:
                value, end = scan(text, at)
            except (StopIteration, ValueError, RecursionError) as exc:
                raise JsonTextError(f"no JSON value at {at} ({type(exc).__name__})") from None
            # An element holding no more brackets than the depth left cannot be too deep: most are not walked. A long
            # one (a group of thousands of members) is walked without counting: its containers are fewer than its
            # characters.
            if ((end - at > _WALK_FROM or count("{", at, end) + count("[", at, end) > limit)
                    and _too_deep(value, limit)):
                raise JsonTextError(f"nested deeper than {MAX_DEPTH} levels")
            yield value
            separator = after(text, end)
            if separator is None:
                raise JsonTextError(f"expected ',' or ']' at {end}")
            at = separator.end()
            if separator.group(1) == "]":
                self.at, self.list_read = at, True
                return
