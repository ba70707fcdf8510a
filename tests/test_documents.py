"""YAML loading: YAML 1.1 values, positions, streams, Lists and bad input."""

from __future__ import annotations

import pytest

from klint import documents
from klint.documents import Limits, decode, parse_stream
from klint.findings import Span
from tests.conftest import hits, lint_text


def test_fast_c_parser_is_used() -> None:
    assert documents.FAST_PARSER, "PyYAML was installed without libyaml: 8x slower scans"


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("yes", True),
        ("on", True),
        ("True", True),
        ("Y", True),
        ("no", False),
        ("off", False),
        ("0644", 420),
        ("0x1F", 31),
        ("1_000", 1000),
        ("~", None),
        ("null", None),
        ("1.5", 1.5),
        ('"yes"', "yes"),
        ("'0644'", "0644"),
        ("2024-01-01", "2024-01-01"),
    ],
)
def test_scalars_follow_yaml_1_1_like_kubernetes(literal: str, value: object) -> None:
    parsed = parse_stream(f"key: {literal}\n", "f.yaml")
    assert parsed.documents[0].data == {"key": value}


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("!!str 8080", "8080"),
        ("!!str yes", "yes"),
        ("!!str ~", "~"),
        ("!<tag:yaml.org,2002:str> 31766", "31766"),
        ('!!int "9"', 9),
        ("!!float 1", 1.0),
        ("!!bool true", True),
        ("!!null ''", None),
    ],
)
def test_explicit_standard_tags_are_honoured_like_safe_loader(literal: str, value: object) -> None:
    parsed = parse_stream(f"key: {literal}\nlist: [a, {literal}]\n", "f.yaml")
    assert parsed.documents[0].data == {"key": value, "list": ["a", value]}


def test_tagged_scalar_keys_and_spans() -> None:
    doc = parse_stream("!!str yes: 1\nport: !!str 8080\n", "f.yaml").documents[0]
    assert doc.data == {"yes": 1, "port": "8080"}
    assert doc.span_of(("port",)) == Span(2, 7, 2, 17)


def test_span_of_value_key_and_missing_field() -> None:
    text = (
        "spec:\n  containers:\n    - name: app\n      securityContext:\n        privileged: true\n"
    )
    doc = parse_stream(text, "f.yaml").documents[0]
    assert doc.span_of(("spec", "containers", 0, "securityContext", "privileged")) == Span(
        5, 21, 5, 25
    )
    # missing leaf: the existing parent key
    assert doc.span_of(("spec", "containers", 0, "securityContext", "runAsNonRoot")) == Span(
        4, 7, 4, 22
    )
    # missing field of a list item: the item's first line (`- name: app`)
    assert doc.span_of(("spec", "containers", 0, "resources")) == Span(3, 7, 3, 16)


def test_flow_mapping_positions() -> None:
    report = lint_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
        "spec: {containers: [{name: a, image: 'a:1', securityContext: {privileged: true}}]}\n",
        rules=["KL101"],
    )
    assert hits(report) == [(4, 75, "KL101")]


def test_later_documents_and_list_items_have_their_own_lines() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: first}\nspec:\n  containers: []\n"
        "---\n"
        "apiVersion: v1\n"
        "kind: List\n"
        "items:\n"
        "  - apiVersion: v1\n"
        "    kind: Pod\n"
        "    metadata: {name: second}\n"
        "    spec:\n"
        "      hostPID: true\n"
        "      containers: []\n"
    )
    report = lint_text(text, rules=["KL103"])
    assert hits(report) == [(14, 16, "KL103")]
    assert report.active[0].object_ref is not None
    assert report.active[0].object_ref.name == "second"
    assert report.active[0].field_path == ("spec", "hostPID")


def test_empty_comment_only_and_non_kubernetes_documents_are_skipped_quietly() -> None:
    report = lint_text("# only a comment\n---\n---\nfoo: bar\n---\n- 1\n- 2\n")
    assert report.findings == [] and report.notifications == []
    assert report.objects_scanned == 0


def test_syntax_error_keeps_other_documents() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {hostIPC: true}\n"
        "---\nbroken: [1, 2\n"
        "---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec: {hostIPC: true}\n"
    )
    report = lint_text(text, rules=["KL104"])
    assert [line for line, _, _ in hits(report)] == [4, 11]
    assert [(n.code, n.location.span.start_line) for n in report.notifications if n.location] == [
        ("yaml-syntax", 7)
    ]


def test_duplicate_key_is_reported_and_the_object_still_linted() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  hostPID: false\n  hostPID: true\n"
    )
    report = lint_text(text, rules=["KL103"])
    assert hits(report) == [(6, 12, "KL103")]
    assert [(n.code, n.location.span.start_line) for n in report.notifications if n.location] == [
        ("duplicate-key", 6)
    ]


def test_merge_keys_are_applied() -> None:
    text = "base: &b {privileged: true}\nsc:\n  <<: *b\n  runAsUser: 1\n"
    data = parse_stream(text, "f.yaml").documents[0].data
    assert data["sc"] == {"privileged": True, "runAsUser": 1}


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    parsed = parse_stream(
        "\n".join(lines) + "\n", "bomb.yaml", Limits(max_nodes_per_document=100_000)
    )
    assert parsed.documents == []
    assert [p.code for p in parsed.problems] == ["yaml-limit"]


def test_deep_nesting_is_refused() -> None:
    text = "a: " + "[" * 400 + "]" * 400 + "\n"
    parsed = parse_stream(text, "deep.yaml", Limits(max_depth=100))
    assert parsed.documents == []
    assert parsed.problems[0].code == "yaml-limit"


@pytest.mark.parametrize(
    ("data", "code", "line"),
    [(b"a: 1\nb: \xff\n", "encoding", 2), (b"PK\x03\x04\x00\x00", "binary-file", 1)],
)
def test_undecodable_input(data: bytes, code: str, line: int) -> None:
    text, problem = decode(data, "x.yaml")
    assert text is None and problem is not None
    assert (problem.code, problem.location.span.start_line if problem.location else 0) == (
        code,
        line,
    )


def test_utf16_and_bom_are_decoded() -> None:
    assert decode("a: 1\n".encode("utf-16"), "x")[0] == "a: 1\n"
    assert decode(b"\xef\xbb\xbfa: 1\n", "x")[0] == "a: 1\n"


def test_malformed_objects_never_crash_rules() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: [1]\nspec:\n  containers: notalist\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: 5}\nspec:\n"
        "  containers: [null, 3, {name: [x], securityContext: [], ports: {a: b}, image: 7,"
        " resources: {limits: []}}]\n  volumes: [null]\n"
        "---\napiVersion: apps/v1\nkind: Deployment\nspec: {template: {spec: null}}\n"
        "---\napiVersion: batch/v1\nkind: CronJob\nspec: {jobTemplate: []}\n"
    )
    report = lint_text(text)
    assert not [n for n in report.notifications if n.code == "internal-check-error"]
