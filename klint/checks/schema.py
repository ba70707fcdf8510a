"""Schema validation: every object against the Kubernetes API schema of its kind.

Built-in kinds use the bundled schemas of the selected ``--kube-version`` (the nearest
older bundled release when that one is not bundled); custom resources use the
``openAPIV3Schema`` of a CustomResourceDefinition in the same lint unit. All schema rules
share one validation per object (see :func:`analyse`); each rule reports one kind of issue.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.checks.server_defaults import with_server_defaults
from klint.documents import decode, parse_stream
from klint.findings import FieldPath, field_path_text
from klint.k8s_schemas import (
    BuiltinSchemas,
    Issue,
    IssueKind,
    Node,
    builtin_schemas,
    compile_crd_schema,
    pick_version,
    schemas_cover,
    validate,
)
from klint.model.control_plane import is_config_file_kind
from klint.model.resource import Resource, resources_from_document

# Groups of the Kubernetes API itself that no longer serve any kind in the bundle.
_LEGACY_GROUPS = frozenset({"extensions"})
_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


@dataclass
class Analysis:
    """What validation found for one object."""

    status: str  # "builtin", "crd", "crd-no-schema", "unserved", "custom", "config-file", "skipped"
    version: tuple[int, int]
    issues: list[Issue] = field(default_factory=list)
    hint: str = ""


@dataclass(frozen=True)
class _CrdSchema:
    schema: dict[str, Any] | None
    open_all: bool


_last_unit: tuple[weakref.ref[UnitContext], dict[tuple[str, str], _CrdSchema]] | None = None
_last_object: tuple[Any, weakref.ref[UnitContext], Analysis] | None = None


def crd_schemas(context: UnitContext) -> dict[tuple[str, str], _CrdSchema]:
    """(apiVersion, kind) → schema: the unit's CRDs, then those of ``--crd`` files."""
    global _last_unit
    if _last_unit is not None and _last_unit[0]() is context:
        return _last_unit[1]
    found = dict(extra_crd_schemas(context.crd_paths)) if context.crd_paths else {}
    found.update(index_crds(context.of_kind("CustomResourceDefinition")))
    _last_unit = (weakref.ref(context), found)
    return found


def index_crds(crds: Iterable[Resource]) -> dict[tuple[str, str], _CrdSchema]:
    """(apiVersion, kind) → schema for every version of every CRD (v1 and v1beta1)."""
    found: dict[tuple[str, str], _CrdSchema] = {}
    for crd in crds:
        spec = crd.get("spec")
        if not isinstance(spec, dict):
            continue
        group, kind = spec.get("group"), crd.get("spec", "names", "kind")
        if not isinstance(group, str) or not isinstance(kind, str):
            continue
        open_all = spec.get("preserveUnknownFields") is True
        shared = crd.get("spec", "validation", "openAPIV3Schema")  # apiextensions v1beta1
        versions = spec.get("versions")
        names = [spec.get("version")] if not isinstance(versions, list) else []
        entries: list[tuple[Any, Any]] = [(name, shared) for name in names]
        for version in versions if isinstance(versions, list) else []:
            if isinstance(version, dict):
                own = version.get("schema")
                schema = own.get("openAPIV3Schema") if isinstance(own, dict) else None
                entries.append((version.get("name"), schema if schema is not None else shared))
        for name, schema in entries:
            if isinstance(name, str):
                found[(f"{group}/{name}", kind)] = _CrdSchema(
                    schema if isinstance(schema, dict) else None, open_all
                )
    return found


@cache
def extra_crd_schemas(paths: tuple[str, ...]) -> dict[tuple[str, str], _CrdSchema]:
    """CRD schemas from ``--crd`` files and folders (``*.yaml``, ``*.yml``, ``*.json``).

    Read once per run; files that do not parse simply contribute nothing (the files are
    schema input, not lint input).
    """
    files: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            files.extend(
                sorted(f for f in path.rglob("*") if f.suffix in (".yaml", ".yml", ".json"))
            )
        elif path.is_file():
            files.append(path)
    crds: list[Resource] = []
    for file in files:
        try:
            decoded, _ = decode(file.read_bytes(), str(file))
        except OSError:
            continue
        if decoded is None:
            continue
        for document in parse_stream(decoded, str(file)).documents:
            crds.extend(
                r for r in resources_from_document(document) if r.kind == "CustomResourceDefinition"
            )
    return index_crds(crds)


def analyse(resource: Resource, context: UnitContext) -> Analysis:
    """Validate ``resource`` once; the schema rules that run after each other share it."""
    global _last_object
    cached = _last_object
    if cached is not None and cached[0] is resource.data and cached[1]() is context:
        return cached[2]
    try:
        result = _analyse(resource, context)
    except RecursionError:  # a pathologically deep object under a recursive CRD schema
        result = Analysis("skipped", pick_version(context.kube_version))
    _last_object = (resource.data, weakref.ref(context), result)
    return result


def _analyse(resource: Resource, context: UnitContext) -> Analysis:
    version = pick_version(context.kube_version)
    if not schemas_cover(context.kube_version):  # older than the bundle: cannot judge
        return Analysis("skipped", version)
    builtin = builtin_schemas(version)
    api_version, kind = resource.api_version, resource.kind
    node = builtin.node_for(api_version, kind)
    if node is not None:
        data = with_server_defaults(api_version, kind, resource.data)
        return Analysis("builtin", version, list(validate(node, data)))
    crd = crd_schemas(context).get((api_version, kind))
    if crd is not None:
        if crd.schema is None:
            return Analysis("crd-no-schema", version)
        compiled: Node = compile_crd_schema(crd.schema, builtin, open_all=crd.open_all)
        return Analysis("crd", version, list(validate(compiled, resource.data)))
    if is_config_file_kind(resource):  # read by a component from disk, never served
        return Analysis("config-file", version)
    if resource.group in builtin.groups or resource.group in _LEGACY_GROUPS:
        return Analysis("unserved", version, hint=_served_hint(builtin, api_version, kind))
    return Analysis("custom", version)


def _served_hint(builtin: BuiltinSchemas, api_version: str, kind: str) -> str:
    import difflib

    served = builtin.kinds_named(kind)
    if served:
        return f" (served as {', '.join(served)})"
    close = difflib.get_close_matches(kind, list(builtin.kinds.get(api_version, {})), n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _known_removal(api_version: str, kind: str, target: tuple[int, int]) -> bool:
    """Whether the deprecated-API rules already report this object as removed."""
    try:
        from klint.deprecations import lookup
    except ImportError:  # pragma: no cover - only without the deprecations table
        return False
    entry = lookup(api_version, kind)
    return entry is not None and entry.removed is not None and entry.removed <= target


def show_path(path: FieldPath) -> str:
    """``spec.containers[0].name`` from a field path (``the object`` for the root)."""
    return field_path_text(path) or "the object"


def _version_text(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def _issues(resource: Resource, context: UnitContext, kind: IssueKind) -> Iterator[Issue]:
    for issue in analyse(resource, context).issues:
        if issue.kind is kind:
            yield issue


def unknown_field(resource: Resource, context: UnitContext, _: Params) -> Iterator[Violation]:
    """Fields the schema of the kind does not define (typos silently drop settings)."""
    for issue in _issues(resource, context, IssueKind.UNKNOWN_FIELD):
        where = show_path(issue.path[:-1])
        hint = f' (did you mean "{issue.suggestion}"?)' if issue.suggestion else ""
        properties = (("suggestion", issue.suggestion),) if issue.suggestion else ()
        yield Violation(
            issue.path,
            f'{where} has unknown field "{issue.detail}"{hint}; {resource.kind} '
            f"{resource.api_version} does not define it.",
            properties=properties,
        )


def field_type(resource: Resource, context: UnitContext, _: Params) -> Iterator[Violation]:
    """Values of the wrong type (a string where a number belongs, a YAML 1.1 boolean...)."""
    for issue in _issues(resource, context, IssueKind.TYPE):
        expected = " or ".join(_TYPE_NAMES.get(name, name) for name in issue.expected)
        actual = _TYPE_NAMES.get(issue.detail, issue.detail)
        hint = ""
        if "string" in issue.expected and issue.detail in ("boolean", "integer", "number"):
            hint = " (quote the value; unquoted yes/no/on/off and numbers are not strings)"
        yield Violation(
            issue.path, f"{show_path(issue.path)} must be {expected}, not {actual}{hint}."
        )


def required_field(resource: Resource, context: UnitContext, _: Params) -> Iterator[Violation]:
    """Required fields that are missing."""
    for issue in _issues(resource, context, IssueKind.REQUIRED):
        yield Violation(
            issue.path,
            f'{show_path(issue.path[:-1])} is missing required field "{issue.detail}".',
        )


def enum_value(resource: Resource, context: UnitContext, _: Params) -> Iterator[Violation]:
    """Values outside the allowed set of an enumerated field."""
    for issue in _issues(resource, context, IssueKind.ENUM):
        hint = f' (did you mean "{issue.suggestion}"?)' if issue.suggestion else ""
        yield Violation(
            issue.path,
            f'{show_path(issue.path)} is "{issue.detail}"{hint}; allowed: '
            f"{', '.join(issue.expected)}.",
        )


def unserved_api(resource: Resource, context: UnitContext, _: Params) -> Iterator[Violation]:
    """Objects of a built-in API group whose apiVersion/kind this Kubernetes version lacks."""
    result = analyse(resource, context)
    if result.status == "unserved" and not _known_removal(
        resource.api_version, resource.kind, context.kube_version
    ):
        yield Violation(
            ("apiVersion",),
            f"Kubernetes {_version_text(result.version)} does not serve kind "
            f"{resource.kind or '?'} in {resource.api_version}{result.hint}.",
        )


def _first_of_kind(context: UnitContext) -> dict[tuple[str, str], Resource]:
    """The first object of each (apiVersion, kind) in the unit."""
    found: dict[tuple[str, str], Resource] = {}
    for resource in context.resources:
        found.setdefault((resource.api_version, resource.kind), resource)
    return found


def unvalidated_custom_resource(
    resource: Resource, context: UnitContext, _: Params
) -> Iterator[Violation]:
    """Custom resources without a CRD in the run: reported once per kind and lint unit."""
    if analyse(resource, context).status != "custom":
        return
    firsts = context.derived("first-of-kind", _first_of_kind)
    if firsts.get((resource.api_version, resource.kind), resource) is resource:
        yield Violation(
            ("kind",),
            f"no schema for {resource.kind} ({resource.api_version}): include its "
            "CustomResourceDefinition in the input to validate these objects.",
        )


CHECKS = (
    Check("schema-unknown-field", unknown_field, unknown_field.__doc__ or ""),
    Check("schema-field-type", field_type, field_type.__doc__ or ""),
    Check("schema-required-field", required_field, required_field.__doc__ or ""),
    Check("schema-enum-value", enum_value, enum_value.__doc__ or ""),
    Check("schema-unserved-api", unserved_api, unserved_api.__doc__ or ""),
    Check(
        "schema-unvalidated-custom-resource",
        unvalidated_custom_resource,
        unvalidated_custom_resource.__doc__ or "",
    ),
)
