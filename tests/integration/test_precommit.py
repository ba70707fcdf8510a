"""The pre-commit hooks, run by the real pre-commit in a temporary repository (P1-P5).

pre-commit clones this repository at its current commit and ``pip install``s it, so only
committed work is tested; set ``KLINT_HOOK_REPO`` to test another checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import FIXTURES, REPO

HOOK_REPO = Path(os.environ.get("KLINT_HOOK_REPO", REPO))
INSECURE = FIXTURES / "examples" / "insecure-deployment.yaml"
HARDENED = FIXTURES / "examples" / "hardened-deployment.yaml"
FILES_PATTERN = r"\.(ya?ml|json|tpl)$"

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    "values.yaml": "privileged: true\nimage: nginx:1.27.3\n",
    "templates/_helpers.tpl": '{{- define "app.name" -}}{{ .Chart.Name }}{{- end }}\n',
    "templates/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.name" . }}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: app
          image: {{ .Values.image }}
          securityContext:
            privileged: {{ .Values.privileged }}
""",
}


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_manifest_is_a_list_of_valid_hooks() -> None:
    """P1, checked on the working tree with pre-commit's own manifest schema if present."""
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert isinstance(hooks, list)
    by_id = {hook["id"]: hook for hook in hooks}
    main = by_id["klint"]
    assert main["entry"] == "klint check"
    assert main["language"] == "python"
    assert main["files"] == FILES_PATTERN
    assert main["require_serial"] is True
    assert main["minimum_pre_commit_version"] == "2.9.2"
    assert "--format sarif" in by_id["klint-sarif"]["entry"]
    for hook in hooks:
        assert hook["language"] == "python" and hook["require_serial"] is True
        assert hook["entry"].startswith("klint check")
    try:
        from pre_commit.clientlib import load_manifest
    except ImportError:
        return
    assert [hook["id"] for hook in load_manifest(str(REPO / ".pre-commit-hooks.yaml"))] == [
        hook["id"] for hook in hooks
    ]


def test_files_pattern_selects_manifests_charts_and_templates() -> None:
    import re

    pattern = re.compile(FILES_PATTERN)
    wanted = ["a.yaml", "b.yml", "c.json", "chart/templates/_helpers.tpl", "Chart.yaml"]
    unwanted = ["README.md", "main.py", "values.yaml.bak", "NOTES.txt"]
    assert all(pattern.search(name) for name in wanted)
    assert not any(pattern.search(name) for name in unwanted)
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    exclude = re.compile(hooks[0]["exclude"])
    tooling = ["tsconfig.json", "web/tsconfig.app.json", "package-lock.json", ".vscode/x.json"]
    assert all(exclude.search(name) for name in tooling)
    assert not any(exclude.search(name) for name in ["k8s/deploy.json", "charts/a/values.yaml"])


@pytest.fixture(scope="module")
def hook_rev() -> str:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        pytest.skip("pre-commit is not installed (pip install 'klint[test]')")
    rev = git("rev-parse", "HEAD", cwd=HOOK_REPO)
    found = subprocess.run(
        ["git", "cat-file", "-e", f"{rev}:.pre-commit-hooks.yaml"], cwd=HOOK_REPO, check=False
    )
    if found.returncode != 0:
        pytest.skip(f"{HOOK_REPO} HEAD {rev[:10]} has no committed .pre-commit-hooks.yaml")
    return rev


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared by the tests of this module so the hook environment is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


class Project:
    """A throwaway git repository whose .pre-commit-config.yaml uses this repo's hooks."""

    def __init__(self, root: Path, rev: str, home: Path) -> None:
        self.root, self.rev, self.home = root, rev, home
        git("init", "-q", cwd=root)
        git("config", "user.email", "test@example.invalid", cwd=root)
        git("config", "user.name", "klint test", cwd=root)
        git("config", "commit.gpgsign", "false", cwd=root)

    def configure(self, *hooks: dict[str, Any]) -> None:
        config = {"repos": [{"repo": str(HOOK_REPO), "rev": self.rev, "hooks": list(hooks)}]}
        (self.root / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))

    def add(self, name: str, text: str) -> None:
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def commit(self) -> None:
        git("add", ".", cwd=self.root)
        git("commit", "-q", "-m", "files", cwd=self.root)

    def run(
        self, *args: str, files: tuple[str, ...] = (), path: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PRE_COMMIT_HOME": str(self.home), "PRE_COMMIT_COLOR": "never"}
        if path is not None:
            env["PATH"] = path
        env.pop("GITHUB_ACTIONS", None)
        env.pop("PYTHONPATH", None)
        env.pop("VIRTUAL_ENV", None)
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "pre_commit",
                "run",
                *(("--files", *files) if files else ("--all-files",)),
                *args,
            ],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )


@pytest.fixture
def project(tmp_path: Path, hook_rev: str, pre_commit_home: Path) -> Project:
    return Project(tmp_path, hook_rev, pre_commit_home)


def finding_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if ": error: " in line or ": warning: " in line]


@pytest.mark.slow
def test_insecure_manifest_fails_the_hook(project: Project) -> None:
    project.configure({"id": "klint"})
    project.add("k8s/insecure.yaml", INSECURE.read_text())
    project.add("k8s/hardened.yaml", HARDENED.read_text())
    project.add("docs/readme.md", "not linted\n")
    project.commit()
    result = project.run("klint")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "klint" in output and "Failed" in output
    lines = finding_lines(output)
    assert {line.split(":")[0] for line in lines} == {"k8s/insecure.yaml"}
    assert any(
        line.startswith("k8s/insecure.yaml:23:25: error: ") and "[KL101 " in line for line in lines
    ), output
    assert "k8s/insecure.yaml:15:20: error: " in output  # hostNetwork


@pytest.mark.slow
def test_hardened_files_pass_the_hook(project: Project) -> None:
    project.configure({"id": "klint"})
    project.add("k8s/hardened.yaml", HARDENED.read_text())
    project.add(".github/workflows/ci.yml", "on: push\njobs: {}\n")
    project.add("web/tsconfig.json", '{\n  // JSON with comments\n  "compilerOptions": {}\n}\n')
    project.commit()
    result = project.run("klint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout


@pytest.mark.slow
def test_sarif_variant_writes_the_report(project: Project) -> None:
    project.configure({"id": "klint-sarif"})
    project.add("insecure.yaml", INSECURE.read_text())
    project.commit()
    result = project.run("klint-sarif")
    assert result.returncode == 1, result.stdout + result.stderr
    log = json.loads((project.root / "klint.sarif").read_text())
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert uris == {"insecure.yaml"}


@pytest.mark.slow
def test_profile_through_args(project: Project) -> None:
    project.configure({"id": "klint", "args": ["--profile", "pss-baseline"]})
    project.add("insecure.yaml", INSECURE.read_text())
    project.commit()
    result = project.run("klint")
    rules = {line.rsplit("[", 1)[1].split()[0] for line in finding_lines(result.stdout)}
    assert result.returncode == 1
    assert "KL101" in rules and "KL401" not in rules  # resource limits: not PSS


@pytest.mark.slow
def test_chart_is_linted_once_from_its_files(project: Project) -> None:
    """Every chart file is passed; the chart is rendered and reported once (P3), by the hook
    as offered: no additional_dependencies (a plain install renders charts)."""
    project.configure({"id": "klint"})
    for name, text in CHART.items():
        project.add(f"charts/app/{name}", text)
    project.commit()
    result = project.run("klint")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    lines = finding_lines(output)
    assert lines, output
    assert {line.split(":")[0] for line in lines} == {"charts/app/templates/deployment.yaml"}
    assert Counter(lines).most_common(1)[0][1] == 1  # no duplicates from the 4 files
    assert any("[KL101 " in line for line in lines)


DEPLOYMENT_IN_SHOP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: "nginx:1.27.3"}]
"""
DENY_ALL_IN_SHOP = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
"""


@pytest.mark.slow
def test_a_changed_file_is_linted_with_its_folder(project: Project) -> None:
    """pre-commit passes only the changed file: no KL702, as for ``klint check k8s``."""
    project.configure({"id": "klint", "args": ["--profile", "all"]})
    project.add("k8s/deploy.yaml", DEPLOYMENT_IN_SHOP)
    project.add("k8s/np.yaml", DENY_ALL_IN_SHOP)
    project.add("web/tsconfig.app.json", '{\n  // comments\n  "files": [],\n}\n')
    project.commit()
    changed = project.run("klint", files=("k8s/deploy.yaml",))
    output = changed.stdout + changed.stderr
    assert changed.returncode == 1, output  # warnings fail the hook and so are shown
    lines = finding_lines(output)
    assert lines and {line.split(":")[0] for line in lines} == {"k8s/deploy.yaml"}, output
    assert not any("[KL702 " in line for line in lines), output
    everything = project.run("klint")
    assert not any("[KL702 " in line for line in finding_lines(everything.stdout)), (
        everything.stdout
    )


@pytest.mark.slow
def test_staged_template_edit_is_rendered_without_additional_dependencies(
    project: Project,
) -> None:
    """A commit that changes one template: pre-commit passes only that file, the hook's own
    environment (no additional_dependencies, no helm on PATH) renders the chart."""
    project.configure({"id": "klint"})
    safe = CHART["templates/deployment.yaml"].replace("{{ .Values.privileged }}", "false")
    for name, text in {**CHART, "templates/deployment.yaml": safe}.items():
        project.add(f"charts/app/{name}", text)
    project.commit()
    project.add("charts/app/templates/deployment.yaml", CHART["templates/deployment.yaml"])
    git("add", "charts/app/templates/deployment.yaml", cwd=project.root)
    env_path = os.environ["PATH"].split(os.pathsep)
    without_helm = os.pathsep.join(p for p in env_path if not (Path(p) / "helm").exists())
    result = project.run(
        "klint", files=("charts/app/templates/deployment.yaml",), path=without_helm
    )
    output = result.stdout + result.stderr
    assert "klint[helm]" not in output and "helm-render" not in output, output
    assert result.returncode == 1, output
    assert any(
        line.startswith("charts/app/templates/deployment.yaml:16:") and "[KL101 " in line
        for line in finding_lines(output)
    ), output
