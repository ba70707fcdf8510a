"""Custom rules are repository content: their templates, regexes and $refs are hostile."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from klint.catalog import CatalogError, load_catalog
from klint.untrusted.template import TemplateError, render, template_problem
from tests.adversarial.probes import loopback_server
from tests.conftest import run_cli

RULE = """\
id: EVIL-001
name: evil-rule
summary: A hostile custom rule
description: Written by whoever opened the pull request.
remediation: Nothing.
severity: error
security_severity: 5.0
profiles: [default]
tags: [test]
check: json-schema
params:
  target: object
  message: {message}
  schema:
    type: object
    properties:
      metadata:
        properties:
          name: {name_schema}
examples:
  pass: [{{manifest: "kind: ConfigMap"}}]
  fail: [{{manifest: "kind: ConfigMap"}}]
"""
MANIFEST = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"


def write_rule(folder: Path, *, message: str = "'{target}: {error}'", name_schema: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "evil.yaml"
    path.write_text(RULE.format(message=message, name_schema=name_schema), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "template",
    [
        "{target.__class__.__mro__}",
        "{error:>2000000000}",
        "{target[0]}",
        "{error!r}",
        "{0}",
        "{}",
        "unbalanced {",
    ],
)
def test_templates_name_fields_only(template: str) -> None:
    assert template_problem(template, ("target", "error")) is not None
    with pytest.raises(TemplateError):
        render(template, {"target": "t", "error": "e"})


def test_a_template_substitutes_named_fields_and_literal_braces() -> None:
    rendered = render("{{x}} {target}: {error}", {"target": "Pod {a}", "error": "{target}"})
    assert rendered == "{x} Pod {a}: {target}"


def test_a_hostile_template_is_refused_at_load_with_file_and_line(tmp_path: Path) -> None:
    path = write_rule(
        tmp_path / "rules",
        message="'{target.__class__.__mro__}'",
        name_schema="{type: string}",
    )
    with pytest.raises(CatalogError) as raised:
        load_catalog([tmp_path / "rules"])
    message = str(raised.value)
    assert message.startswith(f"{path}:13: params.message: ")
    assert "unknown field '{target.__class__.__mro__}'" in message


def test_a_format_spec_in_a_config_override_is_a_config_error(tmp_path: Path) -> None:
    write_rule(tmp_path / "rules", name_schema="{type: string}")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".klint.yaml").write_text(
        "rules-dirs: [rules]\nrules:\n  EVIL-001:\n    params:\n"
        "      message: '{error:>2000000000}'\n",
        encoding="utf-8",
    )
    (tmp_path / "cm.yaml").write_text(MANIFEST.format(name="x"), encoding="utf-8")
    result = run_cli("check", "cm.yaml", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert ".klint.yaml:5:16: rules.EVIL-001.params.message: " in result.stderr
    assert "Traceback" not in result.stderr


def test_a_catastrophic_pattern_runs_in_linear_time(tmp_path: Path) -> None:
    write_rule(tmp_path / "rules", name_schema="{type: string, pattern: '^(a+)+$'}")
    (tmp_path / "cm.yaml").write_text(MANIFEST.format(name="a" * 5000 + "!"), encoding="utf-8")
    started = time.monotonic()
    result = run_cli(
        "check",
        "--no-config",
        "--rules-dir",
        "rules",
        "--select",
        "EVIL-001",
        "cm.yaml",
        cwd=tmp_path,
    )
    # Python's backtracking engine needs ~2^5000 steps here; RE2 one pass.
    assert time.monotonic() - started < 60
    assert result.returncode == 1, result.stderr
    assert "cm.yaml:4:9: error: " in result.stdout
    assert "does not match '^(a+)+$'" in result.stdout


def test_a_pattern_re2_cannot_run_is_refused_at_load(tmp_path: Path) -> None:
    path = write_rule(tmp_path / "rules", name_schema="{type: string, pattern: '^(?!x)a'}")
    with pytest.raises(CatalogError) as raised:
        load_catalog([tmp_path / "rules"])
    assert str(raised.value).startswith(
        f"{path}:19: params.schema.properties.metadata.properties.name.pattern: "
    )
    assert "lookaround" in str(raised.value)


@pytest.mark.parametrize("scheme", ["http", "file"])
def test_schema_refs_are_never_fetched_or_read(tmp_path: Path, scheme: str) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text('{"type": "integer", "description": "SECRET-CONTENT"}', encoding="utf-8")
    with loopback_server() as server:
        ref = f"{server.url}/schema.json" if scheme == "http" else outside.as_uri()
        path = write_rule(tmp_path / "rules", name_schema=f"{{$ref: '{ref}'}}")
        with pytest.raises(CatalogError) as raised:
            load_catalog([tmp_path / "rules"])
        assert str(raised.value).startswith(f"{path}:19: ")
        assert "never fetches a URL or reads a file" in str(raised.value)
        assert server.requests == []
    assert "SECRET-CONTENT" not in str(raised.value)


def test_a_remote_ref_in_a_config_override_reaches_nothing(tmp_path: Path) -> None:
    write_rule(tmp_path / "rules", name_schema="{type: string}")
    (tmp_path / ".git").mkdir()
    (tmp_path / "cm.yaml").write_text(MANIFEST.format(name="x"), encoding="utf-8")
    with loopback_server() as server:
        (tmp_path / ".klint.yaml").write_text(
            "rules-dirs: [rules]\nrules:\n  EVIL-001:\n    params:\n      schema:\n"
            f"        $ref: {server.url}/x.json\n",
            encoding="utf-8",
        )
        result = run_cli("check", "cm.yaml", cwd=tmp_path)
        assert result.returncode == 2
        assert ".klint.yaml:6:15: rules.EVIL-001.params.schema.$ref: " in result.stderr
        assert server.requests == []


def test_the_check_itself_refuses_a_remote_ref(tmp_path: Path) -> None:
    """Params that bypass both loaders still never reach the network."""
    from klint.checks import REGISTRY
    from klint.checks.base import UnitContext
    from klint.documents import parse_stream
    from klint.model.resource import resources_from_document

    document = parse_stream(MANIFEST.format(name="x"), "cm.yaml").documents[0]
    resource = next(resources_from_document(document))
    with loopback_server() as server:
        params = {"schema": {"$ref": f"{server.url}/x.json"}, "target": "object"}
        with pytest.raises(ValueError, match="never fetches"):
            list(REGISTRY["json-schema"].run(resource, UnitContext([resource]), params))
        assert server.requests == []


def test_the_language_server_fetches_no_schema(tmp_path: Path) -> None:
    pytest.importorskip("pygls")
    from klint.lsp import Linter

    with loopback_server() as server:
        write_rule(tmp_path / "rules", name_schema=f"{{$ref: '{server.url}/s.json'}}")
        (tmp_path / ".git").mkdir()
        (tmp_path / ".klint.yaml").write_text("rules-dirs: [rules]\n", encoding="utf-8")
        report = Linter(tmp_path).lint(MANIFEST.format(name="x"), str(tmp_path / "cm.yaml"))
        assert [n.code for n in report.notifications] == ["config"]
        assert "never fetches a URL" in report.notifications[0].message
        assert server.requests == []


def test_a_rule_file_linked_outside_is_refused_unread(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("SECRET-CONTENT: x\n", encoding="utf-8")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "linked.yaml").symlink_to(secret)
    with pytest.raises(CatalogError) as raised:
        load_catalog([tmp_path / "rules"])
    assert "is a symbolic link that leads outside" in str(raised.value)
    assert "SECRET-CONTENT" not in str(raised.value)


def test_a_billion_laughs_rule_file_is_refused_at_once(tmp_path: Path) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "bomb.yaml").write_text("\n".join(levels) + "\n", encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(CatalogError, match="more than 100,000 nodes"):
        load_catalog([tmp_path / "rules"])
    assert time.monotonic() - started < 30
