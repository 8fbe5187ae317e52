"""The user guide in docs/: every page exists, the README links it, and every example marked runnable runs.

A fenced block whose info string is ``<language> run`` is an example this test executes (GitHub shows it as
``<language>``): ``sh`` with bash (``set -e``) in a scratch directory, ``python`` with this interpreter, ``yaml`` as a
scenario file (``mockscim scenario check``, then activated), ``json`` as a state (``PUT /_mockscim/state``). Each page
gets a fresh server; its URL is ``$B`` (the pages say ``B=http://127.0.0.1:8000``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mockscim import MockScim
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["cli", "scenarios", "control-api", "journal", "state", "secret-server", "connect-idp", "ci", "sizing"]
BLOCK = re.compile(r"^```(\w+) run\n(.*?)^```", re.S | re.M)


def blocks(page: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer((ROOT / "docs" / f"{page}.md").read_text("utf-8"))]


def test_every_page_exists_and_the_readme_links_it() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in PAGES:
        assert (ROOT / "docs" / f"{page}.md").is_file(), page
        assert f"(docs/{page}.md)" in readme, page


@pytest.mark.parametrize("page", [p for p in PAGES if (ROOT / "docs" / f"{p}.md").is_file()])
def test_the_examples_run(page: str, tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "MOCKSCIM_HOME": str(tmp_path / "home"), "P": str(free_port())}
    env.pop("MOCKSCIM_ADMIN_TOKEN", None)
    # One shell session in the docs is one bash per block here: what a first block sets for the next is given.
    env["JSON"] = "Content-Type: application/json"
    with MockScim(token_grace=300, scenario_dir=str(tmp_path)) as m:  # §12: {"path"} files only from there
        env["B"] = m.url
        for number, (language, text) in enumerate(blocks(page), 1):
            where = f"docs/{page}.md, runnable block {number} ({language})"
            if language == "sh":
                done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", text], cwd=tmp_path, env=env,
                                      capture_output=True, text=True, timeout=120)
            elif language == "python":
                done = subprocess.run([sys.executable, "-c", text], cwd=tmp_path, env=env, capture_output=True,
                                      text=True, timeout=120)
            elif language == "yaml":
                file = tmp_path / f"block{number}.yaml"
                file.write_text(text, encoding="utf-8")
                done = subprocess.run([sys.executable, "-m", "mockscim", "scenario", "check", str(file)],
                                      capture_output=True, text=True, timeout=60)
                if done.returncode == 0:
                    r = httpx.post(f"{m.url}/_mockscim/scenario", json={"path": str(file)})
                    assert r.status_code == 200, f"{where}: {r.text}"
                    httpx.delete(f"{m.url}/_mockscim/scenario")
            elif language == "json":
                r = httpx.put(f"{m.url}/_mockscim/state", json=json.loads(text))
                assert r.status_code == 200, f"{where}: {r.text}"
                m.reset()
                continue
            else:
                raise AssertionError(f"{where}: no runner for {language!r}")
            assert done.returncode == 0, f"{where}:\n{text}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
            assert "Traceback" not in done.stderr, f"{where}: {done.stderr}"


def test_the_github_actions_recipe_is_valid_and_its_start_step_works(tmp_path: Path) -> None:
    """docs/ci.md's workflow parses, and its "Start mockscim" step starts a server a later step can reach."""
    import yaml

    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    found = re.search(r"^```yaml\n(.*?)^```", text, re.S | re.M)
    assert found is not None
    workflow = yaml.safe_load(found.group(1))
    steps = {step.get("name"): step for step in workflow["jobs"]["provisioning"]["steps"]}
    assert "git+https://" in steps["Install mockscim"]["run"]
    port = free_port()
    script = steps["Start mockscim"]["run"].replace("--port 8000", f"--port {port}")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "RUNNER_TEMP": str(tmp_path)}
    proc = subprocess.Popen(["bash", "-e", "-c", script + "\necho started $!\n"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    pid = int(out.split("started ")[1].split()[0])
    try:
        r = httpx.get(f"http://127.0.0.1:{port}/scim/v2/Users", headers={"Authorization": "Bearer mockscim-token"})
        assert r.status_code == 200
    finally:
        os.kill(pid, 15)
