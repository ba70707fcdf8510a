"""CI formats: github workflow commands, Markdown summary, JUnit XML, GitLab Code Quality."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from klint.catalog import Rule, load_catalog
from klint.findings import Finding, Location, Notification, ObjectRef, Report, Severity, Span
from klint.reporters import FORMATS, ReportContext, get_reporter
from klint.reporters.github import escape_data, escape_property
from tests.conftest import FIXTURES, REPO, run_cli

HOSTILE = 'pod "x\x1b[31mred\x1b[0m"\r\n::error file=evil.yaml::forged%0A, a|b <b>[x](y)\x00.'
INSECURE = FIXTURES / "examples" / "insecure-deployment.yaml"


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return load_catalog()


def context(rules: list[Rule], root: Path = REPO, **extra: bool) -> ReportContext:
    return ReportContext(rules=rules, cwd=root, root=root, **extra)  # type: ignore[arg-type]


def finding(
    message: str = 'container "app" sets securityContext.privileged to true.',
    path: str = "k8s/web.yaml",
    line: int = 7,
    rule: str = "KL101",
    severity: Severity = Severity.ERROR,
) -> Finding:
    return Finding(
        rule_id=rule,
        rule_name="privileged-container",
        severity=severity,
        message=message,
        location=Location(path, Span(line, 5, line, 9)),
        object_ref=ObjectRef("apps/v1", "Deployment", "", "web"),
        field_path=("spec", "template", "spec", "containers", 0, "securityContext", "privileged"),
    )


def report_of(*findings: Finding, notes: tuple[Notification, ...] = ()) -> Report:
    report = Report(
        findings=list(findings), notifications=list(notes), files_scanned=1, objects_scanned=1
    )
    report.sort()
    return report


def test_formats_are_registered() -> None:
    assert {"markdown", "junit", "gitlab-codequality"} <= set(FORMATS)


# --- github -----------------------------------------------------------------------------


def test_github_escaping_matches_the_runner() -> None:
    assert escape_data("50%\r\nnext\nline") == "50%25%0Anext%0Aline"
    assert escape_data("a\rb") == "a\\x0db"
    assert escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"
    assert escape_data("\x1b[31m") == "\\x1b[31m"


def test_github_annotation_line(rules: list[Rule]) -> None:
    text = get_reporter("github").render(report_of(finding()), context(rules))
    assert text == (
        "::error file=k8s/web.yaml,line=7,col=5,endLine=7,endColumn=9,"
        'title=KL101 privileged-container::container "app" sets '
        "securityContext.privileged to true.\n"
    )


def test_github_output_cannot_be_forged(rules: list[Rule]) -> None:
    """Names and messages from input cannot start a second command or carry ANSI escapes."""
    hostile = finding(message=HOSTILE, path="a,b:c%.yaml")
    text = get_reporter("github").render(report_of(hostile), context(rules))
    lines = text.splitlines()
    assert len(lines) == 1
    assert "\x1b" not in text and "\x00" not in text and "\r" not in text
    assert lines[0].startswith("::error file=a%2Cb%3Ac%25.yaml,line=7,")
    command, _, data = lines[0].partition("::")[2].partition("::")
    assert command.count("=") == 6  # file, line, col, endLine, endColumn, title
    assert data == (
        'pod "x\\x1b[31mred\\x1b[0m"%0A::error file=evil.yaml::forged%250A, a|b <b>[x](y)\\x00.'
    )


def test_github_notifications(rules: list[Rule]) -> None:
    note = Notification("yaml-syntax", "bad\nyaml", Location("x.yaml", Span.line(3)))
    text = get_reporter("github").render(report_of(notes=(note,)), context(rules))
    assert text == "::error file=x.yaml,line=3,col=1,title=klint yaml-syntax::bad%0Ayaml\n"


def test_github_paths_are_relative_to_the_repository_root(tmp_path: Path) -> None:
    """Like SARIF and GitLab: the runner resolves file= against the workspace, not the cwd."""
    (tmp_path / ".git").mkdir()
    sub = tmp_path / "deploy"
    (sub / "k8s").mkdir(parents=True)
    (sub / "k8s" / "pod.yaml").write_text(INSECURE.read_text())
    github = run_cli("check", "--format", "github", "k8s/pod.yaml", cwd=sub)
    files = {re.search(r"file=([^,]+),", line).group(1) for line in github.stdout.splitlines()}  # type: ignore[union-attr]
    assert files == {"deploy/k8s/pod.yaml"}
    sarif = json.loads(run_cli("check", "--format", "sarif", "k8s/pod.yaml", cwd=sub).stdout)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    }
    assert uris == files
    gitlab = json.loads(
        run_cli("check", "--format", "gitlab-codequality", "k8s/pod.yaml", cwd=sub).stdout
    )
    assert {i["location"]["path"] for i in gitlab} == files


def test_github_format_from_cli() -> None:
    result = run_cli("check", "--format", "github", str(INSECURE.relative_to(REPO)))
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    assert re.fullmatch(
        r"::(error|warning|notice) file=fixtures/examples/insecure-deployment\.yaml,line=\d+,"
        r"col=\d+,endLine=\d+,endColumn=\d+,title=KL\d{3} [a-z-]+::.+\.",
        first,
    ), first


# --- markdown ---------------------------------------------------------------------------


def test_markdown_summary_counts_and_table(rules: list[Rule]) -> None:
    report = report_of(
        finding(),
        finding(line=9, rule="KL201", severity=Severity.WARNING, message="second."),
        finding(line=3, path="other.yaml"),
    )
    text = get_reporter("markdown").render(report, context(rules))
    lines = text.splitlines()
    assert lines[0] == "## klint: 3 findings"
    assert "| error | 2 |" in lines and "| warning | 1 |" in lines and "| note | 0 |" in lines
    rule_rows = [line for line in lines if line.startswith("| [KL")]
    assert rule_rows[0].startswith("| [KL101 privileged-container](https://")
    assert rule_rows[0].endswith("| 2 | 0 | 0 | 2 |")  # errors, warnings, notes, total
    table = lines[lines.index("### Findings") + 4 :]
    assert [row.split(" | ")[2] for row in table] == [
        "k8s/web.yaml:7:5",
        "other.yaml:3:5",
        "k8s/web.yaml:9:5",
    ]  # errors first, then by location


def test_markdown_counts_each_severity_of_a_rule(rules: list[Rule]) -> None:
    """One rule with an error, a warning and three notes: every count is shown."""
    report = report_of(
        finding(line=1, rule="KL201"),
        finding(line=2, rule="KL201", severity=Severity.WARNING),
        *(finding(line=n, rule="KL201", severity=Severity.NOTE) for n in (3, 4, 5)),
    )
    text = get_reporter("markdown").render(report, context(rules))
    (row,) = [line for line in text.splitlines() if line.startswith("| [KL201 ")]
    assert row.endswith("| 1 | 1 | 3 | 5 |"), row
    assert "| Rule | Errors | Warnings | Notes | Findings |" in text


def test_markdown_cells_are_inert(rules: list[Rule]) -> None:
    text = get_reporter("markdown").render(report_of(finding(message=HOSTILE)), context(rules))
    row = next(line for line in text.splitlines() if line.startswith("| error | KL101 |"))
    assert row.count(" | ") == 3  # the pipe in the message is escaped
    assert "<b>" not in text and "&lt;b&gt;" in row
    assert "\\[x\\](y)" in row
    assert "\x1b" not in text and "\x00" not in text


def test_markdown_top_twenty(rules: list[Rule]) -> None:
    many = [finding(line=n) for n in range(1, 31)]
    text = get_reporter("markdown").render(report_of(*many), context(rules))
    assert "### Top findings (20 of 30)" in text
    assert text.count("| error | KL101 | k8s/web.yaml:") == 20


def test_markdown_clean(rules: list[Rule]) -> None:
    text = get_reporter("markdown").render(report_of(), context(rules))
    assert text == "## klint: 0 findings\n\n1 object in 1 file.\n\nNo findings.\n"


# --- junit ------------------------------------------------------------------------------


def test_junit_is_valid_xml_with_hostile_text(rules: list[Rule]) -> None:
    note = Notification("yaml-syntax", "bad & <worse>", Location("x.yaml", Span.line(2)))
    report = report_of(finding(message=HOSTILE), finding(line=9), notes=(note,))
    text = get_reporter("junit").render(report, context(rules))
    root = ET.fromstring(text.encode())
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "2", "1")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "klint yaml-syntax at line 2",
        "KL101 privileged-container at line 7",
        "KL101 privileged-container at line 9",
    ]
    failure = cases[1].find("failure")
    assert failure is not None
    assert failure.get("type") == "error"
    assert failure.get("message", "").startswith('pod "x\\x1b[31mred')
    assert cases[1].get("classname") == "k8s/web.yaml" and cases[1].get("file") is None
    assert (failure.text or "").startswith("k8s/web.yaml:7:5: error: ")
    error = cases[0].find("error")
    assert error is not None and error.get("message") == "bad & <worse>"


JUNIT_XSD = REPO / "schemas" / "junit-jenkins.xsd"


def junit_schema() -> object:
    etree = pytest.importorskip("lxml.etree", reason="pip install 'klint[test]' (lxml)")
    return etree.XMLSchema(etree.parse(str(JUNIT_XSD)))


def assert_jenkins_valid(text: str) -> None:
    from lxml import etree

    schema = junit_schema()
    document = etree.fromstring(text.encode())
    assert schema.validate(document), schema.error_log  # type: ignore[attr-defined]


def test_the_schema_rejects_what_jenkins_rejects() -> None:
    """The restated junit-10.xsd refuses the attributes Jenkins refuses (it can fail)."""
    from lxml import etree

    schema = junit_schema()
    bad = [
        '<testsuites skipped="0"><testsuite name="k" tests="0" failures="0" errors="0"/>'
        "</testsuites>",
        '<testsuites><testsuite name="k" tests="1" failures="0" errors="0">'
        '<testcase name="a" file="x.yaml"/></testsuite></testsuites>',
        '<testsuites><testsuite name="k" tests="1" failures="0" errors="0">'
        '<testcase name="a" line="3"/></testsuite></testsuites>',
    ]
    for text in bad:
        assert not schema.validate(etree.fromstring(text)), text  # type: ignore[attr-defined]


def test_junit_from_cli_is_valid_against_jenkins_xsd() -> None:
    """Findings, input problems and suppressed findings, as Jenkins' xUnit reads them."""
    result = run_cli(
        "check", "--format", "junit", "--show-suppressed", "fixtures/bad", "fixtures/examples"
    )
    assert result.returncode == 1
    assert_jenkins_valid(result.stdout)
    root = ET.fromstring(result.stdout.encode())
    pairs = [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]
    assert len(pairs) == len(set(pairs)) > 10
    assert_jenkins_valid(
        run_cli("check", "--format", "junit", "fixtures/examples/hardened-deployment.yaml").stdout
    )


def test_junit_testcases_are_unique_for_two_findings_on_one_line(rules: list[Rule]) -> None:
    same_line = [finding(message=f"{n}.") for n in range(3)]
    text = get_reporter("junit").render(report_of(*same_line), context(rules))
    assert_jenkins_valid(text)
    names = [c.get("name") for c in ET.fromstring(text).iter("testcase")]
    assert names == [
        "KL101 privileged-container at line 7",
        "KL101 privileged-container at line 7:5",
        "KL101 privileged-container at line 7:5 #2",
    ]


def test_junit_clean_run_has_one_passing_case(rules: list[Rule]) -> None:
    root = ET.fromstring(get_reporter("junit").render(report_of(), context(rules)))
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 1 and list(cases[0]) == []


# --- gitlab code quality ----------------------------------------------------------------


def test_gitlab_codequality_shape(rules: list[Rule], tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    ctx = ReportContext(rules=rules, cwd=sub, root=tmp_path)
    report = report_of(finding(), finding(line=9, rule="KL201", severity=Severity.WARNING))
    issues = json.loads(get_reporter("gitlab-codequality").render(report, ctx))
    assert [i["check_name"] for i in issues] == ["klint/KL101", "klint/KL201"]
    first = issues[0]
    assert first["location"] == {"path": "sub/k8s/web.yaml", "lines": {"begin": 7}}
    assert first["severity"] in {"critical", "blocker"}
    assert issues[1]["severity"] == "major"
    assert first["description"].startswith("KL101 privileged-container: container")
    assert all(
        set(i["severity"]) and i["severity"] in {"info", "minor", "major", "critical", "blocker"}
        for i in issues
    )
    assert len({i["fingerprint"] for i in issues}) == 2


def test_gitlab_fingerprints_stable_and_unique(rules: list[Rule]) -> None:
    twice = report_of(finding(line=7), finding(line=7, message="other."))
    moved = report_of(finding(line=40), finding(line=40, message="other."))
    render = get_reporter("gitlab-codequality").render
    first = [i["fingerprint"] for i in json.loads(render(twice, context(rules)))]
    again = [i["fingerprint"] for i in json.loads(render(moved, context(rules)))]
    assert len(set(first)) == 2  # same rule/object/field: still distinct
    assert first == again  # line moves keep fingerprints


def test_gitlab_from_cli() -> None:
    result = run_cli("check", "--format", "gitlab-codequality", str(INSECURE.relative_to(REPO)))
    assert result.returncode == 1
    issues = json.loads(result.stdout)
    lines = {(i["check_name"], i["location"]["lines"]["begin"]) for i in issues}
    assert ("klint/KL101", 23) in lines
    assert {i["location"]["path"] for i in issues} == {"fixtures/examples/insecure-deployment.yaml"}


# --- the VS Code problem matcher in docs/integrations.md ----------------------------------


def vscode_pattern() -> re.Pattern[str]:
    docs = (REPO / "docs" / "integrations.md").read_text()
    block = re.search(r"```json\n(.*?)```", docs, flags=re.DOTALL)
    assert block is not None
    task = json.loads(block.group(1))["tasks"][0]
    return re.compile(task["problemMatcher"]["pattern"]["regexp"])


def test_vscode_problem_matcher_matches_every_line_klint_prints() -> None:
    """Findings, Helm findings with their values line, and input problems."""
    pattern = vscode_pattern()
    result = run_cli("check", "--no-color", "fixtures/helm/web", "fixtures/bad/syntax-error.yaml")
    lines = result.stdout.splitlines()[:-1]  # the last line is the summary
    assert any("(set in fixtures/helm/web/values.yaml:" in line for line in lines)
    assert any(line.endswith("[yaml-syntax]") for line in lines)
    for line in lines:
        match = pattern.match(line)
        assert match is not None, line
        path, _, _, level, message, code = match.groups()
        assert line.startswith(f"{path}:") and level in line and message
        assert code == line.rsplit("[", 1)[1].split()[0].rstrip("]")
    assert pattern.match(result.stdout.splitlines()[-1]) is None


def test_junit_failures_are_only_the_findings_that_fail_the_run() -> None:
    """--fail-on error with warnings and notes: exit 0 and no failure for Jenkins to see."""
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "    - {name: a, image: 'a:latest'}\n"
    )
    passing = run_cli("check", "--format", "junit", "--fail-on", "error", "-", stdin=text.encode())
    assert passing.returncode == 0
    assert_jenkins_valid(passing.stdout)
    root = ET.fromstring(passing.stdout.encode())
    assert root.get("failures") == "0" and root.get("errors") == "0"
    cases = list(root.iter("testcase"))
    assert len(cases) > 1 and all(c.find("failure") is None for c in cases)
    outs = [c.findtext("system-out") or "" for c in cases]
    assert all("(below --fail-on)" in out for out in outs), outs
    failing = run_cli("check", "--format", "junit", "-", stdin=text.encode())  # warning
    assert failing.returncode == 1
    failed = ET.fromstring(failing.stdout.encode())
    warnings = [c for c in failed.iter("testcase") if "warning: " in (c.findtext("failure") or "")]
    assert warnings and failed.get("failures") == str(len(list(failed.iter("failure"))))
    never = run_cli("check", "--format", "junit", "--fail-on", "never", "-", stdin=text.encode())
    assert ET.fromstring(never.stdout.encode()).get("failures") == "0"
