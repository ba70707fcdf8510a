"""Output formats. Each reporter turns a finished report into text; none holds lint logic."""

from __future__ import annotations

from collections.abc import Callable

from klint.reporters.base import ReportContext, Reporter

FORMATS = (
    "text",
    "json",
    "sarif",
    "github",
    "markdown",
    "junit",
    "gitlab-codequality",
    "compliance",
    "html",
)


def get_reporter(name: str) -> Reporter:
    """The reporter for ``--format NAME`` (imported only when asked for)."""
    factories: dict[str, Callable[[], Reporter]] = {
        "text": _text,
        "json": _json,
        "sarif": _sarif,
        "github": _github,
        "markdown": _markdown,
        "junit": _junit,
        "gitlab-codequality": _gitlab,
        "compliance": _compliance,
        "html": _html,
    }
    return factories[name]()


def _text() -> Reporter:
    from klint.reporters.text import TextReporter

    return TextReporter()


def _json() -> Reporter:
    from klint.reporters.json_report import JsonReporter

    return JsonReporter()


def _sarif() -> Reporter:
    from klint.reporters.sarif import SarifReporter

    return SarifReporter()


def _github() -> Reporter:
    from klint.reporters.github import GithubReporter

    return GithubReporter()


def _markdown() -> Reporter:
    from klint.reporters.markdown import MarkdownReporter

    return MarkdownReporter()


def _junit() -> Reporter:
    from klint.reporters.junit import JunitReporter

    return JunitReporter()


def _gitlab() -> Reporter:
    from klint.reporters.gitlab import GitlabReporter

    return GitlabReporter()


def _compliance() -> Reporter:
    from klint.reporters.compliance import ComplianceReporter

    return ComplianceReporter()


def _html() -> Reporter:
    from klint.reporters.html_report import HtmlReporter

    return HtmlReporter()


__all__ = ["FORMATS", "ReportContext", "Reporter", "get_reporter"]
