"""Hand corruption of the WAL and the snapshot (docs/behaviour.md §13): each case refused with one line naming the file
(and the line), every file untouched, or recovered with every acknowledged write."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from mockscim.app import create_app
from mockscim.cli import main
from mockscim.core import check_stored_state
from mockscim.settings import Settings
from mockscim.store.durable import DurableStore, StoreError
from mockscim.store.files import header_line, record_line
from tests.helpers import SCIM, free_port, server

ACKED = ["acked-1@example.com", "acked-2@example.com", "acked-3@example.com"]


@dataclass(frozen=True)
class Stores:
    """Crash copies of one server's files: W1 (generation 1, three acknowledged creates after the fixture), S1 its
    snapshot; S2 the snapshot written by a state import after them (generation 2, previous 1), W2 its fresh log."""

    s1: bytes
    w1: bytes
    s2: bytes
    w2: bytes


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stores]:
    path = tmp_path_factory.mktemp("live") / "store.json"
    client = TestClient(create_app(Settings(store=str(path))), raise_server_exceptions=False)
    for name in ACKED:
        assert client.post("/scim/v2/Users", headers=SCIM, json={"userName": name}).status_code == 201
    s1, w1 = path.read_bytes(), Path(f"{path}.wal").read_bytes()  # what a kill -9 leaves: the 201s are on disk
    state = client.get("/_mockscim/state").json()
    assert client.put("/_mockscim/state", json=state).status_code == 200
    s2, w2 = path.read_bytes(), Path(f"{path}.wal").read_bytes()
    client.app.state.runtime.core.close()  # type: ignore[attr-defined]
    yield Stores(s1, w1, s2, w2)


def lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")[:-1]


def joined(parts: list[bytes]) -> bytes:
    return b"".join(p + b"\n" for p in parts)


def flip(data: bytes, needle: bytes) -> bytes:
    """One byte changed, inside ``needle``'s first occurrence."""
    at = data.index(needle) + len(needle) // 2
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def generation(snapshot: bytes) -> str:
    return str(json.loads(snapshot)["_mockscim"]["1"]["generation"])


def forged(s: Stores, doc: dict[str, object]) -> bytes:
    """A record with a valid checksum and the next sequence number, whose content is not a valid change."""
    return s.w1 + record_line(4, json.dumps([["P", "Users", doc]]), "")


GROUP = {"id": "g-forged", "displayName": "G", "members": [{"value": "nobody"}],
         "meta": {"resourceType": "Group", "created": "2024-01-01T00:00:00Z", "lastModified": "2024-01-01T00:00:00Z",
                  "version": 'W/"1"'}}

Files = tuple[bytes | None, bytes | None]
# name → (what to write as (snapshot, wal), expected: a regex of the refusal's one line, or None = recovered)
CASES: dict[str, tuple[Callable[[Stores], Files], str | None]] = {
    # -- the log ------------------------------------------------------------------------------------------------
    "wal header: one byte flipped": (lambda s: (s.s1, flip(s.w1, b"generation")),
                                     r"store\.json\.wal: line 1: damaged header: checksum mismatch"),
    "wal header: line removed": (lambda s: (s.s1, joined(lines(s.w1)[1:])),
                                 r"store\.json\.wal: line 1: damaged header: not a log header"),
    "wal header: another generation": (lambda s: (s.s1, header_line("f" * 32, 0) + s.w1.split(b"\n", 1)[1]),
                                       r"store\.json\.wal: line 1: a header of generation f{32}, but store\.json is"),
    "wal header: another start record": (lambda s: (s.s1, header_line(generation(s.s1), 7) + s.w1.split(b"\n", 1)[1]),
                                         r"store\.json\.wal: line 1: the header follows record 7"),
    "wal: emptied": (lambda s: (s.s1, b""), r"store\.json\.wal: line 1: no complete header \(empty\)"),
    "wal: last record, one byte flipped": (lambda s: (s.s1, flip(s.w1, ACKED[2].encode())),
                                           r"store\.json\.wal: line 4: damaged record: checksum mismatch"),
    "wal: middle record, one byte flipped": (lambda s: (s.s1, flip(s.w1, ACKED[1].encode())),
                                             r"store\.json\.wal: line 3: damaged record: checksum mismatch"),
    "wal: a record removed": (lambda s: (s.s1, joined([lines(s.w1)[i] for i in (0, 1, 3)])),
                              r"store\.json\.wal: line 3: record 3 where record 2 belongs"),
    "wal: a record repeated": (lambda s: (s.s1, joined([lines(s.w1)[i] for i in (0, 1, 1, 2, 3)])),
                               r"store\.json\.wal: line 3: record 1 where record 2 belongs"),
    "wal: records swapped": (lambda s: (s.s1, joined([lines(s.w1)[i] for i in (0, 1, 3, 2)])),
                             r"store\.json\.wal: line 3: record 3 where record 2 belongs"),
    "wal: valid record, numeric userName": (lambda s: (s.s1, forged(s, {"id": "x1", "userName": 5})),
                                            r"store\.json\.wal: line 5: a record that makes the state invalid"),
    "wal: valid record, dangling member": (lambda s: (s.s1, s.w1 + record_line(4, json.dumps([["P", "Groups", GROUP]]),
                                                                               "")),
                                           r"store\.json\.wal: line 5: a record that makes the state invalid: "
                                           r".*names no existing Users"),
    "wal: valid record, duplicate userName": (lambda s: (s.s1, forged(s, {"id": "x2", "userName": ACKED[0].upper()})),
                                              r"store\.json\.wal: line 5: a record that makes the state invalid"),
    "wal: garbage line": (lambda s: (s.s1, s.w1 + b"hello\n"),
                          r"store\.json\.wal: line 5: damaged record: not a mockscim log line"),
    "wal: zeros with a line end": (lambda s: (s.s1, s.w1 + b"\0" * 64 + b"\n"),
                                   r"store\.json\.wal: line 5: damaged record: not a mockscim log line"),
    "wal: a record of format 1": (lambda s: (s.s1, s.w1 + b'{"c":[["D","Users","x"]],"n":{}}\n'),
                                  r"store\.json\.wal: line 5: damaged record: a line without checksum"),
    "wal: torn final record": (lambda s: (s.s1, s.w1 + record_line(4, '[["D","Users","x"]]', "")[:30]), None),
    "wal: zero-filled tail": (lambda s: (s.s1, s.w1 + b"\0" * 300), None),
    "wal: of the previous generation (crash before its reset)": (lambda s: (s.s2, s.w1), None),
    # -- the snapshot -------------------------------------------------------------------------------------------
    "snapshot: deleted, log kept": (lambda s: (None, s.w1),
                                    r"store\.json\.wal: a write-ahead log without its snapshot store\.json"),
    "snapshot: one byte flipped in a document": (lambda s: (flip(s.s1, b"bjensen"), s.w1),
                                                 r"store\.json: checksum mismatch"),
    "snapshot: cut in half": (lambda s: (s.s1[: len(s.s1) // 2], s.w1),
                              r"store\.json: not a mockscim store \(not JSON"),
    "snapshot: an older one under a newer log": (lambda s: (s.s1, s.w2),
                                                 r"store\.json\.wal: line 1: a header of generation .* but "
                                                 r"store\.json"),
    "snapshot: its generation changed": (lambda s: (s.s1.replace(generation(s.s1).encode(), b"0" * 32), s.w1),
                                         r"store\.json\.wal: line 1: a header of generation .* but store\.json is "
                                         r"generation 0{32}"),
    "snapshot: edited, checksum removed, invalid": (
        lambda s: (s.s1.replace(b'"userName":"bjensen@example.com"', b'"userName":7').replace(b',"crc":', b',"x":'),
                   s.w1),
        r"store\.json: not a mockscim store: .*userName"),
}


def install(directory: Path, files: Files) -> Path:
    directory.mkdir()
    path = directory / "store.json"
    snapshot, wal = files
    if snapshot is not None:
        path.write_bytes(snapshot)
    if wal is not None:
        Path(f"{path}.wal").write_bytes(wal)
    return path


def contents(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.mark.parametrize("case", list(CASES))
def test_hand_corruption_is_refused_or_recovered(stores: Stores, tmp_path: Path, case: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    make, refusal = CASES[case]
    path = install(tmp_path / "crashed", make(stores))
    before = contents(path.parent)
    code = main(["store", "check", str(path)])
    out, err = capsys.readouterr()
    if refusal is not None:
        assert code == 1 and out == ""
        assert len(err.splitlines()) == 1 and "Traceback" not in err
        assert err.startswith("mockscim store check: ")
        assert str(path.parent) in err
        assert re.search(refusal, err), err
        with pytest.raises(StoreError) as info:
            DurableStore(path, validate=check_stored_state)
        assert f"mockscim store check: {info.value}\n" == err  # the start says what the check says
        assert contents(path.parent) == before  # every file untouched
        return
    assert code == 0 and err == "" and out.startswith(f"{path}: ok (")
    store = DurableStore(path, validate=check_stored_state)
    try:
        assert [name for name in ACKED if store.lookup("Users", "userName", name)] == ACKED  # nothing acked lost
    finally:
        store.close()


def test_leftover_temp_files_are_ignored(stores: Stores, tmp_path: Path) -> None:
    """A snapshot and a log being written when the process died (never renamed into place) change nothing."""
    path = install(tmp_path / "crashed", (stores.s1, stores.w1))
    Path(f"{path}.tmp").write_bytes(stores.s1[:100])
    Path(f"{path}.wal.new").write_bytes(b"")
    store = DurableStore(path, validate=check_stored_state)
    try:
        assert all(store.lookup("Users", "userName", name) for name in ACKED)
    finally:
        store.close()


def test_a_log_cut_mid_record_keeps_what_precedes_and_says_so(stores: Stores, tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    """A cut inside the last line is indistinguishable from a torn write (docs/store.md, "What a log cannot tell"):
    the records before it are kept, and the start names the file, the line and the bytes dropped."""
    path = install(tmp_path / "crashed", (stores.s1, stores.w1[:-40]))
    store = DurableStore(path, validate=check_stored_state)
    try:
        assert [n for n in ACKED if store.lookup("Users", "userName", n)] == ACKED[:2]
    finally:
        store.close()
    assert any("store.json.wal: line 4: a torn final record" in r.getMessage() for r in caplog.records)


def test_serve_refuses_a_damaged_log_in_one_line_untouched(stores: Stores, tmp_path: Path) -> None:
    path = install(tmp_path / "crashed", (stores.s1, flip(stores.w1, ACKED[2].encode())))
    before = contents(path.parent)
    done = subprocess.run([sys.executable, "-m", "mockscim", "serve", "--port", str(free_port()), "--store",
                           str(path)], capture_output=True, timeout=30, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"mockscim serve: cannot start: {path}.wal: line 4: damaged record: checksum mismatch "
                           "(the line was changed after it was written)\n")
    assert contents(path.parent) == before


def test_serve_refuses_a_log_without_its_snapshot(stores: Stores, tmp_path: Path) -> None:
    """Never "start from the fixture" over a log: the acknowledged writes in it would be overwritten."""
    path = install(tmp_path / "crashed", (None, stores.w1))
    done = subprocess.run([sys.executable, "-m", "mockscim", "serve", "--port", str(free_port()), "--store",
                           str(path)], capture_output=True, timeout=30, text=True)
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert f"{path}.wal: a write-ahead log without its snapshot store.json" in done.stderr
    assert contents(path.parent) == {"store.json.wal": stores.w1}


def test_store_check_of_a_clean_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "store.json"
    client = TestClient(create_app(Settings(store=str(path), fixture="empty")))
    client.app.state.runtime.core.close()  # type: ignore[attr-defined]
    assert main(["store", "check", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out == f"{path}: ok (1 serviceUsers, 1 Users, 5 SecretTemplates; 0 log records to replay)\n" and err == ""
    assert main(["store", "check", str(tmp_path / "nope.json")]) == 1
    assert capsys.readouterr().err == f"mockscim store check: {tmp_path / 'nope.json'}: no such file\n"


@pytest.mark.parametrize(("damage", "fault"), [
    (lambda wal: wal.replace(b"generation", b"generatiom", 1), "line 1: damaged header"),
    (lambda wal: wal + b'{"c":[["P","Users",{"id":"x1","userName":5}]],"n":{}}\n', "line 5: damaged record"),
], ids=["header-sed", "invalid-record-appended"])
def test_the_findings_reproductions_are_refused(tmp_path: Path, damage: Callable[[bytes], bytes], fault: str) -> None:
    """As reproduced in December 2026: serve, three 201s, kill -9, damage the log the way the finding did, start
    again. It used to start without the users (and truncate the log), or replay the record and answer 500."""
    path = tmp_path / "s.json"
    with server(path) as (url, proc):
        for name in ACKED:
            assert httpx.post(f"{url}/scim/v2/Users", headers=SCIM, json={"userName": name}).status_code == 201
        proc.kill()
    wal = Path(f"{path}.wal")
    wal.write_bytes(damage(wal.read_bytes()))
    before = contents(tmp_path)
    done = subprocess.run([sys.executable, "-m", "mockscim", "serve", "--port", str(free_port()), "--store",
                           str(path)], capture_output=True, timeout=30, text=True)
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith(f"mockscim serve: cannot start: {wal}: {fault}")
    assert contents(tmp_path) == before
