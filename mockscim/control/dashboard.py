"""The dashboard page (docs/behaviour.md §12): one static HTML page with its style and script, no external assets."""

from __future__ import annotations

# An inline SVG icon: the browser asks for no /favicon.ico (which would be journaled as a 404).
_ICON = ("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' "
         "height='16' rx='3' fill='%23345'/%3E%3Ctext x='8' y='12' font-size='10' text-anchor='middle' "
         "fill='white'%3EM%3C/text%3E%3C/svg%3E")

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>mockscim</title><link rel="icon" href="__ICON__">
<style>
*{box-sizing:border-box} body{font:13px system-ui,sans-serif;margin:0;color:#222}
header{background:#345;color:#fff;padding:6px 12px;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
header b{font-size:15px} button,select,input,textarea{font:inherit} .down{color:#f88;font-weight:bold}
main{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:8px;padding:8px}
section{border:1px solid #ccc;border-radius:4px;padding:6px;min-width:0} h2{font-size:14px;margin:0 0 6px}
#journal-box{grid-column:1/3} #rows{max-height:45vh;overflow:auto} table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #eee;padding:2px 4px;text-align:left;vertical-align:top;white-space:nowrap}
td.wrap{white-space:normal;overflow-wrap:anywhere} tr.s4{background:#fff3cd} tr.s5,tr.s0{background:#f8d7da}
tbody tr{cursor:pointer} tbody tr:hover{outline:1px solid #69c} tr.sel{outline:2px solid #36c}
pre{background:#f6f6f6;padding:4px;max-height:40vh;overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere;
margin:2px 0}
textarea{width:100%;height:7em} #login{display:none;padding:8px;background:#ffe} .msg{color:#b00}
</style></head><body>
<header><b>mockscim</b><span id="health">…</span>
<span>Secret Server: <b id="ss">…</b> <button id="ss-toggle">take down</button></span>
<button id="reset">reset store</button><button id="clear">clear journal</button><span id="msg" class="msg"></span>
</header>
<div id="login">Admin token: <input id="token" type="password" autocomplete="off"> <button id="login-go">use</button>
(kept in this tab's sessionStorage)</div>
<main>
<section id="journal-box"><h2>Journal <span id="count"></span></h2>
<label><input type="checkbox" id="pause"> pause</label>
<select id="f-status"><option value="">any status</option><option>2xx</option><option>3xx</option>
<option>4xx</option><option>5xx</option><option value="0">0 (dropped)</option></select>
<select id="f-method"><option value="">any method</option><option>GET</option><option>POST</option><option>PUT</option>
<option>PATCH</option><option>DELETE</option></select>
<input id="f-q" placeholder="path or text"> <input id="f-rule" placeholder="rule (glob)">
<div id="rows"><table><thead><tr><th>time</th><th>method</th><th>path</th><th>status</th><th>principal</th><th>rule</th>
<th>detail</th><th>ms</th></tr></thead><tbody id="tbody"></tbody></table></div></section>
<section><h2>Request <span id="detail-id"></span></h2><div id="detail">Click an entry.</div></section>
<section><h2>Scenario</h2><div id="scenario">…</div>
<p><select id="shipped"></select> <button id="activate">activate</button>
<button id="deactivate">deactivate</button></p>
<textarea id="doc" placeholder="paste a YAML or JSON scenario"></textarea>
<input type="file" id="file" accept=".yaml,.yml,.json"> <button id="upload">activate pasted / file</button></section>
</main>
<script>
"use strict";
const KEY = "mockscim-admin-token";
const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined && text !== null)
  e.textContent = String(text); if (cls) e.className = cls; return e; };
let selected = null, lastIds = null;  // null: redraw on the next tick, even an empty journal

function say(text) { $("msg").textContent = text || ""; }

async function api(method, path, body, type, alsoOk) {
  const headers = {};
  const token = sessionStorage.getItem(KEY);
  if (token) headers["Authorization"] = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = type || "application/json";
  const r = await fetch("/_mockscim" + path, {method, headers, body, cache: "no-store"});
  if (r.status === 401) { $("login").style.display = "block"; throw new Error("admin token required"); }
  if (r.status === 204) return null;
  const data = await r.json();
  if (!r.ok && r.status !== alsoOk) throw new Error(data.error || ("HTTP " + r.status));
  return data;
}

function pretty(value) { return typeof value === "string" ? value : JSON.stringify(value, null, 2); }

function part(title, message) {
  const box = el("div");
  box.appendChild(el("b", title));
  if (!message) { box.appendChild(el("pre", "(dropped: over the journal's body budget)")); return box; }
  box.appendChild(el("pre", Object.entries(message.headers || {}).map(([k, v]) => k + ": " + v).join("\\n")));
  box.appendChild(el("pre", message.body === null ? "(no body)" : pretty(message.body)
    + (message.truncated ? "\\n… (cut at 64 KiB)" : "")));
  return box;
}

async function openEntry(id) {
  selected = id;
  const e = await api("GET", "/journal/" + encodeURIComponent(id));
  $("detail-id").textContent = e.method + " " + e.path + " → " + e.status;
  const d = $("detail"); d.replaceChildren();
  d.appendChild(el("div", "requestId " + e.requestId + (e.rule ? " · rule " + e.rule : "")
    + (e.detail ? " · " + e.detail : "")));
  d.appendChild(part("request", e.request)); d.appendChild(part("response", e.response));
  for (const tr of $("tbody").children) tr.classList.toggle("sel", tr.dataset.id === id);
}

async function journal() {
  const p = new URLSearchParams({limit: "200"});
  for (const [key, id] of [["status", "f-status"], ["method", "f-method"], ["q", "f-q"], ["rule", "f-rule"]])
    if ($(id).value) p.set(key, $(id).value);
  const data = await api("GET", "/journal?" + p);
  $("count").textContent = "(" + data.entries.length + " of " + data.total + " matching, newest first)";
  const ids = data.entries.map((e) => e.requestId).join();
  if (ids === lastIds) return;
  lastIds = ids;
  const rows = data.entries.slice().reverse().map((e) => {
    const tr = el("tr", null, "s" + String(e.status)[0]);
    tr.dataset.id = e.requestId;
    if (e.requestId === selected) tr.classList.add("sel");
    for (const [v, cls] of [[e.time.slice(11, 23)], [e.method], [e.path + (e.query ? "?" + e.query : ""), "wrap"],
                            [e.status], [e.principal], [e.rule], [e.detail, "wrap"], [e.durationMs]])
      tr.appendChild(el("td", v, cls));
    tr.addEventListener("click", () => openEntry(e.requestId).catch((x) => say(x.message)));
    return tr;
  });
  $("tbody").replaceChildren(...rows);
}

async function status() {
  // Health answers 503 with the store's reason while its disk refuses writes (docs/behaviour.md §13): shown.
  const h = await api("GET", "/health", undefined, undefined, 503);
  $("health").textContent = "v" + h.version + " · profile " + h.profile + " · health " + h.status
    + (h.storeError ? " (store: " + h.storeError + ")" : "");
  $("health").className = h.status === "ok" ? "" : "down";
  const ss = await api("GET", "/secret-server");
  $("ss").textContent = ss.available ? "up" : "down"; $("ss").className = ss.available ? "" : "down";
  $("ss-toggle").textContent = ss.available ? "take down" : "bring up";
  const s = (await api("GET", "/scenario")).active, box = $("scenario");
  box.replaceChildren();
  if (!s) { box.appendChild(el("p", "No scenario is active.")); return; }
  box.appendChild(el("p", s.name + (s.seed === null || s.seed === undefined ? "" : " (seed " + s.seed + ")")
    + ": " + (s.description || "")));
  const t = el("table"), head = el("tr");
  for (const h of ["rule", "fired", "remaining", "definition"]) head.appendChild(el("th", h));
  t.appendChild(head);
  for (const r of s.rules) {
    const tr = el("tr"), rest = Object.assign({}, r);
    delete rest.index; delete rest.fired; delete rest.remaining;
    for (const v of [r.index, r.fired, r.remaining === null ? "∞" : r.remaining]) tr.appendChild(el("td", v));
    tr.appendChild(el("td", JSON.stringify(rest), "wrap"));
    t.appendChild(tr);
  }
  box.appendChild(t);
}

async function tick() {
  if ($("pause").checked) return;
  try {
    await journal(); await status();
    if ($("login").style.display === "block") say("");  // the token works: no more "admin token required"
    $("login").style.display = "none";
  }
  catch (x) { say(x.message); }
}

function act(fn) {
  return () => fn().then(() => { say(""); lastIds = null; return tick(); }).catch((x) => say(x.message));
}

async function shipped() {
  const list = (await api("GET", "/scenarios")).scenarios;
  $("shipped").replaceChildren(...list.map((s) => { const o = el("option", s.name); o.title = s.description;
    return o; }));
}

$("ss-toggle").addEventListener("click", act(async () =>
  api("PUT", "/secret-server", JSON.stringify({available: $("ss").textContent !== "up"}))));
$("reset").addEventListener("click", act(() => api("POST", "/reset", "{}")));
$("clear").addEventListener("click", act(() => api("DELETE", "/journal")));
$("activate").addEventListener("click", act(() =>
  api("POST", "/scenario", JSON.stringify({name: $("shipped").value}))));
$("deactivate").addEventListener("click", act(() => api("DELETE", "/scenario")));
$("upload").addEventListener("click", act(async () => {
  const f = $("file").files[0], text = f ? await f.text() : $("doc").value;
  const json = /^\\s*[{]/.test(text);
  return api("POST", "/scenario", text, json ? "application/json" : "application/yaml");
}));
$("login-go").addEventListener("click", () => { sessionStorage.setItem(KEY, $("token").value); $("token").value = "";
  shipped().catch((x) => say(x.message)); tick(); });
for (const id of ["f-status", "f-method", "f-q", "f-rule"]) $(id).addEventListener("input", () => { lastIds = null;
  tick(); });
shipped().catch((x) => say(x.message));
tick();
setInterval(tick, 1000);
</script></body></html>
""".replace("__ICON__", _ICON)
