"""Offline chart rendering: real renders of the fixture charts through helm-python-sdk."""

from __future__ import annotations

import io
import re
import shutil
import sys
import tarfile
import time
from pathlib import Path

import pytest

from klint.documents import parse_stream
from klint.sources.helm.backends import merge_values
from klint.sources.helm.chart_files import find_chart_root, is_chart_dir, missing_dependencies
from klint.sources.helm.output import (
    HelmRenderError,
    RenderedTemplate,
    normalise_output,
    restore_file_order,
    split_helm_output,
    split_sections,
)
from klint.sources.helm.render import render_chart
from tests.conftest import CORPUS, HELM_FIXTURES, needs_helm_sdk

FIXTURES = HELM_FIXTURES
WEB = FIXTURES / "web"
needs_sdk = needs_helm_sdk

WEB_SOURCES = [
    "web/charts/db/templates/statefulset.yaml",
    "web/charts/sessioncache/templates/daemonset.yaml",
    "web/templates/deployment.yaml",
    "web/templates/hooks/pre-install-job.yaml",
    "web/templates/rbac.yaml",
    "web/templates/service.yaml",
    "web/templates/tests/test-connection.yaml",
]


def sdk(chart: Path, **options: object) -> list[RenderedTemplate]:
    return render_chart(chart, backend="sdk", **options)  # type: ignore[arg-type]


def objects(template: RenderedTemplate) -> list[dict[str, object]]:
    parsed = parse_stream(template.text, template.source)
    assert parsed.problems == []
    return [d.data for d in parsed.documents if isinstance(d.data, dict)]


def by_source(rendered: list[RenderedTemplate]) -> dict[str, RenderedTemplate]:
    return {r.source: r for r in rendered}


# --- the web fixture -----------------------------------------------------------------------


@needs_sdk
def test_web_renders_every_template_but_notes_partials_and_empty_ones() -> None:
    rendered = sdk(WEB)
    assert [r.source for r in rendered] == WEB_SOURCES  # sorted; hook and test kept


@needs_sdk
def test_sources_map_to_files_through_chart_names_and_aliases() -> None:
    files = {r.source: r.file for r in sdk(WEB)}
    assert files["web/templates/deployment.yaml"] == WEB / "templates/deployment.yaml"
    assert files["web/charts/db/templates/statefulset.yaml"] == (
        WEB / "charts/db/templates/statefulset.yaml"
    )
    # alias "sessioncache" of chart "cache", which lives in charts/cache-chart/
    assert files["web/charts/sessioncache/templates/daemonset.yaml"] == (
        WEB / "charts/cache-chart/templates/daemonset.yaml"
    )


@needs_sdk
def test_relative_chart_path_gives_relative_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    rendered = sdk(Path("web"))
    assert rendered[2].file == Path("web/templates/deployment.yaml")


@needs_sdk
def test_insecure_settings_come_out_where_the_fixture_puts_them() -> None:
    rendered = by_source(sdk(WEB))
    deployment = objects(rendered["web/templates/deployment.yaml"])[0]
    pod = deployment["spec"]["template"]["spec"]  # type: ignore[index]
    assert pod["hostNetwork"] is True
    assert pod["containers"][0]["securityContext"] == {"privileged": True, "runAsUser": 0}
    assert pod["containers"][0]["image"] == "nginx:latest"
    assert [c["name"] for c in pod["containers"]] == ["web", "log-shipper"]
    hook = objects(rendered["web/templates/hooks/pre-install-job.yaml"])[0]
    assert hook["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"  # type: ignore[index]


@needs_sdk
def test_multi_document_template_splits_like_helm() -> None:
    rbac = by_source(sdk(WEB))["web/templates/rbac.yaml"]
    # "{{- /* */ -}}" glues "# Role ..." to the separator: "---# Role ..." is still one.
    assert "---# Role" not in rbac.text
    assert [o["kind"] for o in objects(rbac)] == ["ServiceAccount", "Role", "RoleBinding"]


@needs_sdk
def test_values_files_set_and_set_string(tmp_path: Path) -> None:
    values = tmp_path / "prod.yaml"
    values.write_text("securityContext:\n  privileged: false\nimage:\n  tag: '1.0'\n")
    rendered = by_source(
        sdk(
            WEB,
            values_files=[values],
            set_values=["image.tag=1.25,db.enabled=false", "replicaCount=2"],
            set_string_values=["service.port=8080"],
            release_name="prod",
            namespace="shop",
        )
    )
    assert "web/charts/db/templates/statefulset.yaml" not in rendered  # condition db.enabled
    deployment = objects(rendered["web/templates/deployment.yaml"])[0]
    container = deployment["spec"]["template"]["spec"]["containers"][0]  # type: ignore[index]
    assert container["securityContext"] == {"privileged": False, "runAsUser": 0}
    assert container["image"] == "nginx:1.25"  # --set wins over -f
    assert deployment["spec"]["replicas"] == 2  # type: ignore[index]
    assert deployment["metadata"]["name"] == "prod-web"  # type: ignore[index]
    service = objects(rendered["web/templates/service.yaml"])[0]
    assert service["spec"]["ports"][0]["port"] == 8080  # type: ignore[index]
    binding = objects(rendered["web/templates/rbac.yaml"])[2]
    assert binding["subjects"][0]["namespace"] == "shop"  # type: ignore[index]


def make_chart(root: Path, name: str, templates: dict[str, str], **files: str) -> Path:
    chart = root / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        files.pop("chart_yaml", f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
    )
    for path, text in {**templates}.items():
        target = chart / "templates" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    for path, text in files.items():
        (chart / path).write_text(text)
    return chart


@needs_sdk
def test_kube_version_reaches_capabilities(tmp_path: Path) -> None:
    chart = make_chart(
        tmp_path,
        "caps",
        {"cm.yaml": "kind: ConfigMap\ndata:\n  v: {{ .Capabilities.KubeVersion.Version }}\n"},
    )
    [default] = sdk(chart)
    [pinned] = sdk(chart, kube_version="v1.29.3")
    assert "v: v1.29.3" in pinned.text
    assert "v: v1.29.3" not in default.text
    with pytest.raises(HelmRenderError, match="version"):
        sdk(chart, kube_version="not-a-version")


# --- errors --------------------------------------------------------------------------------


@needs_sdk
def test_failing_template_reports_template_and_line() -> None:
    with pytest.raises(HelmRenderError) as caught:
        sdk(FIXTURES / "broken")
    error = caught.value
    assert error.template == "broken/templates/configmap.yaml"
    assert (error.line, error.column) == (6, 94)  # the `fail` call
    assert "config.greeting is required" in error.message


@needs_sdk
def test_parse_error_reports_template_and_line(tmp_path: Path) -> None:
    chart = make_chart(
        tmp_path, "bad", {"cm.yaml": "kind: ConfigMap\ndata:\n  a: {{ nosuchfunction 1 }}\n"}
    )
    with pytest.raises(HelmRenderError) as caught:
        sdk(chart)
    assert caught.value.template == "bad/templates/cm.yaml"
    assert caught.value.line == 3
    assert "nosuchfunction" in caught.value.message


@needs_sdk
def test_bad_values_name_their_origin(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [\n")
    with pytest.raises(HelmRenderError, match=r"bad\.yaml: "):
        sdk(WEB, values_files=[bad])
    with pytest.raises(HelmRenderError, match=r'^--set image: key "image" has no value'):
        sdk(WEB, set_values=["image"])


def test_error_text_parsing() -> None:
    error = HelmRenderError.from_helm(
        "Error: template: web/templates/deployment.yaml:12:3: executing "
        '"web/templates/deployment.yaml" at <.Values.x.y>: nil pointer evaluating'
    )
    assert (error.template, error.line, error.column) == ("web/templates/deployment.yaml", 12, 3)
    warned = HelmRenderError.from_helm(
        "walk.go:74: found symbolic link in path\nError: execution error at "
        "(web/templates/x.yaml:3:7): boom"
    )
    assert (warned.template, warned.line, warned.message) == (
        "web/templates/x.yaml",
        3,
        "execution error at (web/templates/x.yaml:3:7): boom",
    )
    yaml_error = HelmRenderError.from_helm(
        "Error: YAML parse error on web/templates/x.yaml: error converting YAML to JSON"
    )
    assert (yaml_error.template, yaml_error.line) == ("web/templates/x.yaml", None)


@needs_sdk
def test_missing_dependency_stops_the_render() -> None:
    assert missing_dependencies(FIXTURES / "missing-dep") == ["postgresql"]
    with pytest.raises(HelmRenderError, match=r"missing from charts/: postgresql") as caught:
        sdk(FIXTURES / "missing-dep")
    assert "helm dependency build" in caught.value.message


def test_dependencies_present_as_dir_alias_or_archive(tmp_path: Path) -> None:
    assert missing_dependencies(WEB) == []
    chart = tmp_path / "web"
    shutil.copytree(WEB, chart)
    pack(chart / "charts" / "db", chart / "charts" / "db-0.1.0.tgz")
    shutil.rmtree(chart / "charts" / "db")
    assert missing_dependencies(chart) == []
    shutil.rmtree(chart / "charts" / "cache-chart")
    assert missing_dependencies(chart) == ["cache"]


def test_requirements_yaml_of_v1_charts_and_nested_subcharts(tmp_path: Path) -> None:
    old = make_chart(
        tmp_path,
        "old",
        {},
        chart_yaml="apiVersion: v1\nname: old\nversion: 1.0.0\n",
        **{"requirements.yaml": "dependencies:\n  - name: redis\n    version: 1.x\n"},
    )
    assert missing_dependencies(old) == ["redis"]
    sub = make_chart(
        old / "charts",
        "redis",
        {},
        chart_yaml="apiVersion: v2\nname: redis\nversion: 1.0.0\n"
        "dependencies:\n  - name: common\n    version: 1.x\n",
    )
    assert missing_dependencies(old) == ["redis/common"]
    make_chart(old / "charts", "common", {})  # vendored by the parent: good enough for Helm
    assert missing_dependencies(old) == []
    assert sub.is_dir()


def test_no_backend_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "helm_python", None)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(HelmRenderError, match=r"pip install helm-python-sdk \(installed with"):
        render_chart(WEB)


def test_binary_backend_without_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(HelmRenderError, match="helm binary is not on PATH"):
        render_chart(WEB, backend="binary")


def test_not_a_chart_and_missing_values_file(tmp_path: Path) -> None:
    with pytest.raises(HelmRenderError, match="not a Helm chart"):
        render_chart(tmp_path)
    with pytest.raises(HelmRenderError, match="values file not found"):
        render_chart(WEB, values_files=[tmp_path / "nope.yaml"])


@pytest.mark.skipif(shutil.which("helm") is None, reason="no helm binary on PATH")
def test_binary_and_sdk_agree() -> None:
    binary = render_chart(WEB, backend="binary")
    assert [(r.source, r.file) for r in binary] == [(r.source, r.file) for r in sdk(WEB)]
    for rendered in binary:
        assert objects(rendered) == objects(by_source(sdk(WEB))[rendered.source])


# --- packaged charts -----------------------------------------------------------------------


def pack(chart: Path, archive: Path, prefix: str | None = None) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(chart, arcname=prefix or chart.name)
    return archive


@needs_sdk
def test_packaged_chart_renders_like_the_directory(tmp_path: Path) -> None:
    archive = pack(WEB, tmp_path / "web-0.1.0.tgz")
    packaged = sdk(archive)
    assert [r.source for r in packaged] == WEB_SOURCES
    assert all(r.file is None for r in packaged)
    assert [r.text for r in packaged] == [r.text for r in sdk(WEB)]


@needs_sdk
def test_packaged_subchart_has_no_file(tmp_path: Path) -> None:
    chart = tmp_path / "web"
    shutil.copytree(WEB, chart)
    pack(chart / "charts" / "db", chart / "charts" / "db-0.1.0.tgz")
    shutil.rmtree(chart / "charts" / "db")
    files = {r.source: r.file for r in sdk(chart)}
    assert files["web/charts/db/templates/statefulset.yaml"] is None
    assert files["web/templates/deployment.yaml"] == chart / "templates/deployment.yaml"


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


@needs_sdk
def test_archive_with_path_traversal_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        add_bytes(tar, "evil/Chart.yaml", b"apiVersion: v2\nname: evil\nversion: 0.1.0\n")
        add_bytes(tar, "evil/../../escaped.txt", b"x")
    with pytest.raises(HelmRenderError, match="unsafe path"):
        render_chart(archive, backend="sdk")
    assert not (tmp_path / "escaped.txt").exists()


@needs_sdk
def test_archive_links_are_not_followed(tmp_path: Path) -> None:
    archive = tmp_path / "links.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        add_bytes(tar, "links/Chart.yaml", b"apiVersion: v2\nname: links\nversion: 0.1.0\n")
        add_bytes(tar, "links/templates/cm.yaml", b"kind: ConfigMap\nmetadata:\n  name: x\n")
        link = tarfile.TarInfo("links/templates/passwd.yaml")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    assert [r.source for r in sdk(archive)] == ["links/templates/cm.yaml"]


# --- chart discovery -----------------------------------------------------------------------


def test_find_chart_root_returns_the_owning_chart(tmp_path: Path) -> None:
    assert find_chart_root(WEB / "templates" / "deployment.yaml") == WEB
    assert find_chart_root(WEB / "charts" / "db" / "templates" / "statefulset.yaml") == WEB
    assert find_chart_root(WEB / "charts") == WEB
    assert find_chart_root(WEB / "charts" / "db") == WEB
    assert find_chart_root(FIXTURES) is None
    repo_chart = make_chart(tmp_path / "charts", "api", {"x.yaml": ""})
    assert find_chart_root(repo_chart / "templates" / "x.yaml") == repo_chart  # no parent chart
    assert is_chart_dir(WEB) and not is_chart_dir(WEB / "templates")
    assert not is_chart_dir(WEB / "Chart.yaml")


# --- text helpers --------------------------------------------------------------------------


def test_split_sections_keeps_lines_and_columns() -> None:
    text = "a: 1\n---\nb: 2\n---# note\nc: 3\n"
    assert split_sections(text) == [(0, "a: 1\n"), (1, "   \nb: 2\n"), (3, "   # note\nc: 3\n")]
    assert split_sections("---\nx: 1") == [(0, ""), (0, "   \nx: 1")]


def test_normalise_output_keeps_one_document_per_section() -> None:
    assert normalise_output("  \n\n") is None
    assert normalise_output("\n---\n\n---\n") is None
    text = normalise_output("\n---\na: 1\n---\n\n---# c\nb: 2\n")
    assert text == "---\n---\na: 1\n---\n---\n# c\nb: 2\n"
    assert [d.data for d in parse_stream(text or "", "x").documents] == [
        None,
        {"a": 1},
        None,
        {"b": 2},
    ]


def test_split_helm_output_on_a_helm_template_stream() -> None:
    stream = (
        "---\n# Source: web/templates/rbac.yaml\napiVersion: v1\nkind: ServiceAccount\n"
        "---\n# Source: web/templates/rbac.yaml\nkind: Role\n"
        "---\n# Source: web/templates/hooks/job.yaml\nkind: Job\n"
        "---\nkind: NoHeader\n"
    )
    documents = split_helm_output(stream)
    assert [(s, o) for s, o, _ in documents] == [
        ("web/templates/rbac.yaml", 0),
        ("web/templates/rbac.yaml", 4),
        ("web/templates/hooks/job.yaml", 7),
        (None, 10),
    ]
    lines = stream.split("\n")
    for _, offset, document in documents:
        for number, line in enumerate(document.splitlines()[1:], start=2):
            assert lines[offset + number - 1] == line


@pytest.mark.skipif(
    not (FIXTURES / "web-rendered.yaml").is_file(), reason="no rendered web fixture"
)
def test_split_helm_output_on_the_rendered_web_fixture() -> None:
    text = (FIXTURES / "web-rendered.yaml").read_text()
    documents = split_helm_output(text)
    sources = [source for source, _, _ in documents]
    assert sources.count("web/templates/rbac.yaml") == 3  # one header per document
    assert set(sources) == set(WEB_SOURCES)
    lines = text.split("\n")
    for source, offset, document in documents:
        assert lines[offset] == "---" and lines[offset + 1] == f"# Source: {source}"
        assert parse_stream(document, str(source)).problems == []


@pytest.mark.skipif(not (CORPUS / "helm-rendered").is_dir(), reason="corpus not available")
def test_split_helm_output_on_rendered_corpus_files() -> None:
    for path in sorted((CORPUS / "helm-rendered").rglob("*.yaml")):
        text = path.read_text()
        documents = split_helm_output(text)
        assert documents, path
        chart_relative = path.relative_to(CORPUS / "helm-rendered").parts[1:]
        for source, offset, document in documents:
            assert source is not None and source.endswith("/".join(chart_relative)), path
            parsed = parse_stream(document, source)
            assert parsed.problems == [], (path, offset)
            assert text.split("\n")[offset + 1] == f"# Source: {source}"


def test_restore_file_order_undoes_kind_sorting() -> None:
    template = "kind: ConfigMap\n---\nkind: Deployment\n---\nkind: ConfigMap\n"
    sorted_by_helm = ["kind: ConfigMap\na: 1", "kind: ConfigMap\na: 2", "kind: Deployment"]
    assert restore_file_order(sorted_by_helm, template) == [
        "kind: ConfigMap\na: 1",
        "kind: Deployment",
        "kind: ConfigMap\na: 2",
    ]
    assert restore_file_order(["kind: Other"], template) == ["kind: Other"]


def test_merge_values_like_helm() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert merge_values(base, {"a": {"c": [3]}, "d": {"e": 1}}) == {
        "a": {"b": 1, "c": [3]},
        "d": {"e": 1},
    }
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}


# --- the corpus ----------------------------------------------------------------------------


def identity(data: dict[str, object]) -> tuple[str, str]:
    """(kind, name); names made with randAlphaNum (podinfo's test pods) lose the random part."""
    metadata = data.get("metadata")
    name = str(metadata.get("name") if isinstance(metadata, dict) else "")
    return str(data.get("kind")), re.sub(r"-[a-z0-9]{5}$", "-?", name)


def rendered_reference(chart: str) -> dict[str, list[tuple[str, str]]]:
    """(kind, name) per source in the corpus' reference rendering (helm-rendered/<chart>)."""
    by_source: dict[str, list[tuple[str, str]]] = {}
    for path in sorted((CORPUS / "helm-rendered" / chart).rglob("*.yaml")):
        for source, _, document in split_helm_output(path.read_text()):
            data = [d.data for d in parse_stream(document, str(path)).documents]
            by_source.setdefault(str(source), []).extend(
                identity(d) for d in data if isinstance(d, dict)
            )
    return by_source


@pytest.mark.slow
@pytest.mark.skipif(not (CORPUS / "helm-charts").is_dir(), reason="corpus not available")
@needs_sdk
def test_render_every_corpus_chart(capsys: pytest.CaptureFixture[str]) -> None:
    """All 18 corpus charts render, with the objects of the corpus' reference rendering."""
    failures: list[str] = []
    report: list[str] = []
    for chart in sorted((CORPUS / "helm-charts").iterdir()):
        started = time.perf_counter()
        try:
            rendered = render_chart(chart)
        except HelmRenderError as error:
            failures.append(f"{chart.name}: {error.message}")
            continue
        elapsed = time.perf_counter() - started
        mine: dict[str, list[tuple[str, str]]] = {}
        for template in rendered:
            assert template.file is None or template.file.is_file()
            mine[template.source] = [identity(o) for o in objects(template)]
        report.append(
            f"{chart.name:20} {len(rendered):3} templates "
            f"{sum(map(len, mine.values())):4} objects {elapsed * 1000:7.1f} ms"
        )
        if (CORPUS / "helm-rendered" / chart.name).is_dir():
            # Helm keeps comment-only output (ingress-nginx's PDB); the reference dropped it.
            assert {k: v for k, v in mine.items() if v} == rendered_reference(chart.name)
    with capsys.disabled():
        print("\n" + "\n".join(report))
    assert failures == []
