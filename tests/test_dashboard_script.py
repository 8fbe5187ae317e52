"""The dashboard's script run by node against a served mockscim, with a stand-in DOM (no browser engine here)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mockscim.control.dashboard import PAGE
from mockscim.testing import MockScim

HARNESS = r"""
const BASE = process.argv[2], TOKEN = process.argv[3] || "";
const store = {};
class El {
  constructor(tag) { this.tag = tag; this.children = []; this.textContent = ""; this.className = "";
    this.dataset = {}; this.style = {}; this.value = ""; this.checked = false; this.files = [];
    this.listeners = {}; const self = this;
    this.classList = {toggle(c, on) { self.sel = on; }, add() { self.sel = true; }}; }
  appendChild(c) { this.children.push(c); return c; }
  replaceChildren(...c) { this.children = c; }
  addEventListener(type, fn) { this.listeners[type] = fn; }
}
const get = (id) => document.getElementById(id);
const text = (e) => e.textContent + e.children.map(text).join(" ");
globalThis.document = {getElementById: (id) => store[id] || (store[id] = new El("div")),
                       createElement: (tag) => new El(tag)};
globalThis.sessionStorage = {m: {}, getItem(k) { return this.m[k] ?? null; }, setItem(k, v) { this.m[k] = v; }};
globalThis.setInterval = () => 0;
const realFetch = globalThis.fetch;
globalThis.fetch = (url, opts) => realFetch(BASE + url, opts);
const settle = () => new Promise((r) => setTimeout(r, 300));
(async () => {
  SCRIPT
  const out = {};
  await settle();
  out.login = get("login").style.display || "";
  if (TOKEN) {
    get("token").value = TOKEN; get("login-go").listeners.click(); await settle();
  }
  out.health = get("health").textContent;
  out.shipped = get("shipped").children.map((o) => o.textContent);
  out.rows = get("tbody").children.map((tr) => tr.children.map((td) => td.textContent));
  get("tbody").children[0].listeners.click(); await settle();
  out.detail = text(get("detail"));
  get("shipped").value = "secret-server-outage"; get("activate").listeners.click(); await settle();
  out.scenario = text(get("scenario"));
  get("ss-toggle").listeners.click(); await settle();
  out.ss = get("ss").textContent;
  get("f-status").value = "4xx"; get("f-status").listeners.input(); await settle();
  out.filtered = get("tbody").children.length;
  get("pause").checked = true;
  out.msg = get("msg").textContent;
  console.log(JSON.stringify(out));
})().catch((e) => { console.log(JSON.stringify({error: String(e && e.stack || e)})); process.exit(1); });
"""


def run_page(m: MockScim, tmp_path: Path, token: str = "") -> dict[str, object]:
    script = re.search(r"<script>(.*)</script>", PAGE, re.S)
    assert script is not None
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS.replace("SCRIPT", script.group(1)), encoding="utf-8")
    done = subprocess.run(["node", str(harness), m.url, token], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.skipif(shutil.which("node") is None, reason="no node to run the script")
@pytest.mark.parametrize("token", ["", "adm1n"])
def test_the_script_drives_a_demo(tmp_path: Path, token: str) -> None:
    with MockScim(admin_token=token or None) as m, m.client() as c:
        c.get("/Users", params={"count": 1})
        c.get("/Users/<script>alert(1)</script>")
        out = run_page(m, tmp_path, token)
        assert out["login"] == ("block" if token else "none")  # asked for the token, hidden once it works
        assert str(out["health"]).startswith("v") and "profile cloud" in str(out["health"])
        assert "secret-server-outage" in out["shipped"]  # type: ignore[operator]
        rows = out["rows"]
        assert [(r[1], r[2], r[3]) for r in rows] == [  # type: ignore[union-attr]
            ("GET", "/scim/v2/Users/<script>alert(1)</script>", "404"), ("GET", "/scim/v2/Users?count=1", "200")]
        assert "user-agent: python-httpx" in str(out["detail"]) and "authorization: [REDACTED]" in str(out["detail"])
        assert "secret-server-outage" in str(out["scenario"]) and "fired" in str(out["scenario"])
        assert out["ss"] == "down" and out["filtered"] == 1 and out["msg"] == ""
        assert m.export_state() and not c.get(f"{m.url}/api/v1/secrets/12").is_success
