"""kill -9 durability (docs/behaviour.md §13): every create that got its 201 survives a SIGKILL and a restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from pathlib import Path

import httpx
import pytest

from tests.helpers import AUTH, MOCKSCIM, SCIM, free_port, server

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

THREADS = 8
PER_THREAD = 25


def create_until_killed(url: str, proc: subprocess.Popen[bytes], tag: str) -> dict[str, str]:
    """8 threads x 25 POST /Users; SIGKILL once a third are acknowledged. Returns userName → id of the 201s."""
    acked: dict[str, str] = {}
    lock = threading.Lock()
    enough = threading.Event()

    def worker(n: int) -> None:
        with httpx.Client(base_url=url, headers=SCIM, timeout=5) as client:
            for i in range(PER_THREAD):
                name = f"{tag}-{n}-{i}@example.com"
                try:
                    r = client.post("/scim/v2/Users", json={"userName": name, "displayName": name})
                except httpx.TransportError:
                    return  # the server is gone: this create was not acknowledged
                assert r.status_code == 201, r.text
                with lock:
                    acked[name] = r.json()["id"]
                    if len(acked) >= THREADS * PER_THREAD // 3:
                        enough.set()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    assert enough.wait(10), "creates too slow"
    proc.send_signal(signal.SIGKILL)  # mid-stream: the other threads are still sending
    for t in threads:
        t.join(10)
    with lock:
        return dict(acked)


def stored_users(url: str) -> dict[str, str]:
    r = httpx.get(f"{url}/_mockscim/state", headers=AUTH, timeout=10)
    assert r.status_code == 200
    return {u["userName"]: u["id"] for u in r.json()["Users"]}


def test_acknowledged_creates_survive_sigkill(tmp_path: Path) -> None:
    store = tmp_path / "store.json"
    acked: dict[str, str] = {}
    for round_ in range(2):  # the second round starts from a recovered store
        with server(store) as (url, proc):
            assert set(acked.items()) <= set(stored_users(url).items())
            got = create_until_killed(url, proc, f"r{round_}")
            assert proc.wait(10) == -signal.SIGKILL
            assert len(got) < THREADS * PER_THREAD, "the kill came after every create: nothing was mid-stream"
            acked |= got
    with server(store) as (url, proc):
        present = stored_users(url)
        missing = {name for name in acked if present.get(name) != acked[name]}
        assert not missing, f"{len(missing)} acknowledged users lost, e.g. {sorted(missing)[:3]}"
        assert httpx.get(f"{url}/scim/v2/Users/{next(iter(acked.values()))}", headers=AUTH).status_code == 200
        proc.send_signal(signal.SIGTERM)  # clean shutdown: PATH.json alone is the store
        assert proc.wait(10) == 0
    assert not Path(f"{store}.wal").exists()
    tables = json.loads(store.read_text())
    names = {d["userName"] for d in tables["Users"].values()}
    assert set(acked) <= names


def test_serve_refuses_a_corrupt_store_file_untouched(tmp_path: Path) -> None:
    """docs/behaviour.md §13: a file that does not load stops the start with a message naming it, and stays as it
    was."""
    store = tmp_path / "store.json"
    store.write_bytes(b'{"Users": {"1": {"id": "u1"}}}')
    done = subprocess.run([*MOCKSCIM, "serve", "--port", str(free_port()), "--store", str(store)],
                          capture_output=True, timeout=30)
    assert done.returncode != 0
    assert str(store) in done.stderr.decode() and "'userName' is required" in done.stderr.decode()
    assert store.read_bytes() == b'{"Users": {"1": {"id": "u1"}}}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.json"]


def test_member_patches_survive_sigkill_and_restart(tmp_path: Path) -> None:
    """PATCH add / remove of one member on a durable store (logged as the change, docs/store.md): after a kill -9
    and after a clean restart, the group lists exactly the members the acknowledged PATCHes left."""
    store = tmp_path / "store.json"

    def members(url: str, gid: str) -> list[str]:
        r = httpx.get(f"{url}/scim/v2/Groups/{gid}", headers=SCIM, timeout=5)
        assert r.status_code == 200, r.text
        return [m["value"] for m in r.json().get("members", [])]

    def patch(url: str, gid: str, op: str, uid: str) -> None:
        body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": op, "path": "members", "value": [{"value": uid}]}]}
        r = httpx.patch(f"{url}/scim/v2/Groups/{gid}", headers=SCIM, json=body, timeout=5)
        assert r.status_code in (200, 204), r.text

    with server(store) as (url, proc):
        with httpx.Client(base_url=f"{url}/scim/v2", headers=SCIM, timeout=5) as client:
            uids = [client.post("/Users", json={"userName": f"m{i}@example.com"}).json()["id"] for i in range(6)]
            gid = client.post("/Groups", json={"displayName": "Members", "members": [
                {"value": u} for u in uids[:3]]}).json()["id"]
        patch(url, gid, "add", uids[3])
        patch(url, gid, "Remove", uids[0])
        patch(url, gid, "add", uids[4])
        expected = [uids[1], uids[2], uids[3], uids[4]]
        assert members(url, gid) == expected
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    with server(store) as (url, proc):
        assert members(url, gid) == expected  # replayed from the log
        patch(url, gid, "Remove", uids[2])
        patch(url, gid, "add", uids[5])
        expected = [uids[1], uids[3], uids[4], uids[5]]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    with server(store) as (url, proc):
        assert members(url, gid) == expected  # from the snapshot the clean shutdown wrote
        for uid, member in ((uids[5], True), (uids[0], False)):  # a user's groups: the members.value index
            user = httpx.get(f"{url}/scim/v2/Users/{uid}", headers=SCIM, timeout=5).json()
            assert [g["value"] for g in user.get("groups", [])] == ([gid] if member else [])
