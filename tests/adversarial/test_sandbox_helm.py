"""Helm features that reach out on their own (issue 22, class 1) and render-error locations a
template chooses (class 3). Values schemas of the chart and of its subcharts (folders and
packed ``charts/*.tgz``) never make Helm fetch or read anything, with or without a network
namespace; a render error is located only on a template file of the chart."""

from __future__ import annotations

import io
import json
import secrets
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from klint.sandbox import NO_NAMESPACE_ENV
from tests.adversarial.probes import loopback_server, measured_run
from tests.adversarial.test_sources_helm import chart, the_rest_was_linted
from tests.conftest import REPO, needs_helm_sdk

pytestmark = needs_helm_sdk

TEMPLATE = """\
apiVersion: v1
kind: Pod
metadata: {name: in-chart}
spec:
  containers: [{name: c, image: "nginx:{{ .Values.tag }}", securityContext: {privileged: true}}]
"""
FORMATS = ("text", "json", "sarif", "github", "markdown")


def schema_chart(repo: Path, schema: dict[str, object], where: str = "chart") -> Path:
    """A chart whose schema (``where``: the chart, a subchart folder or a packed subchart)
    is ``schema``; values.yaml sets ``tag: "1.25"``."""
    directory = chart(repo, TEMPLATE)
    (directory / "values.yaml").write_text('tag: "1.25"\n')
    text = json.dumps(schema)
    if where == "chart":
        (directory / "values.schema.json").write_text(text)
    elif where == "subchart":
        sub = directory / "charts" / "sub"
        sub.mkdir(parents=True)
        (sub / "Chart.yaml").write_text("apiVersion: v2\nname: sub\nversion: 0.1.0\n")
        (sub / "values.schema.json").write_text(text)
    else:
        (directory / "charts").mkdir()
        packed = io.BytesIO()
        with tarfile.open(fileobj=packed, mode="w:gz") as tar:
            for name, data in (
                ("sub/Chart.yaml", b"apiVersion: v2\nname: sub\nversion: 0.1.0\n"),
                ("sub/values.schema.json", text.encode()),
            ):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        (directory / "charts" / "sub-0.1.0.tgz").write_bytes(packed.getvalue())
    return directory


@pytest.mark.parametrize("namespace", [True, False], ids=["namespace", "no-namespace"])
@pytest.mark.parametrize("where", ["chart", "subchart", "packed"])
@pytest.mark.parametrize("key", ["$schema", "$ref", "$id"])
def test_values_schemas_never_reach_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, where: str, namespace: bool
) -> None:
    if not namespace:
        monkeypatch.setenv(NO_NAMESPACE_ENV, "1")  # the refusal alone must hold
    with loopback_server(lifetime=60) as server:
        schema: dict[str, object] = {key: f"{server.url}/{key[1:]}.json", "type": "object"}
        if key == "$id":
            schema["properties"] = {"tag": {"$ref": "relative.json"}}
        schema_chart(tmp_path, schema, where)
        run = measured_run("check", "--format", "text", "chart", "pods", cwd=tmp_path)
        assert server.requests == []
    assert the_rest_was_linted(run.stdout)
    assert "chart/templates/x.yaml" in run.stdout and run.returncode == 1  # rendered
    if key == "$schema":  # dropped from the copy: the chart renders as before
        assert "[helm-schema]" not in run.stdout
    else:  # a reference out of the file leaves the schema out, named on its file and key
        assert "values.schema.json" in run.stdout and '"$ref"' in run.stdout
        assert "klint never fetches" in run.stdout and "[helm-schema]" in run.stdout


def test_the_loopback_server_would_be_reached_by_helm_itself(tmp_path: Path) -> None:
    """The probe can fail: Helm's SDK, on the chart as committed, fetches a remote
    ``$schema`` (run in a fresh interpreter: the SDK stays out of this process)."""
    with loopback_server(lifetime=60) as server:
        directory = schema_chart(tmp_path, {"$schema": f"{server.url}/m.json"})
        _render_unprotected(directory)
        assert server.requests


def _render_unprotected(directory: Path) -> str:
    code = (
        "import sys; from pathlib import Path\n"
        "from klint.sources.helm.backends import RenderOptions, render_with_sdk\n"
        "options = RenderOptions((), (), (), 'release', 'default', None)\n"
        "try:\n    render_with_sdk(Path(sys.argv[1]), options)\n"
        "except Exception as error:\n    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(directory)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.stdout + done.stderr


@pytest.mark.parametrize("spelling", ["file", "absolute", "dotdot"])
def test_a_file_outside_never_reaches_any_output(tmp_path: Path, spelling: str) -> None:
    canary = "klint-canary-" + secrets.token_hex(8)
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"n": {"const": canary}}))
    reference = {
        "file": f"file://{secret}#/n",
        "absolute": f"{secret}#/n",
        "dotdot": "../" * 12 + str(secret).lstrip("/") + "#/n",
    }[spelling]
    repo = tmp_path / "repo"
    schema = {"type": "object", "properties": {"tag": {"$ref": reference}}}
    directory = schema_chart(repo, schema)
    assert canary in _render_unprotected(directory)  # the probe can fail
    for output in FORMATS:
        run = measured_run("check", "--format", output, "chart", "pods", cwd=repo)
        assert canary not in run.stdout + run.stderr, output
        assert "values.schema.json" in run.stdout
        assert the_rest_was_linted(run.stdout) or output == "markdown"


@pytest.mark.parametrize(
    "named",
    ["c/../.github/workflows/ci.yml", "chart/../../../../etc/passwd", "chart/templates/../../x"],
)
def test_a_render_error_is_located_only_on_a_template_of_the_chart(
    tmp_path: Path, named: str
) -> None:
    chart(tmp_path, f'{{{{ fail "Error: {named}:1 forged" }}}}\n')
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    run = measured_run("check", "--format", "sarif", "chart", "pods", cwd=tmp_path)
    sarif = json.loads(run.stdout)
    uris = [
        location["physicalLocation"]["artifactLocation"]["uri"]
        for result in sarif["runs"][0]["results"]
        for location in result["locations"]
    ]
    assert "chart/Chart.yaml" in uris
    assert all(".." not in uri and uri.startswith(("chart/", "pods/")) for uri in uris), uris
    report = measured_run("check", "--format", "json", "chart", cwd=tmp_path)
    assert ".github" not in json.dumps(
        [n.get("location") for n in json.loads(report.stdout)["notifications"]]
    )


def test_a_real_template_error_keeps_its_location(tmp_path: Path) -> None:
    chart(tmp_path, textwrap.dedent('a: 1\n{{ fail "no" }}\n'))
    run = measured_run("check", "--format", "text", "chart", cwd=tmp_path)
    assert "chart/templates/x.yaml:2" in run.stdout


@pytest.mark.parametrize("shape", ["invalid-utf8", "duplicate-key", "unreadable-archive"])
def test_schemas_klint_cannot_check_are_never_handed_to_helm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    monkeypatch.setenv(NO_NAMESPACE_ENV, "1")
    with loopback_server(lifetime=60) as server:
        directory = schema_chart(tmp_path, {"type": "object"})
        remote = f'"$ref": "{server.url}/r.json"'.encode()
        if shape == "invalid-utf8":  # Go reads the stray byte as U+FFFD and goes on
            text = b'{"description": "\xff", ' + remote + b"}"
            (directory / "values.schema.json").write_bytes(text)
        elif shape == "duplicate-key":  # every copy of a key is checked, not only the last
            text = b"{" + remote + b', "$ref": "#/x", "x": {}}'
            (directory / "values.schema.json").write_bytes(text)
        else:
            (directory / "charts").mkdir()
            (directory / "charts" / "sub.tgz").write_bytes(b"\x1f\x8b\x08garbage")
        run = measured_run("check", "--format", "text", "chart", "pods", cwd=tmp_path)
        assert server.requests == []
    assert the_rest_was_linted(run.stdout)
    if shape == "unreadable-archive":
        assert "chart/Chart.yaml" in run.stdout and "klint" in run.stdout
        assert run.returncode == 2
    else:  # the remote reference is seen: the schema is left out, the chart rendered
        assert "chart/values.schema.json:1:1: warning:" in run.stdout
        assert "chart/templates/x.yaml" in run.stdout and run.returncode == 1
