"""Kustomize overlays → rendered objects that know which files a person edits.

:func:`build` renders a kustomization offline with ``kustomize build`` (or ``kubectl
kustomize``) in a temporary copy of the tree, with origin annotations switched on in the
copy only; the user's files are never written. The annotations name the file that declared
each object; they are stripped from the returned text so that no rule sees them.

Kustomize records no line numbers and does not name the patch that set a field, so
:func:`locate` re-reads the kustomization tree: it replays the order in which kustomize
applies patches, name prefixes and the other field-setting transformers to find the last
one that set a field (a strategic-merge or JSON6902 patch file, an inline patch, an
``images:`` entry ...), and otherwise finds the field in the declaring file.

Safety: remote bases are refused before anything runs, exec/KRM plugins and Helm
inflation are never enabled, and the tool runs with a minimal environment, git limited to
local transports, a dead proxy and, where ``unshare`` allows it, no network namespace.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from klint.documents import Document, ParsedStream, decode, parse_stream
from klint.findings import Span
from klint.sources.discover import KUSTOMIZATION_FILES
from klint.sources.discover import find_kustomization_root as _find_root

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

ORIGIN_ANNOTATION = "config.kubernetes.io/origin"
TRANSFORMATIONS_ANNOTATION = "alpha.config.kubernetes.io/transformations"
MIN_VERSION = (4, 3, 0)
"""Origin annotations need kustomize v4.3.0 (kubectl 1.23)."""
TRANSFORMER_ANNOTATIONS_VERSION = (4, 5, 0)
"""``transformerAnnotations`` needs kustomize v4.5.0 (kubectl 1.24)."""

Version = tuple[int, int, int]
_Hit = tuple[Path, Span]

_MAX_SIBLING_BYTES = 8 * 1024 * 1024
_KUBECTL_KUSTOMIZE = {
    21: (4, 0, 5),
    22: (4, 2, 0),
    23: (4, 4, 1),
    24: (4, 5, 4),
    25: (4, 5, 7),
    26: (4, 5, 7),
}
_DEAD_PROXY = "http://127.0.0.1:9"
_HASH_SUFFIX = re.compile(r"-[a-z0-9]{10}$")
_REMOTE_QUERY = re.compile(r"\?(?:.*&)?(?:ref|version|submodules|timeout)=")
_REMOTE_HOSTS = ("github.com/", "gitlab.com/", "bitbucket.org/", "dev.azure.com/")
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "imagePullSecrets": "name",
    "resourceClaims": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
}
_IDENTITY = (("kind",), ("apiVersion",), ("metadata", "name"), ("metadata", "namespace"))
_PATH_FIELDS = (
    "resources",
    "bases",
    "components",
    "generators",
    "transformers",
    "validators",
    "crds",
    "configurations",
)
_FETCHED_FIELDS = frozenset(
    {"resources", "bases", "components", "generators", "transformers", "validators"}
)
_NOT_PATH_FIELDS = frozenset(
    {
        "apiVersion",
        "kind",
        "metadata",
        "namePrefix",
        "nameSuffix",
        "namespace",
        "images",
        "labels",
        "commonLabels",
        "commonAnnotations",
        "replicas",
        "buildMetadata",
        "vars",
        "sortOptions",
        "patches",
        "patchesStrategicMerge",
        "patchesJson6902",
    }
)


class KustomizeBuildError(Exception):
    """A kustomization could not be built; ``message`` says why (the tool's stderr, trimmed)."""

    def __init__(self, message: str, directory: Path | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.directory = directory


# --------------------------------------------------------------------------- discovery


def kustomization_file(directory: Path) -> Path | None:
    """The kustomization file in ``directory``, if any (first of :data:`KUSTOMIZATION_FILES`)."""
    for name in KUSTOMIZATION_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def is_kustomization_dir(path: Path) -> bool:
    """Whether ``path`` is a directory holding a kustomization file."""
    return path.is_dir() and kustomization_file(path) is not None


def find_kustomization_root(path: Path) -> Path | None:
    """The nearest directory (``path`` itself, or above it) holding a kustomization file."""
    return _find_root(path if path.is_dir() else path.parent)


# --------------------------------------------------------------------------- the tool


@dataclass(frozen=True)
class KustomizeTool:
    """How kustomize is run: the command prefix, the kustomize version and a label."""

    argv: tuple[str, ...]
    version: Version | None
    label: str


def find_tool() -> KustomizeTool:
    """``kustomize build`` when on PATH, else ``kubectl kustomize``; raises if neither fits."""
    kustomize = shutil.which("kustomize")
    if kustomize is not None:
        version = _kustomize_version(kustomize)
        tool = KustomizeTool((kustomize, "build"), version, f"kustomize {_show(version)}")
    else:
        kubectl = shutil.which("kubectl")
        if kubectl is None:
            raise KustomizeBuildError(
                "neither kustomize nor kubectl is on PATH: install one to lint kustomizations"
            )
        version = _kubectl_kustomize_version(kubectl)
        tool = KustomizeTool(
            (kubectl, "kustomize"), version, f"kubectl kustomize (kustomize {_show(version)})"
        )
    if version is not None and version < MIN_VERSION:
        raise KustomizeBuildError(
            f"{tool.label} is too old: klint needs kustomize >= v4.3.0 (kubectl >= 1.23) "
            "for origin annotations; install a newer kustomize or kubectl"
        )
    return tool


def _show(version: Version | None) -> str:
    return "v" + ".".join(map(str, version)) if version is not None else "(unknown version)"


def _parse_version(text: str) -> Version | None:
    marker = text.find("kustomize/")
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text[marker:] if marker >= 0 else text)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


@functools.lru_cache(maxsize=8)
def _kustomize_version(executable: str) -> Version | None:
    output = _quick([executable, "version"])
    return _parse_version(output) if output else None


@functools.lru_cache(maxsize=8)
def _kubectl_kustomize_version(executable: str) -> Version | None:
    output = _quick([executable, "version", "--client", "-o", "json"])
    try:
        info = json.loads(output) if output else {}
    except ValueError:
        return None
    if not isinstance(info, dict):
        return None
    if isinstance(info.get("kustomizeVersion"), str):
        return _parse_version(info["kustomizeVersion"])
    client = info.get("clientVersion")
    if isinstance(client, dict):
        minor = re.match(r"\d+", str(client.get("minor", "")))
        if str(client.get("major")) == "1" and minor is not None:
            number = int(minor.group(0))
            if number < 21:
                return (2, 0, 3)
            return _KUBECTL_KUSTOMIZE.get(number)
    return None


def _quick(argv: list[str]) -> str:
    """Stdout of a short, sandboxed command ('' on failure)."""
    with tempfile.TemporaryDirectory(prefix="klint-kustomize-") as home:
        try:
            result = subprocess.run(
                [*_no_network_prefix(), *argv],
                capture_output=True,
                text=True,
                timeout=30,
                env=_sandbox_env(Path(home)),
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return ""
    return result.stdout if result.returncode == 0 else ""


@functools.lru_cache(maxsize=1)
def _no_network_prefix() -> tuple[str, ...]:
    """``unshare`` into an empty network namespace when the system allows it."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    argv = (unshare, "--net", "--map-root-user")
    try:
        probe = subprocess.run([*argv, "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return argv if probe.returncode == 0 else ()


def _sandbox_env(home: Path) -> dict[str, str]:
    """A minimal environment: no credentials, no proxies that work, git on local files only."""
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "TMPDIR": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "LANG": "C.UTF-8",
        "KUSTOMIZE_PLUGIN_HOME": str(home / "no-plugins"),
        "GIT_ALLOW_PROTOCOL": "file",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_SSH_COMMAND": "false",
        "NO_PROXY": "",
        "no_proxy": "",
    }
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        env[name] = _DEAD_PROXY
    for name in ("SYSTEMROOT", "WINDIR"):  # needed by any process on Windows
        if name in os.environ:
            env[name] = os.environ[name]
    return env


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class BuiltObject:
    """One rendered object and where it came from.

    ``origin_file`` is the absolute path of the file that declared the object (for a
    generated object, the kustomization holding the generator); ``patch_files`` the patch
    files (not inline patches) that were applied to it, in order.
    """

    kind: str
    name: str
    namespace: str
    origin_file: Path | None
    patch_files: tuple[Path, ...] = ()
    generated: bool = False
    api_version: str = ""
    data: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)
    trace: _Trace | None = field(default=None, compare=False, hash=False, repr=False)


@dataclass
class KustomizeBuild:
    """A rendered kustomization: the YAML stream (klint's annotations removed) and its objects.

    ``objects[i]`` describes the ``i``-th document of ``text``.
    """

    text: str
    objects: list[BuiltObject]
    directory: Path
    kustomization: Path
    tool: str
    seconds: float
    warnings: tuple[str, ...] = ()
    """The tool's warnings, such as deprecated kustomization fields."""


# --------------------------------------------------------------------------- build


def build(directory: Path, *, timeout: float = 120) -> KustomizeBuild:
    """Render the kustomization in ``directory`` offline and map every object to its files."""
    started = time.monotonic()
    build_dir = Path(os.path.normpath(Path(directory).absolute()))
    root_file = kustomization_file(build_dir)
    if root_file is None:
        raise KustomizeBuildError(f"{build_dir}: no kustomization file", build_dir)
    tree = _Tree.scan(build_dir)
    if tree.remote:
        where, entry = tree.remote[0]
        raise KustomizeBuildError(
            f"remote resource {entry!r} (in {where}) not fetched: klint runs offline; "
            "vendor it into the repository or lint the rendered output instead",
            build_dir,
        )
    for kustomization in tree.kustomizations.values():
        if kustomization.data.get("helmCharts"):
            raise KustomizeBuildError(
                f"{kustomization.file}: helmCharts needs kustomize --enable-helm, which runs "
                "helm and may download charts; klint does not enable it: lint the chart "
                "directory itself instead",
                build_dir,
            )
    tool = find_tool()
    with tempfile.TemporaryDirectory(prefix="klint-kustomize-") as scratch:
        scratch_dir = Path(scratch)
        copy_root = scratch_dir / "tree"
        home = scratch_dir / "home"
        home.mkdir()
        tree.copy_to(copy_root)
        temp_build = copy_root / build_dir.relative_to(tree.root)
        _enable_annotations(temp_build / root_file.name, tool.version)
        stdout, stderr = _run_tool(tool, temp_build, home, timeout, tree.root, copy_root, build_dir)
    text, documents, annotations = _strip_annotations(stdout)
    context = _Context(build_dir, tree)
    objects = [
        context.describe_safely(data, origin, transformations)
        for data, (origin, transformations) in zip(documents, annotations, strict=True)
    ]
    warnings = tuple(
        dict.fromkeys(
            line.strip().removeprefix("# Warning:").strip()
            for line in stderr.splitlines()
            if line.strip().startswith("# Warning:")
        )
    )
    return KustomizeBuild(
        text, objects, build_dir, root_file, tool.label, time.monotonic() - started, warnings
    )


def _enable_annotations(path: Path, version: Version | None) -> None:
    """Add ``buildMetadata`` to the copied kustomization (textually when that is safe)."""
    options = ["originAnnotations"]
    if version is None or version >= TRANSFORMER_ANNOTATIONS_VERSION:
        options.append("transformerAnnotations")
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = _safe_yaml_strict(text)
    except yaml.YAMLError:
        return  # kustomize reports the syntax error itself
    if not isinstance(data, dict):
        return
    existing = data.get("buildMetadata")
    if existing is None:
        appended = text + ("" if text.endswith("\n") or not text else "\n")
        appended += f"buildMetadata: [{', '.join(options)}]\n"
        try:
            reread = _safe_yaml_strict(appended)
        except yaml.YAMLError:
            reread = None
        if isinstance(reread, dict) and reread == {**data, "buildMetadata": options}:
            path.write_text(appended, encoding="utf-8")
            return
    merged = list(existing) if isinstance(existing, list) else []
    data["buildMetadata"] = merged + [option for option in options if option not in merged]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _run_tool(
    tool: KustomizeTool,
    temp_build: Path,
    home: Path,
    timeout: float,
    real_root: Path,
    temp_root: Path,
    build_dir: Path,
) -> tuple[str, str]:
    """Run the tool: (stdout, stderr); errors become :class:`KustomizeBuildError`."""
    argv = [*_no_network_prefix(), *tool.argv, str(temp_build)]
    try:
        process = subprocess.Popen(
            argv,
            cwd=temp_root,
            env=_sandbox_env(home),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as error:
        raise KustomizeBuildError(f"cannot run {tool.label}: {error}", build_dir) from None
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise KustomizeBuildError(
            f"{tool.label} did not finish within {timeout:g} s", build_dir
        ) from None
    if process.returncode != 0:
        message = _clean_stderr(err.decode("utf-8", "replace"))
        for temporary in {os.path.realpath(temp_root), str(temp_root)}:
            message = message.replace(temporary, str(real_root))
        if "buildMetadata" in message and "unknown field" in message:
            message = (
                f"{tool.label} does not support origin annotations (needs kustomize "
                f">= v4.3.0 / kubectl >= 1.23): {message}"
            )
        raise KustomizeBuildError(message or f"{tool.label} failed", build_dir)
    return out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (OSError, AttributeError):  # pragma: no cover - no process groups
        process.kill()
    process.communicate()


def _clean_stderr(text: str) -> str:
    """The error itself, without kubectl's klog wrapper or kustomize's ``Error:`` prefix."""
    block = re.search(r'"command failed" err=<\n(.*?)\n\s*>\s*$', text, re.DOTALL)
    if block is not None:
        text = "\n".join(line.removeprefix("\t") for line in block.group(1).splitlines())
    else:
        quoted = re.search(r'"command failed" err="(.*)"\s*$', text, re.DOTALL)
        if quoted is not None:
            try:
                text = json.loads(f'"{quoted.group(1)}"')
            except ValueError:
                text = quoted.group(1)
    lines = [
        re.sub(r"^(?:Error|error): ", "", line)
        for line in text.strip().splitlines()
        if not line.startswith("# Warning:")
    ]
    return "\n".join(line for line in lines if line.strip()).strip()


# --------------------------------------------------------------------------- output


def _strip_annotations(text: str) -> tuple[str, list[Any], list[tuple[Any, Any]]]:
    """Remove klint's annotations.

    Returns the text, each document's data and each document's (origin, transformations).

    Lines are cut out of the tool's output so everything else stays byte-identical; an
    ``annotations`` mapping left empty goes too.
    """
    parsed = parse_stream(text, "<kustomize output>")
    lines = text.splitlines(keepends=True)
    drop: set[int] = set()
    found: list[tuple[Any, Any]] = []
    expected: list[Any] = []
    for document in parsed.documents:
        origin: Any = None
        transformations: Any = None
        pair = _pair_at(document.root, ("metadata", "annotations"))
        if pair is not None and isinstance(pair[1], yaml.MappingNode):
            key_node, mapping = pair
            offset = document.line_offset
            removed: list[tuple[int, int]] = []
            for key, value in mapping.value:
                if not isinstance(key, yaml.ScalarNode) or not isinstance(value, yaml.ScalarNode):
                    continue
                if key.value not in (ORIGIN_ANNOTATION, TRANSFORMATIONS_ANNOTATION):
                    continue
                loaded = _safe_yaml(value.value)
                if key.value == ORIGIN_ANNOTATION:
                    origin = loaded
                else:
                    transformations = loaded
                removed.append((key.start_mark.line + offset, _end_line(value, lines, offset)))
            if removed and len(removed) == len(mapping.value):
                removed = [(key_node.start_mark.line + offset, max(end for _, end in removed))]
            for start, end in removed:
                drop.update(range(start, end))
        found.append((origin, transformations))
        expected.append(_without_klint_annotations(document.data))
    stripped = "".join(line for number, line in enumerate(lines) if number not in drop)
    check = parse_stream(stripped, "<kustomize output>")
    if [document.data for document in check.documents] != expected:
        # Unusual layout: fall back to re-serialising the documents.
        stripped = "---\n".join(
            yaml.safe_dump(data, sort_keys=False, default_flow_style=False) for data in expected
        )
    return stripped, expected, found


def _end_line(node: yaml.Node, lines: list[str], offset: int) -> int:
    """The line (0-based, exclusive) where a mapping value ends."""
    mark = node.end_mark
    line = mark.line + offset
    if mark.column == 0 or line >= len(lines) or not lines[line][: mark.column].strip():
        return line
    return line + 1


def _without_klint_annotations(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    metadata = data.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("annotations"), dict):
        return data
    annotations = {
        key: value
        for key, value in metadata["annotations"].items()
        if key not in (ORIGIN_ANNOTATION, TRANSFORMATIONS_ANNOTATION)
    }
    new_metadata = {key: value for key, value in metadata.items() if key != "annotations"}
    if annotations:
        new_metadata["annotations"] = annotations
        return {**data, "metadata": {**metadata, "annotations": annotations}}
    return {**data, "metadata": new_metadata}


def _safe_yaml_strict(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)


def _safe_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        return None


# --------------------------------------------------------------------------- the tree


@dataclass
class _Kustomization:
    """A parsed kustomization file (``data`` is empty when it does not parse)."""

    directory: str
    file: Path
    data: dict[str, Any]
    document: Document | None


def _load_kustomization(directory: str) -> _Kustomization | None:
    path = kustomization_file(Path(directory))
    if path is None:
        return None
    stream = _read_stream(path)
    document = stream.documents[0] if stream is not None and stream.documents else None
    data = document.data if document is not None and isinstance(document.data, dict) else {}
    return _Kustomization(directory, path, data, document)


def _read_stream(path: Path) -> ParsedStream | None:
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    text, _ = decode(raw, str(path))
    return parse_stream(text, str(path)) if text is not None else None


def _join(directory: str, entry: str) -> str:
    return os.path.normpath(os.path.join(directory, entry))


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _dicts(value: Any) -> list[tuple[int, dict[str, Any]]]:
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, dict)]


def _is_inline(entry: str) -> bool:
    return "\n" in entry.strip()


def _looks_remote(directory: str, entry: str) -> bool:
    """Whether a resource entry names something kustomize would fetch over the network."""
    entry = entry.strip()
    if not entry or _is_inline(entry) or os.path.exists(_join(directory, entry)):
        return False
    if "://" in entry or entry.startswith(("git@", "git::", "ssh:", *_REMOTE_HOSTS)):
        return True
    if _REMOTE_QUERY.search(entry):
        return True
    first = entry.split("/", 1)[0]
    return "/" in entry and "." in first.strip(".") and not first.startswith(".")


@dataclass
class _Tree:
    """Every kustomization and file a build reads, found before building."""

    root: Path
    kustomizations: dict[str, _Kustomization]
    files: set[str]
    remote: list[tuple[Path, str]]

    @classmethod
    def scan(cls, build_dir: Path) -> _Tree:
        kustomizations: dict[str, _Kustomization] = {}
        files: set[str] = set()
        remote: list[tuple[Path, str]] = []
        pending = [str(build_dir)]
        while pending:
            directory = pending.pop()
            if directory in kustomizations:
                continue
            loaded = _load_kustomization(directory)
            if loaded is None:
                continue
            kustomizations[directory] = loaded
            files.add(str(loaded.file))
            for entry, fetched in _references(loaded):
                if fetched and _looks_remote(directory, entry):
                    remote.append((loaded.file, entry))
                    continue
                target = _join(directory, entry.split("=", 1)[-1] if "=" in entry else entry)
                if not os.path.exists(target):
                    target = _join(directory, entry)
                if os.path.isdir(target):
                    if kustomization_file(Path(target)) is not None:
                        pending.append(target)
                elif os.path.isfile(target):
                    files.add(target)
        places = [*kustomizations, *(os.path.dirname(name) for name in files)]
        root = Path(os.path.commonpath(places)) if places else build_dir
        return cls(root, kustomizations, files, remote)

    def copy_to(self, destination: Path) -> None:
        """Copy the tree under ``destination`` with the same layout (content only, no modes).

        Kustomization directories are copied shallowly (their regular files) so that
        references klint does not know about still resolve; symlinks are followed only
        when they stay inside the copied root.
        """
        destination.mkdir(parents=True)
        real_root = os.path.realpath(self.root)
        wanted = set(self.files)
        for directory in self.kustomizations:
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.is_file() and entry.stat().st_size <= _MAX_SIBLING_BYTES:
                        wanted.add(os.path.normpath(entry.path))
                except OSError:
                    continue
            (destination / os.path.relpath(directory, self.root)).mkdir(parents=True, exist_ok=True)
        for name in sorted(wanted):
            real = os.path.realpath(name)
            if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
                continue  # a symlink out of the tree: not copied
            target = destination / os.path.relpath(name, self.root)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copyfile(real, target)
            except OSError:
                continue


def _references(kustomization: _Kustomization) -> Iterator[tuple[str, bool]]:
    """Every path a kustomization may read, and whether kustomize would fetch it if remote."""
    data = kustomization.data
    for name in _PATH_FIELDS:
        for entry in _strings(data.get(name)):
            if not _is_inline(entry):
                yield entry, name in _FETCHED_FIELDS
    for entry in _other_references(kustomization):
        yield entry, False


def _other_references(kustomization: _Kustomization) -> Iterator[str]:
    """Local files named by patches, generators and fields klint does not know."""
    data = kustomization.data
    for name in ("patches", "patchesJson6902", "replacements"):
        for _, item in _dicts(data.get(name)):
            if isinstance(item.get("path"), str):
                yield item["path"]
    for entry in _strings(data.get("patchesStrategicMerge")):
        if not _is_inline(entry):
            yield entry
    openapi = data.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        yield openapi["path"]
    for name in ("configMapGenerator", "secretGenerator"):
        for _, item in _dicts(data.get(name)):
            yield from _strings(item.get("files"))
            yield from _strings(item.get("envs"))
            yield from _strings(item.get("env"))
    for key, value in data.items():  # fields klint does not know: any string naming a file
        if key not in _NOT_PATH_FIELDS and key not in _PATH_FIELDS:
            for text in _scalars(value):
                if (
                    not _is_inline(text)
                    and len(text) < 1024
                    and text not in (".", "..")
                    and os.path.isfile(_join(kustomization.directory, text))
                ):
                    yield text


def _scalars(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _scalars(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _scalars(item)


# --------------------------------------------------------------------------- patches


@dataclass
class _PatchSource:
    """Documents of a patch or transformer config, and where their text sits.

    Text inside another file (an inline patch) is shifted by ``line_offset`` and
    ``column_offset``; when its lines cannot be mapped exactly, every span is ``fallback``.
    """

    file: Path
    is_file: bool
    documents: list[Document]
    line_offset: int = 0
    column_offset: int = 0
    exact: bool = True
    fallback: Span = field(default_factory=lambda: Span.line(1))

    @property
    def is_json(self) -> bool:
        return bool(self.documents) and isinstance(self.documents[0].data, list)

    def span(self, document: Document, path: Sequence[str | int]) -> _Hit:
        if not self.exact:
            return self.file, self.fallback
        span = document.span_of(tuple(path))
        return self.file, Span(
            span.start_line + self.line_offset,
            span.start_column + self.column_offset,
            span.end_line + self.line_offset,
            span.end_column + self.column_offset,
        )


def _file_patch(path: str) -> _PatchSource | None:
    stream = _read_stream(Path(path))
    if stream is None:
        return None
    return _PatchSource(Path(path), True, stream.documents)


def _inline_patch(
    kustomization: _Kustomization, path: tuple[str | int, ...], text: str
) -> _PatchSource:
    """A patch (or transformer config) written inside the kustomization file."""
    own = _own_source(kustomization)
    if own is None:
        stream = parse_stream(text, str(kustomization.file))
        return _PatchSource(kustomization.file, False, stream.documents, exact=False)
    return _nested_patch(own, own.documents[0], path, text)


def _nested_patch(
    holder: _PatchSource, document: Document, path: tuple[str | int, ...], text: str
) -> _PatchSource:
    """Text held in a string of ``document``; its lines map exactly when it is a ``|`` block."""
    stream = parse_stream(text, str(holder.file))
    node = _node_at(document.root, path)
    fallback = holder.span(document, path)[1]
    source = _PatchSource(
        holder.file,
        False,
        stream.documents,
        exact=False,
        fallback=Span(
            fallback.start_line, fallback.start_column, fallback.start_line, fallback.start_column
        ),
    )
    if not holder.exact or not isinstance(node, yaml.ScalarNode) or node.style != "|":
        return source
    lines = document.text_lines
    content = node.value.split("\n")
    if content and content[-1] == "":
        content.pop()
    first = node.start_mark.line + document.line_offset + 1
    indent: int | None = None
    for number, line in enumerate(content):
        if first + number >= len(lines):
            return source
        actual = lines[first + number]
        if not line.strip():
            if actual.strip():
                return source
            continue
        if indent is None:
            indent = len(actual) - len(line)
        if indent < 0 or actual != " " * indent + line:
            return source
    source.line_offset = holder.line_offset + first
    source.column_offset = holder.column_offset + (indent or 0)
    source.exact = True
    return source


def _node_at(root: yaml.Node, path: Sequence[str | int]) -> yaml.Node | None:
    pair = _pair_at(root, path)
    return pair[1] if pair is not None else (root if not path else None)


def _pair_at(root: yaml.Node, path: Sequence[str | int]) -> tuple[yaml.Node, yaml.Node] | None:
    """(key or item node, value node) at ``path``; None when a step is missing."""
    node = root
    key: yaml.Node = root
    for step in path:
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            for key_node, value in reversed(node.value):
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == step:
                    key, node = key_node, value
                    break
            else:
                return None
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if not 0 <= step < len(node.value):
                return None
            node = node.value[step]
            key = node
        else:
            return None
    return (key, node) if path else None


# --------------------------------------------------------------------------- edits


@dataclass(frozen=True)
class _Query:
    """A field of a built object, as a :class:`_Edit` needs to see it."""

    data: Mapping[str, Any]
    path: tuple[str | int, ...]
    depth: int  # how many steps of ``path`` exist in ``data``
    atomic: bool  # the value at path[:depth] is replaced, not merged, by a patch
    origin: Any  # the object as declared in its origin file (None if unknown)
    origin_has: bool  # the origin declares path[:depth]
    declared_value: Any  # the value at ``path`` in the origin (None if it is not there)


class _Edit(Protocol):
    def claim(self, query: _Query) -> _Hit | None:
        """Where this edit set the queried field, or None if it did not."""
        ...


@dataclass(frozen=True, eq=False)
class _SmpEdit:
    """A strategic-merge patch document applied to the object."""

    source: _PatchSource
    document: Document

    def claim(self, query: _Query) -> _Hit | None:
        if query.path[:2] in _IDENTITY:
            return None  # a patch names its target; it does not set these
        target = query.path[: query.depth]
        translated, complete = _translate(query.data, self.document.data, target)
        if complete and (query.atomic or not query.origin_has):
            return self.source.span(self.document, translated)
        return None


@dataclass(frozen=True, eq=False)
class _JsonEdit:
    """One JSON6902 operation applied to the object."""

    source: _PatchSource
    document: Document
    index: int
    operation: str
    tokens: tuple[str, ...]
    value: Any

    def claim(self, query: _Query) -> _Hit | None:
        if self.operation not in ("add", "replace", "copy", "move"):
            return None
        if len(self.tokens) > query.depth:
            return None
        node: Any = query.data
        origin: Any = query.origin
        last = len(self.tokens) - 1
        for number, (token, step) in enumerate(zip(self.tokens, query.path, strict=False)):
            if isinstance(step, int):
                inserted = number == last and self.operation == "add"
                if not _index_matches(token, step, node, origin, self.value, inserted):
                    return None
                origin = _item(origin, int(token)) if token.isdigit() else None
            else:
                if token != step:
                    return None
                origin = origin.get(step) if isinstance(origin, dict) else None
            node = _child(node, step)
        if self.operation in ("copy", "move"):
            return self.source.span(self.document, (self.index, "path"))
        rest = query.path[len(self.tokens) : query.depth]
        translated, _ = _translate(node, self.value, rest)
        return self.source.span(self.document, (self.index, "value", *translated))


def _index_matches(
    token: str, step: int, built: Any, origin: Any, value: Any, inserted: bool
) -> bool:
    """Whether JSON pointer token ``token`` addressed the built list item ``step``.

    Indexes in a patch refer to the list when the patch ran; later patches may reorder it,
    so items with a merge key (``name`` ...) are compared through the declared list. An
    ``add`` that ends at an index inserts its value there: that item is the one it made.
    """
    element = _item(built, step)
    if token == "-" or inserted:
        return element is not None and _same_item(element, value)
    if not token.isdigit():
        return False
    declared = _item(origin, int(token))
    key = _merge_key(element)
    if key is not None and isinstance(declared, dict) and key in declared:
        return bool(declared[key] == element[key])
    return int(token) == step


def _same_item(element: Any, value: Any) -> bool:
    key = _merge_key(element)
    if key is not None and isinstance(value, dict):
        return bool(value.get(key) == element[key])
    return bool(element == value)


@dataclass(frozen=True, eq=False)
class _ImageEdit:
    """An ``images:`` entry (or an ImageTagTransformer's ``imageTag``)."""

    source: _PatchSource
    document: Document
    where: tuple[str | int, ...]  # the entry in the document
    entry: Mapping[str, Any]

    def claim(self, query: _Query) -> _Hit | None:
        path = query.path
        if (
            query.depth != len(path)
            or len(path) < 3
            or path[-1] != "image"
            or path[-3] not in ("containers", "initContainers", "ephemeralContainers")
        ):
            return None
        repositories = {
            _repository(_value_at(query.data, path)),
            _repository(query.declared_value),
        } - {None}
        if not {self.entry.get("name"), self.entry.get("newName")} & repositories:
            return None
        for key in ("newTag", "digest", "newName", "name"):
            if key in self.entry:
                return self.source.span(self.document, (*self.where, key))
        return None


def _repository(image: Any) -> str | None:
    if not isinstance(image, str):
        return None
    image = image.split("@", 1)[0]
    slash = image.rfind("/")
    colon = image.rfind(":")
    return str(image[:colon] if colon > slash else image)


@dataclass(frozen=True, eq=False)
class _KeyEdit:
    """A kustomization field that sets object fields: namespace, replicas, labels ..."""

    source: _PatchSource
    document: Document
    where: tuple[str | int, ...]  # the setting in the document
    paths: tuple[tuple[str | int, ...], ...]  # object fields it sets (see :func:`_matches`)

    def claim(self, query: _Query) -> _Hit | None:
        if query.depth != len(query.path):
            return None
        for pattern in self.paths:
            if _matches(pattern, query.path):
                return self.source.span(self.document, self.where)
        return None


def _matches(pattern: tuple[str | int, ...], path: tuple[str | int, ...]) -> bool:
    """A leading ``*`` matches any prefix, ``#`` any list index."""
    if pattern and pattern[0] == "*":
        pattern = pattern[1:]
        path = path[len(path) - len(pattern) :] if len(path) >= len(pattern) else ()
    return len(pattern) == len(path) and all(
        want == got or (want == "#" and isinstance(got, int))
        for want, got in zip(pattern, path, strict=True)
    )


# --------------------------------------------------------------------------- replay


@dataclass(frozen=True, eq=False)
class _Rename:
    prefix: str
    suffix: str
    scope: frozenset[str]


@dataclass(frozen=True, eq=False)
class _Namespace:
    value: str
    edit: _KeyEdit
    scope: frozenset[str]


@dataclass(frozen=True, eq=False)
class _Patch:
    source: _PatchSource
    target: Mapping[str, Any] | None
    kustomization: str
    scope: frozenset[str]


@dataclass(frozen=True, eq=False)
class _Replicas:
    name: str
    edit: _KeyEdit
    scope: frozenset[str]


@dataclass(frozen=True, eq=False)
class _Other:
    edit: _Edit
    scope: frozenset[str]


_Event = _Rename | _Namespace | _Patch | _Replicas | _Other


def _generated_key(kustomization_file: Path, kind: str, name: str) -> str:
    return f"generated:{kustomization_file}:{kind}:{name}"


class _Replay:
    """The order in which kustomize applies transformers, with the sources each one sees."""

    def __init__(self, tree: _Tree, build_dir: Path) -> None:
        self.tree = tree
        self.events: list[_Event] = []
        self.generators: dict[str, tuple[_Kustomization, str, int]] = {}
        self._walk(str(build_dir), [], ())

    def _walk(self, directory: str, accumulated: list[str], stack: tuple[str, ...]) -> None:
        kustomization = self.tree.kustomizations.get(directory)
        if kustomization is None or directory in stack:
            return
        stack = (*stack, directory)
        data = kustomization.data
        for entry in [*_strings(data.get("resources")), *_strings(data.get("bases"))]:
            target = _join(directory, entry)
            if os.path.isfile(target):
                accumulated.append(target)
            elif os.path.isdir(target):
                below: list[str] = []
                self._walk(target, below, stack)
                accumulated.extend(below)
        for entry in _strings(data.get("components")):
            self._walk(_join(directory, entry), accumulated, stack)
        for kind, name in (("ConfigMap", "configMapGenerator"), ("Secret", "secretGenerator")):
            for index, item in _dicts(data.get(name)):
                if isinstance(item.get("name"), str):
                    key = _generated_key(kustomization.file, kind, item["name"])
                    accumulated.append(key)
                    self.generators[key] = (kustomization, name, index)
        self._transformers(kustomization, frozenset(accumulated))

    def _transformers(self, kustomization: _Kustomization, scope: frozenset[str]) -> None:
        """Events for one kustomization, in kustomize's builtin transformer order."""
        data = kustomization.data
        directory = kustomization.directory
        kfile = str(kustomization.file)
        for index, entry in enumerate(_strings(data.get("patchesStrategicMerge"))):
            if _is_inline(entry):
                source: _PatchSource | None = _inline_patch(
                    kustomization, ("patchesStrategicMerge", index), entry
                )
            else:
                source = _file_patch(_join(directory, entry))
            if source is not None:
                self.events.append(_Patch(source, None, kfile, scope))
        for index, item in _dicts(data.get("patches")):
            self._patch(kustomization, ("patches", index), item, "path", "patch", scope)
        own = _own_source(kustomization)
        if own is not None:
            self._settings(own, own.documents[0], (), data, scope, kfile, ("namespace",))
        for index, item in _dicts(data.get("patchesJson6902")):
            self._patch(kustomization, ("patchesJson6902", index), item, "path", "patch", scope)
        if own is not None:
            self._settings(own, own.documents[0], (), data, scope, kfile, ("replicas", "images"))
        # kustomize runs inline transformer configs first, then those in files.
        entries = list(enumerate(_strings(data.get("transformers"))))
        for index, entry in [item for item in entries if _is_inline(item[1])]:
            config = _inline_patch(kustomization, ("transformers", index), entry)
            for document in config.documents:
                self._builtin(kustomization, config, document, scope)
        for _, entry in [item for item in entries if not _is_inline(item[1])]:
            found = _file_patch(_join(directory, entry))
            if found is None:
                continue
            for document in found.documents:
                self._builtin(kustomization, found, document, scope)

    def _settings(
        self,
        source: _PatchSource,
        document: Document,
        where: tuple[str | int, ...],
        data: Mapping[str, Any],
        scope: frozenset[str],
        kfile: str,
        only: tuple[str, ...],
    ) -> None:
        """Events for the kustomization fields that set object fields, in kustomize's order."""
        if "namespace" in only:
            namespace = data.get("namespace")
            if isinstance(namespace, str) and namespace:
                edit = _KeyEdit(source, document, (*where, "namespace"), _NAMESPACE_PATHS)
                self.events.append(_Namespace(namespace, edit, scope))
            prefix, suffix = data.get("namePrefix"), data.get("nameSuffix")
            if isinstance(prefix, str) or isinstance(suffix, str):
                self.events.append(
                    _Rename(
                        prefix if isinstance(prefix, str) else "",
                        suffix if isinstance(suffix, str) else "",
                        scope,
                    )
                )
            for edit in _label_edits(source, document, where, data):
                self.events.append(_Other(edit, scope))
        if "replicas" in only:
            for index, item in _dicts(data.get("replicas")):
                if isinstance(item.get("name"), str) and "count" in item:
                    edit = _KeyEdit(
                        source,
                        document,
                        (*where, "replicas", index, "count"),
                        (("spec", "replicas"),),
                    )
                    self.events.append(_Replicas(item["name"], edit, scope))
        if "images" in only:
            for index, item in _dicts(data.get("images")):
                image = _ImageEdit(source, document, (*where, "images", index), item)
                self.events.append(_Other(image, scope))

    def _builtin(
        self,
        kustomization: _Kustomization,
        source: _PatchSource,
        document: Document,
        scope: frozenset[str],
    ) -> None:
        """Events for a builtin transformer configured in a ``transformers:`` entry."""
        config = document.data
        if not isinstance(config, dict):
            return
        kind = config.get("kind")
        kfile = str(source.file)  # what kustomize records as configuredIn
        metadata = _mapping(config.get("metadata"))
        if kind == "PatchTransformer":
            self._patch(kustomization, None, config, "path", "patch", scope, source, document)
        elif kind == "PatchJson6902Transformer":
            self._patch(kustomization, None, config, "path", "jsonOp", scope, source, document)
        elif kind == "PatchStrategicMergeTransformer":
            for entry in _strings(config.get("paths")):
                patch = _file_patch(_join(kustomization.directory, entry))
                if patch is not None:
                    self.events.append(_Patch(patch, None, kfile, scope))
            if isinstance(config.get("patches"), str):
                self._patch(kustomization, None, config, "", "patches", scope, source, document)
        elif kind == "NamespaceTransformer" and isinstance(metadata.get("namespace"), str):
            edit = _KeyEdit(source, document, ("metadata", "namespace"), _NAMESPACE_PATHS)
            self.events.append(_Namespace(metadata["namespace"], edit, scope))
        elif kind in ("PrefixSuffixTransformer", "PrefixTransformer", "SuffixTransformer"):
            prefix, suffix = config.get("prefix"), config.get("suffix")
            self.events.append(
                _Rename(
                    prefix if isinstance(prefix, str) else "",
                    suffix if isinstance(suffix, str) else "",
                    scope,
                )
            )
        elif kind == "LabelTransformer" and isinstance(config.get("labels"), dict):
            for key in config["labels"]:
                edit = _KeyEdit(source, document, ("labels", key), _label_paths(key))
                self.events.append(_Other(edit, scope))
        elif kind == "AnnotationsTransformer" and isinstance(config.get("annotations"), dict):
            for key in config["annotations"]:
                edit = _KeyEdit(
                    source, document, ("annotations", key), (("*", "annotations", key),)
                )
                self.events.append(_Other(edit, scope))
        elif kind == "ImageTagTransformer" and isinstance(config.get("imageTag"), dict):
            image = _ImageEdit(source, document, ("imageTag",), config["imageTag"])
            self.events.append(_Other(image, scope))
        elif kind == "ReplicaCountTransformer":
            replica = _mapping(config.get("replica"))
            if isinstance(replica.get("name"), str) and "count" in replica:
                edit = _KeyEdit(source, document, ("replica", "count"), (("spec", "replicas"),))
                self.events.append(_Replicas(replica["name"], edit, scope))

    def _patch(
        self,
        kustomization: _Kustomization,
        where: tuple[str | int, ...] | None,
        item: Mapping[str, Any],
        path_key: str,
        patch_key: str,
        scope: frozenset[str],
        config: _PatchSource | None = None,
        document: Document | None = None,
    ) -> None:
        """A patch given by a file path or inline text (in the kustomization or a config)."""
        source: _PatchSource | None = None
        if path_key and isinstance(item.get(path_key), str):
            source = _file_patch(_join(kustomization.directory, item[path_key]))
        elif isinstance(item.get(patch_key), str):
            text = item[patch_key]
            if where is not None:
                source = _inline_patch(kustomization, (*where, patch_key), text)
            elif config is not None and document is not None:
                source = _nested_patch(config, document, (patch_key,), text)
        target = item.get("target")
        configured_in = config.file if config is not None else kustomization.file
        if source is not None:
            self.events.append(
                _Patch(
                    source, target if isinstance(target, dict) else None, str(configured_in), scope
                )
            )


_NAMESPACE_PATHS: tuple[tuple[str | int, ...], ...] = (
    ("metadata", "namespace"),
    ("subjects", "#", "namespace"),
)


def _label_paths(key: str) -> tuple[tuple[str | int, ...], ...]:
    return tuple(("*", parent, key) for parent in ("labels", "matchLabels", "selector"))


def _own_source(kustomization: _Kustomization) -> _PatchSource | None:
    """The kustomization file itself, as a source of settings."""
    if kustomization.document is None:
        return None
    return _PatchSource(kustomization.file, False, [kustomization.document])


def _label_edits(
    source: _PatchSource, document: Document, where: tuple[str | int, ...], data: Mapping[str, Any]
) -> Iterator[_KeyEdit]:
    """Edits for ``commonLabels``, ``labels`` and ``commonAnnotations``."""
    common = data.get("commonLabels")
    if isinstance(common, dict):
        for key in common:
            yield _KeyEdit(source, document, (*where, "commonLabels", key), _label_paths(key))
    for index, item in _dicts(data.get("labels")):
        pairs = item.get("pairs")
        if not isinstance(pairs, dict):
            continue
        for key in pairs:
            patterns: list[tuple[str | int, ...]] = [("metadata", "labels", key)]
            if item.get("includeTemplates"):
                patterns.append(("*", "metadata", "labels", key))
            if item.get("includeSelectors"):
                patterns += [
                    ("*", "matchLabels", key),
                    ("*", "selector", key),
                    ("*", "metadata", "labels", key),
                ]
            yield _KeyEdit(
                source, document, (*where, "labels", index, "pairs", key), tuple(patterns)
            )
    annotations = data.get("commonAnnotations")
    if isinstance(annotations, dict):
        for key in annotations:
            yield _KeyEdit(
                source, document, (*where, "commonAnnotations", key), (("*", "annotations", key),)
            )


# --------------------------------------------------------------------------- objects


@dataclass
class _Context:
    """What every object of one build shares: the replayed tree and parsed files."""

    build_dir: Path
    tree: _Tree
    replay: _Replay = field(init=False)
    streams: dict[str, ParsedStream | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.replay = _Replay(self.tree, self.build_dir)

    def stream(self, path: Path) -> ParsedStream | None:
        key = str(path)
        if key not in self.streams:
            self.streams[key] = _read_stream(path)
        return self.streams[key]

    def root_file(self) -> Path | None:
        kustomization = self.tree.kustomizations.get(str(self.build_dir))
        return kustomization.file if kustomization is not None else None

    def describe_safely(self, data: Any, origin: Any, transformations: Any) -> BuiltObject:
        """:meth:`describe`; an unexpected tree keeps the object, with its origin file only."""
        try:
            return self.describe(data, origin, transformations)
        except Exception:  # a bad tree must not lose the object
            data = data if isinstance(data, dict) else {}
            metadata = _mapping(data.get("metadata"))
            origin = _mapping(origin)
            where = origin.get("path") or origin.get("configuredIn")
            return BuiltObject(
                str(data.get("kind") or ""),
                str(metadata.get("name") or ""),
                str(metadata.get("namespace") or ""),
                Path(_join(str(self.build_dir), where)) if isinstance(where, str) else None,
                generated="path" not in origin and "configuredIn" in origin,
                api_version=str(data.get("apiVersion") or ""),
                data=data,
            )

    def describe(self, data: Any, origin: Any, transformations: Any) -> BuiltObject:
        """A :class:`BuiltObject` for one rendered document."""
        data = data if isinstance(data, dict) else {}
        metadata = _mapping(data.get("metadata"))
        kind = str(data.get("kind") or "")
        name = str(metadata.get("name") or "")
        namespace = str(metadata.get("namespace") or "")
        api_version = str(data.get("apiVersion") or "")
        origin = origin if isinstance(origin, dict) else {}
        generated = "configuredIn" in origin and "path" not in origin
        origin_file: Path | None = None
        source_key: str | None = None
        generator: tuple[_Kustomization, str, int] | None = None
        if isinstance(origin.get("repo"), str):
            origin_file = self.root_file()
        elif isinstance(origin.get("path"), str):
            origin_file = Path(_join(str(self.build_dir), origin["path"]))
            source_key = str(origin_file)
        elif isinstance(origin.get("configuredIn"), str):
            origin_file = Path(_join(str(self.build_dir), origin["configuredIn"]))
            source_key, generator = self._generator(origin_file, kind, name)
        trace = _Trace(self, kind, name, namespace, api_version, origin_file, generator)
        edits, patch_files = self._edits(trace, source_key, data, transformations)
        trace.edits = tuple(edits)
        return BuiltObject(
            kind,
            name,
            namespace,
            origin_file,
            tuple(patch_files),
            generated,
            api_version,
            data,
            trace,
        )

    def _generator(
        self, kfile: Path, kind: str, name: str
    ) -> tuple[str | None, tuple[_Kustomization, str, int] | None]:
        """The generator entry that made ``name`` (prefixes, suffixes and hash included)."""
        prefix = _generated_key(kfile, kind, "")
        unhashed = _HASH_SUFFIX.sub("", name)
        best: tuple[int, str] | None = None
        for key in self.replay.generators:
            if not key.startswith(prefix):
                continue
            base = key[len(prefix) :]
            before, after = self._affixes(key)
            if before + base + after in (name, unhashed):
                return key, self.replay.generators[key]
            if base in name and (best is None or len(base) > best[0]):
                best = (len(base), key)
        if best is not None:
            return best[1], self.replay.generators[best[1]]
        return None, None

    def _affixes(self, key: str) -> tuple[str, str]:
        """The name prefix and suffix that kustomize added to objects from ``key``."""
        prefix = suffix = ""
        for event in self.replay.events:
            if isinstance(event, _Rename) and key in event.scope:
                prefix, suffix = event.prefix + prefix, suffix + event.suffix
        return prefix, suffix

    def _edits(
        self, trace: _Trace, key: str | None, data: Mapping[str, Any], transformations: Any
    ) -> tuple[list[_Edit], list[Path]]:
        """The edits that apply to the object, in the order kustomize made them."""
        if key is None:
            return [], []
        declared = trace.declared_name(*self._affixes(key))
        names = [declared] if declared else []
        if not names or (trace.generator is None and trace.origin() is None):
            names.append(trace.name)
        namespaces = {"", "default", trace.namespace}
        origin = trace.origin()
        if origin is not None:
            metadata = origin[0].data
            namespaces.add(str(_value_at(metadata, (*origin[1], "metadata", "namespace")) or ""))
        ran = _patch_kustomizations(transformations, self.build_dir)
        edits: list[_Edit] = []
        files: list[Path] = []
        for event in self.replay.events:
            if key not in event.scope:
                continue
            if isinstance(event, _Rename):
                if names:
                    names.append(event.prefix + names[-1] + event.suffix)
            elif isinstance(event, _Namespace):
                namespaces.add(event.value)
                edits.append(event.edit)
            elif isinstance(event, _Replicas):
                if event.name in names:
                    edits.append(event.edit)
            elif isinstance(event, _Other):
                edits.append(event.edit)
            elif ran is None or event.kustomization in ran:
                matched = _select(event, trace.kind, trace.api_version, names, namespaces, data)
                edits.extend(matched)
                if matched and event.source.is_file and event.source.file not in files:
                    files.append(event.source.file)
        trace.names = tuple(names)
        return edits, files


def _patch_kustomizations(transformations: Any, build_dir: Path) -> set[str] | None:
    """Kustomization files whose patch transformers ran over an object (None: not recorded)."""
    if not isinstance(transformations, list):
        return None
    found: set[str] = set()
    for item in transformations:
        if isinstance(item, dict) and isinstance(item.get("configuredIn"), str):
            configured_by = item.get("configuredBy")
            kind = configured_by.get("kind") if isinstance(configured_by, dict) else None
            if isinstance(kind, str) and "Patch" in kind:
                found.add(_join(str(build_dir), item["configuredIn"]))
    return found


def _select(
    event: _Patch,
    kind: str,
    api_version: str,
    names: list[str],
    namespaces: set[str],
    data: Mapping[str, Any],
) -> list[_Edit]:
    """The parts of a patch that apply to an object."""
    source = event.source
    if event.target is not None and not _target_selects(
        event.target, kind, api_version, names, namespaces, data
    ):
        return []
    edits: list[_Edit] = []
    if source.is_json:
        if event.target is None:
            return []
        document = source.documents[0]
        for index, operation in enumerate(document.data):
            if isinstance(operation, dict) and isinstance(operation.get("path"), str):
                edits.append(
                    _JsonEdit(
                        source,
                        document,
                        index,
                        str(operation.get("op")),
                        _pointer(operation["path"]),
                        operation.get("value"),
                    )
                )
        return edits
    for document in source.documents:
        patch = document.data
        if not isinstance(patch, dict):
            continue
        if event.target is None:
            metadata = _mapping(patch.get("metadata"))
            if patch.get("kind") != kind or metadata.get("name") not in names:
                continue
            if metadata.get("namespace") and metadata.get("namespace") not in namespaces:
                continue
        edits.append(_SmpEdit(source, document))
    return edits


def _target_selects(
    target: Mapping[str, Any],
    kind: str,
    api_version: str,
    names: list[str],
    namespaces: set[str],
    data: Mapping[str, Any],
) -> bool:
    """kustomize's patch ``target`` selector (kind, name, namespace are anchored regexes)."""
    group, _, version = api_version.rpartition("/")
    if target.get("group") not in (None, group) or target.get("version") not in (None, version):
        return False
    if not _regex_any(target.get("kind"), [kind]) or not _regex_any(target.get("name"), names):
        return False
    if not _regex_any(target.get("namespace"), sorted(namespaces)):
        return False
    metadata = _mapping(data.get("metadata"))
    for selector, values in (("labelSelector", "labels"), ("annotationSelector", "annotations")):
        wanted = target.get(selector)
        present = _mapping(metadata.get(values))
        if isinstance(wanted, str) and not _selector_matches(wanted, present):
            return False
    return True


def _regex_any(pattern: Any, values: Sequence[str]) -> bool:
    if pattern is None or pattern == "":
        return True
    text = str(pattern)
    try:
        compiled = re.compile(text)
    except re.error:
        return text in values
    return any(compiled.fullmatch(value) for value in values)


def _selector_matches(selector: str, labels: Mapping[str, Any]) -> bool:
    """A Kubernetes label selector (equality- and set-based) against ``labels``."""
    for requirement in re.split(r",(?![^(]*\))", selector):
        requirement = requirement.strip()
        if not requirement:
            continue
        match = re.fullmatch(r"(\S+)\s+(in|notin)\s+\((.*)\)", requirement)
        if match is not None:
            key, operator, values = match.groups()
            options = {value.strip() for value in values.split(",")}
            inside = key in labels and str(labels[key]) in options
            if inside != (operator == "in"):
                return False
            continue
        match = re.fullmatch(r"([^!=\s]+)\s*(==|=|!=)\s*(\S*)", requirement)
        if match is not None:
            key, operator, value = match.groups()
            equal = key in labels and str(labels[key]) == value
            if equal != (operator != "!="):
                return False
            continue
        if requirement.startswith("!"):
            if requirement[1:].strip() in labels:
                return False
        elif requirement not in labels:
            return False
    return True


def _pointer(path: str) -> tuple[str, ...]:
    """JSON pointer → tokens."""
    if not path.startswith("/"):
        return ()
    return tuple(token.replace("~1", "/").replace("~0", "~") for token in path[1:].split("/"))


class _Trace:
    """How to locate fields of one built object: its origin and the edits applied to it."""

    def __init__(
        self,
        context: _Context,
        kind: str,
        name: str,
        namespace: str,
        api_version: str,
        origin_file: Path | None,
        generator: tuple[_Kustomization, str, int] | None,
    ) -> None:
        self.context = context
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.api_version = api_version
        self.origin_file = origin_file
        self.generator = generator
        self.edits: tuple[_Edit, ...] = ()
        self.names: tuple[str, ...] = (name,)
        self._origin: tuple[Document, tuple[str | int, ...]] | None = None
        self._origin_searched = False
        self._hint = ""

    def declared_name(self, prefix: str, suffix: str) -> str:
        """The object's name where it was declared (kustomize added ``prefix``/``suffix``)."""
        if self.generator is not None:
            kustomization, field_name, index = self.generator
            entry = kustomization.data[field_name][index]
            return str(entry.get("name", ""))
        if (
            self.name.startswith(prefix)
            and self.name.endswith(suffix)
            and len(self.name) > len(prefix) + len(suffix)
        ):
            self._hint = self.name[len(prefix) : len(self.name) - len(suffix)]
        found = self.origin()
        if found is None:
            return ""
        return str(_value_at(found[0].data, (*found[1], "metadata", "name")) or "")

    def origin(self) -> tuple[Document, tuple[str | int, ...]] | None:
        """The declaring document (and the path of the object inside it, for ``List`` kinds)."""
        if self._origin_searched:
            return self._origin
        self._origin_searched = True
        if self.origin_file is None or self.generator is not None:
            return None
        stream = self.context.stream(self.origin_file)
        if stream is None:
            return None
        candidates: list[tuple[Document, tuple[str | int, ...], str]] = []
        for document in stream.documents:
            data = document.data
            if not isinstance(data, dict):
                continue
            if str(data.get("kind", "")).endswith("List") and isinstance(data.get("items"), list):
                for index, item in enumerate(data["items"]):
                    if isinstance(item, dict) and item.get("kind") == self.kind:
                        candidates.append((document, ("items", index), _name_of(item)))
            elif data.get("kind") == self.kind:
                candidates.append((document, (), _name_of(data)))
        for wanted in (self._hint or self.name, self.name):
            for document, base, name in candidates:
                if name == wanted:
                    self._origin = (document, base)
                    return self._origin
        partial = [item for item in candidates if item[2] and item[2] in self.name]
        if partial:
            document, base, _ = max(partial, key=lambda item: len(item[2]))
            self._origin = (document, base)
        elif len(candidates) == 1:
            self._origin = (candidates[0][0], candidates[0][1])
        return self._origin


def _name_of(data: Mapping[str, Any]) -> str:
    metadata = data.get("metadata")
    return str(metadata.get("name") or "") if isinstance(metadata, dict) else ""


# --------------------------------------------------------------------------- locate


def locate(obj: BuiltObject, field_path: Sequence[str | int]) -> tuple[Path, int, int] | None:
    """The file, 1-based line and column a person edits to change ``field_path`` of ``obj``.

    The last patch (or ``images:``/``namespace:``... entry) that set the field wins; else
    the field in the declaring file (its nearest existing ancestor when it is missing); for
    generated objects the generator entry. None when nothing can be found.
    """
    found = locate_span(obj, field_path)
    if found is None:
        return None
    path, span = found
    return path, span.start_line, span.start_column


def locate_span(obj: BuiltObject, field_path: Sequence[str | int]) -> tuple[Path, Span] | None:
    """Like :func:`locate`, with the whole span of the node."""
    trace = obj.trace
    if trace is None:
        return None
    try:
        return _locate(obj, trace, tuple(field_path))
    except Exception:  # locating is best effort; callers fall back
        return None


def _locate(obj: BuiltObject, trace: _Trace, path: tuple[str | int, ...]) -> _Hit | None:
    """See :func:`locate_span`."""
    depth = _existing_depth(obj.data, path)
    value = _value_at(obj.data, path[:depth])
    atomic = not isinstance(value, dict) and not (
        isinstance(value, list) and any(isinstance(item, dict) for item in value)
    )
    origin = trace.origin()
    declared: Any = None
    origin_has = False
    translated: list[str | int] = []
    if origin is not None:
        declared = _value_at(origin[0].data, origin[1])
        translated, origin_has = _translate(obj.data, declared, path[:depth])
    declared_value = _value_at(declared, translated) if origin_has and depth == len(path) else None
    query = _Query(obj.data, path, depth, atomic, declared, origin_has, declared_value)
    for edit in reversed(trace.edits):
        hit = edit.claim(query)
        if hit is not None:
            return hit
    if trace.generator is not None:
        return _generator_location(trace.generator, path)
    if origin is not None:
        return Path(origin[0].path), origin[0].span_of((*origin[1], *translated))
    return None


def _generator_location(
    generator: tuple[_Kustomization, str, int], path: tuple[str | int, ...]
) -> _Hit | None:
    """The generator entry, or the literal/file line that produced a ``data`` key."""
    kustomization, field_name, index = generator
    document = kustomization.document
    if document is None:
        return None
    entry = kustomization.data[field_name][index]
    if len(path) >= 2 and path[0] in ("data", "binaryData", "stringData"):
        key = str(path[1])
        for number, literal in enumerate(_strings(entry.get("literals"))):
            if literal.split("=", 1)[0].strip() == key:
                return kustomization.file, document.span_of((field_name, index, "literals", number))
        for number, name in enumerate(_strings(entry.get("files"))):
            file_key = name.split("=", 1)[0] if "=" in name else os.path.basename(name)
            if file_key.strip() == key:
                return kustomization.file, document.span_of((field_name, index, "files", number))
        for env in [*_strings(entry.get("envs")), *_strings(entry.get("env"))]:
            hit = _env_line(Path(_join(kustomization.directory, env)), key)
            if hit is not None:
                return hit
    return kustomization.file, document.span_of((field_name, index, "name"))


def _env_line(path: Path, key: str) -> _Hit | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for number, line in enumerate(lines, start=1):
        if line.split("=", 1)[0].strip() == key and not line.lstrip().startswith("#"):
            column = len(line) - len(line.lstrip()) + 1
            return path, Span(number, column, number, len(line) + 1)
    return None


# --------------------------------------------------------------------------- values


def _child(node: Any, step: str | int) -> Any:
    if isinstance(step, int):
        return _item(node, step)
    return node.get(step) if isinstance(node, dict) else None


def _item(node: Any, index: int) -> Any:
    if isinstance(node, list) and 0 <= index < len(node):
        return node[index]
    return None


def _value_at(data: Any, path: Sequence[str | int]) -> Any:
    node = data
    for step in path:
        node = _child(node, step)
        if node is None:
            return None
    return node


def _existing_depth(data: Any, path: Sequence[str | int]) -> int:
    node = data
    for depth, step in enumerate(path):
        if isinstance(step, int):
            if not (isinstance(node, list) and 0 <= step < len(node)):
                return depth
            node = node[step]
        else:
            if not (isinstance(node, dict) and step in node):
                return depth
            node = node[step]
    return len(path)


def _merge_key(element: Any) -> str | None:
    if not isinstance(element, dict):
        return None
    for key in ("name", "mountPath", "devicePath", "containerPort", "ip", "topologyKey"):
        if key in element:
            return key
    return None


def _translate(built: Any, target: Any, path: Sequence[str | int]) -> tuple[list[str | int], bool]:
    """Follow ``path`` (a path in ``built``) through ``target``, matching list items by key.

    Returns the path in ``target`` as far as it goes and whether it went all the way.
    """
    out: list[str | int] = []
    parent_key: str | int | None = None
    for step in path:
        if isinstance(step, str):
            if not isinstance(target, dict) or step not in target:
                return out, False
            target = target[step]
            built = built.get(step) if isinstance(built, dict) else None
        else:
            if not isinstance(target, list):
                return out, False
            element = _item(built, step)
            key = _MERGE_KEYS.get(parent_key) if isinstance(parent_key, str) else None
            if key is None or not isinstance(element, dict) or key not in element:
                key = _merge_key(element)
            if key is not None:
                matches = [
                    index
                    for index, item in enumerate(target)
                    if isinstance(item, dict) and item.get(key) == element[key]
                ]
                if not matches:
                    return out, False
                step_out = matches[0]
            elif 0 <= step < len(target) and target[step] == element:
                step_out = step
            elif element is not None and element in target:
                step_out = target.index(element)  # shifted by an insertion
            elif 0 <= step < len(target):
                step_out = step
            else:
                return out, False
            target = target[step_out]
            built = element
            out.append(step_out)
            parent_key = step
            continue
        out.append(step)
        parent_key = step
    return out, True
