"""What every input kind turns into: a lint unit that loads documents and locates fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from klint.documents import Document, Limits
from klint.findings import FieldPath, Location, Notification, RelatedLocation
from klint.model.resource import Resource


class Locator(Protocol):
    """Turns an object field into the file location a person edits."""

    def locate(
        self, resource: Resource, path: FieldPath
    ) -> tuple[Location, tuple[RelatedLocation, ...]]:
        """Primary location of ``path`` in ``resource``, plus related locations."""
        ...


class DocumentLocator:
    """Plain manifests: the field's own span in the file it was read from."""

    def locate(
        self, resource: Resource, path: FieldPath
    ) -> tuple[Location, tuple[RelatedLocation, ...]]:
        document = resource.document
        return Location(document.path, document.span_of((*resource.base, *path))), ()


@dataclass
class LoadedUnit:
    """The documents of one unit, the problems met loading it and how to locate fields."""

    documents: list[Document]
    problems: list[Notification] = field(default_factory=list)
    locator: Locator = field(default_factory=DocumentLocator)
    files: int = 1


@dataclass(frozen=True)
class LoadSettings:
    """Options that affect loading: YAML limits and rendering options."""

    limits: Limits = field(default_factory=Limits)
    helm_values: tuple[str, ...] = ()
    helm_set: tuple[str, ...] = ()
    helm_set_string: tuple[str, ...] = ()
    release_name: str = "release"
    namespace: str = "default"
    kube_version: str | None = None
    crd_paths: tuple[str, ...] = ()  # --crd: files/folders of extra CustomResourceDefinitions
    render_timeout: float = 120.0  # seconds one chart render or kustomize build may take


class LintUnit(Protocol):
    """A manifest file, stdin buffer, Helm chart or Kustomize overlay: linted as one."""

    @property
    def display(self) -> str:
        """How the unit is named in messages."""
        ...

    def load(self, settings: LoadSettings) -> LoadedUnit:
        """Read (and render) the unit; never raises for bad input."""
        ...
