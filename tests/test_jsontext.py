"""jsontext: JSON from outside, refused when it could not be stored or served back; responses as Starlette writes
them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockscim.util.jsontext import MAX_DEPTH, JsonTextError, dumps, loads, stream_lists


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


def _streamed(raw: bytes | str) -> dict[str, list[Any]]:
    return {key: list(elements) for key, elements in stream_lists(raw)}


_DEEP = b"[" * (MAX_DEPTH - 2) + b"]" * (MAX_DEPTH - 2)  # an element this deep sits at MAX_DEPTH in the object


@pytest.mark.parametrize("raw", [
    b"{}", b" {\n} \n", b'{"a": []}', b'{"a":[],"b":[1]}',
    b'{\n "Users": [\n  {"id": "1", "name": {"givenName": "B"}},\n  {"id": "2"}\n ],\n "Groups": [ ]\n}\n',
    b'{"a" : [ 1 , "x" , null , true , {"k": [1.5e-7, -0.0]} ] , "b":[[]]}',
    '{"a": ["caf\\u00e9", "café"]}'.encode(), '{"a": ["café"]}',
    b'{"a": [123456789012345678901234567890, -9223372036854775809]}',
    b'{"a": [' + _DEEP + b"]}", b'{"a": [[' + _DEEP + b"]]}", b'{"a": [' + b"{" * 70 + b"}" * 70 + b"]}",
    b'{"a": [["' + b"x" * 20000 + b'", ' + _DEEP + b"]]}", b'{"a": [["' + b"x" * 20000 + b'", [' + _DEEP + b"]]]}",
    b'{"a": [1], "a": [2]}',
    b'{"a": [1,]}', b'{"a": [],}', b'{"a": [1] "b": []}', b'{"a": [1]} x', b'{"a": [1]', b'{"a": [',
    b'{"a": 1}', b'{"a": {}}', b"[1]", b'"a"', b"", b"   ",
    b'{"a": [NaN]}', b'{"a": [1e400]}', b'{"a": [-Infinity]}',
    b'{"a": ["\\ud800"]}', b'{"a": ["\\ud83d\\ude00"]}', b'\xef\xbb\xbf{"a": []}', '{"a": []}'.encode("utf-16"),
    b'{"a": ["\xff"]}', b'{a: []}', b'{"a": [01]}', b'{"a": ["\x01"]}',
], ids=lambda raw: repr(raw[:24]))
def test_a_streamed_text_reads_as_loads_reads_it(raw: bytes | str) -> None:
    """Whatever the element reader yields is what ``loads`` gives for the same text; what it does not read (a
    surrogate escape, a byte-order mark, a member that is not a list, malformed text) it refuses, for ``loads`` to
    accept or refuse whole."""
    try:
        whole: Any = loads(raw)
    except JsonTextError:
        whole = JsonTextError
    try:
        streamed: Any = _streamed(raw)
    except JsonTextError:
        return
    assert streamed == whole  # (a repeated key is yielded twice; read into a dict, the last one wins, as in loads)


@pytest.mark.parametrize(("raw", "value"), [
    (b"{}", {}),
    (b'{\n "Users": [\n  {"id": "1"},\n  {"id": "2"}\n ],\n "Groups": [ ]\n}\n',
     {"Users": [{"id": "1"}, {"id": "2"}], "Groups": []}),
    ('{"a": ["café", "caf\\u00e9"]}', {"a": ["café", "café"]}),
    (b'{"a": [123456789012345678901234567890]}', {"a": [123456789012345678901234567890]}),
    (b'{"a": [' + _DEEP + b"]}", None),
], ids=["empty", "fixture-layout", "text", "integer-beyond-64-bits", "max-depth"])
def test_a_plain_text_is_streamed(raw: bytes | str, value: Any) -> None:
    """The plain case is read element by element (the fast path a large fixture takes), not refused."""
    assert _streamed(raw) == (value if value is not None else loads(raw))


def test_a_list_read_halfway_stops_the_reader() -> None:
    """Each member's elements are read before the next member: a caller that skips the rest gets an error, not a
    misread."""
    members = stream_lists(b'{"a": [1, 2], "b": [3]}')
    key, elements = next(members)
    assert (key, next(elements)) == ("a", 1)
    with pytest.raises(JsonTextError, match="was not read to its end"):
        next(members)
