"""The result cache replays unchanged units byte for byte, and a forged entry changes nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import klint
from klint import result_cache
from klint.run import RunOptions, run
from tests.conftest import REPO

POD = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  hostNetwork: true
  containers:
    - name: app
      image: nginx:1.27
"""
QUIET = POD.replace("hostNetwork: true", "hostNetwork: false")


@pytest.fixture(autouse=True)
def own_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own per-user key (never the developer's)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.delenv("KLINT_CACHE_DIR", raising=False)


def lint(paths: tuple[str, ...], cwd: Path, fmt: str = "json", **options: object) -> str:
    return run(RunOptions(paths=paths, output_format=fmt, jobs=1, **options), cwd=cwd)[1]  # type: ignore[arg-type]


def counting(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(hits, units keyed) of every run from now on."""
    seen: list[tuple[int, int]] = []
    close = result_cache.ResultCache.close

    def record(self: result_cache.ResultCache) -> None:
        seen.append((self.hits, len(self.keys)))
        close(self)

    monkeypatch.setattr(result_cache.ResultCache, "close", record)
    return seen


def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "apps").mkdir()
    (root / "apps" / "pod.yaml").write_text(POD)
    (root / "apps" / "other.yaml").write_text(QUIET.replace("name: web", "name: other"))
    shutil.copytree(REPO / "fixtures" / "kustomize", root / "kustomize")
    shutil.copytree(REPO / "fixtures" / "examples", root / "examples")
    return root


@pytest.mark.parametrize("fmt", ["json", "sarif", "text", "github", "junit"])
def test_cached_output_is_the_uncached_output(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path)
    seen = counting(monkeypatch)
    fresh = lint((".",), root, fmt, no_cache=True)
    first = lint((".",), root, fmt)
    second = lint((".",), root, fmt)
    assert fresh == first == second
    # the second run replayed every unit, kustomize/broken and remote (refused) included
    assert seen[0][0] == 0 and seen[1][0] == seen[1][1] >= 5
    assert (root / ".klint_cache" / "CACHEDIR.TAG").is_file()


def test_cache_dir_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo(tmp_path)
    lint(("apps",), root, cache_dir=tmp_path / "given")
    assert (tmp_path / "given" / result_cache.FORMAT).is_dir()
    monkeypatch.setenv("KLINT_CACHE_DIR", str(tmp_path / "from-env"))
    lint(("apps",), root)
    assert (tmp_path / "from-env" / result_cache.FORMAT).is_dir()
    assert not (root / ".klint_cache").exists()
    lint(("apps",), root, no_cache=True, cache_dir=tmp_path / "unused")
    assert not (tmp_path / "unused").exists()


def entries(directory: Path) -> list[Path]:
    return sorted(p for p in (directory / result_cache.FORMAT).rglob("*") if p.is_file())


def test_a_forged_entry_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo(tmp_path)
    expected = lint(("apps/pod.yaml",), root, no_cache=True)
    assert "KL102" in expected
    lint(("apps/pod.yaml",), root)
    (entry,) = entries(root / ".klint_cache")
    head, _, body = entry.read_bytes().partition(b"\n")
    payload = json.loads(body)
    payload["result"]["findings"] = []  # what a pull request would like the run to say
    forged = json.dumps(payload).encode()
    seen = counting(monkeypatch)
    # the old MAC over a new body
    entry.write_bytes(head + b"\n" + forged)
    assert lint(("apps/pod.yaml",), root) == expected
    # a MAC made with another key (the attacker's own machine)
    other = result_cache.ResultCache(root, "", b"0" * 64, 1 << 30)
    mac = other._mac(entry.name, forged).encode()
    entry.write_bytes(b"KLINT1 " + mac + b"\n" + forged)
    assert lint(("apps/pod.yaml",), root) == expected
    # garbage
    entry.write_bytes(b"\x00" * 100)
    assert lint(("apps/pod.yaml",), root) == expected
    assert [hits for hits, _ in seen] == [0, 0, 0]
    assert lint(("apps/pod.yaml",), root) == expected  # rewritten honestly, then used
    assert seen[-1][0] == 1


def test_a_valid_entry_under_another_key_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path)
    lint(("apps/other.yaml",), root)
    (quiet,) = entries(root / ".klint_cache")
    expected = lint(("apps/pod.yaml",), root, no_cache=True)
    lint(("apps/pod.yaml",), root)
    loud = next(e for e in entries(root / ".klint_cache") if e != quiet)
    loud.write_bytes(quiet.read_bytes())  # authentic, but for another unit
    seen = counting(monkeypatch)
    assert lint(("apps/pod.yaml",), root) == expected
    assert seen[0][0] == 0


def test_invalidated_by_a_file_a_config_and_the_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path)
    seen = counting(monkeypatch)
    first = lint((".",), root)
    (root / "apps" / "pod.yaml").write_text(QUIET)
    touched = lint((".",), root)
    assert touched == lint((".",), root, no_cache=True)
    assert touched != first  # the hostNetwork finding is gone, not replayed
    assert seen[1][0] == seen[1][1] - 1  # all but the changed one
    (root / ".klint.yaml").write_text("ignore: [KL301]\n")
    configured = lint((".",), root)
    assert configured == lint((".",), root, no_cache=True)
    assert seen[2][0] == 0
    monkeypatch.setattr(klint, "__version__", "99.0.0")
    lint((".",), root)
    assert seen[3][0] == 0


def test_invalidated_by_a_kustomize_base_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path)
    overlays = ("kustomize/overlays",)
    seen = counting(monkeypatch)
    lint(overlays, root)
    base = root / "kustomize" / "base" / "deployment.yaml"
    base.write_text(base.read_text().replace("image: ", "image: registry.example/"))
    after = lint(overlays, root)
    assert after == lint(overlays, root, no_cache=True)
    assert seen[1][1] > 0 and seen[1][0] == 0  # every overlay reads the base: none replayed
    lint(overlays, root)
    assert seen[-1][0] == seen[-1][1] > 0


def test_invalidated_by_a_helm_values_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo(tmp_path)
    shutil.copytree(REPO / "fixtures" / "helm" / "web", root / "chart")
    values = root / "values.yaml"
    values.write_text("securityContext:\n  privileged: true\n")
    seen = counting(monkeypatch)
    first = lint(("chart",), root, helm_values=(str(values),))
    assert first == lint(("chart",), root, helm_values=(str(values),))
    assert seen[1][0] == 1
    values.write_text("securityContext:\n  privileged: false\n")
    second = lint(("chart",), root, helm_values=(str(values),))
    assert seen[2][0] == 0
    assert second == lint(("chart",), root, helm_values=(str(values),), no_cache=True)
    assert first != second


def test_two_processes_share_a_cache_safely(tmp_path: Path) -> None:
    root = repo(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(tmp_path / "user-cache")}
    command = [sys.executable, "-m", "klint", "check", "--format", "sarif", "."]
    expected = subprocess.run(
        [*command, "--no-cache"], cwd=root, env=env, capture_output=True, check=False
    ).stdout
    for _ in range(2):
        both = [
            subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE) for _ in range(2)
        ]
        outputs = [process.communicate()[0] for process in both]
        assert outputs == [expected, expected]
    assert not list((root / ".klint_cache").rglob("*.tmp"))


def test_a_linked_cache_folder_is_refused(tmp_path: Path) -> None:
    root = repo(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / ".klint_cache").symlink_to(outside)
    report, text, _ = run(RunOptions(paths=("apps",), output_format="json", jobs=1), cwd=root)
    assert text == lint(("apps",), root, no_cache=True)
    assert any("not a folder" in w for w in report.warnings)
    assert list(outside.iterdir()) == []


def test_a_linked_folder_inside_the_cache_is_not_written_through(tmp_path: Path) -> None:
    root = repo(tmp_path)
    lint(("apps/pod.yaml",), root)
    (entry,) = entries(root / ".klint_cache")
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(entry.parent)
    entry.parent.symlink_to(outside)
    assert lint(("apps/pod.yaml",), root) == lint(("apps/pod.yaml",), root, no_cache=True)
    assert list(outside.iterdir()) == []


def test_the_cache_folder_is_not_linted(tmp_path: Path) -> None:
    root = repo(tmp_path)
    lint(("apps",), root)
    (root / ".klint_cache" / "evil.yaml").write_text(POD)
    assert "klint_cache" not in lint((".",), root)


def test_the_cache_stays_within_its_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo(tmp_path)
    monkeypatch.setenv("KLINT_CACHE_MAX_MB", "0")
    lint((".",), root)
    assert entries(root / ".klint_cache") == []


def test_the_secret_is_private(tmp_path: Path) -> None:
    secret = result_cache.secret_key()
    key = tmp_path / "user-cache" / "klint" / "result-cache.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert result_cache.secret_key() == secret
    key.chmod(0o644)
    with pytest.raises(result_cache.CacheUnavailable):
        result_cache.secret_key()


def test_a_committed_link_inside_the_cache_is_never_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path)
    outside = tmp_path / "outside"
    (outside / "ab").mkdir(parents=True)
    (outside / "ab" / "precious").write_text("keep me")
    (root / ".klint_cache").mkdir()
    (root / ".klint_cache" / result_cache.FORMAT).symlink_to(outside)
    monkeypatch.setenv("KLINT_CACHE_MAX_MB", "0")  # eviction would delete everything it sees
    assert lint(("apps",), root) == lint(("apps",), root, no_cache=True)
    assert (outside / "ab" / "precious").read_text() == "keep me"
    assert sorted(p.name for p in outside.rglob("*")) == ["ab", "precious"]


def test_the_cache_reads_no_fifo_and_nothing_outside_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path)
    shutil.copytree(REPO / "fixtures" / "helm" / "web", root / "chart")
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    (root / "chart" / "link.txt").symlink_to(outside)
    os.mkfifo(root / "chart" / "pipe")
    opened: list[str] = []

    def spy(name: str, *args: object, **kwargs: object) -> object:
        opened.append(str(name))
        return open(name, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(result_cache, "open", spy, raising=False)
    seen = counting(monkeypatch)
    lint(("chart", "apps"), root)
    assert opened and not [n for n in opened if n.endswith(("outside.txt", "link.txt", "pipe"))]
    assert seen[0][1] == 1  # apps is cached, the chart (a FIFO, a link out) is not


def test_helm_template_output_is_keyed_by_the_chart_it_maps_into(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path)
    shutil.copytree(REPO / "fixtures" / "helm" / "web", root / "charts" / "web")
    (root / "rendered").mkdir()
    shutil.copy(REPO / "fixtures" / "helm" / "web-rendered.yaml", root / "rendered" / "out.yaml")
    seen = counting(monkeypatch)
    first = lint(("rendered",), root, "sarif")
    assert "charts/web/templates/" in first  # findings point into the chart
    assert lint(("rendered",), root, "sarif") == first
    assert seen[1] == (1, 1)
    template = root / "charts" / "web" / "templates" / "deployment.yaml"
    template.write_text("\n\n" + template.read_text())  # every template line moves down
    moved = lint(("rendered",), root, "sarif")
    assert seen[2][0] == 0
    assert moved == lint(("rendered",), root, "sarif", no_cache=True) != first


@pytest.mark.parametrize("directive", [False, True])
def test_units_sharing_a_suppressed_file_are_replayed_together(
    directive: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path)
    kustomize = root / "kustomize"
    shutil.rmtree(kustomize / "broken")
    shutil.rmtree(kustomize / "remote")
    shutil.copytree(kustomize / "overlays" / "prod", kustomize / "overlays" / "staging")
    base = kustomize / "base" / "deployment.yaml"
    if directive:  # a directive one overlay's findings may use and the other's not
        base.write_text(
            base.read_text().replace(
                "runAsUser: 0", "runAsUser: 0  # klint: ignore[KL205] tested elsewhere"
            )
        )
    seen = counting(monkeypatch)
    lint(("kustomize",), root)
    staging = kustomize / "overlays" / "staging" / "kustomization.yaml"
    staging.write_text(staging.read_text().replace("namespace: prod", "namespace: staging"))
    again = lint(("kustomize",), root)
    assert again == lint(("kustomize",), root, no_cache=True)
    keyed = seen[1][1]
    # base and prod replayed unless the shared base holds a directive: then all three again
    assert seen[1][0] == (0 if directive else keyed - 1)


def keyed_units(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The displays of the units each run from now on keys."""
    runs: list[list[str]] = []
    prepare = result_cache.ResultCache.prepare

    def record(self: result_cache.ResultCache, units: Any, *rest: Any) -> None:
        prepare(self, units, *rest)
        runs.append(sorted(u.display for u in units if id(u) in self.keys))

    monkeypatch.setattr(result_cache.ResultCache, "prepare", record)
    return runs


@pytest.mark.parametrize("both", [False, True])
def test_only_units_that_may_have_a_directive_are_replayed_together(
    both: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path)
    kustomize = root / "kustomize"
    shutil.rmtree(kustomize / "broken")
    shutil.copytree(kustomize / "overlays" / "prod", kustomize / "overlays" / "staging")
    for name in ("prod", "staging") if both else ("prod",):
        privileged = kustomize / "overlays" / name / "privileged.yaml"
        privileged.write_text(  # the overlay's own file: no other unit reads it
            privileged.read_text() + "# klint: ignore[KL205] tested elsewhere\n"
        )
    seen = counting(monkeypatch)
    lint(("kustomize",), root)
    staging = kustomize / "overlays" / "staging" / "kustomization.yaml"
    staging.write_text(staging.read_text().replace("namespace: prod", "namespace: staging"))
    again = lint(("kustomize",), root)
    assert again == lint(("kustomize",), root, no_cache=True)
    hits, keyed = seen[1]
    # two overlays with directives that share a base (a note located there is reported
    # once) go together; an overlay without one shares nothing that matters
    assert hits == keyed - (2 if both else 1) >= 1


def test_skipped_files_and_local_chart_dependencies_leave_charts_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path)
    shutil.copytree(REPO / "fixtures" / "helm" / "missing-dep", root / "chart")
    chart = root / "chart" / "Chart.yaml"
    chart.write_text(
        chart.read_text().replace("oci://registry.example.invalid/charts", "file://../x")
    )
    # a patch no build applies: reported as part of its overlay, never linted alone
    (root / "kustomize" / "overlays" / "prod" / "unused-patch.yaml").write_text(POD)
    keyed = keyed_units(monkeypatch)
    seen = counting(monkeypatch)
    first = lint((".",), root)
    assert "postgresql" in first and "unused-patch.yaml" not in first
    assert lint((".",), root) == first == lint((".",), root, no_cache=True)
    assert "chart" in keyed[1] and seen[1][0] == seen[1][1]
    assert "kustomize/overlays/prod/unused-patch.yaml" in keyed[1]  # keyed by what it says


def test_a_chart_render_that_timed_out_is_never_stored(tmp_path: Path) -> None:
    # a new process: the render runs in its child, with the time limit (in this process an
    # earlier test may have loaded the Helm SDK, which then renders in-process)
    root = repo(tmp_path)
    shutil.copytree(REPO / "fixtures" / "helm" / "web", root / "chart")
    cache = tmp_path / "cache"
    arguments = ("--format", "json", "--render-timeout", "0.0001", "--cache-dir", str(cache))
    first = klint_cli(root, *arguments, "chart")
    assert first[0] == 2 and b"took longer" in first[1]
    assert klint_cli(root, *arguments, "chart") == first
    assert not cache.exists() or not entries(cache)


def test_only_repeatable_problems_are_stored(tmp_path: Path) -> None:
    from klint.engine import UnitResult
    from klint.findings import Notification

    cache = result_cache.ResultCache(tmp_path / "c", "run", b"k" * 64, 1 << 30)
    unit = object()
    cache.keys[id(unit)] = "ab" * 32
    moment = Notification("unit-budget", "x", None, repeatable=False)
    for result in [
        UnitResult(notifications=[moment]),
        UnitResult(notifications=[Notification("helm-render", "x", None, fatal=True), moment]),
        UnitResult(skipped=[moment]),
    ]:
        cache.put(unit, result)  # type: ignore[arg-type]
        assert cache.written == 0
    # an input problem, fatal or not, is a result of the inputs: stored and replayed as is
    stored = UnitResult(
        notifications=[
            Notification("helm-render", "x", None, fatal=True),
            Notification("too-many-findings", "y", None),
        ]
    )
    cache.put(unit, stored)  # type: ignore[arg-type]
    assert cache.written > 0
    assert cache.get(unit) == stored  # type: ignore[arg-type]


def problems_repo(tmp_path: Path) -> Path:
    """A repository whose units fail for reasons that are their inputs' alone."""
    root = repo(tmp_path)
    (root / "apps" / "bad.yaml").write_text("kind: Pod\nmetadata: [unclosed\n")
    for chart in ("missing-dep", "broken"):
        shutil.copytree(REPO / "fixtures" / "helm" / chart, root / "charts" / chart)
    return root


def klint_cli(root: Path, *arguments: str) -> tuple[int, bytes, bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "KLINT_NO_FAST_PATH": ""}
    command = [sys.executable, "-m", "klint", "check", *arguments]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, check=False)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("fmt", ["json", "sarif", "text"])
def test_a_repeatable_fatal_problem_is_replayed_byte_for_byte(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = problems_repo(tmp_path)
    arguments = ("--format", fmt, ".")
    fresh = klint_cli(root, *arguments, "--no-cache")
    assert fresh[0] == 2
    first = klint_cli(root, *arguments)
    second = klint_cli(root, *arguments)
    assert fresh == first == second  # exit code, stdout and stderr
    for problem in ("missing.yaml", "remote resource", "missing-dep", "charts/broken"):
        assert problem.encode() in fresh[1] + fresh[2]
    seen = counting(monkeypatch)
    lint((".",), root, fmt)
    hits, keyed = seen[0]
    # every unit (apps, examples, the overlays, both charts) was stored and replayed, the failed
    # ones too (kustomize/base is linted through overlays/prod, not as a unit of its own)
    assert hits == keyed >= 7


def test_a_failed_build_is_linted_again_once_what_it_names_appears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path)
    broken = root / "kustomize" / "broken"
    kustomization = broken / "kustomization.yaml"
    text = kustomization.read_text().replace("missing.yaml", "../gone/missing.yaml")
    kustomization.write_text(text + "  - example.com/base\n")
    seen = counting(monkeypatch)
    failed = lint(("kustomize/broken",), root)
    assert "remote resource 'example.com/base'" in failed
    assert lint(("kustomize/broken",), root) == failed
    assert seen[1][0] == seen[1][1] == 2  # the overlay and its folder's file
    # a folder where the entry points (none of the build's files): kustomize would read it
    # as a remote name all the same, and klint says so instead
    (broken / "example.com" / "base").mkdir(parents=True)
    named = lint(("kustomize/broken",), root)
    assert seen[2][0] == 1  # the file alone
    assert named == lint(("kustomize/broken",), root, no_cache=True) != failed
    (broken / "example.com" / "base").rmdir()
    kustomization.write_text(text)
    missing = lint(("kustomize/broken",), root)
    assert "no such file or directory" in missing
    (root / "kustomize" / "gone").mkdir()  # in no folder the build reads until now
    shutil.copy(broken / "deployment.yaml", root / "kustomize" / "gone" / "missing.yaml")
    built = lint(("kustomize/broken",), root)
    assert built == lint(("kustomize/broken",), root, no_cache=True) != missing


@pytest.mark.parametrize(
    ("target", "limit"),
    [
        ("kustomize/overlays/prod", {"render_timeout": 0.0001}),
        ("apps", {"unit_timeout": 0.000001}),
    ],
)
def test_a_timed_out_unit_is_never_stored(
    target: str, limit: dict[str, float], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path)
    shutil.copytree(REPO / "fixtures" / "helm" / "web", root / "chart")
    seen = counting(monkeypatch)
    first = lint((target,), root, **limit)
    assert "took longer" in first or "did not finish" in first
    assert lint((target,), root, **limit) == first
    assert [hits for hits, _ in seen] == [0, 0] and seen[0][1] > 0
    assert not (root / ".klint_cache").exists() or not entries(root / ".klint_cache")


def test_the_codec_keeps_every_field_of_a_finding() -> None:
    from klint.cache_codec import CURRENT, decode_result, encode_result
    from klint.engine import UnitResult
    from klint.findings import (
        Applicability,
        Finding,
        Fix,
        Location,
        Notification,
        ObjectRef,
        RelatedLocation,
        Severity,
        Span,
        Suppression,
        TextEdit,
    )

    assert CURRENT, "a result type gained a field: teach klint/cache_codec.py about it"
    where = Location("a\udcff/b.yaml", Span(1, 2, 3, 4))
    finding = Finding(
        rule_id="KL1",
        rule_name="one",
        severity=Severity.NOTE,
        message="m \u202e",
        location=where,
        object_ref=ObjectRef("v1", "Pod", "ns", "p"),
        field_path=("spec", "containers", 0, "image"),
        related=(RelatedLocation(Location("values.yaml", Span(5, 6, 7, 8)), "set here"),),
        properties=(("k", "v"), ("pss-also-violates", "x")),
        suppression=Suppression("inSource", "why", "comment"),
        source_identity="chart#Pod#0",
        fix=Fix("d", Applicability.NEEDS_REVIEW, (TextEdit(Span(1, 1, 1, 2), "x"),)),
    )
    result = UnitResult(
        findings=[finding, Finding("KL2", "two", Severity.ERROR, "m", where, None, ())],
        notifications=[Notification("c", "m", None, Severity.WARNING, True)],
        skipped=[Notification("s", "m", where, Severity.NOTE)],
        files=2,
        objects=3,
    )
    assert decode_result(json.loads(json.dumps(encode_result(result)))) == result


def test_invalidated_by_a_built_in_rule_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Built-in rules are keyed by the catalogue index key (every rule file's name, size and
    # mtime), not by their whole text: an edited rule file must still miss.
    from klint import catalog

    rules = tmp_path / "rules"
    shutil.copytree(catalog.builtin_rules_dir(), rules)
    monkeypatch.setattr(catalog, "builtin_rules_dir", lambda: rules)
    root = repo(tmp_path)
    seen = counting(monkeypatch)
    first = lint(("apps",), root)
    assert lint(("apps",), root) == first
    assert seen[1][0] == seen[1][1] > 0  # replayed
    rule = rules / "pod-security" / "host-network.yaml"
    rule.write_text(rule.read_text().replace("severity: error", "severity: note", 1))
    edited = lint(("apps",), root)
    assert seen[2][0] == 0  # nothing replayed from before the edit
    assert edited == lint(("apps",), root, no_cache=True) != first
    assert '"rule_id": "KL102"' in edited and '"severity": "note"' in edited


def test_invalidated_by_a_custom_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo(tmp_path)
    custom = root / "custom-rules"
    shutil.copytree(REPO / "fixtures" / "custom-rules" / "rules", custom)
    seen = counting(monkeypatch)
    first = lint(("apps",), root, rules_dirs=(custom,))
    assert lint(("apps",), root, rules_dirs=(custom,)) == first
    assert seen[1][0] == seen[1][1] > 0  # replayed
    rule = custom / "memory-limit-missing.yaml"  # in the default profile
    rule.write_text(rule.read_text().replace("summary: ", "summary: Edited. ", 1))
    edited = lint(("apps",), root, rules_dirs=(custom,))
    assert seen[2][0] == 0  # a custom rule is keyed by its whole text
    assert edited == lint(("apps",), root, rules_dirs=(custom,), no_cache=True)
