"""Output formats. Each reporter turns a finished report into text; none holds lint logic."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from klint.findings import Report
from klint.reporters.base import ReportContext, Reporter, visible, visible_report

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
    return _Visible(factories[name](), json_output=name in _JSON_FORMATS)


_JSON_FORMATS = frozenset({"json", "sarif", "gitlab-codequality"})


class _Visible:
    """Every format gets messages with bidi and invisible characters spelled out; JSON
    output also has any left in paths, and ``##[``, written as ``\\u`` escapes (see
    SECURITY.md)."""

    def __init__(self, inner: Reporter, *, json_output: bool) -> None:
        self.inner = inner
        self.json_output = json_output

    def render(self, report: Report, context: ReportContext) -> str:
        return "".join(self.stream(report, context))

    def stream(self, report: Report, context: ReportContext) -> Iterator[str]:
        """The output in pieces (the inner reporter's own pieces when it streams)."""
        shown = visible_report(report)
        inner_stream = getattr(self.inner, "stream", None)
        pieces = (
            inner_stream(shown, context)
            if inner_stream is not None
            else iter([self.inner.render(shown, context)])
        )
        for piece in pieces:
            # Lossless in JSON text: ``\\u005b`` is ``[``, so no log line holds ``##[``.
            yield visible(piece).replace("##[", "##\\u005b") if self.json_output else piece


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
