"""The Store contract against both stores; durable restarts, recovery, refusals (docs/behaviour.md §13)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mockscim.app import load_fixture
from mockscim.core import check_stored_state
from mockscim.core.state import normalise_state
from mockscim.scim.profile import load_profile
from mockscim.store import Delete, Put, Store
from mockscim.store.durable import DurableStore, StoreError, WriteFailed
from mockscim.store.files import record_line
from mockscim.store.members import GroupDoc
from mockscim.store.memory import MemoryStore
from tests.helpers import CORE_USER, LINKED

NOW = "2024-01-01T00:00:00.000Z"
Opener = Callable[[], Store]


def norm(raw: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """A raw state in stored form (what Core hands ``load()``)."""
    return normalise_state(raw, load_profile("rfc"), now=NOW)


def user(uid: str, name: str, **attrs: Any) -> dict[str, Any]:
    return norm({"Users": [{"id": uid, "userName": name, **attrs}]})["Users"][0]


def container(cid: str, name: str) -> dict[str, Any]:
    return norm({"Containers": [{"id": cid, "name": name}]})["Containers"][0]


FIXTURE = norm(load_fixture("default"))


@pytest.fixture(params=["memory", "durable"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the store under test; durable ones live in ``tmp_path`` and are closed afterwards."""
    opened: list[Store] = []

    def open_() -> Store:
        store: Store = (MemoryStore() if request.param == "memory"
                        else DurableStore(tmp_path / "store.json", validate=check_stored_state))
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def store(opener: Opener) -> Store:
    s = opener()
    s.load(FIXTURE)
    return s


def flush(store: Store) -> None:
    asyncio.run(store.sync())


# -- the contract, for both stores ---------------------------------------------------------------------------------
def test_put_get_and_case_insensitive_lookup(store: Store) -> None:
    store.apply([Put("Users", user("u1", "Alice@Example.com", externalId="Ext-1",
                                   emails=[{"value": "Alice@Example.com"}, {"value": "a2@example.com"}]))])
    flush(store)
    assert store.get("Users", "u1") is not None and store.get("Users", "nope") is None
    assert [d["id"] for d in store.lookup("Users", "userName", "alice@EXAMPLE.com")] == ["u1"]
    assert [d["id"] for d in store.lookup("Users", "emails.value", "A2@example.COM")] == ["u1"]
    assert [d["id"] for d in store.lookup("Users", "externalId", "Ext-1")] == ["u1"]
    assert store.lookup("Users", "externalId", "ext-1") == []  # externalId is case-exact (docs/behaviour.md §3)
    assert store.indexed("Users", "userName") and not store.indexed("Users", "title")


def test_order_is_insertion_order_and_replace_keeps_position(store: Store) -> None:
    before = [d["id"] for d in store.all("Users")]
    store.apply([Put("Users", user("z", "z@example.com")), Put("Users", user("a", "a@example.com"))])
    store.apply([Put("Users", user("z", "z2@example.com"))])
    assert [d["id"] for d in store.all("Users")] == [*before, "z", "a"]
    store.apply([Delete("Users", "z")])
    store.apply([Put("Users", user("z", "z@example.com"))])
    assert [d["id"] for d in store.all("Users")] == [*before, "a", "z"]
    assert store.lookup("Users", "userName", "z2@example.com") == []  # the replaced value left the index
    assert store.count("Users") == len(before) + 2


def test_change_set_applies_whole(store: Store) -> None:
    bjensen = "2819c223-7f76-453a-919d-413861904646"
    store.apply([Delete("Users", bjensen), Put("Users", user("n", "n@example.com")),
                 Delete("ContainerPermissions", "3")])
    flush(store)
    assert store.get("Users", bjensen) is None and store.get("Users", "n") is not None
    assert store.get("ContainerPermissions", "3") is None


def test_next_id_is_never_reused(store: Store) -> None:
    first = store.next_id("Containers")
    assert first == str(max(int(c["id"]) for c in FIXTURE["Containers"]) + 1)
    store.apply([Put("Containers", container(first, "New"))])
    store.apply([Delete("Containers", first)])
    assert store.next_id("Containers") == "7"


def test_load_export_round_trip(store: Store) -> None:
    assert store.export() == FIXTURE
    store.load(norm({}))
    # an empty state still has the shipped secret templates (docs/behaviour.md §13)
    assert all(store.count(k) == (5 if k == "SecretTemplates" else 0) for k in FIXTURE)
    store.load(FIXTURE)
    flush(store)
    assert store.export() == FIXTURE
    exported = store.export()
    exported["Users"][0]["displayName"] = "changed"  # export is a copy
    assert store.export() == FIXTURE


def _member(uid: str) -> dict[str, Any]:
    return {"value": uid, "display": f"{uid}@example.com", "type": "User"}


def test_member_edits_are_views_per_version_and_survive_a_restart(opener: Opener) -> None:
    """A group changed one member at a time (GroupDoc edits): each stored version reads as it was when stored,
    the members.value index follows only the change, and a restart gives the same group (docs/behaviour.md §13)."""
    store = opener()
    users = [user(f"u{i}", f"u{i}@example.com") for i in range(6)]
    group = norm({"Users": users, "Groups": [{"id": "g", "displayName": "G",
                                               "members": [_member(f"u{i}") for i in range(3)]}]})
    store.load(group)
    views = []
    for step in range(400):  # past the point where the table is worn and replaced
        current = store.get("Groups", "g")
        assert isinstance(current, GroupDoc)
        edit = current.edit()
        assert edit is not None
        uid = f"u{3 + step % 3}"
        if not edit.remove_member(uid):
            edit.add_member(uid, _member(uid))
        store.apply([Put("Groups", edit, current)])
        if step < 3:
            views.append(store.get("Groups", "g"))  # a stored version, kept while later ones land
        assert [g["id"] for g in store.lookup("Groups", "members.value", uid)] == (
            ["g"] if edit.has_member(uid) else [])
    assert [[m["value"] for m in view["members"]] for view in views] == [
        ["u0", "u1", "u2", "u3"], ["u0", "u1", "u2", "u3", "u4"], ["u0", "u1", "u2", "u3", "u4", "u5"]]
    expected = store.export()
    assert [m["value"] for m in expected["Groups"][0]["members"]] == ["u0", "u1", "u2", "u4", "u5"]
    flush(store)
    if isinstance(store, DurableStore):
        store.close()
        assert opener().export() == expected


def test_replace_reindexes_only_what_changed(store: Store) -> None:
    shared = [{"value": "Team@Example.com"}, {"value": "team@example.com"}]  # one key, twice in one document
    store.apply([Put("Users", user("a", "a@example.com", emails=shared)),
                 Put("Users", user("b", "b@example.com", emails=[{"value": "TEAM@example.com"}]))])
    assert [d["id"] for d in store.lookup("Users", "emails.value", "team@example.com")] == ["a", "b"]
    for title in ("one", "two"):  # a replace that keeps every indexed value
        store.apply([Put("Users", user("a", "a@example.com", emails=shared, title=title))])
    assert [d["id"] for d in store.lookup("Users", "emails.value", "team@example.com")] == ["a", "b"]
    assert store.lookup("Users", "userName", "A@example.com")[0]["title"] == "two"
    store.apply([Put("Users", user("a", "a2@example.com", emails=[{"value": "a2@example.com"}]))])
    assert [d["id"] for d in store.lookup("Users", "emails.value", "team@example.com")] == ["b"]
    assert [d["id"] for d in store.lookup("Users", "emails.value", "a2@example.com")] == ["a"]
    assert store.lookup("Users", "userName", "a@example.com") == []
    store.apply([Delete("Users", "b")])
    assert store.lookup("Users", "emails.value", "team@example.com") == []


@pytest.mark.parametrize("kind", ["Users", "Containers", "ContainerPermissions", "PrivilegedData"])
def test_packed_kinds_hand_out_copies(store: Store, kind: str) -> None:
    """Users and PAM documents are kept packed: what was put, and what a read returns, can change without the
    store seeing it (Groups stay live, and nothing in the core changes a stored document in place)."""
    doc = dict(store.all(kind).__next__())
    before = store.export()[kind]
    doc["meta"] = {**doc["meta"], "version": "changed"}
    store.apply([Put(kind, doc)])
    doc["meta"]["version"] = "after the put"
    read = store.get(kind, doc["id"])
    assert read is not None and read["meta"]["version"] == "changed"
    read["meta"]["version"] = "after the read"  # type: ignore[index]
    looked_up = next(iter(store.page(kind, 0, 1)))
    assert looked_up["meta"]["version"] == "changed"
    assert [d["id"] for d in store.export()[kind]] == [d["id"] for d in before]


# -- durability ----------------------------------------------------------------------------------------------------
@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "store.json"


@pytest.fixture
def durable(path: Path) -> Iterator[DurableStore]:
    s = DurableStore(path, validate=check_stored_state)
    assert not s.loaded_from_disk
    s.load(FIXTURE)
    s.flush()
    yield s
    s.close()


def crash_copy(store: DurableStore, tmp_path: Path) -> Path:
    """What a kill -9 leaves once ``sync()`` returned: the files as they are on disk, the process gone."""
    store.flush()
    target = tmp_path / "crashed" / "store.json"
    target.parent.mkdir()
    shutil.copy(store.path, target)
    shutil.copy(store.wal_path, f"{target}.wal")
    return target


def test_restart_after_close_keeps_everything(durable: DurableStore, path: Path) -> None:
    durable.apply([Put("Users", user("u1", "u1@example.com"))])
    cid = durable.next_id("Containers")
    durable.apply([Put("Containers", container(cid, "C")), Delete("Containers", cid)])
    before = durable.export()
    durable.close()
    assert not Path(f"{path}.wal").exists()  # after a clean close the file alone is the store (docs/behaviour.md §13)
    tiny = json.loads(path.read_text())
    assert [d["userName"] for d in tiny["Users"].values()] == [d["userName"] for d in before["Users"]]
    again = DurableStore(path, validate=check_stored_state)
    try:
        assert again.loaded_from_disk and again.export() == before
        assert again.lookup("Users", "userName", "U1@EXAMPLE.COM")
        assert again.next_id("Containers") == str(int(cid) + 1)  # ids stay unused across restarts
    finally:
        again.close()


def test_stored_schemas_survive_a_restart(durable: DurableStore, path: Path) -> None:
    """The core derives ``schemas`` under the serving profile (rfc omits LinkedObject); a restart keeps them."""
    doc = {**user("u1", "u1@example.com", **{LINKED: {"source": "ActiveDirectory"}}), "schemas": [CORE_USER]}
    durable.apply([Put("Users", doc)])
    before = durable.export()
    durable.close()
    again = DurableStore(path, validate=check_stored_state)
    try:
        assert again.export() == before
    finally:
        again.close()


def test_file_is_tinydb_after_close(durable: DurableStore, path: Path) -> None:
    tinydb = pytest.importorskip("tinydb")
    durable.apply([Put("Users", user("u1", "u1@example.com"))])
    before = durable.export()
    durable.close()
    db = tinydb.TinyDB(path, access_mode="r")
    try:
        for kind, docs in before.items():
            assert db.table(kind).all() == docs
    finally:
        db.close()


def test_wal_replay_without_close(durable: DurableStore, tmp_path: Path) -> None:
    durable.apply([Put("Users", user("u1", "u1@example.com"))])
    durable.apply([Put("Users", user("u2", "u2@example.com"))])
    durable.apply([Delete("Users", "u2")])
    cid = durable.next_id("Containers")
    durable.apply([Put("Containers", container(cid, "C"))])
    crashed = crash_copy(durable, tmp_path)
    recovered = DurableStore(crashed, validate=check_stored_state)
    try:
        assert recovered.export() == durable.export()
        assert recovered.next_id("Containers") == str(int(cid) + 1)
    finally:
        recovered.close()


@pytest.mark.parametrize("tail", [b'{"k":"00000000","s":9,"c":[["P","Users",{"id":"torn","userName":"to',
                                  b"\0" * 300])
def test_torn_wal_tail_is_ignored(durable: DurableStore, tmp_path: Path, tail: bytes) -> None:
    durable.apply([Put("Users", user("u1", "u1@example.com"))])
    before = durable.export()
    crashed = crash_copy(durable, tmp_path)
    with open(f"{crashed}.wal", "ab") as wal:
        wal.write(tail)
    recovered = DurableStore(crashed, validate=check_stored_state)
    try:
        assert recovered.export() == before
    finally:
        recovered.close()


@pytest.mark.parametrize("tail", [b"not json\n", b'{"c":[["P","Users",{"userName":"no id"}]]}\n'])
def test_a_complete_bad_last_line_is_refused(durable: DurableStore, tmp_path: Path, tail: bytes) -> None:
    """docs/behaviour.md §13: only a line without its line end is a torn write; a complete bad one is corruption."""
    durable.apply([Put("Users", user("u1", "u1@example.com"))])
    crashed = crash_copy(durable, tmp_path)
    with open(f"{crashed}.wal", "ab") as wal:
        wal.write(tail)
    with pytest.raises(StoreError, match=r"store\.json\.wal: line 3: damaged record: "):
        DurableStore(crashed, validate=check_stored_state)


@pytest.mark.parametrize("junk", [b"garbage\n", b'{"c":[["X","Users","u1"]]}\n', b'{"c":[["D","Users",{}]]}\n'])
def test_corrupt_record_before_the_tail_is_refused(durable: DurableStore, tmp_path: Path, junk: bytes) -> None:
    durable.apply([Put("Users", user("u1", "u1@example.com"))])
    crashed = crash_copy(durable, tmp_path)
    wal = Path(f"{crashed}.wal")
    header, record = wal.read_bytes().splitlines(keepends=True)
    wal.write_bytes(header + junk + record)
    snapshot = crashed.read_bytes()
    with pytest.raises(StoreError, match="line 2"):
        DurableStore(crashed, validate=check_stored_state)
    assert crashed.read_bytes() == snapshot and wal.read_bytes() == header + junk + record


def test_stale_wal_from_before_a_snapshot_is_not_replayed(durable: DurableStore, tmp_path: Path) -> None:
    """A crash after the snapshot rename but before the WAL truncation: the old log is already in the snapshot."""
    durable.apply([Put("Users", user("u1", "u1@example.com"))])
    durable.flush()
    old_wal = durable.wal_path.read_bytes()
    durable.load(norm(load_fixture("empty")))
    crashed = crash_copy(durable, tmp_path)
    Path(f"{crashed}.wal").write_bytes(old_wal)
    recovered = DurableStore(crashed, validate=check_stored_state)
    try:
        assert recovered.export() == durable.export()
        assert recovered.get("Users", "u1") is None
    finally:
        recovered.close()


def test_writes_do_not_rewrite_the_file(durable: DurableStore, path: Path) -> None:
    """Cost per write does not grow with the store: a write appends one line, PATH.json is untouched."""
    stat = path.stat()
    sizes = []
    for i in range(50):
        durable.apply([Put("Users", user(f"u{i:03}", f"u{i:03}@example.com"))])
        durable.flush()
        sizes.append(durable.wal_path.stat().st_size)
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    steps = {b - a for a, b in itertools.pairwise(sizes)}
    assert max(steps) - min(steps) <= 2  # one record each, the same size whatever the store holds


def test_log_is_compacted_when_it_outgrows_the_snapshot(path: Path) -> None:
    store = DurableStore(path, compact_min_bytes=4096, validate=check_stored_state)
    store.load(FIXTURE)
    for i in range(300):
        store.apply([Put("Users", user(f"u{i:03}", f"u{i:03}@example.com"))])
    store.flush()
    assert store.wal_path.stat().st_size <= max(4096, path.stat().st_size) + 4096
    before = store.export()
    crashed = path.with_name("copy.json")
    shutil.copy(path, crashed)
    shutil.copy(store.wal_path, f"{crashed}.wal")
    store.close()
    recovered = DurableStore(crashed, validate=check_stored_state)
    try:
        assert recovered.export() == before
    finally:
        recovered.close()


def test_concurrent_syncs_share_fsyncs(durable: DurableStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Group commit: the change sets of 100 waiting requests are made durable by a few fsyncs, not 100."""
    calls: list[int] = []
    real = os.fsync

    def slow_fsync(fd: int) -> None:
        calls.append(fd)
        time.sleep(0.02)  # a slow disk: requests pile up behind the fsync in flight
        real(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    docs = [user(f"g{i}", f"g{i}@example.com") for i in range(100)]

    async def request(doc: dict[str, Any]) -> None:
        durable.apply([Put("Users", doc)])
        await durable.sync()

    async def main() -> None:
        await asyncio.gather(*(request(doc) for doc in docs))

    asyncio.run(main())
    assert all(durable.get("Users", d["id"]) for d in docs)
    assert 1 <= len(calls) <= 5


def test_one_loop_iteration_is_one_batch(durable: DurableStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """The requests a loop runs in one iteration go out with one write and one fsync, however fast the disk."""
    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd))[1])
    docs = [user(f"b{i}", f"b{i}@example.com") for i in range(16)]

    async def request(doc: dict[str, Any]) -> None:
        durable.apply([Put("Users", doc)])
        await durable.sync()

    async def main() -> None:
        await asyncio.gather(*(request(doc) for doc in docs))

    asyncio.run(main())
    assert len(calls) == 1
    assert all(durable.get("Users", d["id"]) for d in docs)


def test_flush_and_close_on_a_loop_do_not_wait_for_its_kick(path: Path) -> None:
    """apply() on a loop defers waking the writer to the loop; a blocking flush() or close() there still writes."""
    store = DurableStore(path, validate=check_stored_state)
    store.load(FIXTURE)

    async def flush_then_close() -> None:
        store.apply([Put("Users", user("f1", "f1@example.com"))])
        store.flush()  # the loop is blocked here: its deferred kick cannot run
        assert b'"f1"' in store.wal_path.read_bytes()
        store.apply([Put("Users", user("f2", "f2@example.com"))])
        store.close()  # likewise (an ASGI lifespan shutdown runs on the loop)

    asyncio.run(asyncio.wait_for(flush_then_close(), 10))
    again = DurableStore(path, validate=check_stored_state)
    try:
        assert again.get("Users", "f1") and again.get("Users", "f2")
    finally:
        again.close()


def test_sync_on_another_loop_does_not_wait_for_a_lost_kick(durable: DurableStore) -> None:
    """Changes applied on a loop that stopped before its kick ran are still written when another loop syncs."""
    async def apply_only() -> None:
        durable.apply([Put("Users", user("k1", "k1@example.com"))])

    asyncio.run(apply_only())  # the loop closes with its kick never run
    asyncio.run(asyncio.wait_for(durable.sync(), 10))
    assert b'"k1"' in durable.wal_path.read_bytes()


def test_a_cancelled_sync_does_not_cancel_the_others(durable: DurableStore, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.fsync

    def slow_fsync(fd: int) -> None:
        time.sleep(0.05)
        real(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)

    async def main() -> None:
        durable.apply([Put("Users", user("c1", "c1@example.com"))])
        first, second = asyncio.ensure_future(durable.sync()), asyncio.ensure_future(durable.sync())
        await asyncio.sleep(0)
        first.cancel()
        await second
        assert first.cancelled()

    asyncio.run(main())


def test_change_that_cannot_be_logged_is_not_applied(durable: DurableStore) -> None:
    with pytest.raises(TypeError):
        durable.apply([Put("Users", {**user("u1", "u1@example.com"), "nickName": {"not", "json"}})])
    assert durable.get("Users", "u1") is None


def test_failed_write_fails_sync(durable: DurableStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(fd: int) -> None:
        raise OSError(28, "No space left on device")

    fsync = os.fsync
    monkeypatch.setattr(os, "fsync", broken)
    durable.apply([Put("Users", user("u1", "u1@example.com"))])
    with pytest.raises(WriteFailed, match=r"store\.json\.wal: write failed: No space left on device"):
        asyncio.run(durable.sync())
    assert durable.get("Users", "u1") is None  # docs/behaviour.md §13: a refused write is not applied in memory
    assert durable.failure is not None and "No space left" in durable.failure
    with pytest.raises(WriteFailed):
        durable.apply([Put("Users", user("u2", "u2@example.com"))])
    assert durable.get("Users", "u2") is None
    monkeypatch.setattr(os, "fsync", fsync)  # space returns
    durable.apply([Put("Users", user("u3", "u3@example.com"))])
    asyncio.run(durable.sync())
    assert durable.failure is None and durable.get("Users", "u3") is not None


def test_second_server_on_the_same_file_is_refused(durable: DurableStore, path: Path) -> None:
    with pytest.raises(StoreError, match="in use"):
        DurableStore(path, validate=check_stored_state)


def test_foreign_tinydb_file_that_is_a_state_loads(path: Path) -> None:
    tinydb = pytest.importorskip("tinydb")
    db = tinydb.TinyDB(path)
    db.table("Users").insert({"id": "u1", "userName": "alice@example.com", "password": "pw"})
    db.close()
    store = DurableStore(path, validate=check_stored_state)
    try:
        assert store.loaded_from_disk
        doc = store.get("Users", "u1")
        assert doc is not None and "passwordHash" in doc and "password" not in doc
    finally:
        store.close()


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "not JSON"),
    (b"{not json", "not JSON"),
    (b"\xff\xfe garbage", "not JSON"),
    (b"[1, 2]", "TinyDB"),
    (b'{"Users": []}', "TinyDB"),
    (b"{}", "tables"),
    (b'{"_default": {"1": {"name": "something else"}}}', "_default"),
    (b'{"Users": {"x": {"id": "u1", "userName": "a"}}}', "doc_id"),
    (b'{"Users": {"1": {"id": "u1", "userName": "a"}, "2": {"id": "u2", "userName": "A"}}}', "duplicate userName"),
    (b'{"Users": {"1": {"id": "u1", "userName": "a", "shoeSize": 4}}}', "unknown key 'shoeSize'"),
    (b'{"Users": {"1": {"id": "u1", "userName": "a"}}, "Groups": {"1": {"id": "g", "displayName": "G", '
     b'"members": [{"value": "nobody"}]}}}', "names no existing Users"),
])
def test_corrupt_or_foreign_file_is_refused_untouched(path: Path, content: bytes, reason: str) -> None:
    path.write_bytes(content)
    with pytest.raises(StoreError, match=reason) as info:
        DurableStore(path, validate=check_stored_state)
    assert str(path) in str(info.value)
    assert path.read_bytes() == content
    assert sorted(p.name for p in path.parent.iterdir()) == ["store.json"]  # no sidecar created either


def test_missing_file_is_created_on_first_load(path: Path) -> None:
    store = DurableStore(path, validate=check_stored_state)
    assert not store.loaded_from_disk and not path.exists()
    store.load(FIXTURE)
    store.flush()
    assert path.exists() and store.loaded_from_disk
    store.close()


# -- member changes in the log (docs/store.md, "What the log writes for a member change") -------------------------
def _edit(store: DurableStore, *steps: tuple[str, str], display: object = None, rename: str | None = None) -> None:
    """One change set editing group ``g``: ``("add", uid)`` / ``("remove", uid)`` in order, maybe a new name."""
    current = store.get("Groups", "g")
    assert isinstance(current, GroupDoc)
    edit = current.edit()
    assert edit is not None
    for verb, uid in steps:
        if verb == "add":
            edit.add_member(uid, {**_member(uid), **({"display": display} if display is not None else {})})
        else:
            edit.remove_member(uid)
    if rename is not None:
        dict.__setitem__(edit, "displayName", rename)
    store.apply([Put("Groups", edit, current)])


MEMBER_CHANGES: dict[str, tuple[list[tuple[tuple[str, str], ...]], str]] = {
    # name: (change sets, the verb the last one is logged with)
    "add one": ([(("add", "u5"),)], "M"),
    "remove one": ([(("remove", "u1"),)], "M"),
    "remove and add back (moves to the end)": ([(("remove", "u0"), ("add", "u0"))], "M"),
    "add then remove in one change (nothing)": ([(("add", "u5"), ("remove", "u5"))], "M"),
    "empty the group": ([tuple(("remove", f"u{i}") for i in range(4))], "M"),
    "emptied and refilled in one change": ([(*(("remove", f"u{i}") for i in range(4)), ("add", "u6"))], "M"),
    "add present one (nothing)": ([(("add", "u1"),)], "M"),
    "many change sets": ([(("add", f"u{5 + i % 3}"),) if i % 2 else (("remove", f"u{5 + i % 3}"),)
                          for i in range(12)], "M"),
}


@pytest.mark.parametrize("name", MEMBER_CHANGES)
def test_member_changes_are_logged_as_changes_and_replayed(durable: DurableStore, tmp_path: Path, name: str) -> None:
    """A group edit is logged as its member change (``M``: the attributes, the values removed, the members added),
    O(change) whatever the group's size, and a restart from the log gives the same group (docs/behaviour.md §13)."""
    users = [user(f"u{i}", f"u{i}@example.com") for i in range(8)]
    durable.load(norm({"Users": users, "Groups": [{"id": "g", "displayName": "G", "externalId": "e",
                                                   "members": [_member(f"u{i}") for i in range(4)]}]}))
    durable.flush()
    change_sets, verb = MEMBER_CHANGES[name]
    for n, steps in enumerate(change_sets):
        _edit(durable, *steps, rename=f"G{n}")
    expected = durable.export()
    crashed = crash_copy(durable, tmp_path)
    records = [json.loads(line) for line in Path(f"{crashed}.wal").read_bytes().splitlines()[1:]]
    assert len(records) == len(change_sets) and all(r["c"][0][0] == verb for r in records)
    if verb == "M":  # the change, not the group: its attributes without members, then what changed
        assert all("members" not in r["c"][0][2] for r in records)
        for record, steps in zip(records, change_sets, strict=True):
            assert len(record["c"][0][4]) <= sum(1 for v, _ in steps if v == "add")
    recovered = DurableStore(crashed, validate=check_stored_state)
    try:
        assert recovered.export() == expected
        group = recovered.get("Groups", "g")
        assert group is not None and list(group) == list(expected["Groups"][0])  # `members` where it was
        for uid in (f"u{i}" for i in range(8)):
            member = any(m["value"] == uid for m in expected["Groups"][0].get("members", []))
            assert recovered.lookup_ids("Groups", "members.value", uid) == (["g"] if member else [])
        _edit(recovered, ("add", "u7"))  # the replayed group takes further member changes
        recovered.flush()
    finally:
        recovered.close()


def test_a_member_not_in_stored_shape_logs_the_whole_group(durable: DurableStore, tmp_path: Path) -> None:
    """An added member the snapshot could not hold in a member table (a display that is not text) is logged with
    the group (``P``); so is every later change of that group, until the member leaves; all of it replays."""
    durable.load(norm({"Users": [user(f"u{i}", f"u{i}@example.com") for i in range(4)],
                       "Groups": [{"id": "g", "displayName": "G", "members": [_member("u0")]}]}))
    durable.flush()
    _edit(durable, ("add", "u1"), display=7)
    _edit(durable, ("add", "u2"))
    _edit(durable, ("remove", "u1"))
    _edit(durable, ("add", "u3"))
    expected = durable.export()
    crashed = crash_copy(durable, tmp_path)
    verbs = [json.loads(line)["c"][0][0] for line in Path(f"{crashed}.wal").read_bytes().splitlines()[1:]]
    assert verbs == ["P", "P", "P", "M"]
    recovered = DurableStore(crashed, validate=check_stored_state)
    try:
        assert recovered.export() == expected
    finally:
        recovered.close()


def test_member_changes_survive_compaction(path: Path) -> None:
    """Member changes before and after a compaction (the snapshot holds the group whole, the log its changes)."""
    store = DurableStore(path, validate=check_stored_state, compact_min_bytes=1)
    try:
        store.load(norm({"Users": [user(f"u{i}", f"u{i}@example.com") for i in range(40)],
                         "Groups": [{"id": "g", "displayName": "G", "members": [_member("u0")]}]}))
        for i in range(1, 40):
            _edit(store, ("add", f"u{i}"))
            store.flush()
        expected = store.export()
    finally:
        store.close()
    again = DurableStore(path, validate=check_stored_state)
    try:
        assert again.export() == expected
        assert [m["value"] for m in expected["Groups"][0]["members"]] == [f"u{i}" for i in range(40)]
    finally:
        again.close()


@pytest.mark.parametrize(("op", "fault"), [
    (["M", "Users", {"id": "u1"}, [], [], None], "damaged record: not a change set"),
    (["M", "Groups", {"id": "g"}, ["u1"], [{"display": "no value"}], None], "damaged record: not a change set"),
    (["M", "Groups", {"id": "nope"}, [], [{"value": "u1"}], None], "a record that cannot be applied"),
    (["M", "Groups", {"id": "g", "displayName": "G"}, [], [_member("ghost")], None],
     "a record that makes the state invalid"),
])
def test_a_bad_member_change_is_refused(durable: DurableStore, tmp_path: Path, op: list[Any], fault: str) -> None:
    """A sealed, numbered ``M`` record that is malformed, names no group, or adds a member who is no User stops
    the start with one line naming the file, the line and the fault; every file is left as it was."""
    durable.load(norm({"Users": [user("u1", "u1@example.com")],
                       "Groups": [{"id": "g", "displayName": "G", "members": [_member("u1")]}]}))
    crashed = crash_copy(durable, tmp_path)
    wal = Path(f"{crashed}.wal")
    header = wal.read_bytes()
    seq = json.loads(header)["seq"]
    wal.write_bytes(header + record_line(seq + 1, json.dumps([op]), ""))
    before = (crashed.read_bytes(), wal.read_bytes())
    with pytest.raises(StoreError, match=rf"store\.json\.wal: line 2: {fault}"):
        DurableStore(crashed, validate=check_stored_state)
    assert (crashed.read_bytes(), wal.read_bytes()) == before
