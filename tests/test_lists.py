"""Lists and filters through HTTP (docs/behaviour.md §4 paging, §5 filters and Delinea's allow-list)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.helpers import AUTH, SCIM, USERS, err


def listing(client: TestClient, path: str = USERS, **params: Any) -> dict[str, Any]:
    r = client.get(path, params=params, headers=AUTH)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_list_is_a_list_response_in_creation_order(client: TestClient) -> None:
    """GET /Users is a ListResponse with integer counts, in fixture order."""
    body = listing(client)
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    assert body["totalResults"] == 5 and body["startIndex"] == 1 and body["itemsPerPage"] == 5
    assert [u["userName"] for u in body["Resources"]][:2] == ["scim-service@mockscim.test", "bjensen@example.com"]


def test_paging_start_index_and_count(client: TestClient) -> None:
    """startIndex is 1-based; count limits the page; itemsPerPage is the page's size (Okta pages by 100)."""
    body = listing(client, startIndex="2", count="2")
    assert body["totalResults"] == 5 and body["startIndex"] == 2 and body["itemsPerPage"] == 2
    assert [u["userName"] for u in body["Resources"]] == ["bjensen@example.com", "mpepper@example.com"]
    assert listing(client, startIndex="5", count="100")["itemsPerPage"] == 1
    assert listing(client, startIndex="50")["Resources"] == []


def test_count_zero_and_negative_and_start_below_one(client: TestClient) -> None:
    """count ≤ 0 → `"Resources": []` and itemsPerPage 0 (docs/behaviour.md §4: RFC 7644 §3.4.2 wants Resources
    whenever totalResults is non-zero, and scim2-client raises without it); startIndex < 1 reads as 1."""
    for count in ("0", "-3"):
        body = listing(client, count=count)
        assert body == {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 5,
                        "startIndex": 1, "itemsPerPage": 0, "Resources": []}
    assert listing(client, startIndex="-4", count="1")["startIndex"] == 1


@pytest.mark.parametrize("param", ["count", "startIndex"])
@pytest.mark.parametrize("value", ["ten", "1_000", "\u0663", "\uff15", "1.0", "+5", "0x10", "5 5"])
def test_non_integer_paging_is_invalid(client: TestClient, param: str, value: str) -> None:
    """A count or startIndex that is not ASCII digits (RFC 7644 integers; Python's int() takes `1_000` and
    Arabic-Indic or full-width digits) → 400 `The '<param>' attribute was invalid.`."""
    r = client.get(USERS, params={param: value}, headers=AUTH)
    assert r.status_code == 400 and r.json() == err(400, f"The '{param}' attribute was invalid.", "invalidValue")


def test_count_capped_at_max_results(client: TestClient) -> None:
    """count above filter.maxResults (1000) is capped."""
    for i in range(3):
        client.post(USERS, json={"userName": f"cap{i}@example.com"}, headers=SCIM)
    assert listing(client, count="5000")["itemsPerPage"] == 8


@pytest.mark.parametrize(("flt", "expected"), [
    ('userName eq "bjensen@example.com"', ["bjensen@example.com"]),
    ('userName eq "BJENSEN@EXAMPLE.COM"', ["bjensen@example.com"]),
    ('USERNAME EQ "bjensen@example.com"', ["bjensen@example.com"]),
    ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "mpepper@example.com"', ["mpepper@example.com"]),
    ('externalId eq "bjensen"', ["bjensen@example.com"]),
    ('externalId eq "BJENSEN"', []),
    ('emails.value eq "MPEPPER@example.com"', ["mpepper@example.com"]),
    ('emails[type eq "work"].value eq "jdoe@corp.example.com"', ["jdoe@corp.example.com"]),
    ('id eq "2819c223-7f76-453a-919d-413861904646"', ["bjensen@example.com"]),
    ('userName eq "bjensen@example.com" and externalId eq "bjensen"', ["bjensen@example.com"]),
    ('userName eq "bjensen@example.com" and externalId eq "other"', []),
    ('userName eq "nobody@example.com"', []),
    # Answered by the index alone (no predicate runs): the index must fold exactly as the comparison does.
    ('id eq "2819C223-7F76-453A-919D-413861904646"', []),  # RFC 7643 §3.1: id is caseExact
    ('userName eq 5', []),  # a number never equals a string (RFC 7644 §3.4.2.2), though the index keys are text
    ('externalId eq "bjensen" and userName eq "BJENSEN@example.com"', ["bjensen@example.com"]),
], ids=lambda v: v if isinstance(v, str) else None)
def test_allowed_filters(client: TestClient, flt: str, expected: list[str]) -> None:
    """Delinea's allow-listed filters work, case-insensitive where the attribute is (docs/behaviour.md §5)."""
    body = listing(client, filter=flt)
    assert [u["userName"] for u in body["Resources"]] == expected
    assert body["totalResults"] == len(expected)


def test_entra_test_connection_gets_empty_list_not_404(client: TestClient) -> None:
    """Entra's test connection asks for a random user and expects 200 with an empty ListResponse."""
    body = listing(client, filter='userName eq "7f0a8a6e-5c1e-4f21-9f0e-d5b6d6f9b3c2"')
    assert body["totalResults"] == 0 and body["Resources"] == []


@pytest.mark.parametrize("flt", ['userName eq', '(userName eq "a"', 'userName eq "a" and', 'userName xx "a"', '',
                                 'userName eq "unterminated', 'emails[type eq "work".value eq "a"'])
def test_unparseable_filter(client: TestClient, flt: str) -> None:
    """A filter that does not parse → 400 `Filter string '<raw>' is not in proper format.`."""
    r = client.get(USERS, params={"filter": flt}, headers=AUTH)
    assert r.status_code == 400
    assert r.json() == err(400, f"Filter string '{flt}' is not in proper format.", "invalidFilter")


@pytest.mark.parametrize("flt", ['userName sw "bj"', 'userName eq "a" or userName eq "b"', 'not (userName eq "a")',
                                 'title pr', 'userName ne "a"', 'title eq "x" or userName eq "y"'])
def test_unsupported_filter(client: TestClient, flt: str) -> None:
    """or / not / pr / other operators → 400 `… is not supported by Delinea.`, checked before the attribute."""
    r = client.get(USERS, params={"filter": flt}, headers=AUTH)
    assert r.status_code == 400
    assert r.json() == err(400, f"Filter string '{flt}' is not supported by Delinea.", "invalidFilter")


@pytest.mark.parametrize("flt", ['title eq "Tour Guide"', 'emails[type eq "home"].value eq "a@b"',
                                 'name.givenName eq "Barbara"', 'active eq true'])
def test_attribute_outside_allow_list(client: TestClient, flt: str) -> None:
    """eq on an attribute outside the allow-list → 400 combination not supported."""
    r = client.get(USERS, params={"filter": flt}, headers=AUTH)
    assert r.status_code == 400
    assert r.json() == err(400, "Specified attribute and filter comparison combination is not supported.",
                           "invalidFilter")


def test_group_filters(client: TestClient) -> None:
    """Groups allow id, displayName and externalId with eq."""
    assert listing(client, "/scim/v2/Groups", filter='externalId eq "db-admins"')["totalResults"] == 1
    r = client.get("/scim/v2/Groups", params={"filter": 'members.value eq "x"'}, headers=AUTH)
    assert r.status_code == 400 and r.json()["scimType"] == "invalidFilter"


def test_unknown_query_parameters_ignored(client: TestClient) -> None:
    """Unknown query parameters such as Entra's aadOptscim062020 are ignored."""
    assert listing(client, aadOptscim062020="")["totalResults"] == 5
