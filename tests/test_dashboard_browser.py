"""The dashboard clicked through in headless Chromium (the distribution's package, driven by Playwright)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockscim import MockScim
from tests.helpers import AUTH, SCIM

# docs/behaviour.md §12: "Its behaviour is tested in a real browser engine (headless Chromium)". The browser is the
# distribution's chromium, never one `playwright install` downloads.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
INSTALL = "apt-get install -y chromium (as root)"
STEP = 5000  # ms: every wait in these tests is bounded by this
PAYLOAD = "<img src=x onerror=window.__pwned=1>"
SHOTS = Path(os.environ.get("MOCKSCIM_SCREENSHOTS", "/tmp"))


def _missing(reason: str) -> None:
    """Without a browser these tests skip on a developer's machine, and fail in CI (so CI never goes green without)."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the browser tests; install it with {INSTALL}")
    pytest.skip(f"{reason}: install it with {INSTALL}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[test]')")
    if not os.access(CHROMIUM, os.X_OK):
        _missing(f"no chromium at {CHROMIUM}")
    with sync_playwright() as p:
        engine = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], timeout=15000)
        try:
            yield engine
        finally:
            engine.close()


class Page:
    """A 1024x768 tab on a live server's dashboard that records page errors and every request not to the server."""

    def __init__(self, browser: Any, m: MockScim) -> None:
        self.m = m
        self.context = browser.new_context(viewport={"width": 1024, "height": 768})
        self.context.set_default_timeout(STEP)
        self.external: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url == self.m.url or url.startswith(self.m.url + "/"):
            route.continue_()
        else:  # docs/behaviour.md §12: no external assets; aborted so a test never waits on the network
            self.external.append(url)
            route.abort()

    def open(self) -> Any:
        self.page.goto(self.m.url + "/_mockscim/", timeout=STEP)
        self.page.evaluate("window.__loaded = 1")  # still there later = the page was never reloaded
        return self.page

    def close(self) -> None:
        self.context.close()
        assert self.external == []  # nothing fetched from anywhere but the server
        assert self.errors == []  # the script threw nothing


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    opened: list[Page] = []

    def make(m: MockScim) -> Any:
        opened.append(Page(browser, m))
        return opened[-1]

    yield make
    for p in opened:
        p.close()


def rows(page: Any) -> list[list[str]]:
    cells: list[list[str]] = page.eval_on_selector_all(
        "#tbody tr", "trs => trs.map(tr => [...tr.children].map(td => td.textContent))")
    return cells


def no_horizontal_scroll(page: Any) -> None:
    """docs/behaviour.md §12: usable at 1024x768 — nothing wider than the window."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024


def test_a_secret_server_outage_demo(tab: Any) -> None:
    from playwright.sync_api import expect

    with MockScim() as m, httpx.Client(base_url=m.url, timeout=5) as c:
        t = tab(m)
        page = t.open()
        expect(page).to_have_title("mockscim")
        expect(page.locator("#shipped option", has_text="secret-server-outage")).to_have_count(1)
        page.select_option("#shipped", "secret-server-outage")
        page.click("#activate")
        scenario = page.locator("#scenario")
        expect(scenario).to_contain_text("secret-server-outage (seed 7)")
        expect(scenario.locator("tr").nth(1)).to_contain_text("01")  # rule 0: fired 0, remaining 1
        expect(page.locator("#ss")).to_have_text("up")
        expect(page.locator("#health")).to_contain_text("profile cloud · health ok")
        expect(page.locator("#ss-toggle")).to_have_text("take down")

        assert c.post("/scim/v2/Containers", headers=SCIM, json={"name": "Payroll"}).status_code == 503
        assert c.get("/scim/v2/PrivilegedData", headers=AUTH).status_code == 503
        # The 503 rows arrive by polling, newest first, with no reload.
        expect(page.locator("#tbody tr.s5")).to_have_count(2)
        got = rows(page)
        assert [(r[1], r[2], r[3], r[5]) for r in got[:2]] == [
            ("GET", "/scim/v2/PrivilegedData", "503", ""),
            ("POST", "/scim/v2/Containers", "503", "secret-server-outage#0")]
        assert page.evaluate("window.__loaded") == 1
        expect(scenario.locator("tr").nth(1)).to_contain_text("10")  # fired 1, remaining 0
        expect(page.locator("#ss")).to_have_text("down")
        expect(page.locator("#ss")).to_have_class("down")
        expect(page.locator("#ss-toggle")).to_have_text("bring up")

        page.locator("#tbody tr", has_text="/scim/v2/Containers").click()
        detail = page.locator("#detail")
        expect(page.locator("#detail-id")).to_have_text("POST /scim/v2/Containers → 503")
        expect(detail).to_contain_text("rule secret-server-outage#0")
        expect(detail).to_contain_text("(no body)")  # answered before its body was read (§12: "body": null)
        expect(detail).to_contain_text("Secret Server service unavailable.")  # the response body
        expect(detail).to_contain_text("authorization: [REDACTED]")
        expect(page.locator("#tbody tr.sel")).to_have_count(1)
        no_horizontal_scroll(page)
        page.screenshot(path=str(SHOTS / "mockscim-dashboard-outage.png"))

        # Filters: status class, then text.
        assert c.get("/scim/v2/Users", headers=AUTH).status_code == 200
        expect(page.locator("#tbody tr")).to_have_count(3)
        page.select_option("#f-status", "5xx")
        expect(page.locator("#tbody tr")).to_have_count(2)
        page.fill("#f-q", "Privileged")
        expect(page.locator("#tbody tr")).to_have_count(1)
        page.fill("#f-q", "")
        page.select_option("#f-status", "")
        expect(page.locator("#tbody tr")).to_have_count(3)

        # Paused: new traffic waits until the journal is resumed.
        page.check("#pause")
        page.wait_for_timeout(300)  # a tick already under way lands first
        c.get("/scim/v2/Groups", headers=AUTH)
        page.wait_for_timeout(1500)
        expect(page.locator("#tbody tr")).to_have_count(3)
        page.uncheck("#pause")
        expect(page.locator("#tbody tr")).to_have_count(4)

        # Secret Server back up from the page: the toggle and health agree.
        page.click("#ss-toggle")
        expect(page.locator("#ss")).to_have_text("up")
        expect(page.locator("#ss")).not_to_have_class("down")
        expect(page.locator("#ss-toggle")).to_have_text("take down")
        assert c.get("/_mockscim/health").json()["secretServer"] == "up"
        assert c.get("/scim/v2/PrivilegedData", headers=AUTH).status_code == 200

        # Down again, then reset: Secret Server back to its start-up availability, the created container gone.
        page.click("#ss-toggle")
        expect(page.locator("#ss")).to_have_text("down")
        page.click("#reset")
        expect(page.locator("#ss")).to_have_text("up")
        expect(page.locator("#msg")).to_have_text("")
        assert c.get("/_mockscim/health").json()["secretServer"] == "up"
        expect(scenario).to_contain_text("secret-server-outage")  # reset keeps the scenario (§12)

        # Deactivate, paste a scenario, clear the journal.
        page.click("#deactivate")
        expect(scenario).to_have_text("No scenario is active.")
        page.fill("#doc", "name: pasted\nrules:\n  - match: {method: GET, resource: Groups}\n    then: {status: 418}\n")
        page.click("#upload")
        expect(scenario).to_contain_text("pasted")
        assert c.get("/scim/v2/Groups", headers=AUTH).status_code == 418
        page.click("#clear")
        expect(page.locator("#tbody tr")).to_have_count(0)
        expect(page.locator("#count")).to_have_text("(0 of 0 matching, newest first)")

        # A favicon is part of the page, so no /favicon.ico 404 was ever journaled (§12).
        assert page.get_attribute("link[rel=icon]", "href").startswith("data:image/svg+xml,")
        assert page.evaluate("window.__loaded") == 1
        page.reload()
        expect(page.locator("#tbody tr")).to_have_count(0)
        assert [e.path for e in m.journal() if "favicon" in e.path] == []


def test_the_page_asks_for_the_admin_token_and_keeps_it_in_session_storage(tab: Any) -> None:
    from playwright.sync_api import expect

    with MockScim(admin_token="adm1n") as m, httpx.Client(base_url=m.url, timeout=5) as c:
        c.get("/scim/v2/Users", headers=AUTH)
        t = tab(m)
        page = t.open()  # the page itself loads without the token (§12)
        expect(page).to_have_title("mockscim")
        expect(page.locator("#login")).to_be_visible()
        expect(page.locator("#msg")).to_have_text("admin token required")
        expect(page.locator("#tbody tr")).to_have_count(0)

        page.fill("#token", "wrong")
        page.click("#login-go")
        page.wait_for_timeout(300)
        expect(page.locator("#login")).to_be_visible()

        page.fill("#token", "adm1n")
        page.click("#login-go")
        expect(page.locator("#login")).to_be_hidden()
        expect(page.locator("#tbody tr", has_text="/scim/v2/Users")).to_have_count(1)
        expect(page.locator("#shipped option", has_text="throttled")).to_have_count(1)
        expect(page.locator("#msg")).to_have_text("")
        assert page.evaluate("sessionStorage.getItem('mockscim-admin-token')") == "adm1n"
        assert page.input_value("#token") == ""
        assert t.context.cookies() == [] and "adm1n" not in page.url  # never a cookie or a URL

        page.reload()  # the tab keeps it: no second prompt
        expect(page.locator("#tbody tr", has_text="/scim/v2/Users")).to_have_count(1)
        expect(page.locator("#login")).to_be_hidden()
        page.click("#ss-toggle")  # a guarded write from the page
        expect(page.locator("#ss")).to_have_text("down")
        assert c.get("/_mockscim/health").json()["secretServer"] == "down"


def test_request_values_render_as_text(tab: Any) -> None:
    from playwright.sync_api import expect

    with MockScim() as m, httpx.Client(base_url=m.url, timeout=5) as c:
        user = {"userName": PAYLOAD, "displayName": f"<script>window.__pwned=2</script>{PAYLOAD}"}
        answer = c.post("/scim/v2/Users", headers={**SCIM, "User-Agent": f"evil {PAYLOAD}"}, json=user)
        assert answer.status_code == 201, answer.text
        c.get(f"/scim/v2/Users/{PAYLOAD}", headers=AUTH)
        t = tab(m)
        page = t.open()
        expect(page.locator("#tbody tr")).to_have_count(2)
        assert rows(page)[0][2] == f"/scim/v2/Users/{PAYLOAD}"
        page.locator("#tbody tr", has_text="POST").click()
        detail = page.locator("#detail")
        expect(detail).to_contain_text(f"user-agent: evil {PAYLOAD}")
        expect(detail).to_contain_text(f'"userName": "{PAYLOAD}"')
        expect(detail).to_contain_text("<script>window.__pwned=2</script>")
        expect(page.get_by_text(f"evil {PAYLOAD}")).to_be_visible()
        page.wait_for_timeout(300)  # an <img src=x> would have failed to load and fired onerror by now
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.locator("#tbody img, #detail img, #tbody script, #detail script").count() == 0


def test_a_failing_store_shows_in_the_header(tab: Any) -> None:
    from playwright.sync_api import expect

    failing = {"status": "failing", "version": "0", "profile": "cloud", "secretServer": "up", "store": "failing",
               "storeError": "[Errno 28] No space left on device"}  # health's 503 (docs/behaviour.md §13)
    with MockScim() as m:
        t = tab(m)
        t.page.route("**/_mockscim/health", lambda route: route.fulfill(status=503, json=failing))
        page = t.open()
        health = page.locator("#health")
        expect(health).to_have_text("v0 · profile cloud · health failing (store: [Errno 28] No space left on device)")
        expect(health).to_have_class("down")
        expect(page.locator("#ss")).to_have_text("up")  # the rest of the header still updates
        expect(page.locator("#scenario")).to_have_text("No scenario is active.")
        expect(page.locator("#msg")).to_have_text("")


def test_without_chromium_ci_fails_and_a_developer_is_told_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI must run the browser tests.*apt-get install -y chromium"):
        _missing("no chromium")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium"):
        _missing("no chromium")
