"""The composite GitHub Action: its structure (G1) and its steps run locally with bash."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import FIXTURES, REPO

ACTION = REPO / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
BASH = shutil.which("bash")


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    return yaml.safe_load(ACTION.read_text())  # type: ignore[no-any-return]


def run_steps(action: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for step in action["runs"]["steps"] if "run" in step]


def test_composite_with_documented_inputs_and_outputs(action: dict[str, Any]) -> None:
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    assert {
        "path",
        "format",
        "output",
        "category",
        "fail-on",
        "profile",
        "config",
        "values",
    } <= inputs.keys()
    assert inputs["format"]["default"] == "sarif"
    assert inputs["output"]["default"] == "klint.sarif"  # G4: ends in .sarif
    assert all("description" in spec for spec in inputs.values())
    assert action["outputs"]["sarif-file"]["value"] == "${{ steps.klint.outputs.sarif-file }}"
    assert any(step.get("id") == "klint" for step in action["runs"]["steps"])


def test_every_run_step_sets_bash_and_never_interpolates(action: dict[str, Any]) -> None:
    steps = run_steps(action)
    assert len(steps) == 2
    for step in steps:
        assert step["shell"] == "bash"
        # script injection: no expression at all may be expanded into the script text
        assert "${{" not in step["run"], step["name"]
        for value in step.get("env", {}).values():
            assert EXPRESSION.fullmatch(str(value)), value


def test_every_input_reaches_the_script_through_env(action: dict[str, Any]) -> None:
    passed: set[str] = set()
    for step in run_steps(action):
        for value in step.get("env", {}).values():
            match = EXPRESSION.fullmatch(str(value))
            assert match is not None
            if match.group(1).startswith("inputs."):
                passed.add(match.group(1).removeprefix("inputs."))
    assert passed == set(action["inputs"])


def evaluate(value: str, inputs: dict[str, str]) -> str:
    """The one expression form the action uses in env: ``${{ inputs.NAME }}``."""
    match = EXPRESSION.fullmatch(value)
    assert match is not None and match.group(1).startswith("inputs."), value
    return inputs[match.group(1).removeprefix("inputs.")]


class Runner:
    """Runs the action's bash steps the way the Actions runner does, with a fake GITHUB_* env."""

    def __init__(self, action: dict[str, Any], tmp: Path) -> None:
        self.action = action
        self.workspace = tmp / "workspace"
        self.workspace.mkdir()
        self.files = {name: tmp / name for name in ("output", "summary", "path", "env")}
        for file in self.files.values():
            file.write_text("")
        bin_dir = tmp / "bin"
        bin_dir.mkdir()
        shim = bin_dir / "klint"  # the checkout under test instead of a pip install
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m klint "$@"\n')
        shim.chmod(0o755)
        self.env = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(tmp),
            "PYTHONPATH": str(REPO),
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKFLOW": "test",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_ACTION_PATH": str(REPO),
            "GITHUB_OUTPUT": str(self.files["output"]),
            "GITHUB_STEP_SUMMARY": str(self.files["summary"]),
            "GITHUB_PATH": str(self.files["path"]),
            "GITHUB_ENV": str(self.files["env"]),
            "RUNNER_TEMP": str(tmp),
        }

    def run(self, steps: int = 2, **given: str) -> list[subprocess.CompletedProcess[str]]:
        inputs = {
            name: str(spec.get("default", "")) for name, spec in self.action["inputs"].items()
        }
        inputs.update({name.replace("_", "-"): value for name, value in given.items()})
        done = []
        for step in run_steps(self.action)[:steps]:
            env = {**self.env, **{k: evaluate(v, inputs) for k, v in step.get("env", {}).items()}}
            result = subprocess.run(
                [BASH or "bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                cwd=self.workspace,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            done.append(result)
            if result.returncode != 0:
                break
        return done

    def outputs(self) -> dict[str, str]:
        lines = self.files["output"].read_text().splitlines()
        return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def runner(action: dict[str, Any], tmp_path: Path) -> Runner:
    if BASH is None:
        pytest.skip("bash is not installed")
    return Runner(action, tmp_path)


def add(runner: Runner, name: str, source: Path) -> None:
    target = runner.workspace / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)


def test_steps_write_sarif_and_outputs(runner: Runner) -> None:
    add(runner, "k8s/insecure.yaml", FIXTURES / "examples" / "insecure-deployment.yaml")
    add(runner, "k8s/hardened.yaml", FIXTURES / "examples" / "hardened-deployment.yaml")
    install, lint = runner.run(install="false", path="k8s", category="k8s-manifests")
    assert install.returncode == 0
    assert lint.returncode == 1, lint.stderr  # errors present, default fail-on: the CLI's
    assert runner.outputs() == {
        "sarif-file": "klint.sarif",
        "report-file": "klint.sarif",
        "exit-code": "1",
    }
    sarif = json.loads((runner.workspace / "klint.sarif").read_text())
    (run,) = sarif["runs"]
    assert run["automationDetails"]["id"] == "k8s-manifests/"
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert uris == {"k8s/insecure.yaml"}
    summary = runner.files["summary"].read_text()
    assert summary.startswith("## klint: ")
    assert "| error |" in summary


def test_fail_on_never_still_writes_the_report(runner: Runner) -> None:
    add(runner, "insecure.yaml", FIXTURES / "examples" / "insecure-deployment.yaml")
    _, lint = runner.run(install="false", fail_on="never", summary="false")
    assert lint.returncode == 0, lint.stderr
    assert runner.outputs()["exit-code"] == "0"  # klint --fail-on never
    assert (runner.workspace / "klint.sarif").is_file()
    assert runner.files["summary"].read_text() == ""


def test_clean_tree_passes(runner: Runner) -> None:
    add(runner, "ok.yaml", FIXTURES / "examples" / "hardened-deployment.yaml")
    _, lint = runner.run(install="false", fail_on="note")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    sarif = json.loads((runner.workspace / "klint.sarif").read_text())
    assert sarif["runs"][0]["results"] == []


def test_multiline_inputs_and_hostile_values(runner: Runner) -> None:
    """Inputs are data: quotes, ``$()`` and spaces reach klint verbatim, never the shell."""
    add(runner, "my dir/a.yaml", FIXTURES / "examples" / "insecure-deployment.yaml")
    add(runner, "b.yaml", FIXTURES / "examples" / "hardened-deployment.yaml")
    canary = runner.workspace / "pwned"
    _, lint = runner.run(
        install="false",
        path="  my dir/a.yaml\nb.yaml\n\n",
        profile="pss-restricted\n",
        output='report "$(touch pwned)".json',
        format="json",
    )
    assert not canary.exists()
    assert lint.returncode == 1, lint.stderr
    report = json.loads((runner.workspace / 'report "$(touch pwned)".json').read_text())
    assert {f["path"] for f in report["findings"]} == {"my dir/a.yaml"}
    assert runner.outputs()["report-file"] == 'report "$(touch pwned)".json'


def test_output_with_newline_is_refused(runner: Runner) -> None:
    _, lint = runner.run(install="false", output="a.sarif\nexit-code=0")
    assert lint.returncode == 2
    assert runner.outputs() == {}


def test_usage_error_fails_with_exit_2(runner: Runner) -> None:
    _, lint = runner.run(install="false", path="does-not-exist")
    assert lint.returncode == 2
    assert "::error title=klint::" in lint.stdout
    assert runner.outputs()["exit-code"] == "2"


@pytest.mark.slow
def test_install_step_installs_klint_into_a_venv(runner: Runner) -> None:
    """The real install step (pip from PyPI); the step after it uses the installed klint."""
    add(runner, "insecure.yaml", FIXTURES / "examples" / "insecure-deployment.yaml")
    runner.env["PATH"] = os.environ["PATH"]
    runner.env.pop("PYTHONPATH")
    (install,) = runner.run(steps=1)
    assert install.returncode == 0, install.stderr
    venv_bin = runner.files["path"].read_text().strip()
    assert venv_bin == str(Path(runner.env["RUNNER_TEMP"]) / "klint-venv" / "bin")
    assert (Path(venv_bin) / "klint").is_file()


def yaml_blocks(markdown: str) -> list[Any]:
    blocks = re.findall(r"```yaml\n(.*?)```", markdown, flags=re.DOTALL)
    return [yaml.safe_load(block) for block in blocks]


def test_documented_workflow_uploads_sarif_correctly() -> None:
    """G2: permissions, upload-sarif@v4 with if: always(), sarif_file and category."""
    docs = yaml_blocks((REPO / "docs" / "integrations.md").read_text())
    workflow = next(d for d in docs if isinstance(d, dict) and "jobs" in d)
    assert workflow["permissions"]["security-events"] == "write"
    assert workflow["permissions"]["contents"] == "read"
    steps = workflow["jobs"]["klint"]["steps"]
    ours = next(s for s in steps if s.get("id") == "klint")
    assert ours["uses"].startswith("klint-dev/klint@")
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action"))
    assert upload["uses"] == "github/codeql-action/upload-sarif@v4"
    assert upload["if"].startswith("always()")
    assert upload["with"]["sarif_file"] == "${{ steps.klint.outputs.sarif-file }}"
    assert upload["with"]["category"] == ours["with"]["category"]
    assert set(ours["with"]) <= set(yaml.safe_load(ACTION.read_text())["inputs"])


def test_documented_pre_commit_hooks_exist() -> None:
    docs = yaml_blocks((REPO / "docs" / "integrations.md").read_text())
    config = next(d for d in docs if isinstance(d, dict) and "repos" in d)
    offered = {h["id"] for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert {h["id"] for h in config["repos"][0]["hooks"]} <= offered


def test_format_github_writes_annotations_to_the_log_not_a_sarif_file(runner: Runner) -> None:
    add(runner, "k8s/insecure.yaml", FIXTURES / "examples" / "insecure-deployment.yaml")
    _, lint = runner.run(install="false", format="github", path="k8s", summary="false")
    assert lint.returncode == 1, lint.stderr
    annotations = [line for line in lint.stdout.splitlines() if line.startswith("::error file=")]
    assert annotations and all("file=k8s/insecure.yaml," in line for line in annotations)
    assert not (runner.workspace / "klint.sarif").exists()
    assert runner.outputs() == {"sarif-file": "", "report-file": "", "exit-code": "1"}


def test_other_formats_do_not_claim_a_sarif_file(runner: Runner) -> None:
    add(runner, "insecure.yaml", FIXTURES / "examples" / "insecure-deployment.yaml")
    _, lint = runner.run(install="false", format="json", output="klint.json", summary="false")
    assert lint.returncode == 1
    assert runner.outputs() == {"sarif-file": "", "report-file": "klint.json", "exit-code": "1"}
    assert json.loads((runner.workspace / "klint.json").read_text())["findings"]


def test_missing_klint_fails_even_with_fail_on_never(runner: Runner) -> None:
    """install: false and no klint on PATH: exit 127 must not pass as 'never fail'."""
    add(runner, "insecure.yaml", FIXTURES / "examples" / "insecure-deployment.yaml")
    (Path(runner.env["PATH"].split(os.pathsep)[0]) / "klint").unlink()
    runner.env["PATH"] = "/usr/bin:/bin"
    (install,) = runner.run(steps=1, install="false", fail_on="never")
    assert install.returncode == 2
    assert "::error title=klint::install is false but klint is not on PATH" in install.stdout
    # the run step alone (a runner that skipped the install step) fails too
    run_step = run_steps(runner.action)[1]
    inputs = {n: str(spec.get("default", "")) for n, spec in runner.action["inputs"].items()}
    inputs.update({"install": "false", "fail-on": "never"})
    env = {**runner.env, **{k: evaluate(v, inputs) for k, v in run_step["env"].items()}}
    result = subprocess.run(
        [BASH or "bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", run_step["run"]],
        cwd=runner.workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "could not be started (exit 127)" in result.stdout
    assert runner.outputs()["exit-code"] == "127"
    assert runner.outputs()["sarif-file"] == ""


def test_a_failed_run_with_output_still_says_why_in_the_log(runner: Runner) -> None:
    add(runner, "broken.yaml", FIXTURES / "bad" / "syntax-error.yaml")
    (runner.workspace / ".klint.yaml").write_text("extends: [no-such-profile]\n")
    _, lint = runner.run(install="false", summary="false")
    assert lint.returncode == 2
    assert "klint: error: " in lint.stderr and "no-such-profile" in lint.stderr
    (runner.workspace / ".klint.yaml").unlink()
    _, lint = runner.run(install="false", summary="false", fail_on="note")
    assert lint.returncode == 1
    assert "broken.yaml:9:" in lint.stderr and "YAML syntax error" in lint.stderr
    assert lint.stderr.strip().splitlines()[-1].startswith("klint: 0 findings")


def klint_calls(runner: Runner) -> list[list[str]]:
    """Wrap the klint shim so each call's arguments are recorded (one line per call)."""
    shim = Path(runner.env["PATH"].split(os.pathsep)[0]) / "klint"
    log = shim.parent / "calls.log"
    shim.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{sys.executable}" -m klint "$@"\n')
    shim.chmod(0o755)
    return [] if not log.exists() else [line.split() for line in log.read_text().splitlines()]


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("helm_python") is None, reason="needs helm-python-sdk"
)
def test_one_chart_that_fails_to_render_keeps_every_other_result(runner: Runner) -> None:
    """The outputs name the SARIF file klint wrote, the summary is written, the step fails
    (exit 2), and klint ran once for both."""
    add(runner, "k8s/insecure.yaml", FIXTURES / "examples" / "insecure-deployment.yaml")
    # a value it needs is missing (`fail`): the chart cannot render at all
    shutil.copytree(FIXTURES / "helm" / "broken", runner.workspace / "charts" / "broken")
    klint_calls(runner)
    _, lint = runner.run(install="false")
    assert lint.returncode == 2, lint.stdout + lint.stderr
    assert "::error title=klint::" in lint.stdout
    assert "failed to render" in lint.stderr  # said in the log, not only in the SARIF
    assert runner.outputs() == {
        "sarif-file": "klint.sarif",
        "report-file": "klint.sarif",
        "exit-code": "2",
    }
    (run,) = json.loads((runner.workspace / "klint.sarif").read_text())["runs"]
    assert run["invocations"][0]["executionSuccessful"] is False
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    ]
    assert uris.count("k8s/insecure.yaml") > 10  # every finding of the good file is kept
    # + the render problem, on the template line that failed
    assert set(uris) == {"k8s/insecure.yaml", "charts/broken/templates/configmap.yaml"}
    summary = runner.files["summary"].read_text()
    assert summary.startswith(f"## klint: {uris.count('k8s/insecure.yaml')} findings"), summary
    assert "failed to render" in summary
    calls = klint_calls(runner)
    assert len(calls) == 1 and calls[0][0] == "check", calls


def test_default_fail_on_is_the_cli_default_and_the_config_is_honoured(runner: Runner) -> None:
    """Only warnings: the CLI (and pre-commit) fail on warnings by default, so does the step;
    a .klint.yaml fail_on is not overridden by the Action."""
    add(runner, "k8s/hardened.yaml", FIXTURES / "examples" / "hardened-deployment.yaml")
    text = (runner.workspace / "k8s" / "hardened.yaml").read_text()
    pinned = text[text.index("api:") : text.index("\n", text.index("api:"))]
    (runner.workspace / "k8s" / "hardened.yaml").write_text(text.replace(pinned, "api:latest"))
    warnings_only = run_cli_code(runner, "check", "--fail-on", "error", "k8s")
    assert warnings_only == 0  # no error-level finding: the warning is what decides
    default_cli = run_cli_code(runner, "check", "k8s")
    _, lint = runner.run(install="false", path="k8s", summary="false")
    assert lint.returncode == default_cli == 1, lint.stderr
    (runner.workspace / ".klint.yaml").write_text("fail-on: error\n")
    _, lint = runner.run(install="false", path="k8s", summary="false")
    assert lint.returncode == 0, lint.stderr


def run_cli_code(runner: Runner, *args: str) -> int:
    env = {**runner.env}
    env.pop("GITHUB_ACTIONS")
    return subprocess.run(
        [sys.executable, "-m", "klint", *args],
        cwd=runner.workspace,
        env=env,
        capture_output=True,
        check=False,
        timeout=120,
    ).returncode
