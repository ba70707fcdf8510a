"""What a chart unit says about how it rendered: the values it was linted with, the
dependencies and templates left out, and why (chart.py decides; this words it)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Literal

from klint.findings import Location, Notification, Severity, Span
from klint.not_kubernetes import PART_OF_UNIT
from klint.sources.base import display_path
from klint.sources.helm.dependencies import MissingDependency


def missing_problems(
    display: str,
    cwd: Path,
    missing: list[MissingDependency],
    rendered: Literal["all", "part", "none"] = "all",
) -> list[Notification]:
    """An enabled dependency that is not vendored: its templates were not linted, and which
    of the chart's own were (``rendered``: all, those left when some failed, none)."""
    own = {
        "all": "the chart's own templates were",
        "part": "the chart's own were, but for those that failed to render",
        "none": "nor were the chart's own",
    }[rendered]
    return [
        Notification(
            "helm-dependency",
            f"chart {display}: dependency {m.shown} ({m.reason}) is not vendored in "
            f"charts/, so its templates were not linted ({own}). "
            "Run `helm dependency build` to vendor it; klint renders offline and never "
            "fetches charts.",
            Location(display_path(m.file, cwd), Span.line(m.line)),
            fatal=True,
        )
        for m in missing
        if m.enabled
    ]


def left_out(failed: Notification) -> Notification:
    """A render failure whose template was left out: the chart's other templates were
    linted without it."""
    return replace(
        failed,
        message=f"{failed.message}; the template was left out and the chart's other "
        "templates were linted without it",
    )


def namespace_note(display: str, namespace: str, why: str) -> Notification:
    """Said when the chart is linted in a namespace of its own."""
    return Notification(
        "helm-values",
        f"chart {display} does not render in the namespace `default` ({why}); "
        f"linted as installed with `helm install -n {namespace}`. Set its namespace in "
        ".klint.yaml (helm.charts) or pass --namespace to lint it in yours.",
        Location(display + "/Chart.yaml", Span.line(1)),
        level=Severity.NOTE,
    )


def placeholders_note(display: str, why: str, repeatable: bool) -> Notification:
    """Said when the chart is linted with placeholders for its required values."""
    return Notification(
        "helm-values",
        f"chart {display}: its default values {why} and it has no ci/ values; "
        "linted with a placeholder for each value its templates mark `required` (the "
        "message of the `required` call), so findings on those values are about the "
        "placeholder. Set values in .klint.yaml (helm.charts) or pass -f to lint it as "
        "it is installed.",
        Location(display + "/Chart.yaml", Span.line(1)),
        level=Severity.NOTE,
        repeatable=repeatable,
    )


def nothing_rendered(display: str) -> Notification:
    """A line in ``-v``: the chart was looked at and its defaults render nothing."""
    return Notification(
        PART_OF_UNIT,
        f"chart {display} renders no object with its default values; set values "
        "in .klint.yaml (helm.charts) or pass -f to lint what it can render",
        Location(display + "/Chart.yaml", Span.line(1)),
        Severity.NOTE,
    )


def ci_values_note(
    display: str, cwd: Path, values_file: Path, why: str, repeatable: bool
) -> Notification:
    """Said when the chart is linted with its ci/ values: its defaults ``why`` not."""
    shown = display_path(values_file, cwd)
    return Notification(
        "helm-values",
        f"chart {display}: its default values {why}; linted with {shown} "
        "(chart-testing's ci/ values), so its findings come from that file. Set values in "
        ".klint.yaml (helm.charts) or pass -f to choose.",
        Location(shown, Span.line(1)),
        level=Severity.NOTE,
        repeatable=repeatable,
    )
