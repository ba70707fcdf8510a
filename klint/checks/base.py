"""What a check is: a small function from an object to violations, registered by name."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from klint.findings import FieldPath, Severity
from klint.model.resource import Resource
from klint.unit_budget import UnitBudget, unlimited


@dataclass(frozen=True)
class Violation:
    """What is wrong and where in the object (a field path); the engine finds the line.

    ``severity`` is set only where one check covers risks of different weight (e.g. a
    capability the baseline forbids versus one only the restricted profile forbids).
    """

    path: FieldPath
    message: str
    severity: Severity | None = None
    properties: tuple[tuple[str, str], ...] = ()


@dataclass
class UnitContext:
    """What a check may know beyond its object: the other objects of the same lint unit."""

    resources: list[Resource]
    kube_version: tuple[int, int] = (1, 34)
    crd_paths: tuple[str, ...] = ()  # --crd: CRD files/folders beyond the unit's own
    budget: UnitBudget = field(default_factory=unlimited)  # long loops call budget.check()
    _by_kind: dict[str, list[Resource]] = field(default_factory=dict, repr=False)
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)

    def derived(self, key: str, compute: Callable[[UnitContext], T]) -> T:
        """Unit-wide data a check derives once (e.g. every pod template with its labels)."""
        if key not in self._derived:
            self._derived[key] = compute(self)
        value: T = self._derived[key]
        return value

    def of_kind(self, *kinds: str) -> list[Resource]:
        """Objects of the unit whose kind is one of ``kinds``, in input order."""
        if not self._by_kind:
            for resource in self.resources:
                self._by_kind.setdefault(resource.kind, []).append(resource)
        result: list[Resource] = []
        for kind in kinds:
            result.extend(self._by_kind.get(kind, []))
        return result

    def indexed(
        self, name: str, kinds: tuple[str, ...], key: Callable[[Resource], Iterable[Hashable]]
    ) -> dict[Hashable, list[Resource]]:
        """Objects of ``kinds`` by each of their ``key`` values (built once per unit), so a
        per-object check looks up its partners instead of scanning every object."""

        def build(context: UnitContext) -> dict[Hashable, list[Resource]]:
            index: dict[Hashable, list[Resource]] = {}
            for resource in context.of_kind(*kinds):
                for value in key(resource):
                    index.setdefault(value, []).append(resource)
            return index

        return self.derived(f"index:{name}", build)


T = TypeVar("T")
Params = Mapping[str, Any]
CheckFunction = Callable[[Resource, UnitContext, Params], Iterable[Violation]]


@dataclass(frozen=True)
class Check:
    """A registered check: its name, function and the JSON Schema of its params."""

    name: str
    function: CheckFunction
    description: str
    params_schema: Mapping[str, Any] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def run(self, resource: Resource, context: UnitContext, params: Params) -> Iterable[Violation]:
        """Apply the check with its defaults filled in."""
        return self.function(resource, context, {**self.defaults, **params})
