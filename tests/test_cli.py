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
    # Run from the file's folder: under fixtures/ and examples/ a finding is a note (test
    # input); this test is about the levels and lines of deployable input.
    folder, name = INSECURE.rsplit("/", 1)
    result = run_cli("check", name, cwd=REPO / folder)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert (
        f'{name}:23:25: error: container "app" sets securityContext.privileged to true '
        "(Pod Security Standards baseline: Privileged Containers). "
        "[KL101 privileged-container]" in lines
    )
    assert (
        f"{name}:15:20: error: the pod sets hostNetwork to true "
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


# --- the conventions of ruff, kube-linter and checkov ----------------------------------

NOT_KUBERNETES = {
    "tsconfig.json": '{\n  // JSON with comments\n  "compilerOptions": {"strict": true,},\n}\n',
    ".vscode/settings.json": '{\n  // editor\n  "editor.tabSize": 2\n}\n',
    # an mkdocs snippet inside {% raw %} tags (external-secrets' docs/snippets)
    "docs/snippets/secret.yaml": (
        "{% raw %}\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\n{% endraw %}\n"
    ),
    # a kind key, but no apiVersion (headlamp's plugin templates)
    ".vscode/tasks.json": '// tasks\n{"tasks": [{"label": "b", "group": {"kind": "build"}}]}\n',
    ".eslintrc.json": '{\n  /* lint */ "root": true\n}\n',
    ".github/workflows/ci.yml": "on: push\non: pull_request\njobs: {}\n",
    ".klint.yaml": "fail-on: error\n",
    # a gomplate template (aws-ebs-csi-driver hack/e2e): YAML only once a tool renders it
    "hack/e2e/cluster.yaml": (
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: e2e}\n"
        '{{- if env.Getenv "USE_IRSA" }}\niam:\n  withOIDC: true\n{{- end }}\n'
    ),
    # a Helm template outside any chart (percona's GCP deployer tester.yaml): an unquoted
    # action breaks YAML on its line
    "deployer/templates/tester.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: tester\nspec:\n  containers:\n"
        "    - name: t\n      image: busybox:1.36\n      env:\n        - name: P\n"
        "          valueFrom:\n            secretKeyRef:\n"
        "              name: {{ .Release.Name }}-secrets\n              key: root\n"
    ),
}


def _tree_with_tooling(root: Path) -> None:
    for name, text in NOT_KUBERNETES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "pod.yaml").write_text(PRIVILEGED_POD)


def test_files_that_are_not_kubernetes_are_skipped_and_said_with_verbose(tmp_path: Path) -> None:
    _tree_with_tooling(tmp_path)
    quiet = run_cli("check", "--format", "json", ".", cwd=tmp_path)
    data = json.loads(quiet.stdout)
    assert data["notifications"] == []
    assert {f["path"] for f in data["findings"]} == {"pod.yaml"}
    assert data["summary"]["files"] == 1  # tooling and .klint.yaml are not linted files
    verbose = run_cli("check", "-v", ".", cwd=tmp_path)
    skipped = [line for line in verbose.stderr.splitlines() if line.startswith("klint: skipped ")]
    assert len(skipped) == len(NOT_KUBERNETES), verbose.stderr
    assert any("ci.yml:2: not a Kubernetes manifest (duplicate key" in line for line in skipped)
    assert any(
        "tester.yaml:13: a template with {{ }} actions where the error is" in line
        for line in skipped
    )
    assert "1 object from 1 file" in verbose.stdout
    named = run_cli("check", "tsconfig.json", ".github/workflows/ci.yml", cwd=tmp_path)
    assert named.returncode == 0, named.stdout
    for name, text in NOT_KUBERNETES.items():
        piped = run_cli("check", "--stdin-filename", name, "-", cwd=tmp_path, stdin=text.encode())
        assert piped.returncode == 0 and ": error:" not in piped.stdout, (name, piped.stdout)


def test_bare_commands_print_help_without_a_traceback() -> None:
    bare = run_cli()
    assert bare.returncode == 0 and "Usage: klint" in bare.stdout + bare.stderr
    group = run_cli("baseline")
    assert group.returncode == 2 and "create" in group.stdout + group.stderr
    for result in (bare, group):
        assert "Traceback" not in result.stderr


def test_dot_is_the_default_path_and_summary_goes_to_stderr_with_output(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(PRIVILEGED_POD)
    default = run_cli("check", cwd=tmp_path)
    assert default.returncode == 1 and "pod.yaml:8:" in default.stdout
    report = tmp_path / "out.sarif"
    written = run_cli("check", "--format", "sarif", "-o", str(report), cwd=tmp_path)
    assert written.returncode == 1 and written.stdout == ""
    assert written.stderr.strip().splitlines()[-1].startswith("klint: ")
    assert "1 object from 1 file" in written.stderr
    assert json.loads(report.read_text())["runs"][0]["results"]
    (tmp_path / "broken.yaml").write_text("apiVersion: v1\nkind: [Pod\n")
    broken = run_cli("check", "-o", str(tmp_path / "out.txt"), cwd=tmp_path)
    assert "broken.yaml:" in broken.stderr and "YAML syntax error" in broken.stderr
    quiet = run_cli("check", "-q", "-o", str(tmp_path / "q.txt"), "pod.yaml", cwd=tmp_path)
    assert quiet.stderr == "" and quiet.returncode == 1


def test_exit_zero_fail_on_never_quiet_and_statistics() -> None:
    assert run_cli("check", "--exit-zero", INSECURE).returncode == 0
    assert run_cli("check", "--fail-on", "never", INSECURE).returncode == 0
    assert run_cli("check", "--exit-zero", "no-such-path").returncode == 2
    quiet = run_cli("check", "--quiet", INSECURE)
    assert quiet.stdout and "klint:" not in quiet.stdout
    stats = run_cli("check", "--statistics", INSECURE)
    *rows, total = [line.split() for line in stats.stdout.splitlines()]
    rows = [[row[0], row[1], row[-1]] for row in rows]  # "[*]" marks a fixable rule
    assert rows and all(row[0].isdigit() for row in rows)
    assert total[1:3] == ["total", "in"] and int(total[0]) == sum(int(row[0]) for row in rows)
    counts = [int(row[0]) for row in rows]
    assert counts == sorted(counts, reverse=True)
    full = json.loads(run_cli("check", "--format", "json", INSECURE).stdout)["findings"]
    assert sum(counts) == len(full)
    assert {row[1] for row in rows} == {f["rule_id"] for f in full}


def test_rule_references_are_case_insensitive_comma_separated_and_suggested() -> None:
    picked = run_cli("check", "--profile", "cis", "--select", "kl101,Privileged-Container")
    assert "did you mean" not in picked.stderr
    only = run_cli("check", "--format", "json", "--ignore", "kl101, KL102", INSECURE)
    assert {"KL101", "KL102"}.isdisjoint(f["rule_id"] for f in json.loads(only.stdout)["findings"])
    typo = run_cli("check", "--select", "privileged-containr", INSECURE)
    assert typo.returncode == 2
    assert "did you mean KL101 (privileged-container)?" in typo.stderr
    assert "did you mean" in run_cli("explain", "hostpath-volum").stderr


def test_no_color_is_honoured_and_explain_renders_for_a_terminal() -> None:
    import io

    from klint.console import explain_text, use_color

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert use_color(None, Terminal(), to_file=False) is True
    import os

    os.environ["NO_COLOR"] = "1"
    try:
        assert use_color(None, Terminal(), to_file=False) is False
        assert use_color(True, Terminal(), to_file=False) is True
    finally:
        del os.environ["NO_COLOR"]
    page = "# KL101 privileged-container\n\n## Why\n\nA **privileged** container.\n"
    rendered = explain_text(page, Terminal())
    assert "KL101 privileged-container" in rendered and "# KL101" not in rendered
    assert "**" not in rendered
    assert explain_text(page, io.StringIO()) == page  # piped: the Markdown itself
    piped = run_cli("explain", "kl101")
    assert piped.returncode == 0 and piped.stdout.startswith("# KL101 privileged-container")


def test_help_names_the_lsp_extra_and_fix_takes_helm_options() -> None:
    wide = {"COLUMNS": "300"}
    assert "pip install 'klint[lsp]'" in run_cli("--help", env=wide).stdout
    assert "pip install 'klint[lsp]'" in run_cli("lsp", "--help", env=wide).stdout
    for command in (("fix",), ("baseline", "create")):
        text = run_cli(*command, "--help", env=wide).stdout
        for option in ("--values", "--set", "--set-string", "--release-name", "--namespace"):
            assert option in text, (command, option)


def test_old_kube_version_skips_schema_checks_instead_of_false_notes(tmp_path: Path) -> None:
    (tmp_path / "pdb.yaml").write_text(
        "apiVersion: policy/v2\nkind: PodDisruptionBudget\nmetadata: {name: p}\n"
        "spec: {minAvailable: 1, selector: {matchLabels: {app: a}}}\n"
    )
    old = run_cli("check", "--format", "json", "--kube-version", "1.20", "pdb.yaml", cwd=tmp_path)
    rules = {f["rule_id"] for f in json.loads(old.stdout)["findings"]}
    assert not any(rule.startswith("KL90") for rule in rules), old.stdout
    assert "no API schemas are bundled for Kubernetes 1.20" in old.stderr
    new = run_cli("check", "--format", "json", "--kube-version", "1.30", "pdb.yaml", cwd=tmp_path)
    assert "KL905" in {f["rule_id"] for f in json.loads(new.stdout)["findings"]}
    assert "no API schemas" not in new.stderr


DEPLOYMENT_IN_SHOP = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n"
    "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
    '    spec:\n      containers: [{name: app, image: "nginx:1.27.3"}]\n'
)
DENY_ALL_IN_SHOP = (
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    "metadata: {name: default-deny, namespace: shop}\n"
    "spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n"
)


def test_files_named_one_by_one_are_linted_with_their_folder(tmp_path: Path) -> None:
    """No KL702 for deploy.yaml when np.yaml beside it covers the namespace; only named files
    are reported, and a sibling's problems stay out."""
    k8s = tmp_path / "k8s"
    k8s.mkdir()
    (k8s / "deploy.yaml").write_text(DEPLOYMENT_IN_SHOP)
    (k8s / "np.yaml").write_text(DENY_ALL_IN_SHOP)
    (k8s / "broken.yaml").write_text("apiVersion: v1\nkind: [Pod\n")
    (k8s / "pod.yaml").write_text(PRIVILEGED_POD)

    def rules(*paths: str) -> set[tuple[str, str]]:
        result = run_cli("check", "--profile", "all", "--format", "json", *paths, cwd=tmp_path)
        data = json.loads(result.stdout)
        assert all(n["path"] != "k8s/broken.yaml" for n in data["notifications"]) or (
            "k8s" in paths
        )
        return {(f["path"], f["rule_id"]) for f in data["findings"]}

    folder = {item for item in rules("k8s") if item[0] == "k8s/deploy.yaml"}
    alone = rules("k8s/deploy.yaml")
    assert ("k8s/deploy.yaml", "KL702") not in alone
    assert alone == folder
    both = rules("k8s/deploy.yaml", "k8s/pod.yaml")
    assert {path for path, _ in both} == {"k8s/deploy.yaml", "k8s/pod.yaml"}
    summary = run_cli("check", "k8s/deploy.yaml", cwd=tmp_path).stdout.splitlines()[-1]
    assert "in 1 object from 1 file" in summary


def test_a_base_and_the_overlay_using_it_report_each_finding_once(tmp_path: Path) -> None:
    import shutil

    import pytest

    if shutil.which("kustomize") is None and shutil.which("kubectl") is None:
        pytest.skip("needs kustomize or kubectl")
    (tmp_path / "base").mkdir()
    (tmp_path / "overlay").mkdir()
    (tmp_path / "base" / "pod.yaml").write_text(PRIVILEGED_POD)
    (tmp_path / "base" / "kustomization.yaml").write_text("resources: [pod.yaml]\n")
    (tmp_path / "overlay" / "kustomization.yaml").write_text(
        "resources: [../base]\ncommonLabels: {tier: web}\n"
    )
    text = run_cli("check", "--no-color", ".", cwd=tmp_path).stdout.splitlines()[:-1]
    assert any("base/pod.yaml:8:" in line and "[KL101 " in line for line in text)
    assert len(text) == len(set(text)), "a finding printed twice"
    sarif = json.loads(run_cli("check", "--format", "sarif", ".", cwd=tmp_path).stdout)
    places = [
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["message"]["text"],
        )
        for r in sarif["runs"][0]["results"]
    ]
    assert places and len(places) == len(set(places))
