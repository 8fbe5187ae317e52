"""The SCIM filter and PATCH-path grammar (RFC 7644 §3.4.2.2, §3.5.2): AST, tokenizer and recursive-descent parser."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple, NoReturn, TypeAlias

from mockscim.scim.errors import FilterFormat, InvalidValue

Scalar: TypeAlias = str | int | float | bool | None
"""A filter literal: RFC 7644 §3.4.2.2 compValue = false / null / true / number / string (JSON, RFC 7159)."""

COMPARE_OPS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})
"""RFC 7644 §3.4.2.2 compareOp, lower-cased."""


@dataclass(frozen=True)
class AttrPath:
    """RFC 7644 §3.4.2.2 attrPath = [URI ":"] ATTRNAME *1subAttr, spelled as written."""

    urn: str | None
    name: str
    sub: str | None

    def dotted(self) -> str:
        """The path without its URN: ``emails.value`` or ``userName``, case as written."""
        return self.name if self.sub is None else f"{self.name}.{self.sub}"


@dataclass(frozen=True)
class Compare:
    """``attrPath compareOp compValue``; ``op`` is lower-cased."""

    path: AttrPath
    op: str
    value: Scalar


@dataclass(frozen=True)
class Present:
    """``attrPath pr``."""

    path: AttrPath


@dataclass(frozen=True)
class And:
    """``FILTER and FILTER``."""

    left: Node
    right: Node


@dataclass(frozen=True)
class Or:
    """``FILTER or FILTER``."""

    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    """``not ( FILTER )``."""

    node: Node


@dataclass(frozen=True)
class ValuePath:
    """``attrPath [ valFilter ]``: some element of ``path`` matches ``filter`` (and ``sub_compare``, if any).

    ``sub_compare`` carries the Entra extension ``emails[type eq "work"].value eq "x"``: the same element's
    sub-attribute (here ``value``) must also satisfy it. The RFC 7644 ABNF has no such form; docs/behaviour.md §5
    accepts it.
    """

    path: AttrPath
    filter: Node
    sub_compare: Compare | Present | None = None


Node: TypeAlias = Compare | Present | And | Or | Not | ValuePath


@dataclass(frozen=True)
class PatchPath:
    """RFC 7644 §3.5.2 PATH = attrPath / valuePath [subAttr]."""

    attr: AttrPath
    filter: Node | None
    sub: str | None


# RFC 7644 §3.4.2.2: ATTRNAME = ALPHA *(nameChar); nameChar = "-" / "_" / DIGIT / ALPHA. "$ref" (RFC 7643 §2.3.7)
# is accepted too, since resources carry it. The URI prefix runs up to the last ":" before the attribute name.
_NAME = r"(?:\$ref|[A-Za-z][-_A-Za-z0-9]*)"
_NAME_RE = re.compile(_NAME)
_PATH_RE = re.compile(rf"(?:(?P<urn>[A-Za-z][-+.A-Za-z0-9]*:\S*):)?(?P<name>{_NAME})(?:\.(?P<sub>{_NAME}))?")
# RFC 7159 §6 number.
_NUMBER_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_LITERALS: dict[str, Scalar] = {"true": True, "false": False, "null": None}
_SPACE = " \t"
_PUNCT = "()[]"


MAX_NESTING = 32
"""Parentheses, ``not (`` and value paths nested deeper than this are refused as not in proper format."""
MAX_TERMS = 100
"""A filter of more comparisons than this is refused: real clients send one to a handful (docs/behaviour.md §5)."""
MAX_LENGTH = 4096
"""A filter longer than this (characters) is refused before it is parsed: a client's filter is a few dozen; a
megabyte of parentheses would otherwise hold the event loop for a second (docs/behaviour.md §5)."""
_SHOWN = 64
"""How much of a refused over-long filter its error quotes."""


def check_cost(raw: str) -> None:
    """Refuse, before tokenizing, a filter longer than :data:`MAX_LENGTH` or nested deeper than :data:`MAX_NESTING`
    (parentheses and value-path brackets outside strings): one linear scan, at C speed unless it may be deep."""
    if len(raw) > MAX_LENGTH:
        raise FilterFormat(raw[:_SHOWN] + "…")
    if raw.count("(") + raw.count("[") < MAX_NESTING:
        return
    depth = 0
    quoted = escaped = False
    for ch in raw:
        if quoted:
            escaped, quoted = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            quoted = True
        elif ch in "([":
            depth += 1
            if depth >= MAX_NESTING:  # the parser counts the top level as one (_Parser.depth)
                raise FilterFormat(raw if len(raw) <= _SHOWN else raw[:_SHOWN] + "…")
        elif ch in ")]":
            depth -= 1


class _Tok(NamedTuple):
    kind: str  # "(" ")" "[" "]" "str" "word" "end"
    text: str
    value: Scalar
    spaced: bool  # whitespace right before this token


# One pass of a compiled pattern instead of a character loop: a filter is tokenized on every list request.
_TOKEN_RE = re.compile(
    r'(?P<space>[ \t]+)|(?P<punct>[()\[\]])|(?P<str>"(?:[^"\\]|\\.)*")|(?P<word>[^ \t()\[\]"]+)|(?P<bad>")'
)


def _tokenize(raw: str) -> list[_Tok]:
    """Split ``raw`` into punctuation, JSON strings and words; raise FilterFormat on an unterminated/bad string."""
    toks: list[_Tok] = []
    spaced = False
    for m in _TOKEN_RE.finditer(raw):
        kind = m.lastgroup
        text = m.group()
        if kind == "space":
            spaced = True
            continue
        if kind == "punct":
            toks.append(_Tok(text, text, None, spaced))
        elif kind == "str":
            # RFC 7644 §3.4.2.2: string literals MUST be valid JSON strings (RFC 7159 §7).
            try:
                value = json.loads(text)
            except ValueError:
                raise FilterFormat(raw) from None
            toks.append(_Tok("str", text, value, spaced))
        elif kind == "word":
            toks.append(_Tok("word", text, None, spaced))
        else:
            raise FilterFormat(raw)  # an unterminated string
        spaced = False
    toks.append(_Tok("end", "", None, bool(raw) and raw[-1] in _SPACE))
    return toks


@lru_cache(maxsize=1024)
def attr_path(text: str) -> AttrPath | None:
    """Parse one RFC 7644 §3.4.2.2 attrPath, or None if ``text`` is not one (cached: clients use few paths)."""
    m = _PATH_RE.fullmatch(text)
    if m is None:
        return None
    return AttrPath(m.group("urn"), m.group("name"), m.group("sub"))


class _Parser:
    """Recursive descent over RFC 7644 §3.4.2.2; precedence (lowest first): or, and, not / grouping / attrExp."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.toks = _tokenize(raw)
        self.i = 0
        self.depth = 0
        self.terms = 0

    def fail(self) -> NoReturn:
        raise FilterFormat(self.raw)

    def peek(self, ahead: int = 0) -> _Tok:
        return self.toks[min(self.i + ahead, len(self.toks) - 1)]

    def take(self) -> _Tok:
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, kind: str) -> None:
        if self.take().kind != kind:
            self.fail()

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        return tok.kind == "word" and tok.text.lower() == word

    def filter(self) -> Node:
        node = self.or_expr(False)
        if self.peek().kind != "end":
            self.fail()  # trailing garbage
        return node

    def or_expr(self, in_value_path: bool) -> Node:
        # RFC 7644 §3.4.2.2: "and" takes precedence over "or"; both associate left.
        self.depth += 1
        if self.depth > MAX_NESTING:
            self.fail()  # a guard, not grammar: no client nests this deep, and recursion must stay bounded
        node = self.and_expr(in_value_path)
        while self.keyword("or"):
            self.take()
            node = Or(node, self.and_expr(in_value_path))
        self.depth -= 1
        return node

    def and_expr(self, in_value_path: bool) -> Node:
        node = self.unary(in_value_path)
        while self.keyword("and"):
            self.take()
            node = And(node, self.unary(in_value_path))
        return node

    def unary(self, in_value_path: bool) -> Node:
        self.terms += 1
        if self.terms > MAX_TERMS:
            self.fail()  # the tree's depth bounds every later walk (compile, allow-list) as well
        tok = self.peek()
        if tok.kind == "(":  # RFC 7644 §3.4.2.2 grouping
            self.take()
            node = self.or_expr(in_value_path)
            self.expect(")")
            return node
        if self.keyword("not") and self.peek(1).kind == "(":  # *1"not" "(" FILTER ")", space optional
            self.take()
            self.take()
            node = self.or_expr(in_value_path)
            self.expect(")")
            return Not(node)
        if tok.kind != "word":
            self.fail()
        return self.attr_expr(in_value_path)

    def attr_expr(self, in_value_path: bool) -> Node:
        path = attr_path(self.take().text)
        if path is None:
            self.fail()
        tok = self.peek()
        if tok.kind == "[" and not tok.spaced:
            # RFC 7644 §3.4.2.2 valuePath = attrPath "[" valFilter "]"; valFilter holds no nested valuePath.
            if in_value_path:
                self.fail()
            self.take()
            inner = self.or_expr(True)
            self.expect("]")
            sub = self.sub_attr()
            return ValuePath(path, inner, None if sub is None else self.comparison(AttrPath(None, sub, None)))
        return self.comparison(path)

    def sub_attr(self) -> str | None:
        """An optional ``.subAttr`` glued to a closing ``]``."""
        tok = self.peek()
        if tok.kind != "word" or tok.spaced or not tok.text.startswith("."):
            return None
        self.take()
        if _NAME_RE.fullmatch(tok.text[1:]) is None:
            self.fail()
        return tok.text[1:]

    def comparison(self, path: AttrPath) -> Compare | Present:
        # RFC 7644 §3.4.2.2 attrExp = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
        tok = self.take()
        op = tok.text.lower()
        if tok.kind != "word":
            self.fail()
        if op == "pr":
            return Present(path)
        if op not in COMPARE_OPS:
            self.fail()
        return Compare(path, op, self.value())

    def value(self) -> Scalar:
        tok = self.take()
        if tok.kind == "str":
            return tok.value
        if tok.kind == "word":
            lit = tok.text.lower()
            if lit in _LITERALS:
                return _LITERALS[lit]
            if _NUMBER_RE.fullmatch(tok.text):
                return int(tok.text) if tok.text.lstrip("-").isdigit() else float(tok.text)
        self.fail()

    def patch_path(self) -> PatchPath:
        # RFC 7644 §3.5.2: PATH = attrPath / valuePath [subAttr]; no whitespace around it.
        tok = self.take()
        path = attr_path(tok.text) if tok.kind == "word" and not tok.spaced else None
        if path is None:
            self.fail()
        node: Node | None = None
        sub: str | None = None
        if self.peek().kind == "[" and not self.peek().spaced:
            self.take()
            node = self.or_expr(True)
            self.expect("]")
            sub = self.sub_attr()
        end = self.peek()
        if end.kind != "end" or end.spaced:
            self.fail()
        return PatchPath(path, node, sub)


# The filter nearly every provisioning client sends: one attribute, "eq", one string (Entra, Okta, SailPoint look a
# user up by ``userName eq "…"``). Recognised whole, it skips the tokenizer and the parser objects; anything else,
# or anything odd inside it, takes the full parser, which gives the same tree for what matches here.
_SIMPLE_EQ = re.compile(r'[ \t]*(?P<path>[^ \t()\[\]"]+)[ \t]+(?i:eq)[ \t]+(?P<value>"(?:[^"\\]|\\.)*")[ \t]*')


def parse_filter(raw: str) -> Node:
    """Parse an RFC 7644 §3.4.2.2 filter; anything that does not parse, or costs more than a filter may, raises
    FilterFormat."""
    check_cost(raw)
    m = _SIMPLE_EQ.fullmatch(raw)
    if m is not None:
        path = attr_path(m.group("path"))
        if path is not None:
            text = m.group("value")[1:-1]
            if "\\" in text or not text.isprintable():  # escapes, or control characters JSON refuses raw
                try:
                    text = json.loads(m.group("value"))
                except ValueError:
                    raise FilterFormat(raw) from None
            return Compare(path, "eq", text)
    return _Parser(raw).filter()


def parse_path(text: str) -> PatchPath:
    """Parse an RFC 7644 §3.5.2 PATCH path; anything that does not parse raises InvalidValue (invalidPath)."""
    try:
        return _Parser(text).patch_path()
    except FilterFormat:
        raise InvalidValue(scim_type="invalidPath") from None
