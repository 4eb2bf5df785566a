"""The editor agrees with `validate`: yaml-language-server, what VS Code's YAML extension runs,
over the project's own files, through the schema as a user's editor loads it (the modeline of
each spec and sweep file; the JSON file's `$schema`; the settings for the test cases, which have
neither).

The server is the npm package, pinned (YAML_LS_VERSION), run by Node from the distribution's
packages; `.ci/run` installs both and sets REGSPEC_REQUIRE_EDITOR=1, so CI fails rather than
skips when it is missing. Elsewhere: `npm install --prefix .ci/node yaml-language-server@1.25.0`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CASES, ROOT, SPECS

YAML_LS_VERSION = "1.25.0"
SERVER = ROOT / ".ci" / "node" / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"

# Invalid cases whose every error a schema can express (types, unknown keys and kinds, ranges,
# missing keys): the editor must flag each error's line. The other cases need what only
# `validate` knows (shapes, names, parents): see docs/spec-reference.md.
EXPRESSIBLE = ["type_errors", "unknown_keys", "unknown_types", "wrong_kinds", "missing", "ranges"]


def server() -> list[str] | None:
    node = shutil.which("node") or shutil.which("nodejs")
    path = Path(os.environ.get("REGSPEC_YAML_LS", SERVER))
    if node is None or not path.exists():
        if os.environ.get("REGSPEC_REQUIRE_EDITOR"):
            pytest.fail(f"no yaml-language-server at {path} (or no node), and REGSPEC_REQUIRE_EDITOR is set")
        return None
    package = json.loads((path.parent.parent / "package.json").read_text())
    assert package["version"] == YAML_LS_VERSION, f"yaml-language-server {package['version']}, not the pinned one"
    return [node, str(path), "--stdio"]


class Client:
    """Just enough of the Language Server Protocol: open documents, collect their diagnostics."""

    def __init__(self, cmd: list[str], settings: dict[str, Any]):
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.settings = settings
        self.diagnostics: dict[str, list[dict]] = {}
        self.lock = threading.Lock()
        self.next_id = 0
        self.published = 0
        self.replies: dict[int, Any] = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        self.proc.stdin.flush()

    def request(self, method: str, params: Any, timeout: float = 60) -> Any:
        self.next_id += 1
        rid = self.next_id
        self._send({"id": rid, "method": method, "params": params})
        deadline = time.time() + timeout
        while rid not in self.replies:
            assert time.time() < deadline, f"no reply to {method}"
            time.sleep(0.01)
        return self.replies.pop(rid)

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            header = b""
            while not header.endswith(b"\r\n\r\n"):
                byte = out.read(1)
                if not byte:
                    return
                header += byte
            length = int(re.search(rb"Content-Length: (\d+)", header).group(1))
            message = json.loads(out.read(length))
            method = message.get("method")
            if "id" in message and method is None:
                self.replies[message["id"]] = message.get("result")
            elif method == "textDocument/publishDiagnostics":
                with self.lock:
                    self.diagnostics[message["params"]["uri"]] = message["params"]["diagnostics"]
                    self.published += 1
            elif method == "workspace/configuration":  # the server pulls its settings, section by section
                items = message["params"]["items"]
                result = [self.settings.get(item.get("section", ""), None) for item in items]
                self._send({"id": message["id"], "result": result})
            elif "id" in message:  # registerCapability, workDoneProgress/create, ...
                self._send({"id": message["id"], "result": None})

    def check(self, files: list[Path], timeout: float = 240) -> dict[Path, list[dict]]:
        """Open every file and wait until the server has published its diagnostics for each."""
        for f in files:
            self.notify("textDocument/didOpen", {"textDocument": {
                "uri": f.as_uri(), "languageId": "yaml", "version": 1, "text": f.read_text()}})
        deadline = time.time() + timeout
        while True:
            with self.lock:
                if all(f.as_uri() in self.diagnostics for f in files):
                    break
            assert time.time() < deadline, [str(f) for f in files if f.as_uri() not in self.diagnostics][:5]
            time.sleep(0.05)
        while True:  # a schema loaded late republishes: take the last word (quiet for 0.3 s)
            seen = self.published
            time.sleep(0.3)
            with self.lock:
                if self.published == seen:
                    return {f: self.diagnostics[f.as_uri()] for f in files}

    def close(self) -> None:
        try:
            self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
            self.proc.wait(timeout=10)
        except (AssertionError, subprocess.TimeoutExpired, OSError):
            self.proc.kill()


@pytest.fixture(scope="module")
def editor():
    cmd = server()
    if cmd is None:
        pytest.skip("no yaml-language-server here (.ci/run installs it)")
    schema = (ROOT / "schemas" / "regspec.schema.json").as_uri()
    yaml = {"validate": True, "hover": False, "completion": False, "schemaStore": {"enable": False},
            "schemas": {schema: ["**/tests/cases/**/*.yaml", "**/tests/cases/**/*.json"]}, "yamlVersion": "1.2"}
    client = Client(cmd, {"yaml": yaml, "http": {}, "[yaml]": {}, "editor": {}, "files": {}})
    client.request("initialize", {"processId": os.getpid(), "rootUri": ROOT.as_uri(), "capabilities": {
        "textDocument": {"publishDiagnostics": {}}, "workspace": {"configuration": True}}})
    client.notify("initialized", {})
    client.notify("workspace/didChangeConfiguration", {"settings": {"yaml": yaml}})
    yield client
    client.close()


def project_files() -> list[Path]:
    files = sorted(SPECS.rglob("*.yaml")) + sorted(SPECS.rglob("*.json"))
    return files + sorted(p for p in (CASES / "valid").iterdir() if p.suffix in (".yaml", ".json"))


def test_every_project_file_is_clean_in_the_editor(editor):
    found = editor.check(project_files())
    dirty = {str(f.relative_to(ROOT)): [f"{d['range']['start']['line'] + 1}: {d['message']}" for d in ds][:3]
             for f, ds in found.items() if ds}
    assert dirty == {}


@pytest.mark.parametrize("case", EXPRESSIBLE)
def test_each_schema_error_is_flagged_at_its_line(editor, case):
    path = CASES / "invalid" / f"{case}.yaml"
    expected = {int(m.group(1)) for m in re.finditer(r"\.yaml:(\d+):\d+: error", (CASES / "invalid" / f"{case}.err").read_text())}
    found = editor.check([path])[path]
    flagged = {d["range"]["start"]["line"] + 1 for d in found if d.get("severity", 1) == 1}
    assert expected <= flagged, (sorted(expected - flagged), [(d["range"]["start"]["line"] + 1, d["message"]) for d in found])


def test_an_imported_specs_modeline_resolves_in_the_editor(editor, tmp_path):
    """`regspec import` into an empty folder names the installed schema: the editor loads it
    (a made-up URL gave "Unable to load schema" on every imported spec) and checks with it."""
    from regspec.lang.schema import modeline

    spec = tmp_path / "imported.yaml"
    body = "regspec: 1\nname: m\ninput: {shape: [4]}\nlayers:\n  - {type: dense, units: 2}\ncompile: {}\n"
    spec.write_text(modeline(str(spec)) + body)
    assert editor.check([spec])[spec] == []
    typo = tmp_path / "typo.yaml"
    typo.write_text(modeline(str(typo)) + body.replace("units", "unit"))
    assert any("unit" in d["message"] for d in editor.check([typo])[typo])  # the schema was loaded, and used
