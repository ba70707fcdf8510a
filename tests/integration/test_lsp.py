"""``klint lsp`` end to end: a minimal JSON-RPC client drives the real server over stdio."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest

from tests.conftest import REPO


def test_missing_pygls_is_a_one_line_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from klint.cli import main

    monkeypatch.setitem(sys.modules, "pygls", None)
    monkeypatch.setitem(sys.modules, "pygls.lsp.server", None)
    monkeypatch.delitem(sys.modules, "klint.lsp", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["lsp"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("klint: error: klint lsp needs pygls")
    assert error.count("\n") == 1 and "klint[lsp]" in error


pytest.importorskip("pygls", reason="klint lsp needs the lsp extra (pygls)")

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: app
          image: nginx:1.27.3
          securityContext:
            privileged: true
"""


class LspClient:
    """Just enough of an LSP client: framed JSON-RPC over the server's stdin/stdout."""

    def __init__(self, cwd: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "klint", "lsp"],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream: IO[bytes] = self.process.stdout  # type: ignore[assignment]
        while True:
            headers: dict[str, str] = {}
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = stream.read(int(headers["content-length"]))
            self.messages.put(json.loads(body))

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        stdin: IO[bytes] = self.process.stdin  # type: ignore[assignment]
        stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        stdin.flush()

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: Any, timeout: float = 30) -> Any:
        self._next_id += 1
        self.send({"id": self._next_id, "method": method, "params": params})
        reply = self.wait(lambda m: m.get("id") == self._next_id and "method" not in m, timeout)
        assert "error" not in reply, reply
        return reply.get("result")

    def wait(self, match: Any, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("timed out waiting for the server")
            message = self.messages.get(timeout=remaining)
            if match(message):
                return message

    def diagnostics(self, uri: str, version: int | None = None) -> dict[str, Any]:
        message = self.wait(
            lambda m: (
                m.get("method") == "textDocument/publishDiagnostics"
                and m["params"]["uri"] == uri
                and (version is None or m["params"].get("version") == version)
            )
        )
        return message["params"]  # type: ignore[no-any-return]

    def close(self) -> int:
        self.request("shutdown", None)
        self.notify("exit", {})
        try:
            return self.process.wait(timeout=10)
        finally:
            for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()


@pytest.fixture
def client(tmp_path: Path) -> Any:
    lsp = LspClient(tmp_path)
    result = lsp.request(
        "initialize",
        {
            "processId": os.getpid(),
            "rootUri": tmp_path.as_uri(),
            "capabilities": {},
        },
    )
    lsp.notify("initialized", {})
    lsp.initialize_result = result  # type: ignore[attr-defined]
    yield lsp
    if lsp.process.poll() is None:
        lsp.process.kill()
        lsp.process.wait()


def by_code(params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["code"]: d for d in params["diagnostics"]}


def test_capabilities(client: LspClient) -> None:
    capabilities = client.initialize_result["capabilities"]  # type: ignore[attr-defined]
    assert capabilities["codeActionProvider"]["codeActionKinds"] == ["quickfix"]
    sync = capabilities["textDocumentSync"]
    assert sync["openClose"] is True
    assert sync["save"] in (True, {"includeText": False}, {})
    assert client.initialize_result["serverInfo"]["name"] == "klint"  # type: ignore[attr-defined]
    assert client.close() == 0


def test_open_change_save_code_action(client: LspClient, tmp_path: Path) -> None:
    uri = (tmp_path / "deploy.yaml").as_uri()  # never written: buffers need no file
    started = time.perf_counter()
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": DEPLOYMENT}},
    )
    opened = client.diagnostics(uri, 1)
    round_trip_ms = (time.perf_counter() - started) * 1000
    print(f"LSP didOpen → publishDiagnostics round trip: {round_trip_ms:.1f} ms")

    found = by_code(opened)
    privileged = found["KL101"]
    assert privileged["range"] == {
        "start": {"line": 15, "character": 24},
        "end": {"line": 15, "character": 28},
    }
    assert privileged["severity"] == 1
    assert privileged["source"] == "klint"
    assert privileged["codeDescription"]["href"].endswith("/privileged-container.md")
    assert privileged["message"].startswith('container "app" sets securityContext.privileged')
    # privileged: escalation is always allowed, a note beside KL101's error
    assert found["KL201"]["severity"] == 3
    assert found["KL201"]["range"]["start"] == {"line": 14, "character": 10}

    # change: fix the privileged line; diagnostics follow after the debounce
    fixed = DEPLOYMENT.replace("privileged: true", "privileged: false")
    client.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [
                {
                    "range": {
                        "start": {"line": 15, "character": 24},
                        "end": {"line": 15, "character": 28},
                    },
                    "text": "false",
                }
            ],
        },
    )
    changed = client.diagnostics(uri, 2)
    assert "KL101" not in by_code(changed)
    assert "KL201" in by_code(changed)

    # save republishes at once
    started = time.perf_counter()
    client.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
    saved = client.diagnostics(uri, 2)
    elapsed = (time.perf_counter() - started) * 1000
    print(f"LSP didSave → publishDiagnostics round trip: {elapsed:.1f} ms")
    assert by_code(saved).keys() == by_code(changed).keys()

    # quick fix for the remaining KL201 on line 15 (0-based 14)
    target = by_code(saved)["KL201"]
    actions = client.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": uri},
            "range": target["range"],
            "context": {"diagnostics": [target]},
        },
    )
    assert len(actions) == 2  # the rule's fix (klint fix), then the suppression
    assert actions[0]["title"].startswith("Fix KL201: ") and actions[0]["isPreferred"]
    action = actions[1]
    assert action["kind"] == "quickfix"
    assert action["title"] == "Suppress KL201 on this line (klint: ignore)"
    (edit,) = action["edit"]["changes"][uri]
    line = fixed.splitlines()[14]
    assert edit["range"]["start"] == {"line": 14, "character": len(line)}
    assert edit["range"]["start"] == edit["range"]["end"]
    assert edit["newText"] == " # klint: ignore[KL201] TODO: say why this is acceptable"

    # applying the quick fix suppresses the finding
    lines = fixed.splitlines(keepends=True)
    lines[14] = lines[14].rstrip("\n") + edit["newText"] + "\n"
    client.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": uri, "version": 3},
            "contentChanges": [{"text": "".join(lines)}],
        },
    )
    after = by_code(client.diagnostics(uri, 3))
    assert "KL201" not in after
    assert "KL202" in after  # other rules on that line still report
    assert client.close() == 0


def test_debounce_coalesces_rapid_changes(client: LspClient, tmp_path: Path) -> None:
    uri = (tmp_path / "pod.yaml").as_uri()
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": DEPLOYMENT}},
    )
    client.diagnostics(uri, 1)
    for version in range(2, 7):
        client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": DEPLOYMENT}],
            },
        )
    last = client.diagnostics(uri)
    assert last["version"] == 6  # versions 2-5 were never linted
    assert client.close() == 0


def test_parse_error_and_close_clear(client: LspClient, tmp_path: Path) -> None:
    uri = (tmp_path / "broken.yaml").as_uri()
    client.notify(
        "textDocument/didOpen",
        {
            "textDocument": {
                "uri": uri,
                "languageId": "yaml",
                "version": 1,
                "text": "apiVersion: v1\nkind: [Pod\nb: 3\n",
            }
        },
    )
    params = client.diagnostics(uri, 1)
    assert len(params["diagnostics"]) == 1
    assert params["diagnostics"][0]["source"] == "klint"
    assert params["diagnostics"][0]["severity"] == 1
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert client.diagnostics(uri)["diagnostics"] == []
    assert client.close() == 0


def test_suppression_edit_extends_an_existing_comment() -> None:
    from klint.lsp import suppression_edit

    edit = suppression_edit("  securityContext:  # klint: ignore[KL202] ok\n", 4, "KL201")
    assert edit is not None
    assert (edit.range.start.line, edit.range.start.character) == (4, 41)
    assert edit.new_text == ",KL201"
    assert suppression_edit("  x: 1  # klint: ignore[KL201] ok\n", 0, "KL201") is None
    fresh = suppression_edit("  x: 1 \r\n", 2, "KL101")
    assert fresh is not None
    assert fresh.range.start.character == 7
    assert fresh.new_text == "# klint: ignore[KL101] TODO: say why this is acceptable"


def test_ranges_use_utf16_columns() -> None:
    from klint.findings import Span
    from klint.lsp import to_range

    lines = ["  name: \U0001f600é: true\n"]
    # code points: "true" is columns 13-16 (1-based); the emoji takes two UTF-16 units
    found = to_range(Span(1, 13, 1, 17), lines)
    assert (found.start.character, found.end.character) == (13, 17)
    whole = to_range(Span.line(1), lines)
    assert (whole.start.character, whole.end.character) == (0, 17)


def test_files_that_are_not_kubernetes_get_no_diagnostics(
    client: LspClient, tmp_path: Path
) -> None:
    """As on the command line: tsconfig.json with comments, a workflow with a repeated key."""
    buffers = {
        "tsconfig.json": '{\n  // JSON with comments\n  "compilerOptions": {},\n}\n',
        "settings.json": '{\n  /* editor */ "editor.tabSize": 2\n}\n',
        "ci.yml": "on: push\non: pull_request\njobs: {}\n",
    }
    for name, text in buffers.items():
        uri = (tmp_path / name).as_uri()
        language = "json" if name.endswith(".json") else "yaml"
        client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}},
        )
        assert client.diagnostics(uri, 1)["diagnostics"] == [], name
    assert client.close() == 0


needs_helm = pytest.mark.skipif(
    __import__("importlib").util.find_spec("helm_python") is None, reason="needs helm-python-sdk"
)
CHART_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: app
          image: nginx:1.27.3
          securityContext:
            privileged: {{ .Values.privileged }}
"""


def open_file(client: LspClient, path: Path, version: int = 1) -> str:
    uri = path.as_uri()
    client.notify(
        "textDocument/didOpen",
        {
            "textDocument": {
                "uri": uri,
                "languageId": "yaml",
                "version": version,
                "text": path.read_text(),
            }
        },
    )
    return uri


def lines_of(params: dict[str, Any], code: str) -> list[int]:
    return sorted(d["range"]["start"]["line"] for d in params["diagnostics"] if d["code"] == code)


@needs_helm
def test_chart_files_get_what_ci_gets_on_open_and_save(client: LspClient, tmp_path: Path) -> None:
    """A template gets the chart's findings on its lines, values.yaml the line that set the
    value; typing does not render, saving does (and updates every open file of the chart)."""
    chart = tmp_path / "charts" / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("replicas: 1\nprivileged: true\n")
    (chart / "templates" / "deployment.yaml").write_text(CHART_TEMPLATE)
    template = open_file(client, chart / "templates" / "deployment.yaml")
    assert lines_of(client.diagnostics(template, 1), "KL101") == [15]  # privileged: line 16
    values = open_file(client, chart / "values.yaml")
    published = client.diagnostics(values, 1)
    assert lines_of(published, "KL101") == [1]  # "privileged: true" is line 2
    (note,) = [d for d in published["diagnostics"] if d["code"] == "KL101"]
    assert "charts/web/templates/deployment.yaml:16" in note["message"]
    # typing: no render, nothing published for the chart's files
    client.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": values, "version": 2},
            "contentChanges": [{"text": "replicas: 1\nprivileged: false\n"}],
        },
    )
    with pytest.raises((AssertionError, queue.Empty)):
        client.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics", timeout=1.5)
    (chart / "values.yaml").write_text("replicas: 1\nprivileged: false\n")
    client.notify("textDocument/didSave", {"textDocument": {"uri": values}})
    updated = {}
    for _ in range(2):
        message = client.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics")
        updated[message["params"]["uri"]] = message["params"]
    assert set(updated) == {template, values}
    assert lines_of(updated[template], "KL101") == [] == lines_of(updated[values], "KL101")
    assert client.close() == 0


@needs_helm
def test_a_render_failure_is_said_in_the_editor(client: LspClient, tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("a: 1\n")
    (chart / "templates" / "cm.yaml").write_text('{{ fail "values.b is required" }}\n')
    values = open_file(client, chart / "values.yaml")
    shown = client.wait(lambda m: m.get("method") == "window/showMessage")
    assert "failed to render" in shown["params"]["message"]
    assert "values.b is required" in shown["params"]["message"]
    problems = client.diagnostics(values, 1)["diagnostics"]
    assert [d["code"] for d in problems] == ["helm-render"]
    assert "values.b is required" in problems[0]["message"]
    assert client.close() == 0


@pytest.mark.skipif(
    __import__("shutil").which("kubectl") is None
    and __import__("shutil").which("kustomize") is None,
    reason="needs kubectl or kustomize",
)
def test_an_overlay_patch_gets_the_findings_on_its_lines(client: LspClient, tmp_path: Path) -> None:
    base = tmp_path / "k8s" / "base"
    prod = tmp_path / "k8s" / "prod"
    base.mkdir(parents=True)
    prod.mkdir(parents=True)
    (base / "deploy.yaml").write_text(DEPLOYMENT.replace("privileged: true", "privileged: false"))
    (base / "kustomization.yaml").write_text("resources: [deploy.yaml]\n")
    (prod / "kustomization.yaml").write_text(
        "resources: [../base]\npatches:\n  - path: privileged.yaml\n"
    )
    (prod / "privileged.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n"
        "    spec:\n      containers:\n        - name: app\n"
        "          securityContext:\n            privileged: true\n"
    )
    patch = open_file(client, prod / "privileged.yaml")
    assert lines_of(client.diagnostics(patch, 1), "KL101") == [9]  # the patch's line 10
    plain = tmp_path / "k8s" / "pod.yaml"  # a plain manifest beside them: linted as a buffer
    plain.write_text(DEPLOYMENT.replace("Deployment", "Pod"))
    assert client.diagnostics(open_file(client, plain), 1)["diagnostics"]
    assert client.close() == 0
