"""A hostile file costs its own lint unit: bounded memory and time, the rest still reported.

Memory is measured, not guessed: each run is a child of a fresh interpreter that reads
``RUSAGE_CHILDREN`` (see :mod:`tests.adversarial.probes`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from klint.documents import Limits, parse_stream
from tests.adversarial.probes import measured_run

GIB = 1024**3
BAD_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - {name: app, image: nginx:1.27, securityContext: {privileged: true}}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "pod.yaml").write_text(BAD_POD, encoding="utf-8")
    (tmp_path / "bad").mkdir()
    return tmp_path


def assert_rest_reported(stdout: str) -> None:
    """The privileged container of the other file is still found."""
    assert "good/pod.yaml:6:" in stdout
    assert "[KL101 privileged-container]" in stdout


def test_endless_stdin_is_cut_at_the_file_size_limit(repo: Path) -> None:
    run = measured_run("check", "--no-config", "-", cwd=repo, stdin_path=Path("/dev/zero"))
    assert run.returncode == 1, run.stderr
    assert "<stdin>:1:1: error: file is larger than the 32 MiB limit (--max-file-size)" in (
        run.stdout
    )
    assert run.peak_rss_bytes < GIB
    # time is bounded by --unit-timeout (tests/adversarial/test_unit_budget.py), not asserted
    # here: seconds depend on the machine's load


@pytest.mark.parametrize("output_format", ["text", "sarif"])
def test_a_million_tiny_documents_cost_one_input_problem(repo: Path, output_format: str) -> None:
    document = "---\nkind: ConfigMap\nx: 1\n"
    count = (32 * 1024 * 1024 - 1024) // len(document)  # 1.3 million, just under 32 MiB
    (repo / "bad" / "docs.yaml").write_text(document * count, encoding="utf-8")
    run = measured_run("check", "--no-config", "--format", output_format, "good", "bad", cwd=repo)
    assert run.returncode == 1, run.stderr
    assert run.peak_rss_bytes < GIB, run.peak_rss_bytes
    assert run.seconds < 60
    if output_format == "text":
        assert (
            "bad/docs.yaml:1:1: error: more than 10,000 YAML documents in one file "
            "(--max-documents); file skipped [too-many-documents]"
        ) in run.stdout
        assert_rest_reported(run.stdout)
    else:
        assert '"ruleId": "KL101"' in run.stdout
        assert "--max-documents" in run.stdout


def test_millions_of_flow_scalars_are_counted_before_composing(repo: Path) -> None:
    # 8 MiB, 4 million nodes: composing it took ~1.3 GB before the node limit was checked.
    (repo / "bad" / "flow.yaml").write_text("[" + "a," * (4 * 1024 * 1024) + "a]\n")
    run = measured_run("check", "--no-config", "good", "bad", cwd=repo)
    assert run.returncode == 1, run.stderr
    assert (
        "bad/flow.yaml:1:1: error: file holds more than 2,000,000 YAML nodes "
        "(--max-yaml-nodes); file skipped"
    ) in run.stdout
    assert_rest_reported(run.stdout)
    assert run.peak_rss_bytes < GIB
    assert run.seconds < 60


def test_the_document_limit_is_exact_and_raisable() -> None:
    text = "".join(f"---\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n" for i in range(5))
    assert len(parse_stream(text, "f.yaml", Limits(max_documents=5)).documents) == 5
    refused = parse_stream(text, "f.yaml", Limits(max_documents=4))
    assert refused.documents == []
    assert [p.code for p in refused.problems] == ["too-many-documents"]
    unmarked = text.removeprefix("---\n")  # the first document needs no marker
    assert len(parse_stream(unmarked, "f.yaml", Limits(max_documents=5)).documents) == 5


def test_a_folder_over_the_document_limit_is_one_problem(repo: Path) -> None:
    for index in range(3):
        (repo / "bad" / f"cm{index}.yaml").write_text(
            f"---\nkind: ConfigMap\nmetadata: {{name: a{index}}}\n"
            f"---\nkind: ConfigMap\nmetadata: {{name: b{index}}}\n",
            encoding="utf-8",
        )
    run = measured_run("check", "--no-config", "--max-documents", "4", "good", "bad", cwd=repo)
    assert run.returncode == 1, run.stderr
    assert (
        "bad/cm0.yaml:1:1: error: bad: more than 4 YAML documents in one lint unit "
        "(--max-documents); unit skipped [too-many-documents]"
    ) in run.stdout
    assert_rest_reported(run.stdout)


def test_an_object_that_multiplies_findings_stops_at_the_findings_limit(repo: Path) -> None:
    # 300,000 tiny containers (5 nodes each, within the node limit): ~2 million findings.
    lines = ["apiVersion: v1", "kind: Pod", "metadata: {name: many}", "spec:", "  containers:"]
    lines += [f"  - {{name: c{i}, image: i}}" for i in range(300_000)]
    (repo / "bad" / "pod.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = measured_run("check", "--no-config", "good", "bad", cwd=repo)
    assert run.returncode == 1, run.stderr
    assert (
        "klint: error: bad: more than 20,000 findings in one lint unit (--max-findings); "
        "the rest of the unit is not checked [too-many-findings]"
    ) in run.stdout
    assert run.stdout.count("bad/pod.yaml:") == 20_000
    assert_rest_reported(run.stdout)
    assert run.peak_rss_bytes < GIB
    assert run.seconds < 60
