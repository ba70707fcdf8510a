"""The command line as users and scripts see it: formats, exit codes, stdin, errors."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import FIXTURES, REPO, run_cli

INSECURE = "fixtures/examples/insecure-deployment.yaml"
PRIVILEGED_POD = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
    "    - name: a\n      image: a:1.0\n      securityContext: {privileged: true}\n"
)


def test_text_output_lines_and_exit_code_1() -> None:
    result = run_cli("check", INSECURE)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert (
        f'{INSECURE}:23:25: error: container "app" sets securityContext.privileged to true '
        "(Pod Security Standards baseline: Privileged Containers). "
        "[KL101 privileged-container]" in lines
    )
    assert (
        f"{INSECURE}:15:20: error: the pod sets hostNetwork to true "
        "(Pod Security Standards baseline: Host Namespaces). [KL102 host-network]" in lines
    )
    assert "\x1b[" not in result.stdout  # no colour when not a TTY
    assert result.stderr == ""


def test_fail_on_levels() -> None:
    # only warnings: fail-on error passes, fail-on warning fails
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "    - {name: a, image: 'a:latest'}\n"
    )
    assert (
        run_cli(
            "check",
            "--select",
            "KL301",
            "--profile",
            "pss-baseline",
            "-",
            stdin=text.encode(),
        ).returncode
        == 1
    )
    assert run_cli("check", "--fail-on", "error", "-", stdin=text.encode()).returncode == 0


def test_clean_input_exits_0() -> None:
    result = run_cli("check", "fixtures/examples/hardened-deployment.yaml")
    assert result.returncode == 0, result.stdout
    assert "0 findings" in result.stdout


def test_stdin_with_stdin_filename() -> None:
    result = run_cli(
        "check", "--stdin-filename", "deploy/pod.yaml", "-", stdin=PRIVILEGED_POD.encode()
    )
    assert result.returncode == 1
    assert "deploy/pod.yaml:8:37: error:" in result.stdout


def test_json_format_is_stable_and_complete() -> None:
    result = run_cli("check", "--format", "json", INSECURE)
    data = json.loads(result.stdout)
    assert data["version"] == 1
    first = next(f for f in data["findings"] if f["rule_id"] == "KL101")
    assert first == {
        "rule_id": "KL101",
        "rule_name": "privileged-container",
        "severity": "error",
        "message": 'container "app" sets securityContext.privileged to true '
        "(Pod Security Standards baseline: Privileged Containers).",
        "path": INSECURE,
        "line": 23,
        "column": 25,
        "end_line": 23,
        "end_column": 29,
        "object": {
            "api_version": "apps/v1",
            "kind": "Deployment",
            "namespace": "shop",
            "name": "web",
        },
        "field_path": "spec.template.spec.containers[0].securityContext.privileged",
        "fingerprint": first["fingerprint"],
        "related": [],
        "properties": {"pss-level": "baseline", "pss-control": "privileged"},
        "suppressed": None,
    }
    assert len(first["fingerprint"]) == 32


def test_output_file(tmp_path: Path) -> None:
    target = tmp_path / "out.sarif"
    result = run_cli("check", "--format", "sarif", "-o", str(target), INSECURE)
    assert result.returncode == 1 and result.stdout == ""
    assert json.loads(target.read_text())["version"] == "2.1.0"


def test_github_annotations() -> None:
    result = run_cli("check", "--format", "github", INSECURE)
    assert (
        f"::error file={INSECURE},line=23,col=25,endLine=23,endColumn=29,"
        'title=KL101 privileged-container::container "app" sets securityContext.privileged to true '
        "(Pod Security Standards baseline: Privileged Containers)."
    ) in result.stdout.splitlines()


def test_missing_path_and_unknown_flag_are_exit_2_one_line() -> None:
    missing = run_cli("check", "no/such/file.yaml")
    assert missing.returncode == 2
    assert "no/such/file.yaml: no such file or directory" in missing.stdout
    unknown = run_cli("check", "--no-such-flag", INSECURE)
    assert unknown.returncode == 2
    assert unknown.stderr.strip().count("\n") == 0 and "Traceback" not in unknown.stderr
    assert run_cli("check", "--format", "yaml", INSECURE).returncode == 2
    assert run_cli("check", "--fail-on", "fatal", INSECURE).returncode == 2
    assert run_cli("check", "--select", "KL000", INSECURE).returncode == 2


def test_bad_files_are_reported_and_the_rest_still_linted() -> None:
    result = run_cli("check", "--format", "json", "fixtures/bad", INSECURE)
    data = json.loads(result.stdout)
    problems = {(n["path"], n["code"], n["line"]) for n in data["notifications"]}
    assert problems >= {
        ("fixtures/bad/syntax-error.yaml", "yaml-syntax", 9),
        ("fixtures/bad/tabs.yaml", "yaml-syntax", 4),
        ("fixtures/bad/latin1.yaml", "encoding", 4),
        ("fixtures/bad/binary.yaml", "binary-file", 3),
        ("fixtures/bad/duplicate-key.yaml", "duplicate-key", 5),
        ("fixtures/bad/billion-laughs.yaml", "yaml-limit", 1),
    }
    linted = {f["path"] for f in data["findings"]}
    assert {INSECURE, "fixtures/bad/duplicate-key.yaml"} <= linted
    assert result.returncode == 1


def test_unparsable_input_alone_fails_with_1() -> None:
    assert run_cli("check", "fixtures/bad/syntax-error.yaml").returncode == 1


def test_rules_and_explain() -> None:
    listing = run_cli("rules")
    assert listing.returncode == 0
    assert any(
        line.startswith("KL101  privileged-container") for line in listing.stdout.splitlines()
    )
    cis = run_cli("rules", "--framework", "cis")
    assert "KL101  privileged-container" in cis.stdout and "5.2.2" in cis.stdout
    explained = run_cli("explain", "privileged-container")
    assert explained.returncode == 0 and explained.stdout.startswith("# KL101 privileged-container")
    assert "## Fails" in explained.stdout
    assert run_cli("explain", "nope").returncode == 2


def test_profiles_select_and_ignore() -> None:
    baseline = run_cli("check", "--profile", "pss-baseline", "--format", "json", INSECURE)
    rules = {f["rule_id"] for f in json.loads(baseline.stdout)["findings"]}
    assert "KL301" not in rules and "KL101" in rules
    ignored = run_cli("check", "--ignore", "privileged-container", "--format", "json", INSECURE)
    assert "KL101" not in {f["rule_id"] for f in json.loads(ignored.stdout)["findings"]}


def test_version_and_module_entry() -> None:
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("klint ")


def test_directories_are_walked_recursively_in_order() -> None:
    result = run_cli("check", "--format", "json", "fixtures/examples")
    paths = [f["path"] for f in json.loads(result.stdout)["findings"]]
    assert paths == sorted(paths)
    assert paths and all(p.startswith("fixtures/examples/") for p in paths)
    assert (REPO / FIXTURES.name).is_dir()


def test_files_of_one_folder_are_linted_together_for_cross_object_rules(tmp_path: Path) -> None:
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"
        "spec:\n  template:\n    spec:\n      serviceAccountName: web\n"
        "      containers: [{name: app, image: 'app:1.0'}]\n"
    )
    account = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: shop}\n"
    (tmp_path / "deployment.yaml").write_text(deployment)

    def undefined_accounts() -> list[str]:
        result = run_cli(
            "check",
            "--profile",
            "pss-baseline",
            "--select",
            "KL534",
            "--format",
            "json",
            ".",
            cwd=tmp_path,
        )
        return [f["path"] for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "KL534"]

    assert undefined_accounts() == ["deployment.yaml"]
    (tmp_path / "serviceaccount.yaml").write_text(account)
    assert undefined_accounts() == []


def test_huge_folders_are_linted_in_bounded_chunks(tmp_path: Path) -> None:
    from klint.sources import discover as discovery

    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p%d}\nspec: {hostPID: true, containers: []}\n"
    )
    for index in range(6):
        (tmp_path / f"p{index}.yaml").write_text(pod % index + "# pad\n" * 200)
    size = (tmp_path / "p0.yaml").stat().st_size
    found = discovery.discover(["."], cwd=tmp_path)
    assert len(found.units) == 1
    original = discovery.FOLDER_UNIT_BYTES
    try:
        discovery.FOLDER_UNIT_BYTES = 2 * size
        chunks = discovery.discover(["."], cwd=tmp_path).units
    finally:
        discovery.FOLDER_UNIT_BYTES = original
    assert [len(unit.files) for unit in chunks] == [2, 2, 2]  # type: ignore[attr-defined]


def test_json_output_is_laid_out_exactly_as_json_dumps() -> None:
    result = run_cli("check", "--format", "json", "fixtures/examples", "fixtures/bad")
    data = json.loads(result.stdout)
    assert data["findings"] and data["notifications"]
    assert result.stdout == json.dumps(data, indent=2, ensure_ascii=False) + "\n"
