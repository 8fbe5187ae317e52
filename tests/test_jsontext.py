"""jsontext.loads: JSON from outside, refused when it could not be stored or served back."""

from __future__ import annotations

from typing import Any

import pytest

from mockscim.util.jsontext import MAX_DEPTH, JsonTextError, loads


@pytest.mark.parametrize(("raw", "value"), [
    (b'{"a": 1}', {"a": 1}),
    ('{"a": "caf\\u00e9"}', {"a": "café"}),
    (b'{"a": "\\ud83d\\ude00"}', {"a": "\U0001f600"}),  # a surrogate *pair* is fine
    (b"[" * MAX_DEPTH + b"]" * MAX_DEPTH, None),
    (bytearray(b'{"x": [1, 2]}'), {"x": [1, 2]}),
], ids=["object", "escape", "pair", "max-depth", "bytearray"])
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
], ids=["truncated", "lone-high", "lone-in-key", "too-deep", "recursion", "not-utf8"])
def test_refused(raw: bytes, reason: str) -> None:
    """Malformed text, lone surrogates and absurd nesting raise JsonTextError saying which."""
    with pytest.raises(JsonTextError, match=reason):
        loads(raw)
