"""Render charts in a child process, so that a hostile chart cannot hang or exhaust klint.

Helm's Go SDK runs inside whatever process loads it, and a template such as
``{{ range until 200000000 }}`` runs for as long as it likes. klint therefore renders in a
forked child that loads the SDK once and serves render requests over a pipe; a request that
takes longer than the timeout gets the child killed (a new one starts for the next chart)
and becomes a render error. The child also has a memory budget
(:func:`klint.sources.budget.limit_memory`); a chart that needs more becomes a render error.

The Go runtime cannot survive a fork, so the child is forked from a process that has not
loaded the SDK. Where the SDK is already loaded in this process (a test that called
:func:`klint.sources.helm.render.render_chart` directly), rendering happens in-process
instead.
"""

from __future__ import annotations

import os
import sys
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from klint.sandbox import child_env, enter_child
from klint.sources.budget import go_runtime_env, limit_memory, memory_problem, ran_out_of_memory
from klint.sources.helm.output import HelmRenderError, RenderedTemplate
from klint.sources.helm.render import render_chart

_SDK_MODULE = "helm_python"
_LIBRARY_ENV = "HELM_C_LIB"  # where the SDK's library is, when the installer says so


class _RenderServer:
    """A forked child that renders charts on request, within a memory budget."""

    def __init__(self, memory: int | None) -> None:
        import multiprocessing

        self.memory = memory
        self.home = tempfile.TemporaryDirectory(prefix="klint-helm-home-")
        context = multiprocessing.get_context("fork")
        self.connection, child = context.Pipe()
        arguments = (child, memory, os.getpid(), Path(self.home.name))
        self.process = context.Process(target=_serve, args=arguments, daemon=True)
        self.process.start()
        child.close()

    def render(self, request: dict[str, Any], timeout: float) -> list[RenderedTemplate]:
        self.connection.send(request)
        if not self.connection.poll(timeout):
            self.stop()
            raise HelmRenderError(
                f"rendering took longer than {timeout:g} s and was stopped (--render-timeout)",
                repeatable=False,
            )
        ok, payload = self.connection.recv()
        if ok:
            rendered: list[RenderedTemplate] = payload
            return rendered
        message, template, line, column, repeatable, values_can_fix = payload
        if self.memory is not None and ran_out_of_memory(message):
            message = memory_problem("rendering the chart", self.memory)
            repeatable = False
        raise HelmRenderError(
            message, template, line, column, repeatable=repeatable, values_can_fix=values_can_fix
        )

    def alive(self) -> bool:
        return self.process.is_alive()

    def stop(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.connection.close()
        self.home.cleanup()


def _serve(connection: Connection, memory: int | None, parent: int, home: Path) -> None:
    """The child's loop: one render per request until the parent closes the pipe.

    The child enters the sandbox (:mod:`klint.sandbox`) before the SDK loads: no network,
    none of the CI's environment, killed with its parent.
    """
    enter_child(parent)
    library = {_LIBRARY_ENV: os.environ[_LIBRARY_ENV]} if _LIBRARY_ENV in os.environ else {}
    os.environ.clear()
    os.environ.update(child_env(home, {**library, **go_runtime_env(memory)}))
    if memory is not None:
        limit_memory(memory, in_use=True)
    _quiet_stderr()
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        try:
            connection.send((True, render_chart(**request)))
        except HelmRenderError as error:
            where = (error.template, error.line, error.column)
            flags = (error.repeatable, error.values_can_fix)
            connection.send((False, (error.message, *where, *flags)))
        except MemoryError:
            connection.send((False, ("MemoryError", None, None, None, False, True)))
        except Exception as error:  # report, never crash the server (a bug: not cached)
            send = (f"{type(error).__name__}: {error}", None, None, None, False, True)
            connection.send((False, send))


def _quiet_stderr() -> None:
    """Keep the SDK's log lines and a Go crash dump (thousands of lines) out of klint's
    output: what matters reaches the parent as the render error."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


_server: _RenderServer | None = None


def render_isolated(
    timeout: float, memory: int | None = None, **request: Any
) -> list[RenderedTemplate]:
    """:func:`render_chart` in the render child, with a time limit in seconds and a memory
    budget in bytes (None: no budget)."""
    global _server
    if _SDK_MODULE in sys.modules:
        return render_chart(**request)
    if _server is not None and (not _server.alive() or _server.memory != memory):
        _server.stop()
        _server = None
    if _server is None:
        _server = _RenderServer(memory)
    try:
        return _server.render(request, timeout)
    except (EOFError, OSError, BrokenPipeError):
        code = None
        if _server is not None:
            _server.process.join(5)
            code = _server.process.exitcode
        _server = None
        if memory is not None:
            raise HelmRenderError(
                f"the Helm renderer stopped (exit code {code}): "
                + memory_problem("rendering the chart", memory, certain=False),
                repeatable=False,
            ) from None
        raise HelmRenderError("the Helm renderer stopped unexpectedly", repeatable=False) from None
    finally:
        if _server is not None and not _server.alive():
            _server = None
