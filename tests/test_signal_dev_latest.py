"""Development copies beside pinned release copies (issue 23 §3, sample 9 DEV-LATEST: the
Azure CSI drivers keep ``deploy/*.yaml`` and ``charts/latest/<chart>/`` at ``:latest`` and
one pinned copy per release, ``deploy/v1.33.0/`` and ``charts/v1.33.0/<chart>-v1.33.0.tgz``).
KL301/KL303 on an image a release copy pins are notes that name it; an image no release
copy pins, a repository without release copies and every other rule keep their level."""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from klint.model.release_copy import names_image
from klint.release_copies import release_pins
from klint.run import RunOptions, run, with_run_contexts
from klint.sources.base import LoadSettings
from klint.sources.discover import discover
from tests.conftest import FIXTURES, needs_helm_sdk

CASES = FIXTURES / "dev-latest"


def _case(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    shutil.copytree(CASES / name, root)
    return root


def _findings(root: Path, path: str = ".") -> list[dict[str, object]]:
    options = RunOptions(paths=(path,), output_format="json", jobs=1, no_cache=True)
    found: list[dict[str, object]] = json.loads(run(options, cwd=root)[1])["findings"]
    return found


def _images(found: list[dict[str, object]], path: str) -> dict[tuple[str, str], dict[str, object]]:
    """(rule, container index) → finding of KL301/KL303 in the file ``path``."""
    return {
        (str(f["rule_id"]), str(f["field_path"]).split(".")[3]): f
        for f in found
        if f["rule_id"] in ("KL301", "KL303") and f["path"] == path
    }


@pytest.mark.parametrize("rule", ["KL301", "KL303"])
def test_the_development_copy_of_a_pinned_release_copy_is_a_note(tmp_path: Path, rule: str) -> None:
    found = _images(_findings(_case(tmp_path, "pinned")), "deploy/x.yaml")
    driver = found[(rule, "containers[0]")]
    assert driver["severity"] == "note"
    assert "a release copy (deploy/v1.2.0/x.yaml, the newest" in str(driver["message"])
    assert "this is the development copy" in str(driver["message"])
    properties = dict(driver["properties"])  # type: ignore[call-overload]
    assert properties.get("expected-for") == "development-copy"
    # the release copy keeps the probe at :latest too: nothing pins it, the warning stays
    assert found[(rule, "containers[1]")]["severity"] == "warning"


@pytest.mark.parametrize("case", ["alone", "other-image"])
def test_without_a_release_copy_that_pins_the_image_the_warning_stays(
    tmp_path: Path, case: str
) -> None:
    found = _images(_findings(_case(tmp_path, case)), "deploy/x.yaml")
    assert len(found) == 4
    for finding in found.values():
        assert finding["severity"] == "warning"
        assert "development copy" not in str(finding["message"])


def test_the_file_named_alone_reads_its_release_copies(tmp_path: Path) -> None:
    root = _case(tmp_path, "pinned")
    found = _images(_findings(root, "deploy/x.yaml"), "deploy/x.yaml")
    assert found[("KL301", "containers[0]")]["severity"] == "note"


def test_a_manifest_built_by_an_overlay_reads_its_release_copies(tmp_path: Path) -> None:
    root = _case(tmp_path, "pinned")
    (root / "deploy" / "kustomization.yaml").write_text("resources: [x.yaml]\n")
    found = _images(_findings(root), "deploy/x.yaml")
    assert found[("KL301", "containers[0]")]["severity"] == "note"
    assert found[("KL301", "containers[1]")]["severity"] == "warning"


def test_only_the_mutable_tag_rules_are_lowered(tmp_path: Path) -> None:
    found = _findings(_case(tmp_path, "pinned"))
    lowered = {
        str(f["rule_id"]) for f in found if "this is the development copy" in str(f["message"])
    }
    assert lowered == {"KL301", "KL303"}
    alone = _findings(_case(tmp_path, "alone"))
    by_rule = {(f["rule_id"], f["field_path"], f["severity"]) for f in alone}
    pinned_other = {
        (f["rule_id"], f["field_path"], f["severity"])
        for f in found
        if f["path"] == "deploy/x.yaml" and f["rule_id"] not in ("KL301", "KL303")
    }
    assert pinned_other == {x for x in by_rule if x[0] not in ("KL301", "KL303")}


def test_a_release_copy_that_is_a_link_is_not_read(tmp_path: Path) -> None:
    root = _case(tmp_path, "alone")
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(CASES / "pinned" / "deploy" / "v1.2.0" / "x.yaml", outside / "x.yaml")
    (root / "deploy" / "v1.2.0").mkdir()
    os.symlink(outside / "x.yaml", root / "deploy" / "v1.2.0" / "x.yaml")
    os.symlink(outside, root / "deploy" / "v1.3.0")  # a version folder that is a link
    found = _images(_findings(root, "deploy"), "deploy/x.yaml")
    assert found[("KL301", "containers[0]")]["severity"] == "warning"


def test_the_release_copies_decide_the_run_key(tmp_path: Path) -> None:
    """What the release copies pin is part of LoadSettings, whose repr keys the cache."""
    root = _case(tmp_path, "pinned")
    units = discover(["."], cwd=root).units
    pins = with_run_contexts(LoadSettings(), units, root).release_pins
    assert pins == (("deploy/x.yaml", "mcr.example.com/k8s/csi/driver", "deploy/v1.2.0/x.yaml"),)
    release = root / "deploy" / "v1.2.0" / "x.yaml"
    release.write_text(release.read_text().replace("driver:v1.2.0", "driver:latest"))
    assert release_pins(units, root) == ()


def _pack(chart: Path, archive: Path, version: str, tag: str) -> None:
    """``helm package`` of ``chart`` at ``version`` with the driver's tag set to ``tag``."""
    with tarfile.open(archive, "w:gz") as tar:
        for file in sorted(chart.rglob("*")):
            if not file.is_file():
                continue
            text = file.read_text()
            if file.name == "Chart.yaml":
                text = text.replace("0.0.0", version)
            if file.name == "values.yaml":
                text = text.replace("tag: latest", f"tag: {tag}", 1)
            data = text.encode()
            info = tarfile.TarInfo(f"c/{file.relative_to(chart).as_posix()}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@needs_helm_sdk
@pytest.mark.parametrize("packaged", [True, False])
def test_the_latest_chart_of_a_pinned_chart_release_is_a_note(
    tmp_path: Path, packaged: bool
) -> None:
    root = _case(tmp_path, "chart")
    release = root / "charts" / "v1.2.0"
    release.mkdir()
    latest = root / "charts" / "latest" / "c"
    if packaged:
        _pack(latest, release / "c-v1.2.0.tgz", "1.2.0", "v1.2.0")
    else:
        shutil.copytree(latest, release / "c")
        values = release / "c" / "values.yaml"
        values.write_text(values.read_text().replace("tag: latest", "tag: v1.2.0", 1))
    found = _images(_findings(root, "charts/latest/c"), "charts/latest/c/templates/deploy.yaml")
    where = "charts/v1.2.0/c-v1.2.0.tgz" if packaged else "charts/v1.2.0/c/values.yaml"
    for rule in ("KL301", "KL303"):
        driver = found[(rule, "containers[0]")]
        assert driver["severity"] == "note"
        assert f"a release copy ({where}, the newest" in str(driver["message"])
        assert found[(rule, "containers[1]")]["severity"] == "warning"  # probe: not pinned


@needs_helm_sdk
def test_a_chart_without_a_pinned_release_keeps_the_warning(tmp_path: Path) -> None:
    root = _case(tmp_path, "chart")
    (root / "charts" / "v1.2.0").mkdir()
    _pack(
        root / "charts" / "latest" / "c",
        root / "charts" / "v1.2.0" / "c-v1.2.0.tgz",
        "1.2.0",
        "latest",
    )
    found = _images(_findings(root, "charts/latest/c"), "charts/latest/c/templates/deploy.yaml")
    assert found[("KL301", "containers[0]")]["severity"] == "warning"


@pytest.mark.parametrize(
    ("pinned", "name", "expected"),
    [
        ("/k8s/csi/driver", "mcr.example.com/k8s/csi/driver", True),
        ("/k8s/csi/driver", "k8s/csi/driver", True),
        ("/k8s/csi/driver", "mcr.example.com/k8s/csi/other-driver", False),
        ("/driver", "mcr.example.com/k8s/csi/other-driver", False),
        ("mcr.example.com/k8s/csi/driver", "mcr.example.com/k8s/csi/driver", True),
        ("example.com/driver", "mcr.example.com/driver", False),  # exact for manifests
    ],
)
def test_names_image(pinned: str, name: str, expected: bool) -> None:
    assert names_image(pinned, name) is expected


def test_a_cached_result_follows_its_release_copies(tmp_path: Path) -> None:
    root = _case(tmp_path, "pinned")
    options = RunOptions(paths=(".",), output_format="json", jobs=1, cache_dir=tmp_path / "c")

    def driver() -> str:
        found = json.loads(run(options, cwd=root)[1])["findings"]
        return str(_images(found, "deploy/x.yaml")[("KL301", "containers[0]")]["severity"])

    assert driver() == "note"
    assert driver() == "note"  # from the cache
    release = root / "deploy" / "v1.2.0" / "x.yaml"
    release.write_text(release.read_text().replace("driver:v1.2.0", "driver:latest"))
    assert driver() == "warning"


def test_values_that_alias_themselves_are_walked_once() -> None:
    from klint.release_copies import _pinned_in_values

    laughs = ["b0: &b0 {repository: /k8s/csi/driver, tag: v1.2.0}"]
    for level in range(1, 30):  # 2**29 paths to the same mapping
        laughs.append(f"b{level}: &b{level} [*b{level - 1}, *b{level - 1}]")
    assert _pinned_in_values("\n".join(laughs)) == {"/k8s/csi/driver"}
    assert _pinned_in_values("x: &x [*x]\n") == set()
