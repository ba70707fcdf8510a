"""Units linted in worker processes give byte for byte what a serial run gives.

The input has several units (plain folders, two overlays over one base, the base linted on
its own), suppressions used, unused, malformed and without a reason (some in the shared
base, so two units give the same note), findings the base's own unit and both overlays
reach (de-duplicated once per location) and a baseline.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from klint import engine, engine_pool
from klint.baseline import baseline_text
from klint.reporters import FORMATS
from klint.run import RunOptions, lint_report, run
from klint.sources.discover import DiscoverOptions, discover

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: team
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: app
          image: example.com/app:latest{comment}
          securityContext: {{privileged: true}}
"""


def _repo(root: Path) -> Path:
    (root / ".git").mkdir(parents=True)
    for folder, count in (("apps", 6), ("jobs", 4), ("more/deep", 5)):
        for index in range(count):
            comment = ""
            if index == 1:
                comment = "  # klint: ignore[mutable-image-tag] pinned by the release job"
            elif index == 2:
                comment = "  # klint: ignore[KL101]"  # no reason
            elif index == 3:
                comment = "  # klint: ignore[host-network] not used"  # matches nothing
            elif index == 4:
                comment = "  # klint: ignore mutable-image-tag"  # malformed
            path = root / folder / f"d{index}.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(
                DEPLOYMENT.format(name=f"{folder.replace('/', '-')}-{index}", comment=comment)
            )
    base = root / "deploy" / "base"
    base.mkdir(parents=True)
    (base / "app.yaml").write_text(
        DEPLOYMENT.format(name="web", comment="  # klint: ignore[host-pid] never matches")
    )
    (base / "kustomization.yaml").write_text("resources:\n  - app.yaml\n")
    for overlay in ("dev", "prod"):
        folder = root / "deploy" / overlay
        folder.mkdir()
        (folder / "kustomization.yaml").write_text(
            f"resources:\n  - ../base\nnamespace: {overlay}\n"
        )
    return root


def _outputs(root: Path, baseline: Path | None) -> dict[str, str]:
    shown = {}
    for fmt in FORMATS:
        options = RunOptions(
            paths=(".",), output_format=fmt, baseline=baseline, no_cache=True, jobs=2
        )
        shown[fmt] = run(options, cwd=root)[1]
    return shown


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kustomize builds need kubectl")
def test_workers_give_the_serial_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _repo(tmp_path)
    report = lint_report(RunOptions(paths=("apps", "jobs"), no_cache=True), cwd=root)[0]
    baseline = root / "baseline.json"
    baseline.write_text(baseline_text(report))
    used: list[bool] = []
    decide = engine_pool.parallel

    def recorded(units: object, jobs: int) -> bool:
        used.append(decide(units, jobs))  # type: ignore[arg-type]
        return used[-1]

    monkeypatch.setattr(engine_pool, "parallel", recorded)
    monkeypatch.setattr(engine_pool, "PARALLEL_MIN_UNITS", 10_000)
    serial = _outputs(root, baseline)
    assert used and not any(used)
    monkeypatch.setattr(engine_pool, "PARALLEL_MIN_UNITS", 2)
    used.clear()
    parallel = _outputs(root, baseline)
    assert used and all(used)
    assert parallel == serial
    text = serial["json"]
    assert text.count('"unused-suppression"') >= 3
    assert text.count("suppression of host-pid matches no finding") == 1  # not per overlay
    assert '"baseline"' in text and "invalid-suppression" in text


def test_heavy_plain_folders_are_linted_in_workers(tmp_path: Path) -> None:
    """A big folder cut into a few 2 MiB units goes to workers; charts and overlays, whose
    cost is not known before they are rendered, stay serial below the unit count."""
    for index in range(3):
        (tmp_path / f"big{index}.yaml").write_text("# padding\n" * 300_000)
    units = discover(
        ["."], cwd=tmp_path, stdin=None, stdin_filename=None, options=DiscoverOptions()
    ).units
    assert len(units) == 3  # one file over 2 MiB each
    assert engine_pool.parallel(units, 2)
    assert not engine_pool.parallel(units, 1)
    assert not engine_pool.parallel(units[:1], 2)
    small = tmp_path / "small"
    small.mkdir()
    (small / "a.yaml").write_text("# x\n")
    few = discover(
        ["small"], cwd=tmp_path, stdin=None, stdin_filename=None, options=DiscoverOptions()
    ).units
    assert not engine_pool.parallel([*few, *few], 2)  # small: forking costs more than it saves

    class Overlay:
        display = "overlay"

    assert not engine_pool.parallel([*units, Overlay()], 2)  # type: ignore[list-item]


def test_workers_send_findings_packed_and_the_cache_stores_them_unpacked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker's findings travel (and wait in the parent) pickled; the result cache still
    stores them as findings, so a cached re-run of a worker run gives the same output."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    for index in range(4):
        folder = root / f"f{index}"
        folder.mkdir()
        (folder / "d.yaml").write_text(DEPLOYMENT.format(name=f"app-{index}", comment=""))
    serial = run(RunOptions(paths=(".",), output_format="json", no_cache=True), cwd=root)[1]
    assert serial.count('"rule_id"') >= 8
    worker = engine_pool.lint_in_worker
    monkeypatch.setattr(engine_pool, "PARALLEL_MIN_UNITS", 2)
    cache = RunOptions(paths=(".",), output_format="json", cache_dir=tmp_path / "c", jobs=2)
    assert run(cache, cwd=root)[1] == serial  # workers; their results stored in the cache
    assert list((tmp_path / "c").rglob("*")), "nothing was cached"
    assert run(cache, cwd=root)[1] == serial  # every unit replayed from the cache
    # what a worker sends (the state the workers inherited is still the parent's)
    result = worker(discover(["f0"], cwd=root).units[0])
    assert isinstance(result, engine.PackedResult) and result.findings == []
    assert engine.unpacked(result).findings, "the packed findings were lost"


def test_a_finding_with_every_part_survives_the_trip_from_a_worker() -> None:
    """Findings are pickled field by field (faster than a slotted dataclass's state)."""
    import pickle

    from klint.findings import (
        Applicability,
        Finding,
        Fix,
        Location,
        ObjectRef,
        RelatedLocation,
        Severity,
        Span,
        Suppression,
        TextEdit,
    )

    where = Location("a/b.yaml", Span(3, 5, 3, 9))
    finding = Finding(
        "KL001",
        "privileged-container",
        Severity.ERROR,
        'container "app" is privileged.',
        where,
        ObjectRef("apps/v1", "Deployment", "team", "web"),
        ("spec", "template", "spec", "containers", 0, "securityContext", "privileged"),
        (RelatedLocation(Location("values.yaml", Span(7, 1, 8, 2)), "set here"),),
        (("expected-for", "component"),),
        Suppression("inSource", "pinned by the release job", "comment"),
        "chart/templates/d.yaml#Deployment#",
        Fix("Remove it.", Applicability.SAFE, (TextEdit(Span(9, 1, 10, 1), ""),)),
    )
    again = pickle.loads(pickle.dumps([finding, finding], pickle.HIGHEST_PROTOCOL))
    assert again == [finding, finding] and again[0] is again[1]
    assert again[0].fix == finding.fix and again[0].related == finding.related
