"""Hostile input and the file system: bounded, reported with a line, never lost or crashed."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klint.documents import Limits, parse_stream
from klint.reporters.github import escape_data, escape_property
from tests.conftest import REPO, hits, lint_text, run_cli

POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\nspec:\n  hostPID: true\n  containers: []\n"


def _notifications(result: Any) -> set[tuple[str, str]]:
    data = json.loads(result.stdout)
    return {(n["path"], n["code"]) for n in data["notifications"]}


def test_hostile_files_beside_a_good_one(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(POD)
    head = "apiVersion: v1\nkind: Pod\n"  # broken manifests, not just any YAML
    (tmp_path / "deep.yaml").write_text(head + "a: " + "[" * 20000 + "]" * 20000 + "\n")
    (tmp_path / "nul.yaml").write_bytes(b"a: 1\x00\n")
    (tmp_path / "bom16.yaml").write_bytes(POD.replace("ok", "bom").encode("utf-16"))
    (tmp_path / "unterminated.yaml").write_text(head + "a: {b: [1, 2\n")
    (tmp_path / "tags.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: !!python/object:os.system echo}\n"
        "spec: !custom {hostIPC: true, containers: []}\n"
    )
    (tmp_path / "keys.yaml").write_text("? [a, b]\n: 1\n1: 2\ntrue: 3\n")
    (tmp_path / "anchors.yaml").write_text(head + "a: &x 1\n---\nb: *x\n")
    (tmp_path / "not-k8s.yaml").write_text("a: {b: [1, 2\n")  # no apiVersion/kind: skipped
    (tmp_path / "long.yaml").write_text("a: " + "x" * 2_000_000 + "\n")
    (tmp_path / "many.yaml").write_text("---\na: 1\n" * 20000)
    result = run_cli("check", "--format", "json", "--verbose", ".", cwd=tmp_path)
    problems = _notifications(result)
    skipped = [line for line in result.stderr.splitlines() if "skipped not-k8s.yaml:" in line]
    assert len(skipped) == 1 and "not a Kubernetes manifest (YAML syntax error" in skipped[0]
    assert not any(path == "not-k8s.yaml" for path, _ in problems)
    assert ("deep.yaml", "yaml-syntax") in problems or ("deep.yaml", "yaml-limit") in problems
    assert ("nul.yaml", "binary-file") in problems
    assert ("unterminated.yaml", "yaml-syntax") in problems
    assert ("anchors.yaml", "yaml-syntax") in problems  # anchors do not cross documents
    data = json.loads(result.stdout)
    found = {(f["path"], f["rule_id"]) for f in data["findings"]}
    assert ("good.yaml", "KL103") in found
    assert ("bom16.yaml", "KL103") in found
    assert ("tags.yaml", "KL104") in found  # unknown tags keep the value, never execute
    assert result.returncode == 1


def test_file_too_large_is_reported(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_text("a: " + "x" * (2 * 1024 * 1024) + "\n")
    result = run_cli("check", "--format", "json", "--max-file-size", "1", "big.yaml", cwd=tmp_path)
    assert ("big.yaml", "file-too-large") in _notifications(result)


def test_symlinks_fifos_and_odd_names(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(POD)
    (root / "loop").symlink_to(root)
    (root / "escape").symlink_to(outside)
    os.mkfifo(root / "pipe.yaml")
    odd = root / "name with spaces ü\nnewline.yaml"
    odd.write_text(POD)
    result = run_cli("check", "--format", "json", ".", cwd=root)
    paths = {f["path"] for f in json.loads(result.stdout)["findings"]}
    assert paths == {"name with spaces ü\nnewline.yaml"}  # fifo never opened, links not followed
    text = run_cli("check", ".", cwd=root).stdout
    assert "name with spaces ü\\x0anewline.yaml:5:12: error:" in text


def test_output_injection_is_escaped() -> None:
    evil = "x\x1b[31mred\n::error file=forged::pwned"
    report = lint_text(POD.replace("name: ok", f"name: {json.dumps(evil)}"))
    assert report.active
    assert escape_data("a\nb%c") == "a%0Ab%25c"
    assert escape_property("a:b,c") == "a%3Ab%2Cc"
    result = run_cli(
        "check",
        "--format",
        "github",
        "--stdin-filename",
        "a\n::warning::x.yaml",
        "-",
        stdin=POD.encode(),
    )
    for line in result.stdout.splitlines():
        assert line.startswith(("::error ", "::warning ", "::notice "))
    text = run_cli("check", "--stdin-filename", "\x1b[2Jevil.yaml", "-", stdin=POD.encode()).stdout
    assert "\x1b" not in text


def test_no_socket_is_opened_during_a_full_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from klint.cli import main

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("klint tried to open a socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    with pytest.raises(SystemExit) as done:
        main(
            [
                "check",
                "--jobs",
                "1",
                "--format",
                "sarif",
                "-o",
                os.devnull,
                str(REPO / "fixtures" / "examples"),
                str(REPO / "fixtures" / "bad"),
                str(REPO / "fixtures" / "cases"),
            ]
        )
    assert done.value.code == 1


def test_output_is_identical_with_and_without_jobs(tmp_path: Path) -> None:
    for index in range(40):
        (tmp_path / f"f{index:02d}.yaml").write_text(POD.replace("ok", f"p{index}"))
    serial = run_cli("check", "--format", "sarif", "--jobs", "1", ".", cwd=tmp_path).stdout
    parallel = run_cli("check", "--format", "sarif", "--jobs", "2", ".", cwd=tmp_path).stdout
    assert serial == parallel and serial.count('"ruleId"') >= 40


yaml_scalars = st.one_of(
    st.booleans(),
    st.integers(),
    st.none(),
    st.text(max_size=20),
    st.sampled_from(["yes", "on", "0644", "~", "*", "- x", "{a: b}", "[1", "\t"]),
)
k8s_like = st.recursive(
    yaml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "spec",
                    "containers",
                    "securityContext",
                    "privileged",
                    "name",
                    "image",
                    "volumes",
                    "hostPath",
                    "ports",
                    "hostPort",
                    "template",
                    "metadata",
                    "capabilities",
                    "add",
                    "items",
                    "kind",
                ]
            ),
            children,
            max_size=5,
        ),
    ),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=k8s_like, kind=st.sampled_from(["Pod", "Deployment", "CronJob", "List", "Job"]))
def test_fuzz_objects_never_crash_and_positions_are_in_the_file(spec: object, kind: str) -> None:
    text = json.dumps(
        {
            "apiVersion": "v1",
            "kind": kind,
            "metadata": {"name": "f"},
            "spec": spec,
            "items": [spec],
        },
        indent=1,
    )
    report = lint_text(text)
    assert not [n for n in report.notifications if n.code == "internal-check-error"]
    lines = text.splitlines()
    documents = parse_stream(text, "test.yaml").documents
    for finding in report.findings:
        span = finding.location.span
        assert 1 <= span.start_line <= span.end_line <= len(lines)
        # A field that exists is reported on its own line, which names its key.
        last = finding.field_path[-1] if finding.field_path else None
        base: tuple[str | int, ...] = ("items", 0) if kind == "List" else ()
        if isinstance(last, str) and documents[0].resolves((*base, *finding.field_path)):
            assert f'"{last}"' in lines[span.start_line - 1], (finding, lines[span.start_line - 1])
        assert 1 <= span.start_column <= len(lines[span.start_line - 1]) + 1


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#\n\t ,?%@`")), max_size=80))
def test_fuzz_raw_yaml_never_raises(text: str) -> None:
    parsed = parse_stream(text, "fuzz.yaml", Limits(max_nodes_per_document=10_000))
    for problem in parsed.problems:
        assert problem.location is not None and problem.location.span.start_line >= 1


def test_findings_point_at_their_field() -> None:
    report = lint_text(POD)
    assert hits(report, "KL103") == [(5, 12, "KL103")]


def test_yaml_limits_are_options(tmp_path: Path) -> None:
    (tmp_path / "deep.yaml").write_text("a: " + "[" * 60 + "]" * 60 + "\n")
    (tmp_path / "wide.yaml").write_text("a: [" + ", ".join(["x"] * 500) + "]\n")
    (tmp_path / "pod.yaml").write_text(POD)
    result = run_cli(
        "check",
        "--format",
        "json",
        "--max-depth",
        "50",
        "--max-yaml-nodes",
        "300",
        ".",
        cwd=tmp_path,
    )
    assert {("deep.yaml", "yaml-limit"), ("wide.yaml", "yaml-limit")} <= _notifications(result)
    assert ("pod.yaml", "KL103") in {
        (f["path"], f["rule_id"]) for f in json.loads(result.stdout)["findings"]
    }
    relaxed = run_cli("check", "--format", "json", ".", cwd=tmp_path)
    assert not {n for n in _notifications(relaxed) if n[1] == "yaml-limit"}
