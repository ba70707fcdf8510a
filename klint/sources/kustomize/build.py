"""Build an overlay offline in a confined temporary copy and describe every object it yields."""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from klint.sources.budget import documents_problem
from klint.sources.confine import real_path, unit_root
from klint.sources.kustomize import prebuild, shared
from klint.sources.kustomize.annotations import (
    enable_annotations,
    strip_annotations,
    strip_exactly,
)
from klint.sources.kustomize.graft import Graft, graft_values
from klint.sources.kustomize.sandbox import (
    KustomizeBuildError,
)
from klint.sources.kustomize.tool import (
    KustomizeTool,
    ToolBudget,
    find_tool,
    load_restricted,
    run_tool,
)
from klint.sources.kustomize.trace import BuildContext, BuiltObject
from klint.sources.kustomize.tree import Tree
from klint.sources.names import kustomization_file

_SPAWN_WAIT = 1.0  # seconds prepare lets a shared base's tool start before stubbing
# added to a build's stderr when it needed LoadRestrictionsNone (unguessable: the tool's own
# stderr can quote a kustomization)
UNRESTRICTED = f"# klint: built with LoadRestrictionsNone {secrets.token_hex(12)}"


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
    stub: str | None = None
    """``text`` with shared CRD schemas as placeholders, which ``grafts`` fill (graft.py)."""
    grafts: tuple[Graft, ...] = ()
    inputs: tuple[Path, ...] = ()
    """Every file the build read: kustomizations, resources, patches, generator inputs."""
    lines: list[str] | None = None
    """``text.splitlines()`` and ``node_bound(text)``, when a stubbed build knows them."""
    node_bound: int | None = None
    unrestricted: bool = False
    """Built with ``--load-restrictor LoadRestrictionsNone``: it reads a file outside its
    folder, which kustomize refuses by default."""


def lexical_root(build_dir: Path, root: Path) -> Path:
    """``root`` spelled as an ancestor of ``build_dir`` (whose path may run through links)."""
    real = real_path(root)
    for candidate in (build_dir, *build_dir.parents):
        if real_path(candidate) == real:
            return candidate
    return root


def _scan(directory: Path, root: Path | None) -> tuple[Path, Path, Tree]:
    """The build folder, its kustomization file and the tree a build reads (refused
    trees raise :class:`KustomizeBuildError`)."""
    build_dir = Path(os.path.normpath(Path(directory).absolute()))
    root_file = kustomization_file(build_dir)
    if root_file is None:
        raise KustomizeBuildError(f"{build_dir}: no kustomization file", build_dir)
    tree = Tree.scan(build_dir, lexical_root(build_dir, root or unit_root(build_dir, Path.cwd())))
    if tree.refused:
        where, entry, reason = tree.refused[0]
        raise KustomizeBuildError(f"{entry!r} (in {where}) {reason}", build_dir)
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
    return build_dir, root_file, tree


def prepare(
    directory: Path,
    *,
    timeout: float = 120,
    root: Path | None = None,
    budget: ToolBudget | None = None,
) -> Callable[[], None] | None:
    """Start, in background threads, the builds this overlay shares (each pure CRD base
    once) and its own stubbed build, so that they run side by side (shared.py); the
    returned wait, called before worker processes fork, parses the bases once and keeps
    the overlay's outcome for :func:`build`. Best effort: a failure is left to
    :func:`build`."""
    if not shared.enabled():
        return None
    build_dir, root_file, tree = _scan(directory, root)
    tool = find_tool()

    spawned = threading.Event()
    submitted: list[str] = []

    def base_text(base: str) -> str:
        try:
            return base_output(
                Path(base), timeout=timeout, root=tree.root, budget=budget, on_spawn=spawned.set
            )
        finally:
            spawned.set()

    def submit(function: Callable[[str], str], base: str) -> Future[str]:
        submitted.append(base)
        return prebuild.submit(function, base)

    prebuild.hold()  # the threads stop once every wait has run (the last releases them)
    try:
        bases = shared.start(tree, build_dir, tool.label, base_text, submit)
        if submitted:  # the base's tool starts before the stub's parse holds the GIL
            spawned.wait(_SPAWN_WAIT)
        stubbed = shared.stub(tree, build_dir)
        own = None
        if stubbed is not None:
            own = prebuild.submit(
                _run_copy, tree, build_dir, root_file, tool, timeout, budget, stubbed
            )
        key = _prebuilt_key(build_dir, tree, tool, timeout, budget)
    except BaseException:
        prebuild.release()
        raise

    def wait() -> None:
        try:
            shared.finish(bases, stubbed[0] if stubbed is not None else None)
            if own is not None:
                prebuild.keep(key, own)
        finally:
            prebuild.release()  # after the last wait no thread is left at the fork

    return wait


def _prebuilt_key(
    build_dir: Path, tree: Tree, tool: KustomizeTool, timeout: float, budget: ToolBudget | None
) -> tuple[object, ...]:
    """What the outcome of a build depends on: the folder, the tool and its limits, and
    the files the confined copy holds (as they were when it was made: Tree.stamp)."""
    return (str(build_dir), str(tree.root), tool.label, timeout, budget, tree.stamp())


def base_output(
    directory: Path,
    *,
    timeout: float,
    root: Path,
    budget: ToolBudget | None,
    on_spawn: Callable[[], None] | None = None,
) -> str:
    """The tool's output for a pure base (annotations on, as :func:`build` runs it), kept
    for its own unit and the overlays that include it (shared.py)."""
    build_dir, root_file, tree = _scan(directory, root)
    tool = find_tool()
    reused = shared.reused(tree, build_dir, tool.label)
    if reused is not None:
        return reused[0]
    out, err, _ = _run_copy(tree, build_dir, root_file, tool, timeout, budget, None, on_spawn)
    shared.remember_if_base(tree, build_dir, tool.label, out, err)
    return out


def _run_copy(
    tree: Tree,
    build_dir: Path,
    root_file: Path,
    tool: KustomizeTool,
    timeout: float,
    budget: ToolBudget | None,
    stubbed: tuple[shared.Splice, dict[str, str]] | None,
    on_spawn: Callable[[], None] | None = None,
) -> tuple[str, str, shared.Splice | None]:
    """Run the tool on a confined copy of the tree (with the stubbed texts of shared CRD
    base files, shared.stub, in place of the files)."""
    with tempfile.TemporaryDirectory(prefix="klint-kustomize-") as scratch:
        scratch_dir = Path(scratch)
        copy_root = scratch_dir / "tree"
        home = scratch_dir / "home"
        home.mkdir()
        plan, texts = stubbed if stubbed is not None else (None, None)
        tree.copy_to(copy_root, texts)
        temp_build = copy_root / build_dir.relative_to(tree.root)
        enable_annotations(temp_build / root_file.name, tool.version)
        where = (temp_build, home, timeout, tree.root, copy_root, build_dir)
        run = partial(run_tool, tool, *where, budget, on_spawn)
        try:
            out, err = _run_within_memory(run)
        except KustomizeBuildError as error:
            if not load_restricted(error.message) or not tree.stays_inside():
                raise
            try:  # built as the repository's own scripts build it: its files only
                out, err = _run_within_memory(run, unrestricted=True)
            except KustomizeBuildError:
                raise error from None
            err += f"\n{UNRESTRICTED}\n"
    return out, err, plan


def _run_within_memory(
    run: Callable[..., tuple[str, str]], unrestricted: bool = False
) -> tuple[str, str]:
    """:func:`run_tool`, once more at Go's own collection pace when the tool ran out of its
    memory budget: a build near the budget otherwise passes or fails by the machine's load
    (kserve's kubeflow overlay, 7.6 MB, failed in one run of three)."""
    try:
        return run(unrestricted=unrestricted)
    except KustomizeBuildError as error:
        if not error.out_of_memory:
            raise
        return run(unrestricted=unrestricted, frugal=True)


def build(
    directory: Path,
    *,
    timeout: float = 120,
    root: Path | None = None,
    budget: ToolBudget | None = None,
    max_documents: int | None = None,
) -> KustomizeBuild:
    """Render the kustomization in ``directory`` offline and map every object to its files.

    Nothing outside ``root`` (default: :func:`~klint.sources.confine.unit_root` of the
    directory, from the working directory) is read, copied or handed to the tool; the tool
    runs within ``budget`` and may yield at most ``max_documents`` objects.
    """
    started = time.monotonic()
    build_dir, root_file, tree = _scan(directory, root)
    tool = find_tool()

    def run_copy(share: bool) -> tuple[str, str, shared.Splice | None]:
        stubbed = shared.stub(tree, build_dir) if share else None
        return _run_copy(tree, build_dir, root_file, tool, timeout, budget, stubbed)

    def base_text(base: str) -> str:
        return base_output(Path(base), timeout=timeout, root=tree.root, budget=budget)

    reused = shared.reused(tree, build_dir, tool.label)  # a pure base built before
    if reused is not None:
        stdout, stderr, plan = (*reused, None)
    else:  # built by prepare() (the same copy and tool run, earlier), else now
        done = prebuild.take(_prebuilt_key(build_dir, tree, tool, timeout, budget))
        stdout, stderr, plan = done if done is not None else run_copy(shared.enabled())
    documents_out = stdout.count("\n---\n") + 1
    if max_documents is not None and documents_out > max_documents:
        message = documents_problem("the build", documents_out, max_documents)
        raise KustomizeBuildError(message, build_dir)
    stub: str | None = None
    grafts: tuple[Graft, ...] = ()
    lines: list[str] | None = None
    bound: int | None = None
    full: str | None = None  # the tool's output when ``stdout`` is stubbed here
    if plan is None:
        shared.remember_if_base(tree, build_dir, tool.label, stdout, stderr)
        own = shared.own_stub(tree, build_dir, tool.label, stdout)  # a base parsed before
        if own is not None:
            full, (stdout, plan) = stdout, own
    if plan is not None:  # shared CRD bases: schemas stubbed, spliced back (shared.py)
        stripped = strip_exactly(stdout)  # the small stubbed output, annotations removed
        spliced = None
        if stripped is not None:
            spliced = shared.splice(plan, stripped[0], tree, tool.label, base_text)
        if stripped is not None and spliced is not None:
            text, documents, annotations = spliced.text, stripped[1], stripped[2]
            if spliced.grafts and graft_values(documents, spliced.grafts):
                stub, grafts = stripped[0], spliced.grafts
                lines, bound = spliced.lines, spliced.node_bound
            else:
                documents = strip_annotations(text)[1]
        elif full is not None:
            text, documents, annotations = strip_annotations(full)
        else:
            raw = shared.splice(plan, stdout, tree, tool.label, base_text)
            stdout, stderr, _ = (raw.text, stderr, None) if raw is not None else run_copy(False)
            text, documents, annotations = strip_annotations(stdout)
    else:
        text, documents, annotations = strip_annotations(stdout)
    context = BuildContext(build_dir, tree)
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
    seconds = time.monotonic() - started
    inputs = {k.file for k in tree.kustomizations.values()} | {Path(f) for f in tree.files}
    return KustomizeBuild(
        text,
        objects,
        build_dir,
        root_file,
        tool.label,
        seconds,
        warnings,
        stub,
        grafts,
        tuple(sorted(inputs)),
        lines,
        bound,
        UNRESTRICTED in stderr.splitlines(),
    )
