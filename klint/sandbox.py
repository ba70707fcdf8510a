"""The one sandbox for every child that touches repository content.

Helm renders, kustomize builds and CEL evaluations run in child processes (forked, or
programs started with :mod:`subprocess`). Each child gets:

- an environment with nothing of the CI's (:func:`child_env`): ``PATH``, a temporary
  ``HOME``, ``LANG``, and settings that switch off what an engine could fetch (git, Go
  modules, Helm repositories and plugins, proxies that lead nowhere);
- an empty network namespace where the system allows unprivileged user namespaces
  (:func:`isolate_network`, ``unshare(CLONE_NEWUSER | CLONE_NEWNET)``): not even loopback
  is reachable. ``KLINT_NO_NAMESPACE=1`` turns this off, so that tests can prove the
  refusals made before an engine runs hold on their own;
- death with its parent (:func:`die_with_parent`, ``PR_SET_PDEATHSIG`` = ``SIGKILL``): a
  killed klint leaves no render running.

Forked children call :func:`enter_child` first thing; programs get the same through
:func:`preexec` (run between fork and exec). Everything is best effort per platform: where a
call is unavailable the child runs without it, and the sources refuse features that reach
out before the engine runs.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping
from pathlib import Path

NO_NAMESPACE_ENV = "KLINT_NO_NAMESPACE"
DEAD_PROXY = "http://127.0.0.1:9"
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_PR_SET_PDEATHSIG = 1


def child_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment of a child: nothing inherited but ``PATH`` (and on Windows the
    two variables every process needs); ``home`` is a fresh temporary folder."""
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "TMPDIR": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local"),
        "LANG": "C.UTF-8",
        # git: no protocol at all (not even file), no prompts, no configuration
        "GIT_ALLOW_PROTOCOL": "klint-none",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_SSH_COMMAND": "false",
        "GIT_ASKPASS": "false",
        # Go: no module downloads
        "GOPROXY": "off",
        "GOTOOLCHAIN": "local",
        # Helm: repositories, registries, plugins and caches in the temporary home
        "HELM_CACHE_HOME": str(home / "helm-cache"),
        "HELM_CONFIG_HOME": str(home / "helm-config"),
        "HELM_DATA_HOME": str(home / "helm-data"),
        "HELM_PLUGINS": str(home / "no-plugins"),
        "HELM_REGISTRY_CONFIG": str(home / "helm-config" / "registry.json"),
        "HELM_REPOSITORY_CONFIG": str(home / "helm-config" / "repositories.yaml"),
        "HELM_REPOSITORY_CACHE": str(home / "helm-cache" / "repository"),
        "KUSTOMIZE_PLUGIN_HOME": str(home / "no-plugins"),
        "KUBECONFIG": os.devnull,
        "NO_PROXY": "",
        "no_proxy": "",
    }
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env[name] = DEAD_PROXY
    env["all_proxy"] = DEAD_PROXY
    for name in ("SYSTEMROOT", "WINDIR"):  # needed by any process on Windows
        if name in os.environ:
            env[name] = os.environ[name]
    if extra:
        env.update(extra)
    return env


def namespaces_allowed() -> bool:
    """Whether children may enter a network namespace (``KLINT_NO_NAMESPACE`` unset)."""
    return os.environ.get(NO_NAMESPACE_ENV, "").strip() not in ("1", "true", "yes")


def _libc() -> object | None:
    """The C library already loaded in this process (no search, no subprocess)."""
    if os.name != "posix":
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True)
    except (ImportError, OSError):  # pragma: no cover - no dynamic loader
        return None


_LIBC = _libc()


def isolate_network() -> bool:
    """Move this (single-threaded, freshly forked) process into new user and network
    namespaces, keeping its user and group ids; False where the system refuses."""
    if not namespaces_allowed() or _LIBC is None or not hasattr(os, "getuid"):
        return False
    uid, gid = os.getuid(), os.getgid()
    unshare: Callable[[int], int] | None = getattr(_LIBC, "unshare", None)  # Linux only
    if unshare is None or unshare(_CLONE_NEWUSER | _CLONE_NEWNET) != 0:
        return False
    for name, text in (
        ("setgroups", "deny"),
        ("uid_map", f"{uid} {uid} 1"),
        ("gid_map", f"{gid} {gid} 1"),
    ):
        try:
            descriptor = os.open(f"/proc/self/{name}", os.O_WRONLY)
        except OSError:
            continue  # setgroups is missing on old kernels
        try:
            os.write(descriptor, text.encode())
        except OSError:
            pass  # unmapped ids still cannot reach the network
        finally:
            os.close(descriptor)
    return True


def die_with_parent(parent: int) -> None:
    """Be killed (SIGKILL) when ``parent`` dies; exit at once when it already has."""
    prctl: Callable[..., int] | None = getattr(_LIBC, "prctl", None)  # Linux only
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def enter_child(parent: int) -> bool:
    """First call of a forked child: network namespace (when allowed and possible), then
    death with ``parent`` (set after the namespace, whose new credentials clear it).
    Returns whether the child has no network."""
    isolated = isolate_network()
    die_with_parent(parent)
    return isolated


def preexec(limits: Callable[[], None] | None = None) -> Callable[[], None] | None:
    """A ``preexec_fn`` for :mod:`subprocess`: :func:`enter_child`, then ``limits``
    (resource limits computed in the parent); None where programs are not forked
    (Windows has no ``preexec_fn``)."""
    if os.name != "posix":
        return None
    parent = os.getpid()

    def prepare() -> None:
        enter_child(parent)
        if limits is not None:
            limits()

    return prepare
