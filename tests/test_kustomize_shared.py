"""A CRD base shared by 19 overlays is built once; every overlay's objects stay exactly the same."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from klint import k8s_schemas
from klint.documents import Limits, parse_stream
from klint.run import RunOptions, run
from klint.sources.base import LoadSettings
from klint.sources.kustomize import base_files, prebuild, shared
from klint.sources.kustomize import build as build_module
from klint.sources.kustomize import graft as graft_module
from klint.sources.kustomize import overlay as overlay_module
from klint.sources.kustomize.build import build
from klint.sources.kustomize.graft import grafted
from klint.sources.kustomize.overlay import KustomizeOverlay
from klint.sources.kustomize.sandbox import KustomizeBuildError
from klint.sources.kustomize.tool import ToolBudget
from klint.yaml_budget import node_bound
from tests.conftest import REPO

TREE = REPO / "fixtures" / "kustomize-shared"
OVERLAYS = sorted((TREE / "manifests").glob("install-*"))

pytestmark = pytest.mark.skipif(
    shutil.which("kubectl") is None and shutil.which("kustomize") is None,
    reason="needs kubectl or kustomize",
)


@pytest.fixture
def spliced(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each build spliced (True) or fell back (False); the base cache starts empty."""
    for memo in (
        "_BUILT",
        "_BLOCKS",
        "_SCHEMAS",
        "_MARKED",
        "_RANGES",
        "_FILE_SCHEMAS",
        "_SOURCES",
        "_RAW",
        "_MEASURED",
        "_STARTED",
    ):
        monkeypatch.setattr(shared, memo, {})
    for memo in ("_STUBBED", "_DIGESTS"):
        monkeypatch.setattr(base_files, memo, {})
    monkeypatch.setattr(prebuild, "_KEPT", {})
    monkeypatch.setattr(prebuild, "_KEPT_BYTES", 0)
    outcomes: list[bool] = []
    original = shared.splice

    def record(*args: object, **kwargs: object) -> str | None:
        result = original(*args, **kwargs)  # type: ignore[arg-type]
        outcomes.append(result is not None)
        return result

    monkeypatch.setattr(shared, "splice", record)
    return outcomes


def test_the_fixture_is_argo_workflows_shaped() -> None:
    assert len(OVERLAYS) == 19
    for overlay in OVERLAYS:
        assert "../base/crds/full" in (overlay / "kustomization.yaml").read_text()


def test_every_overlay_builds_the_same_objects_and_origins(
    spliced: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    for overlay in OVERLAYS:
        monkeypatch.setenv("KLINT_KUSTOMIZE_SHARE", "0")
        full = build(overlay, root=REPO)
        monkeypatch.setenv("KLINT_KUSTOMIZE_SHARE", "1")
        shared_build = build(overlay, root=REPO)
        assert shared_build.text == full.text
        assert shared_build.objects == full.objects  # kinds, names, origin files and lines
        assert shared_build.warnings == full.warnings
    assert spliced == [True] * len(OVERLAYS)
    assert len(shared._BUILT) == 1  # the base was built once for all 19


def test_findings_are_identical_in_every_format(
    spliced: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = {}
    for flag in ("0", "1"):
        monkeypatch.setenv("KLINT_KUSTOMIZE_SHARE", flag)
        for fmt in ("json", "sarif", "text"):
            options = RunOptions(paths=(str(TREE),), output_format=fmt, jobs=1, no_cache=True)
            outputs[flag, fmt] = run(options, cwd=REPO)[1]
    for fmt in ("json", "sarif", "text"):
        assert outputs["0", fmt] == outputs["1", fmt]
    assert "KL" in outputs["1", "text"]  # the overlays do have findings
    assert spliced and all(spliced)


def test_prepared_builds_in_parallel_report_as_serial_unshared_runs(
    spliced: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With workers, the overlays' builds run in the parent's threads before the fork and
    the first unit is linted in the parent: the reports equal a serial unshared run."""
    import os

    from klint import engine

    parent = os.getpid()
    linted_here: list[str] = []
    original = engine.lint_unit

    def record(unit: object, *args: object, **kwargs: object) -> object:
        if os.getpid() == parent:
            linted_here.append(str(getattr(unit, "path", unit)))
        return original(unit, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "lint_unit", record)
    outputs = {}
    for flag, jobs in (("0", 1), ("1", 2)):
        monkeypatch.setenv("KLINT_KUSTOMIZE_SHARE", flag)
        for fmt in ("json", "sarif"):
            linted_here.clear()
            options = RunOptions(paths=(str(TREE),), output_format=fmt, jobs=jobs, no_cache=True)
            outputs[flag, fmt] = run(options, cwd=REPO)[1]
            assert len(linted_here) == (len(OVERLAYS) if jobs == 1 else 1)
    for fmt in ("json", "sarif"):
        assert outputs["0", fmt] == outputs["1", fmt]
    assert prebuild._POOL is None and not prebuild._HELD


def test_a_patch_in_the_overlay_falls_back_to_a_full_build(
    tmp_path: Path, spliced: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    (tree / ".git").mkdir()
    overlay = tree / "manifests" / "install-00"
    text = (overlay / "kustomization.yaml").read_text()
    patch = """patches:
  - target: {kind: CustomResourceDefinition, name: things0.example.io}
    patch: |-
      - op: replace
        path: /spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/field0/type
        value: integer
"""
    (overlay / "kustomization.yaml").write_text(text + patch)
    monkeypatch.setenv("KLINT_KUSTOMIZE_SHARE", "0")
    full = build(overlay, root=tree)
    monkeypatch.setenv("KLINT_KUSTOMIZE_SHARE", "1")
    assert build(overlay, root=tree).text == full.text
    assert "type: integer" in full.text
    assert spliced == []  # never stubbed: a patch can reach into the schema


def test_a_base_that_changes_is_built_again(
    tmp_path: Path, spliced: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    (tree / ".git").mkdir()
    monkeypatch.setenv("KLINT_KUSTOMIZE_SHARE", "1")
    overlay = tree / "manifests" / "install-03"
    build(overlay, root=tree)
    crd = tree / "manifests" / "base" / "crds" / "full" / "thing1.yaml"
    crd.write_text(crd.read_text().replace("field7:", "renamed7:"))
    again = build(overlay, root=tree)
    assert again.text.count("renamed7:") == 1 and again.text.count("field7:") == 1
    assert len(shared._BUILT) == 2
    assert spliced == [True, True]


def test_a_base_rewritten_with_the_same_size_and_times_is_built_again(
    tmp_path: Path, spliced: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the base's digest and stubs are kept by file stamp: a rewrite that restores size and
    # modification time still moves the change time, so the new bytes are read
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    (tree / ".git").mkdir()
    monkeypatch.setenv("KLINT_KUSTOMIZE_SHARE", "1")
    overlay = tree / "manifests" / "install-03"
    build(overlay, root=tree)
    crd = tree / "manifests" / "base" / "crds" / "full" / "thing1.yaml"
    before = crd.stat()
    crd.write_text(crd.read_text().replace("field7:", "fielD7:"))  # same size
    os.utime(crd, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert crd.stat().st_size == before.st_size
    assert crd.stat().st_mtime_ns == before.st_mtime_ns
    again = build(overlay, root=tree)
    assert again.text.count("fielD7:") == 1 and again.text.count("field7:") == 1
    assert len(shared._BUILT) == 2


def _overlay_variants(tmp_path: Path) -> Path:
    """The fixture with schema findings in the base and overlays that name, label and
    annotate differently (what a pure base still shares)."""
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    (tree / ".git").mkdir()
    crd = tree / "manifests" / "base" / "crds" / "full" / "thing0.yaml"
    crd.write_text(
        crd.read_text().replace(
            "        openAPIV3Schema:\n          type: object\n",
            "        openAPIV3Schema:\n          type: object\n          descripton: typo\n"
            "          x-kubernetes-validations:\n            - rule: self.spec ==\n",
        )
    )
    settings = [
        "namePrefix: p1-\n",
        "nameSuffix: -s2\ncommonLabels: {team: two}\n",
        "commonAnnotations: {owner: three}\nnamespace: other\n",
        "namePrefix: p4-\nnameSuffix: -s4\nlabels:\n  - pairs: {tier: four}\n",
    ]
    for index, extra in enumerate(settings):
        kustomization = tree / "manifests" / f"install-{index:02d}" / "kustomization.yaml"
        text = kustomization.read_text()
        if "namespace:" in extra:
            text = "".join(line for line in text.splitlines(True) if "namespace:" not in line)
        kustomization.write_text(text + extra)
    return tree


def test_overlays_that_differ_report_the_same_in_every_format(
    tmp_path: Path, spliced: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = _overlay_variants(tmp_path)
    attached: list[bool] = []
    original = overlay_module.grafted

    def record(*args: object, **kwargs: object) -> object:
        result = original(*args, **kwargs)  # type: ignore[arg-type]
        attached.append(result is not None)
        return result

    monkeypatch.setattr(overlay_module, "grafted", record)
    outputs = {}
    for flag in ("0", "1"):
        monkeypatch.setenv("KLINT_KUSTOMIZE_SHARE", flag)
        for fmt in ("json", "sarif", "text"):
            options = RunOptions(paths=(str(tree),), output_format=fmt, jobs=1, no_cache=True)
            outputs[flag, fmt] = run(options, cwd=tree)[1]
    for fmt in ("json", "sarif", "text"):
        assert outputs["0", fmt] == outputs["1", fmt]
    text = outputs["1", "text"]
    assert "descripton" in text and "thing0.yaml" in text  # located in the base file
    assert "does not compile" in text
    assert spliced and all(spliced)
    assert len(attached) >= len(OVERLAYS) and all(attached)  # every overlay's schemas attached


def test_attached_schemas_parse_as_the_full_text(spliced: list[bool]) -> None:
    for overlay in OVERLAYS[:3]:
        built = build(overlay, root=REPO)
        assert built.stub is not None and built.grafts
        # the lines and node bound of the spliced text, composed without reading it again
        assert built.lines == built.text.splitlines()
        assert built.node_bound == node_bound(built.text)
        full = parse_stream(built.text, "k.yaml")
        known = (built.lines, built.node_bound)
        parsed = grafted(built.text, built.stub, built.grafts, "k.yaml", Limits(), *known)
        assert parsed is not None
        assert [d.data for d in parsed.documents] == [d.data for d in full.documents]
        assert [d.index for d in parsed.documents] == [d.index for d in full.documents]
        assert parsed.documents[0].text_lines == full.documents[0].text_lines
        assert parsed.problems == full.problems == []
        # limits the full parse would hit are never skipped: the full text is parsed
        for limits in (Limits(max_depth=8), Limits(max_nodes_per_document=200)):
            assert parse_stream(built.text, "k.yaml", limits).problems
            assert grafted(built.text, built.stub, built.grafts, "k.yaml", limits) is None
            assert grafted(built.text, built.stub, built.grafts, "k.yaml", limits, *known) is None


def test_a_shared_schema_is_validated_once_with_the_same_issues() -> None:
    node = k8s_schemas.Node(
        types=frozenset({"object"}), properties={"a": k8s_schemas.Node()}, additional=False
    )
    value = {"a": 1, "b": 2}
    alone = list(k8s_schemas.validate(node, value, ("spec", 0)))
    k8s_schemas.share(value)
    try:
        first = list(k8s_schemas.validate(node, value, ("spec", 0)))
        again = list(k8s_schemas.validate(node, value, ("other",)))
    finally:
        del k8s_schemas._SHARED[id(value)]
    assert first == alone and [i.path for i in alone] == [("spec", 0, "b")]
    assert [i.path for i in again] == [("other", "b")]


def test_prepared_bases_are_never_built_again(
    spliced: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before workers fork, the parent builds each shared base once and every overlay's
    stubbed build beside it; the base's own unit and the overlays then reuse those builds
    (the same outputs as building them), each overlay's once."""
    monkeypatch.setattr(shared, "_RAW", {})
    monkeypatch.setenv("KLINT_KUSTOMIZE_SHARE", "0")
    base = TREE / "manifests" / "base" / "crds" / "full"
    alone = build(base, root=REPO)
    full = [build(overlay, root=REPO) for overlay in OVERLAYS[:3]]
    monkeypatch.setenv("KLINT_KUSTOMIZE_SHARE", "1")
    settings = LoadSettings()
    waits = [KustomizeOverlay(o, o.name, REPO).prepare(settings) for o in OVERLAYS]
    assert len(shared._RAW) <= 1  # started, maybe not finished: nothing waited for yet
    for wait in waits:
        assert wait is not None
        wait()
    assert prebuild._POOL is None  # no thread is left when the workers fork
    assert len(shared._RAW) == 1 and len(shared._SCHEMAS) == 1
    assert len(prebuild._KEPT) == len(OVERLAYS)
    built: list[Path] = []
    original = build_module.run_tool

    def record(tool: object, directory: Path, *args: object, **kwargs: object) -> tuple[str, str]:
        built.append(directory)
        return original(tool, directory, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "run_tool", record)
    again = build(base, root=REPO)
    assert (again.text, again.objects, again.warnings) == (
        alone.text,
        alone.objects,
        alone.warnings,
    )
    for overlay, expected in zip(OVERLAYS[:3], full, strict=True):
        prepared = _as_load(overlay, REPO)
        assert (prepared.text, prepared.objects, prepared.warnings) == (
            expected.text,
            expected.objects,
            expected.warnings,
        )
    assert built == []  # neither the base nor a prepared overlay ran the tool again
    build(OVERLAYS[1], root=REPO)  # other limits: not the build prepared
    _as_load(OVERLAYS[0], REPO)  # an outcome is taken once
    assert [directory.name for directory in built] == [OVERLAYS[1].name, OVERLAYS[0].name]


def test_the_base_tool_starts_before_the_overlay_stub_is_parsed(
    spliced: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The base's build is the longest: prepare lets its tool start before the stub's parse
    (which holds the interpreter) runs, instead of the thread starting it waiting for that."""
    events: list[str] = []
    run_tool, stub = build_module.run_tool, shared.stub

    def record_run(*args: object, **kwargs: object) -> tuple[str, str]:
        on_spawn = args[8]
        is_base = Path(str(args[1])).name == "full"

        def spawned() -> None:
            events.append("base tool" if is_base else "overlay tool")
            if callable(on_spawn):
                on_spawn()

        return run_tool(*args[:8], spawned, **kwargs)  # type: ignore[arg-type]

    def record_stub(*args: object) -> object:
        events.append("stub")
        return stub(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "run_tool", record_run)
    monkeypatch.setattr(shared, "stub", record_stub)
    wait = KustomizeOverlay(OVERLAYS[0], OVERLAYS[0].name, REPO).prepare(LoadSettings())
    assert wait is not None
    wait()
    assert events.index("base tool") < events.index("stub")


def _as_load(overlay: Path, root: Path) -> build_module.KustomizeBuild:
    """The build KustomizeOverlay.load runs (the limits its prepare ran it with)."""
    settings = LoadSettings()
    budget = ToolBudget(settings.render_memory_bytes, settings.limits.max_file_bytes)
    return build(overlay, timeout=settings.render_timeout, root=root, budget=budget)


def test_a_prepared_build_is_not_used_once_a_file_changed(
    tmp_path: Path, spliced: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    (tree / ".git").mkdir()
    overlay = tree / "manifests" / "install-02"
    wait = KustomizeOverlay(overlay, overlay.name, tree).prepare(LoadSettings())
    assert wait is not None
    wait()
    assert len(prebuild._KEPT) == 1
    deployment = overlay / "deployment.yaml"
    deployment.write_text(deployment.read_text().replace("name: controller", "name: renamed-2", 1))
    built = _as_load(overlay, tree)
    assert "renamed-2" in built.text
    assert len(prebuild._KEPT) == 1  # the stale outcome stays unused


def test_a_prepared_build_takes_no_longer_than_its_unit_may(
    spliced: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = LoadSettings(limits=Limits(unit_timeout=5.0))
    wait = KustomizeOverlay(OVERLAYS[0], OVERLAYS[0].name, REPO).prepare(settings)
    assert wait is not None
    wait()
    (key,) = prebuild._KEPT
    assert isinstance(key, tuple) and key[3] == 5.0  # the build's timeout: the unit's budget


def test_a_prepared_build_that_failed_reports_the_same_error(
    tmp_path: Path, spliced: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    (tree / ".git").mkdir()
    overlay = tree / "manifests" / "install-01"
    (overlay / "deployment.yaml").write_text("kind: Deployment\nmetadata: [unclosed\n")
    with pytest.raises(KustomizeBuildError) as direct:
        _as_load(overlay, tree)
    wait = KustomizeOverlay(overlay, overlay.name, tree).prepare(LoadSettings())
    assert wait is not None
    wait()
    assert isinstance(next(iter(prebuild._KEPT.values())), KustomizeBuildError)
    monkeypatch.setattr(build_module, "run_tool", None)  # the tool does not run again
    with pytest.raises(KustomizeBuildError) as prepared:
        _as_load(overlay, tree)
    assert prepared.value.message == direct.value.message
    assert prepared.value.repeatable == direct.value.repeatable


def test_the_base_unit_itself_is_parsed_from_its_shared_schemas(
    spliced: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    base = TREE / "manifests" / "base" / "crds" / "full"
    monkeypatch.setenv("KLINT_KUSTOMIZE_SHARE", "0")
    alone = build(base, root=REPO)
    monkeypatch.setenv("KLINT_KUSTOMIZE_SHARE", "1")
    for _ in range(2):  # built (schemas parsed once), then reused
        own = build(base, root=REPO)
        assert own.stub is not None and len(own.grafts) == 2
        assert (own.text, own.objects, own.warnings) == (alone.text, alone.objects, alone.warnings)
        assert [o.data for o in own.objects] == [o.data for o in alone.objects]
        parsed = grafted(own.text, own.stub, own.grafts, "k.yaml", Limits())
        assert parsed is not None
        full = parse_stream(alone.text, "k.yaml")
        assert [d.data for d in parsed.documents] == [d.data for d in full.documents]
    assert len(shared._SCHEMAS) == 1


@pytest.mark.parametrize(
    "schema",
    [
        "      openAPIV3Schema: &shared {type: object}\n      other: *shared\n",
        "      openAPIV3Schema:\n        <<: {type: object}\n",
    ],
    ids=["alias", "merge-key"],
)
def test_a_base_whose_schemas_share_nodes_is_not_grafted(schema: str) -> None:
    """Aliases and merge keys are found without walking every tree of a base that has no
    ``&`` and no ``<<`` at all; one that has them is still refused."""
    text = (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata:\n  name: things.example.com\nspec:\n  versions:\n  - name: v1\n"
        "    schema:\n" + schema
    )
    plain = text.replace(schema, "      openAPIV3Schema: {type: object}\n")
    assert graft_module.parse_schemas(plain)
    assert graft_module.parse_schemas(text) == {}


def _parses_of_the_output(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The base outputs parsed in full (shared.parse_schemas), recorded."""
    parsed: list[str] = []
    original = shared.parse_schemas

    def record(text: str) -> Any:
        parsed.append(text)
        return original(text)

    monkeypatch.setattr(shared, "parse_schemas", record)
    return parsed


def test_schemas_come_from_the_base_files_parse(
    spliced: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pure base's schemas are those of its files' parse (made while the base builds):
    its build output is composed for where they are, never converted again."""
    parsed = _parses_of_the_output(monkeypatch)
    for overlay in OVERLAYS[:2]:
        built = build(overlay, root=REPO)
        assert built.stub is not None and built.grafts
        full = parse_stream(built.text, "k.yaml")
        again = grafted(built.text, built.stub, built.grafts, "k.yaml", Limits())
        assert again is not None
        assert [d.data for d in again.documents] == [d.data for d in full.documents]
    assert parsed == [] and all(spliced)


@pytest.mark.parametrize(
    "scalar",
    ["enum: [on, off]", "default: yes", "default: 1_000", "'on': {type: string}"],
)
def test_a_scalar_kustomize_prints_otherwise_parses_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spliced: list[bool], scalar: str
) -> None:
    """``on`` is a boolean to klint (YAML 1.1) and a string to kustomize, which prints it
    quoted: such a base's schemas come from its build output, as the full build reads."""
    root = tmp_path / "tree"
    shutil.copytree(TREE, root)
    crd = root / "manifests" / "base" / "crds" / "full" / "thing0.yaml"
    field = "                field0:\n"
    crd.write_text(crd.read_text().replace(field, f"                {scalar}\n{field}", 1))
    parsed = _parses_of_the_output(monkeypatch)
    overlay = root / "manifests" / "install-00"
    built = build(overlay, root=root)
    assert built.stub is not None and built.grafts and len(parsed) == 1
    monkeypatch.setenv("KLINT_KUSTOMIZE_SHARE", "0")
    alone = build(overlay, root=root)
    full = parse_stream(alone.text, "k.yaml")
    again = grafted(built.text, built.stub, built.grafts, "k.yaml", Limits())
    assert again is not None
    assert [d.data for d in again.documents] == [d.data for d in full.documents]
