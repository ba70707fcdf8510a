"""An exception inside one lint unit is a problem of that unit, never an internal error of
the run: the other units' findings are reported in every format and the exit code is 1
(findings), not 2 (internal error). Serial runs and ``--jobs`` workers alike.

The failures are injected (a source that raises while loading, a check that raises on one
object): they stand for any bug a hostile input may reach.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from klint import cli
from klint.checks import REGISTRY
from klint.sources.manifests import ManifestFolder

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  containers:
    - {name: app, image: nginx:1.27, securityContext: {privileged: true}}
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        cli.main(["check", "--no-config", *args])
    captured = capsys.readouterr()
    code = done.value.code
    return code if isinstance(code, int) else 2, captured.out, captured.err


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    for index in range(17):  # enough units for --jobs to fork workers (16 or more)
        (tmp_path / f"good{index:02}").mkdir()
        (tmp_path / f"good{index:02}" / "pod.yaml").write_text(POD % f"web{index}")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "pod.yaml").write_text(POD % "explode")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def units(repo: Path) -> list[str]:
    return sorted(path.name for path in repo.iterdir() if path.name != ".git")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_source_that_raises_costs_only_its_unit(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], jobs: str
) -> None:
    load = ManifestFolder.load

    def failing_load(self: ManifestFolder, settings: Any) -> Any:
        if self.display == "bad":
            raise RuntimeError("boom in the source")
        return load(self, settings)

    monkeypatch.setattr(ManifestFolder, "load", failing_load)
    code, out, err = run(capsys, "--jobs", jobs, "--format", "json", *units(repo))
    assert code == 3, err  # a bug in klint (exit 3), every other unit still reported
    assert "internal error" not in err
    report = json.loads(out)
    paths = {f["path"] for f in report["findings"] if f["rule_id"] == "KL101"}
    assert paths == {f"good{index:02}/pod.yaml" for index in range(17)}
    assert [(n["code"], n["path"], n["message"]) for n in report["notifications"]] == [
        (
            "unit-error",
            "bad",
            "bad: could not be linted (RuntimeError: boom in the source); "
            "set KLINT_DEBUG=1 for the traceback",
        )
    ]
    code, out, _ = run(capsys, "--jobs", jobs, "--format", "sarif", *units(repo))
    assert code == 3
    sarif = json.loads(out)
    results = sarif["runs"][0]["results"]
    assert sum(r["ruleId"] == "KL101" for r in results) == 17
    assert [r["message"]["text"] for r in results if r["ruleId"] == "KL000"] == [
        "bad: could not be linted (RuntimeError: boom in the source); "
        "set KLINT_DEBUG=1 for the traceback"
    ]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_check_that_raises_costs_only_its_object(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], jobs: str
) -> None:
    name = _kl101_check()
    original = REGISTRY[name].function

    def failing(resource: Any, context: Any, params: Any) -> Iterator[Any]:
        if resource.name == "explode":
            raise ValueError("boom in the check")
        yield from original(resource, context, params)

    monkeypatch.setitem(REGISTRY, name, replace(REGISTRY[name], function=failing))
    code, out, err = run(capsys, "--jobs", jobs, "--format", "json", *units(repo))
    assert code == 3, err  # a bug in klint (exit 3), every other unit still reported
    report = json.loads(out)
    paths = {f["path"] for f in report["findings"] if f["rule_id"] == "KL101"}
    assert paths == {f"good{index:02}/pod.yaml" for index in range(17)}
    assert ("KL201", "bad/pod.yaml") in {(f["rule_id"], f["path"]) for f in report["findings"]}
    problems = [n for n in report["notifications"] if n["code"] == "internal-check-error"]
    assert [(n["path"], n["fatal"]) for n in problems] == [("bad/pod.yaml", False)]
    assert "ValueError: boom in the check" in problems[0]["message"]


def _kl101_check() -> str:
    from klint.catalog import load_catalog

    return next(rule.check for rule in load_catalog() if rule.id == "KL101")
