"""``.klint.yaml``: discovery, validation with file:line messages, merging with flags."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from klint.config import ConfigError, find_config, load_config
from klint.findings import Severity
from klint.policy import ChartUnit, PolicyInput, build_policy
from klint.sources.base import LoadedUnit, LoadSettings
from tests.conftest import FIXTURES, REPO, run_cli

CONFIGS = FIXTURES / "config"
WARNINGS_ONLY = b"""apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - name: app
      image: nginx
"""


def test_full_config_is_typed() -> None:
    config = load_config(CONFIGS / "full.klint.yaml")
    assert config.extends == ("default", "pss-restricted")
    assert config.select == ("mutable-image-tag",)
    assert config.ignore == ("KL401",)
    assert [(o.key, o.severity, dict(o.params)) for o in config.rules] == [
        ("KL301", Severity.NOTE, {}),
        ("missing-resource-limits", None, {"resources": ["memory"]}),
    ]
    assert config.exclude == ("vendor/**",)
    (exemption,) = config.exemptions
    assert (exemption.rules, exemption.namespace, exemption.name, exemption.kind) == (
        ("privileged-container",),
        "kube-system",
        "cilium-*",
        "DaemonSet",
    )
    assert exemption.container == "agent"
    assert exemption.expires == datetime.date(2099, 12, 31)
    assert exemption.location is not None and exemption.location.span.start_line == 10
    chart = config.charts[(CONFIGS / "charts/web").resolve()]
    assert chart.values == (str((CONFIGS / "values-prod.yaml").resolve()),)
    assert (chart.set, chart.release_name, chart.namespace) == (("replicas=2",), "web", "prod")
    assert list(config.overlays) == [(CONFIGS / "overlays/prod").resolve()]
    assert config.fail_on is Severity.ERROR
    assert config.kube_version == "1.31"
    assert config.rules_dirs == ((FIXTURES / "custom-rules" / "rules").resolve(),)


def test_discovery_walks_up_to_the_git_root(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    deep = repo / "deploy" / "apps"
    deep.mkdir(parents=True)
    (repo / ".git").mkdir()
    assert find_config(deep) is None
    (tmp_path / ".klint.yaml").write_text("fail-on: error\n")  # above the git root: not used
    assert find_config(deep) is None
    (repo / ".klint.yaml").write_text("fail-on: error\n")
    assert find_config(deep) == repo / ".klint.yaml"
    (deep / ".klint.yml").write_text("fail-on: note\n")
    assert find_config(deep) == deep / ".klint.yml"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "unknown-key",
            ":5:5: exemptions.0: unknown key 'namspace' (expected one of: rules, namespace, "
            "name, kind, container, paths, reason, expires)",
        ),
        ("bad-level", ":2:10: fail-on: 'fatal' is not one of ['error', 'warning', 'note']"),
        ("bad-version", ":1:15: kube-version: 1.3 is not of type 'string' (quote it)"),
        ("missing-reason", ":2:5: exemptions.0: 'reason' is a required property"),
    ],
)
def test_invalid_config_names_file_line_and_problem(name: str, message: str) -> None:
    path = CONFIGS / f"{name}.klint.yaml"
    with pytest.raises(ConfigError) as raised:
        load_config(path, f"cfg/{name}.klint.yaml")
    assert str(raised.value) == f"cfg/{name}.klint.yaml{message}"


def test_unknown_rule_and_bad_params_point_at_their_key() -> None:
    unknown = load_config(CONFIGS / "unknown-rule.klint.yaml", "u.yaml")
    with pytest.raises(ConfigError) as raised:
        build_policy(unknown, PolicyInput(), cwd=REPO)
    assert str(raised.value) == (
        "u.yaml:3:3: unknown rule 'privileged-containers'; "
        "did you mean KL101 (privileged-container)?"
    )
    params = load_config(CONFIGS / "bad-params.klint.yaml", "p.yaml")
    with pytest.raises(ConfigError) as raised:
        build_policy(params, PolicyInput(), cwd=REPO)
    assert str(raised.value).startswith("p.yaml:3:5: ")
    assert "should be non-empty" in str(raised.value)


def test_invalid_config_is_exit_2_with_location() -> None:
    result = run_cli(
        "check", "--config", "fixtures/config/bad-level.klint.yaml", "-", stdin=WARNINGS_ONLY
    )
    assert result.returncode == 2
    assert result.stderr == (
        "klint: error: fixtures/config/bad-level.klint.yaml:2:10: fail-on: 'fatal' is not one "
        "of ['error', 'warning', 'note']\n"
    )


def test_config_applies_and_flags_override(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".klint.yaml").write_text(
        "fail-on: error\n"
        "ignore: [KL202]\n"
        "rules:\n"
        "  mutable-image-tag: {severity: note}\n"
        "  missing-resource-limits: {params: {resources: [memory]}}\n",
        encoding="utf-8",
    )
    (tmp_path / "pod.yaml").write_bytes(WARNINGS_ONLY)
    result = run_cli("check", "--select", "KL401,kl301", "pod.yaml", cwd=tmp_path)
    # --select takes comma lists (as ruff does), ids in any case
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[KL301 " in result.stdout and "[KL401 " in result.stdout
    result = run_cli("check", "--profile", "all", "--format", "json", "pod.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout  # only warnings and notes; fail-on error
    assert '"rule_id": "KL202"' not in result.stdout
    assert '"message": "container \\"app\\" has no memory limit in resources.limits."' in (
        result.stdout
    )
    assert (
        '"rule_id": "KL301",\n      "rule_name": "mutable-image-tag",\n      "severity": "note"'
        in (result.stdout)
    )
    assert run_cli("check", "--fail-on", "warning", "pod.yaml", cwd=tmp_path).returncode == 1
    assert (
        run_cli(
            "check",
            "--select",
            "KL202",
            "--fail-on",
            "warning",
            "--ignore",
            "KL201",
            "--ignore",
            "KL205",
            "--ignore",
            "KL206",
            "--ignore",
            "KL401",
            "--ignore",
            "KL301",
            "pod.yaml",
            cwd=tmp_path,
        ).returncode
        == 1
    )
    assert run_cli("check", "--no-config", "pod.yaml", cwd=tmp_path).returncode == 1


def test_exclude_globs(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "pod.yaml").write_bytes(WARNINGS_ONLY)
    (tmp_path / "app.yaml").write_bytes(WARNINGS_ONLY)
    (tmp_path / ".klint.yaml").write_text("exclude: ['vendor/*']\n", encoding="utf-8")
    result = run_cli("check", "--format", "json", ".", cwd=tmp_path)
    assert '"path": "app.yaml"' in result.stdout
    assert "vendor/pod.yaml" not in result.stdout


@dataclass
class _Recorder:
    display: str
    seen: list[LoadSettings] = field(default_factory=list)

    def load(self, settings: LoadSettings) -> LoadedUnit:
        self.seen.append(settings)
        return LoadedUnit([])


def test_per_chart_options_reach_the_chart_unit(tmp_path: Path) -> None:
    config_path = tmp_path / ".klint.yaml"
    config_path.write_text(
        "helm:\n  charts:\n    charts/web:\n      values: [prod.yaml]\n      set: [a=1]\n"
        "      release-name: web\n      namespace: prod\n",
        encoding="utf-8",
    )
    config = load_config(config_path)
    policy = build_policy(config, PolicyInput(), cwd=tmp_path)
    chart, other = _Recorder("charts/web"), _Recorder("charts/api")
    units = policy.units([chart, other], tmp_path)
    assert isinstance(units[0], ChartUnit) and units[1] is other
    units[0].load(LoadSettings(helm_set=("b=2",)))
    (settings,) = chart.seen
    assert settings.helm_values == (str(tmp_path / "prod.yaml"),)
    assert settings.helm_set == ("a=1", "b=2")  # flags come last and win in Helm
    assert (settings.release_name, settings.namespace) == ("web", "prod")


def test_schema_is_published_and_valid() -> None:
    import json

    import jsonschema

    schema = json.loads((REPO / "schemas" / "config.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    example = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    block = example.split("```yaml\n", 1)[1].split("```", 1)[0]
    import yaml

    assert list(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(block))) == []


def test_the_readme_config_example_is_valid() -> None:
    import json

    import jsonschema
    import yaml

    schema = json.loads((REPO / "schemas" / "config.schema.json").read_text(encoding="utf-8"))
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("# .klint.yaml\n", 1)[1].split("```", 1)[0]
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(block))) == []
