"""Hostile charts: no file outside the repository reaches a template or an error, and a render
costs at most its own unit's memory and --max-file-size. Each test is one small reproducer."""

from __future__ import annotations

import os
import re
import secrets
import textwrap
from pathlib import Path

import pytest

from tests.adversarial.probes import measured_run
from tests.conftest import needs_helm_sdk

pytestmark = needs_helm_sdk

GiB = 1024**3
PRIVILEGED_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: other}
spec:
  containers: [{name: c, image: nginx:1.25, securityContext: {privileged: true}}]
"""


def chart(repo: Path, template: str, name: str = "chart") -> Path:
    """A chart ``name`` in a checkout ``repo`` with one template, and a pod beside it."""
    (repo / ".git").mkdir(parents=True, exist_ok=True)
    directory = repo / name
    (directory / "templates").mkdir(parents=True)
    (directory / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
    (directory / "templates" / "x.yaml").write_text(textwrap.dedent(template))
    (repo / "pods").mkdir(exist_ok=True)
    (repo / "pods" / "pod.yaml").write_text(PRIVILEGED_POD)
    return directory


def the_rest_was_linted(stdout: str) -> bool:
    return "pods/pod.yaml" in stdout and "KL101" in stdout


def big_config_map(tmp_path: Path, size: int) -> Path:
    """A chart whose one ConfigMap value renders to ``size`` bytes."""
    return chart(
        tmp_path,
        f"""\
        apiVersion: v1
        kind: ConfigMap
        metadata: {{name: big}}
        data:
          a: {{{{ repeat {size} "a" }}}}
        """,
    )


def test_a_link_to_the_environment_never_reaches_the_render_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = "klint-canary-" + secrets.token_hex(8)
    monkeypatch.setenv("KLINT_ADVERSARIAL_CANARY", canary)
    directory = chart(tmp_path, '{{ fail (.Files.Get "files/e") }}\n')
    (directory / "files").mkdir()
    (directory / "files" / "e").symlink_to("/proc/self/environ")
    run = measured_run("check", "--format", "sarif", "chart", "pods", cwd=tmp_path)
    assert canary not in run.stdout + run.stderr
    assert "chart/files/e" in run.stdout
    assert "is a symbolic link that leads outside the root" in run.stdout
    assert '"ruleId": "KL101"' in run.stdout  # the other unit still ran
    assert run.returncode == 2
    assert run.peak_rss_bytes < GiB and run.seconds < 60


def test_links_to_etc_shadow_in_templates_are_refused_too(tmp_path: Path) -> None:
    directory = chart(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    (directory / "templates" / "shadow.yaml").symlink_to("/etc/shadow")
    run = measured_run("check", "chart", "pods", cwd=tmp_path)
    assert "chart/templates/shadow.yaml" in run.stdout and "outside the root" in run.stdout
    assert the_rest_was_linted(run.stdout)


def test_links_that_stay_in_the_repository_still_render(tmp_path: Path) -> None:
    directory = chart(
        tmp_path,
        """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c}
        data:
          shared: {{ .Files.Get "files/shared.txt" | trim | quote }}
        """,
    )
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data.txt").write_text("from-the-repository\n")
    (directory / "files").mkdir()
    (directory / "files" / "shared.txt").symlink_to("../../shared/data.txt")
    run = measured_run("check", "--format", "json", "chart", cwd=tmp_path)
    assert run.returncode in (0, 1), run.stdout
    assert '"notifications": []' in run.stdout


def test_a_fifo_in_the_chart_does_not_hang_the_render(tmp_path: Path) -> None:
    directory = chart(tmp_path, '{{ .Files.Get "files/pipe" }}\n')
    (directory / "files").mkdir()
    os.mkfifo(directory / "files" / "pipe")
    run = measured_run("check", "--render-timeout", "30", "chart", "pods", cwd=tmp_path)
    assert run.seconds < 30
    assert the_rest_was_linted(run.stdout)


def test_a_256_mib_render_stops_at_the_unit_budget(tmp_path: Path) -> None:
    big_config_map(tmp_path, 268_435_456)
    run = measured_run("check", "chart", "pods", cwd=tmp_path)
    assert "failed to render" in run.stdout
    assert "memory budget" in run.stdout or "--max-file-size" in run.stdout
    assert "--render-memory" in run.stdout or "--max-file-size" in run.stdout
    assert the_rest_was_linted(run.stdout)
    assert run.peak_rss_bytes < GiB, run.peak_rss_bytes
    assert run.seconds < 60


def test_render_memory_option_sets_the_budget(tmp_path: Path) -> None:
    big_config_map(tmp_path, 67_108_864)
    run = measured_run("check", "--render-memory", "48", "chart", "pods", cwd=tmp_path)
    assert "48 MiB memory budget" in run.stdout
    assert the_rest_was_linted(run.stdout)


def test_rendered_output_counts_against_max_file_size(tmp_path: Path) -> None:
    big_config_map(tmp_path, 2_097_152)
    run = measured_run("check", "--max-file-size", "1", "chart", "pods", cwd=tmp_path)
    assert "rendered more than the 1 MiB limit for one file or unit (--max-file-size)" in (
        run.stdout
    )
    assert the_rest_was_linted(run.stdout)
    bigger = measured_run("check", "--max-file-size", "4", "chart", cwd=tmp_path)
    assert "--max-file-size" not in bigger.stdout  # the option raises the limit


def test_too_many_rendered_documents_is_an_input_problem(tmp_path: Path) -> None:
    chart(
        tmp_path,
        """\
        {{- range until 50 }}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c{{ . }}}
        {{- end }}
        """,
    )
    run = measured_run("check", "--max-documents", "10", "chart", "pods", cwd=tmp_path)
    expected = r"rendered \d+ documents, more than the limit of 10 \(--max-documents\)"
    assert re.search(expected, run.stdout)
    assert the_rest_was_linted(run.stdout)
