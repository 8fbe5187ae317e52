"""Disk full on a 2 MiB tmpfs (docs/behaviour.md §13): 507 from the catalogue, nothing applied, health failing, and
writes work again once space returns."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mockscim.app import create_app
from mockscim.core import check_stored_state
from mockscim.settings import Settings
from mockscim.store.durable import DurableStore
from tests.helpers import SCIM

TEXT_507 = "The change could not be stored (the server's disk refused the write); nothing was changed."


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs; skipped where mounting is not permitted (not root, or no CAP_SYS_ADMIN in a container)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True,
                              text=True, timeout=10)
    except FileNotFoundError:
        pytest.skip("no mount(8) on this machine: a small tmpfs cannot be made")
    if done.returncode != 0:
        pytest.skip(f"mount -t tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=10)


def names(client: TestClient, name: str) -> list[str]:
    found = client.get("/scim/v2/Users", headers=SCIM, params={"filter": f'userName eq "{name}"'}).json()
    return [r["userName"] for r in found.get("Resources", [])]


def test_disk_full_is_507_undone_reported_and_recovers(small_disk: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = small_disk / "store.json"
    client = TestClient(create_app(Settings(store=str(path), fixture="empty")), raise_server_exceptions=False)
    ballast = small_disk / "ballast"
    ballast.write_bytes(b"\0" * (1024 * 1024))  # space to give back later
    padding = "x" * 20_000
    acked: list[str] = []
    refused = None
    for n in range(200):  # bounded: 2 MiB fills after ≈ 50 creates of 20 KB
        name = f"user{n}@example.com"
        response = client.post("/scim/v2/Users", headers=SCIM, json={"userName": name, "displayName": padding})
        if response.status_code == 507:
            refused = (name, response)
            break
        assert response.status_code == 201, response.text
        acked.append(name)
    assert refused is not None, "the disk never filled up"
    name, response = refused
    assert response.json() == {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "507",
                               "detail": TEXT_507}
    assert response.headers["content-type"] == "application/scim+json"
    assert names(client, name) == []  # not applied in memory: never visible
    health = client.get("/_mockscim/health")
    assert health.status_code == 503
    assert health.json()["store"] == "failing" and "No space left on device" in health.json()["storeError"]
    # Still full: every surface answers 507 for a write, and nothing changes.
    again = client.post("/scim/v2/Users", headers=SCIM, json={"userName": "more@example.com", "displayName": padding})
    assert again.status_code == 507 and names(client, "more@example.com") == []
    state = client.get("/_mockscim/state").json()
    state["Users"] = [u for u in state["Users"] if u["userName"] != acked[0]]
    imported = client.put("/_mockscim/state", json=state)  # a whole new snapshot: ≈ 1 MiB, no room for it
    assert imported.status_code == 507 and imported.json() == {"error": TEXT_507}
    assert names(client, acked[0]) == [acked[0]]  # the refused import changed nothing
    assert not Path(f"{path}.tmp").exists()  # no half-written snapshot left behind
    # Space returns: writes work again, health is ok.
    ballast.unlink()
    created = client.post("/scim/v2/Users", headers=SCIM, json={"userName": name, "displayName": "small"})
    assert created.status_code == 201
    acked.append(name)
    assert client.get("/_mockscim/health").json()["store"] == "ok"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]  # no traceback logged
    # Every acknowledged create is on disk: the files as a kill -9 now would leave them, opened again.
    reopened_path = small_disk.parent / "copy"
    reopened_path.mkdir()
    (reopened_path / "store.json").write_bytes(path.read_bytes())
    (reopened_path / "store.json.wal").write_bytes(Path(f"{path}.wal").read_bytes())
    store = DurableStore(reopened_path / "store.json", validate=check_stored_state)
    try:
        assert [n for n in acked if store.lookup("Users", "userName", n)] == acked
        assert not store.lookup("Users", "userName", "more@example.com")
    finally:
        store.close()
