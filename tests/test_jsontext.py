"""jsontext: JSON from outside, refused when it could not be stored or served back; responses as Starlette writes
them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockscim.util.jsontext import MAX_DEPTH, JsonTextError, dumps, loads


@pytest.mark.parametrize(("raw", "value"), [
    (b'{"a": 1}', {"a": 1}),
    ('{"a": "caf\\u00e9"}', {"a": "café"}),
    (b'{"a": "\\ud83d\\ude00"}', {"a": "\U0001f600"}),  # a surrogate *pair* is fine
    (b"[" * MAX_DEPTH + b"]" * MAX_DEPTH, None),
    (bytearray(b'{"x": [1, 2]}'), {"x": [1, 2]}),
    (b'{"n": 123456789012345678901234567890}', {"n": 123456789012345678901234567890}),
    (b'[-9223372036854775809, 18446744073709551616]', [-9223372036854775809, 18446744073709551616]),
    (b'[1.5e-7, -0.0, 0.1, 1e308]', [1.5e-7, -0.0, 0.1, 1e308]),
    (b'\xef\xbb\xbf{"bom": true}', {"bom": True}),
    ('{"a": 1}'.encode("utf-16"), {"a": 1}),
    (b'{"a": 1, "a": 2}', {"a": 2}),
], ids=["object", "escape", "pair", "max-depth", "bytearray", "integer-beyond-64-bits", "integers-at-64-bits",
        "floats", "utf8-bom", "utf16", "repeated-key-last-wins"])
def test_accepted(raw: Any, value: Any) -> None:
    """Ordinary JSON, escapes and surrogate pairs, and nesting up to MAX_DEPTH load."""
    if value is None:  # MAX_DEPTH nested lists
        value = []
        for _ in range(MAX_DEPTH - 1):
            value = [value]
    assert loads(raw) == value


@pytest.mark.parametrize(("raw", "reason"), [
    (b'{"a": ', "malformed JSON"),
    (b'{"a": "\\ud800"}', "lone UTF-16 surrogate"),
    (b'{"\\udc00": 1}', "lone UTF-16 surrogate"),
    (b"[" * (MAX_DEPTH + 2) + b"]" * (MAX_DEPTH + 2), "nested deeper"),
    (b"[" * 100000, "nested deeper"),
    (b"\xff", "malformed JSON"),
    (b'{"a": NaN}', "NaN is not a JSON number"),
    (b'[-Infinity]', "-Infinity is not a JSON number"),
    (b'{"a": 1e400}', "1e400 is out of range"),
], ids=["truncated", "lone-high", "lone-in-key", "too-deep", "recursion", "not-utf8", "nan", "infinity",
        "overflow"])
def test_refused(raw: bytes, reason: str) -> None:
    """Malformed text, lone surrogates and absurd nesting raise JsonTextError saying which."""
    with pytest.raises(JsonTextError, match=reason):
        loads(raw)


_STARLETTE = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


@pytest.mark.parametrize("value", [
    {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bjensen", "active": True, "x": None},
    {"text": "café \u2028 \x01\x1f\x7f \"q\" \\ / \t\n\r\b\f 😀"},
    {"ints": [0, -1, 2**63 - 1, -2**63, 2**64 - 1, 2**70, -2**70]},
    {"floats": [0.1, 1.5, -0.0, 123.456]},
    {1: "integer key", "nested": [[{"a": []}], {}]},
    ("a", ["tuple"]),
], ids=["user", "escapes", "integers", "floats", "non-string-key", "tuple"])
def test_dumps_writes_what_starlette_writes(value: Any) -> None:
    """A response body is the bytes Starlette's JSONResponse would send, whatever the fast path."""
    assert dumps(value) == _STARLETTE(value).encode("utf-8")


def test_dumps_writes_an_exponent_in_its_shortest_form() -> None:
    """The one difference from Starlette's bytes: a negative exponent is written without its leading zero (``1e-07``
    there), the same number."""
    value = {"small": 1.5e-7, "large": 1e22, "tiny": 5e-324}
    assert dumps(value) == b'{"small":1.5e-7,"large":1e+22,"tiny":5e-324}'
    assert json.loads(dumps(value)) == value
