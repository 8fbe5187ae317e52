"""mockscim.scim.filters: RFC 7644 §3.4.2.2 parsing and evaluation, §3.5.2 paths, the allow-list (behaviour §5)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from mockscim.scim.errors import FilterCombination, FilterFormat, FilterUnsupported, InvalidValue
from mockscim.scim.filters import (
    And,
    AttrPath,
    Compare,
    Node,
    Not,
    Or,
    PatchPath,
    Present,
    ValuePath,
    compile_filter,
    enforce_allow_list,
    eq_terms,
    parse_filter,
    parse_path,
)

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

DOCS: dict[str, Mapping[str, Any]] = {
    "bjensen": {
        "schemas": [CORE, ENTERPRISE],
        "id": "2819c223",
        "userName": "bjensen",
        "title": "Tour Guide",
        "userType": "Employee",
        "active": True,
        "name": {"familyName": "O'Malley", "givenName": "Barbara"},
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": True},
            {"value": "babs@jensen.org", "type": "home"},
        ],
        "ims": [{"value": "bjensen@bar.com", "type": "xmpp"}],
        "meta": {"lastModified": "2011-05-13T04:42:34Z"},
        ENTERPRISE: {"employeeNumber": "701984", "manager": {"value": "26118915"}},
    },
    "jsmith": {
        "schemas": [CORE],
        "id": "ABC",
        "userName": "JSmith",
        "userType": "Intern",
        "active": False,
        "name": {"familyName": "Smith"},
        "emails": [{"value": "js@smith.net", "type": "home"}],
        "ims": [{"value": "js@foo.com", "type": "xmpp"}],
        "meta": {"lastModified": "2011-05-13T04:42:34.500Z"},
    },
    "jdoe": {
        "schemas": [CORE],
        "id": "x3",
        "userName": "jdoe",
        "title": "",
        "userType": "Employee",
        "emails": [{"value": "jdoe@example.org", "type": "work"}],
        "meta": {"lastModified": "2011-05-13T04:42:33Z"},
    },
}


def matching(raw: str, **kwargs: Any) -> set[str]:
    """Names of the DOCS that the compiled filter ``raw`` selects."""
    predicate = compile_filter(parse_filter(raw), **kwargs)
    return {name for name, doc in DOCS.items() if predicate(doc)}


def p(name: str, sub: str | None = None, urn: str | None = None) -> AttrPath:
    """Shorthand for an AttrPath."""
    return AttrPath(urn, name, sub)


# Every example filter of RFC 7644 §3.4.2.2, with the DOCS it selects.
RFC_EXAMPLES = [
    ('userName eq "bjensen"', {"bjensen"}),
    ('name.familyName co "O\'Malley"', {"bjensen"}),
    ('userName sw "J"', {"jsmith", "jdoe"}),
    ('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"', {"jsmith", "jdoe"}),
    ("title pr", {"bjensen"}),
    ('meta.lastModified gt "2011-05-13T04:42:34Z"', {"jsmith"}),
    ('meta.lastModified ge "2011-05-13T04:42:34Z"', {"bjensen", "jsmith"}),
    ('meta.lastModified lt "2011-05-13T04:42:34Z"', {"jdoe"}),
    ('meta.lastModified le "2011-05-13T04:42:34Z"', {"bjensen", "jdoe"}),
    ('title pr and userType eq "Employee"', {"bjensen"}),
    ('title pr or userType eq "Intern"', {"bjensen", "jsmith"}),
    ('schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"', {"bjensen"}),
    ('userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")', {"bjensen", "jdoe"}),
    ('userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")', {"jsmith"}),
    ('userType eq "Employee" and (emails.type eq "work")', {"bjensen", "jdoe"}),
    ('userType eq "Employee" and emails[type eq "work" and value co "@example.com"]', {"bjensen"}),
    (
        'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
        {"bjensen", "jsmith"},
    ),
]


@pytest.mark.parametrize(("raw", "expected"), RFC_EXAMPLES, ids=[raw for raw, _ in RFC_EXAMPLES])
def test_rfc_examples(raw: str, expected: set[str]) -> None:
    """Each RFC 7644 §3.4.2.2 example parses and selects the expected sample documents."""
    assert matching(raw, core_schema=CORE) == expected


PARSES: list[tuple[str, str, Node]] = [
    ("simple", 'userName eq "bjensen"', Compare(p("userName"), "eq", "bjensen")),
    (
        "and-binds-tighter",
        "a eq 1 or b eq 2 and c eq 3",
        Or(Compare(p("a"), "eq", 1), And(Compare(p("b"), "eq", 2), Compare(p("c"), "eq", 3))),
    ),
    ("and-left-assoc", "a pr and b pr and c pr", And(And(Present(p("a")), Present(p("b"))), Present(p("c")))),
    ("or-left-assoc", "a pr or b pr or c pr", Or(Or(Present(p("a")), Present(p("b"))), Present(p("c")))),
    (
        "grouping",
        "(a eq 1 or b eq 2) and c eq 3",
        And(Or(Compare(p("a"), "eq", 1), Compare(p("b"), "eq", 2)), Compare(p("c"), "eq", 3)),
    ),
    ("nested-groups", "((a pr))", Present(p("a"))),
    ("not-binds-tighter-than-and", "not (a pr) and b pr", And(Not(Present(p("a"))), Present(p("b")))),
    ("not-without-space", "not(a pr)", Not(Present(p("a")))),
    ("not-uppercase", "NOT (a pr)", Not(Present(p("a")))),
    ("not-as-attribute-name", 'not eq "x"', Compare(p("not"), "eq", "x")),
    ("operator-case", 'userName Eq "john"', Compare(p("userName"), "eq", "john")),
    ("keyword-case", "a pr AND b Pr Or c PR", Or(And(Present(p("a")), Present(p("b"))), Present(p("c")))),
    ("attribute-case-kept", 'Username eq "john"', Compare(p("Username"), "eq", "john")),
    (
        "many-spaces",
        '  userName   eq    "x"   and  id  eq  "1" ',
        And(Compare(p("userName"), "eq", "x"), Compare(p("id"), "eq", "1")),
    ),
    ("escapes", r'a eq "q\"b\\s\/u\u00e9\n\t"', Compare(p("a"), "eq", 'q"b\\s/u\u00e9\n\t')),
    ("empty-string", 'a eq ""', Compare(p("a"), "eq", "")),
    ("string-with-keywords", 'a eq "x and (y) or [z]"', Compare(p("a"), "eq", "x and (y) or [z]")),
    ("int", "a gt 42", Compare(p("a"), "gt", 42)),
    ("zero", "a eq 0", Compare(p("a"), "eq", 0)),
    ("negative", "a lt -7", Compare(p("a"), "lt", -7)),
    ("decimal", "a ge 1.25", Compare(p("a"), "ge", 1.25)),
    ("exponent", "a le -1.5E+3", Compare(p("a"), "le", -1500.0)),
    ("exponent-int-mantissa", "a le 2e2", Compare(p("a"), "le", 200.0)),
    ("true", "active eq true", Compare(p("active"), "eq", True)),
    ("false", "active ne FALSE", Compare(p("active"), "ne", False)),
    ("null", "title eq null", Compare(p("title"), "eq", None)),
    (
        "all-ops",
        "a co 1 and a sw 1 and a ew 1",
        And(And(Compare(p("a"), "co", 1), Compare(p("a"), "sw", 1)), Compare(p("a"), "ew", 1)),
    ),
    ("sub-attribute", 'name.familyName co "O"', Compare(p("name", "familyName"), "co", "O")),
    ("urn-core", f'{CORE}:userName eq "x"', Compare(p("userName", urn=CORE), "eq", "x")),
    ("urn-extension-sub", f'{ENTERPRISE}:manager.value eq "x"', Compare(p("manager", "value", ENTERPRISE), "eq", "x")),
    ("urn-case-kept", "URN:Foo:Bar:x eq 1", Compare(p("x", urn="URN:Foo:Bar"), "eq", 1)),
    ("ref", "members.$ref pr", Present(p("members", "$ref"))),
    ("value-path", 'emails[type eq "work"]', ValuePath(p("emails"), Compare(p("type"), "eq", "work"))),
    (
        "value-path-spaces-inside",
        'emails[  type eq "work"  ]',
        ValuePath(p("emails"), Compare(p("type"), "eq", "work")),
    ),
    (
        "value-path-logic",
        'emails[type eq "work" and not (value co "x")]',
        ValuePath(p("emails"), And(Compare(p("type"), "eq", "work"), Not(Compare(p("value"), "co", "x")))),
    ),
    (
        "value-path-sub-compare",
        'emails[type eq "work"].value eq "x"',
        ValuePath(p("emails"), Compare(p("type"), "eq", "work"), Compare(p("value"), "eq", "x")),
    ),
    (
        "value-path-sub-present",
        'emails[type eq "work"].value pr',
        ValuePath(p("emails"), Compare(p("type"), "eq", "work"), Present(p("value"))),
    ),
    (
        "value-path-in-and",
        'userName eq "a" and emails[type eq "work"].value eq "x"',
        And(
            Compare(p("userName"), "eq", "a"),
            ValuePath(p("emails"), Compare(p("type"), "eq", "work"), Compare(p("value"), "eq", "x")),
        ),
    ),
]


@pytest.mark.parametrize(("raw", "expected"), [(r, e) for _, r, e in PARSES], ids=[i for i, _, _ in PARSES])
def test_parse(raw: str, expected: Node) -> None:
    """The parser builds the expected tree: precedence, grouping, not, literals, spacing, case, URNs, value paths."""
    assert parse_filter(raw) == expected


BAD_FILTERS = [
    "",
    " ",
    "   \t ",
    "userName",
    "userName eq",
    "userName eq bjensen",
    'userName foo "x"',
    'userName equals "x"',
    'userName pr "x"',
    '(userName eq "x"',
    'userName eq "x")',
    "()",
    'emails[type eq "work"',
    'emails[type eq "work"]]',
    'emails type eq "work"]',
    'emails [type eq "work"]',
    'emails[type eq "work"] .value eq "x"',
    'emails[type eq "work"].value',
    'emails[type eq "work"].1x eq "x"',
    'emails[value[type eq "a"]]',
    'userName eq "x" garbage',
    'userName eq "x" and',
    'and userName eq "x"',
    'userName eq "x" or or b eq 1',
    'userName eq "unterminated',
    'userName eq "trailing backslash\\"',
    "userName eq 'x'",
    'userName eq "bad \\q escape"',
    'userName eq "bad \\u12 escape"',
    'userName eq "a"  "b"',
    'not userName eq "x"',
    "not (userName pr",
    "1abc eq 1",
    "-x eq 1",
    "a.b.c eq 1",
    "a..b eq 1",
    ":userName eq 1",
    "a eq 01",
    "a eq 1.",
    "a eq .5",
    "a eq +1",
    "a eq 1e",
    "a eq truee",
    'a eq "x"]',
]


@pytest.mark.parametrize("raw", BAD_FILTERS, ids=[repr(raw) for raw in BAD_FILTERS])
def test_parse_failure(raw: str) -> None:
    """Anything that does not parse raises FilterFormat echoing the raw filter exactly."""
    with pytest.raises(FilterFormat) as caught:
        parse_filter(raw)
    err = caught.value
    assert err.detail == f"Filter string '{raw}' is not in proper format."
    assert err.status == 400
    assert err.scim_type == "invalidFilter"


def case_exact_ids(name: str) -> bool:
    """A caseExact oracle like the User schema's: ids and external ids are case-exact."""
    return name in {"id", "externalid", "members.value", "emails.type"}


SEMANTICS: list[tuple[str, str, dict[str, Any], set[str]]] = [
    ("eq-case-insensitive", 'username eq "JSMITH"', {}, {"jsmith"}),
    ("eq-case-exact-miss", 'id eq "abc"', {"case_exact": case_exact_ids}, set()),
    ("eq-case-exact-hit", 'id eq "ABC"', {"case_exact": case_exact_ids}, {"jsmith"}),
    ("eq-default-insensitive", 'id eq "abc"', {}, {"jsmith"}),
    ("keys-case-insensitive", 'NAME.FAMILYNAME eq "smith"', {}, {"jsmith"}),
    ("multi-valued-any", 'emails.value eq "babs@jensen.org"', {}, {"bjensen"}),
    ("multi-valued-complex-uses-value", 'emails eq "JS@smith.net"', {}, {"jsmith"}),
    ("multi-valued-simple-any", f'schemas eq "{CORE}"', {}, {"bjensen", "jsmith", "jdoe"}),
    ("singular-complex-uses-value", f'{ENTERPRISE}:manager eq "26118915"', {"core_schema": CORE}, {"bjensen"}),
    ("co", 'userName co "SMI"', {}, {"jsmith"}),
    ("sw", 'userName sw "bj"', {}, {"bjensen"}),
    ("ew", 'userName ew "DOE"', {}, {"jdoe"}),
    ("co-case-exact", 'emails.type co "WOR"', {"case_exact": case_exact_ids}, set()),
    ("ne-absent", 'title ne "Tour Guide"', {}, {"jsmith", "jdoe"}),
    ("ne-multi-valued-is-not-eq", 'emails.type ne "home"', {}, {"jdoe"}),
    ("ne-type-mismatch", "userName ne 5", {}, {"bjensen", "jsmith", "jdoe"}),
    ("eq-null-absent", "title eq null", {}, {"jsmith"}),
    ("ne-null-present", "title ne null", {}, {"bjensen", "jdoe"}),
    ("gt-null-false", "title gt null", {}, set()),
    ("pr-empty-string", "title pr", {}, {"bjensen"}),
    ("pr-complex", "name pr", {}, {"bjensen", "jsmith"}),
    ("pr-multi-valued", "ims pr", {}, {"bjensen", "jsmith"}),
    ("pr-sub-attribute", "emails.primary pr", {}, {"bjensen"}),
    ("pr-extension", f"{ENTERPRISE}:employeeNumber pr", {"core_schema": CORE}, {"bjensen"}),
    ("pr-extension-key-case", f"{ENTERPRISE.lower()}:EMPLOYEENUMBER pr", {"core_schema": CORE}, {"bjensen"}),
    ("core-urn-case", f'{CORE.upper()}:userName eq "jdoe"', {"core_schema": CORE}, {"jdoe"}),
    ("core-urn-unknown-without-core", f'{CORE}:userName eq "jdoe"', {}, set()),
    ("bool-eq", "active eq true", {}, {"bjensen"}),
    ("bool-ne", "active ne true", {}, {"jsmith", "jdoe"}),
    ("bool-gt-false", "active gt false", {}, set()),
    ("bool-vs-number", "active eq 1", {}, set()),
    ("string-vs-number", "userName eq 5", {}, set()),
    ("number-vs-string", 'employeeNumber eq "701984"', {}, set()),
    ("string-gt-lexicographic", 'userName gt "c"', {}, {"jsmith", "jdoe"}),
    ("string-lt-case-exact", 'id lt "a"', {"case_exact": case_exact_ids}, {"bjensen", "jsmith"}),
    ("date-chronological", 'meta.lastModified gt "2011-05-13T04:42:34.1Z"', {}, {"jsmith"}),
    ("date-offset", 'meta.lastModified lt "2011-05-13T06:42:34+02:00"', {}, {"jdoe"}),
    ("date-only", 'meta.lastModified ge "2011-05-13"', {}, {"bjensen", "jsmith", "jdoe"}),
    ("co-on-number-false", "a co 1", {}, set()),
    ("not", 'not (userType eq "Employee")', {}, {"jsmith"}),
    ("value-path-sub-compare", 'emails[type eq "work"].value eq "jdoe@example.org"', {}, {"jdoe"}),
    ("value-path-sub-same-element", 'emails[type eq "home"].value eq "bjensen@example.com"', {}, set()),
    ("value-path-not", 'emails[not (type eq "work")]', {}, {"bjensen", "jsmith"}),
    ("value-path-simple-elements", f'schemas[value eq "{ENTERPRISE}"]', {}, {"bjensen"}),
    ("value-path-case-exact-prefix", 'emails[type eq "WORK"]', {"case_exact": case_exact_ids}, set()),
    ("value-path-absent", 'phoneNumbers[type eq "work"]', {}, set()),
]


@pytest.mark.parametrize(("raw", "kwargs", "expected"), [s[1:] for s in SEMANTICS], ids=[s[0] for s in SEMANTICS])
def test_compile_semantics(raw: str, kwargs: dict[str, Any], expected: set[str]) -> None:
    """Compiled predicates follow RFC 7644 §3.4.2.2 semantics on the sample documents."""
    assert matching(raw, **kwargs) == expected


NUMBERS: list[tuple[str, bool]] = [
    ("n eq 5", True),
    ("n eq 5.0", True),
    ("n gt 4.5", True),
    ("n ge 5", True),
    ("n lt 5", False),
    ("n le -1e1", False),
    ("n ne 6", True),
    ("f lt 1", True),
    ("n sw 5", False),
    ('n eq "5"', False),
    ("s gt 1", False),
    ('tags eq "B"', True),
    ('tags gt "b"', True),
]


@pytest.mark.parametrize(("raw", "expected"), NUMBERS, ids=[raw for raw, _ in NUMBERS])
def test_compile_numbers(raw: str, expected: bool) -> None:
    """Numbers compare numerically, strings lexicographically, and mismatched types never match."""
    doc = {"n": 5, "f": 0.5, "s": "9", "tags": ["a", "b", "c"]}
    assert compile_filter(parse_filter(raw))(doc) is expected


ODD_DOCS: list[tuple[str, Mapping[str, Any]]] = [
    ("empty", {}),
    ("scalar-where-complex", {"emails": "x", "name": 3}),
    ("list-of-lists", {"emails": [[1, 2], None, "s"], "name": [None]}),
    ("non-str-keys", {1: "a", "name": {2: "b"}}),  # type: ignore[dict-item]
]


@pytest.mark.parametrize("doc", [d for _, d in ODD_DOCS], ids=[i for i, _ in ODD_DOCS])
def test_compile_never_raises(doc: Mapping[str, Any]) -> None:
    """Evaluation over malformed documents returns a boolean instead of raising."""
    for raw, _ in RFC_EXAMPLES:
        assert compile_filter(parse_filter(raw), core_schema=CORE)(doc) in (True, False)
    for raw in ('emails[type eq "work"].value eq "x"', "name.x pr", "emails gt 1", 'name eq "a"'):
        assert compile_filter(parse_filter(raw))(doc) in (True, False)


def test_case_exact_receives_lower_dotted_names() -> None:
    """The caseExact oracle is asked about lower-cased dotted names, value-path members prefixed."""
    asked: list[str] = []

    def oracle(name: str) -> bool:
        asked.append(name)
        return False

    compile_filter(parse_filter(f'Emails[Type eq "w"].Value eq "x" and {CORE}:UserName eq "u"'), case_exact=oracle)
    assert asked == ["emails.type", "emails.value", "username"]


EQ_TERMS: list[tuple[str, str, list[tuple[AttrPath, str | int | float | bool]]]] = [
    ("single", 'userName eq "x"', [(p("userName"), "x")]),
    ("conjunction", 'a eq 1 and b eq true and c eq "z"', [(p("a"), 1), (p("b"), True), (p("c"), "z")]),
    ("or-branch-dropped", "a eq 1 and (b eq 2 or c eq 3)", [(p("a"), 1)]),
    ("top-level-or", "a eq 1 or b eq 2", []),
    ("not-dropped", "a eq 1 and not (b eq 2)", [(p("a"), 1)]),
    ("null-dropped", "a eq null and b eq 2", [(p("b"), 2)]),
    ("other-ops-dropped", 'a ne 1 and b co "x" and c eq 3', [(p("c"), 3)]),
    ("value-path-terms", 'emails[type eq "work"].value eq "x" and id eq "1"',
     [(p("emails", sub="type"), "work"), (p("emails", sub="value"), "x"), (p("id"), "1")]),
    ("value-path-inner-and", 'emails[type eq "work" and value eq "x"]',
     [(p("emails", sub="type"), "work"), (p("emails", sub="value"), "x")]),
    ("value-path-inner-or-dropped", 'emails[type eq "work" or value eq "x"]', []),
    ("value-path-ne-dropped", 'emails[value ne "x"]', []),
    ("grouped-and-kept", "(a eq 1 and b eq 2) and c pr", [(p("a"), 1), (p("b"), 2)]),
    ("urn-kept", f'{CORE}:userName eq "x"', [(p("userName", urn=CORE), "x")]),
]


@pytest.mark.parametrize(("raw", "expected"), [t[1:] for t in EQ_TERMS], ids=[t[0] for t in EQ_TERMS])
def test_eq_terms(raw: str, expected: list[tuple[AttrPath, str | int | float | bool]]) -> None:
    """eq_terms lists the non-null eq leaves of the top-level conjunction only."""
    assert eq_terms(parse_filter(raw)) == expected


USERS = ["id", "userName", "externalId", "emails.value", 'emails[type eq "work"].value']
PERMISSIONS = ["container.value", "user.value", "group.value"]

ALLOWED: list[tuple[str, str, list[str], type[Exception] | None]] = [
    ("userName", 'userName eq "x"', USERS, None),
    ("case-insensitive-names", 'USERNAME Eq "x" and ID eq "1" and ExternalID eq "e"', USERS, None),
    ("core-urn", f'{CORE}:userName eq "x"', USERS, None),
    ("core-urn-case", f'{CORE.lower()}:emails.value eq "x"', USERS, None),
    ("emails-value", 'emails.value eq "x"', USERS, None),
    ("entra-work-email", 'emails[type eq "work"].value eq "x"', USERS, None),
    ("entra-work-email-case", 'EMAILS[Type eq "WORK"].VALUE eq "x"', USERS, None),
    ("entra-core-urn", f'{CORE}:emails[type eq "work"].value eq "x"', USERS, None),
    ("eq-null", "userName eq null", USERS, None),
    ("permissions", 'container.value eq "5" and user.value eq "7"', PERMISSIONS, None),
    ("entra-home-email", 'emails[type eq "home"].value eq "x"', USERS, FilterCombination),
    ("value-path-without-sub", 'emails[type eq "work"]', USERS, FilterCombination),
    ("value-path-other-sub", 'emails[type eq "work"].display eq "x"', USERS, FilterCombination),
    ("value-path-and", 'emails[type eq "work" and primary eq true].value eq "x"', USERS, FilterCombination),
    ("value-path-other-attr", 'emails[primary eq "work"].value eq "x"', USERS, FilterCombination),
    ("not-allowed-attr", 'title eq "x"', USERS, FilterCombination),
    ("sub-of-allowed", 'userName.x eq "x"', USERS, FilterCombination),
    ("complex-without-sub", 'emails eq "x"', USERS, FilterCombination),
    ("one-bad-in-and", 'userName eq "x" and title eq "y"', USERS, FilterCombination),
    ("other-urn", f'{ENTERPRISE}:userName eq "x"', USERS, FilterCombination),
    ("or", 'userName eq "x" or id eq "y"', USERS, FilterUnsupported),
    ("or-beats-combination", 'title eq "x" or nickName eq "y"', USERS, FilterUnsupported),
    ("ne", 'userName ne "x"', USERS, FilterUnsupported),
    ("sw-beats-combination", 'title eq "y" and userName sw "x"', USERS, FilterUnsupported),
    ("pr", "userName pr", USERS, FilterUnsupported),
    ("not", 'not (userName eq "x")', USERS, FilterUnsupported),
    ("gt", "id gt 1", USERS, FilterUnsupported),
    ("inside-value-path", 'emails[type ne "work"].value eq "x"', USERS, FilterUnsupported),
    ("or-inside-value-path", 'emails[type eq "work" or type eq "home"].value eq "x"', USERS, FilterUnsupported),
    ("sub-compare-op", 'emails[type eq "work"].value co "x"', USERS, FilterUnsupported),
    ("sub-compare-pr", 'emails[type eq "work"].value pr', USERS, FilterUnsupported),
]


@pytest.mark.parametrize(("raw", "allowed", "error"), [a[1:] for a in ALLOWED], ids=[a[0] for a in ALLOWED])
def test_enforce_allow_list(raw: str, allowed: list[str], error: type[Exception] | None) -> None:
    """docs/behaviour.md §5: unsupported operators/logic first, then attributes outside the allow-list; the rest
    passes."""
    node = parse_filter(raw)
    if error is None:
        enforce_allow_list(node, raw, allowed, core_schema=CORE)
        return
    with pytest.raises(error) as caught:
        enforce_allow_list(node, raw, allowed, core_schema=CORE)
    err = caught.value
    assert isinstance(err, FilterUnsupported | FilterCombination)
    assert err.status == 400
    assert err.scim_type == "invalidFilter"
    if error is FilterUnsupported:
        assert err.detail == f"Filter string '{raw}' is not supported by Delinea."
    else:
        assert err.detail == "Specified attribute and filter comparison combination is not supported."


def test_enforce_allow_list_core_schema_required_for_urn() -> None:
    """Without core_schema, a core-URN-qualified path is not the plain attribute."""
    raw = f'{CORE}:userName eq "x"'
    with pytest.raises(FilterCombination):
        enforce_allow_list(parse_filter(raw), raw, USERS)


def test_enforce_allow_list_accepts_any_collection() -> None:
    """The allow-list may be a set, tuple or frozenset of spellings."""
    node = parse_filter('userName eq "x"')
    for allowed in (set(USERS), tuple(USERS), frozenset(USERS)):
        enforce_allow_list(node, 'userName eq "x"', allowed)


PATHS: list[tuple[str, str, PatchPath]] = [
    ("simple", "userName", PatchPath(p("userName"), None, None)),
    ("sub-attribute", "name.givenName", PatchPath(p("name", "givenName"), None, None)),
    ("case-kept", "Name.GivenName", PatchPath(p("Name", "GivenName"), None, None)),
    (
        "urn",
        f"{ENTERPRISE}:employeeNumber",
        PatchPath(p("employeeNumber", urn=ENTERPRISE), None, None),
    ),
    ("urn-sub", f"{ENTERPRISE}:manager.value", PatchPath(p("manager", "value", ENTERPRISE), None, None)),
    (
        "value-path-sub",
        'emails[type eq "work"].value',
        PatchPath(p("emails"), Compare(p("type"), "eq", "work"), "value"),
    ),
    ("members", 'members[value eq "2819c223"]', PatchPath(p("members"), Compare(p("value"), "eq", "2819c223"), None)),
    ("addresses", 'addresses[type eq "work"]', PatchPath(p("addresses"), Compare(p("type"), "eq", "work"), None)),
    (
        "value-path-logic",
        'emails[type eq "work" and primary eq true]',
        PatchPath(p("emails"), And(Compare(p("type"), "eq", "work"), Compare(p("primary"), "eq", True)), None),
    ),
    (
        "urn-value-path",
        f'{CORE}:emails[value ew "@x.org"].display',
        PatchPath(p("emails", urn=CORE), Compare(p("value"), "ew", "@x.org"), "display"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), [x[1:] for x in PATHS], ids=[x[0] for x in PATHS])
def test_parse_path(text: str, expected: PatchPath) -> None:
    """RFC 7644 §3.5.2 PATCH paths parse into attribute, value filter and trailing sub-attribute."""
    assert parse_path(text) == expected


BAD_PATHS = [
    "",
    " ",
    " userName",
    "userName ",
    "user name",
    "name..givenName",
    "name.givenName.x",
    "1abc",
    "name.",
    'emails[type eq "work"',
    "emails[type eq]",
    "emails[]",
    'emails[type eq "work"]value',
    'emails[type eq "work"].',
    'emails[type eq "work"] .value',
    'emails [type eq "work"]',
    'members[value eq "x"][type eq "y"]',
    'emails[type eq "work"].value eq "x"',
    'emails[value[type eq "a"]]',
    "(userName)",
]


@pytest.mark.parametrize("text", BAD_PATHS, ids=[repr(t) for t in BAD_PATHS])
def test_parse_path_failure(text: str) -> None:
    """A path that does not parse raises InvalidValue with scimType invalidPath."""
    with pytest.raises(InvalidValue) as caught:
        parse_path(text)
    assert caught.value.scim_type == "invalidPath"
    assert caught.value.status == 400


def test_compile_once_reuse() -> None:
    """A compiled predicate is reusable across documents and independent of later compiles."""
    first: Callable[[Mapping[str, Any]], bool] = compile_filter(parse_filter('userName eq "jdoe"'))
    compile_filter(parse_filter('userName eq "bjensen"'))
    assert [first(doc) for doc in DOCS.values()] == [False, False, True]


@pytest.mark.parametrize("raw", [
    'userName eq "bjensen"',
    '  USERNAME   EQ   "BJensen@Example.com"  ',
    'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"',
    'emails.value eq "a@b"',
    'externalId eq "x\\"y\\\\z\\u00e9"',
    'userName eq ""',
    'not eq "x"',
    'userName eq "a" and title eq "b"',
    'userName eq "bad \\x"',
    'userName\teq\t"tab"',
    'userName eq"glued"',
    'members[value eq "1"]',
])
def test_simple_eq_fast_path_gives_the_parsers_tree(raw: str) -> None:
    """The one-comparison fast path answers exactly what the full parser answers (tree or the same error)."""
    from mockscim.scim.filter_parser import _Parser

    def outcome(parse: Callable[[], object]) -> object:
        try:
            return parse()
        except FilterFormat as err:
            return ("error", err.detail)

    assert outcome(lambda: parse_filter(raw)) == outcome(lambda: _Parser(raw).filter())
