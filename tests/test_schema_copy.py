"""The bundled Kubernetes schemas load through a plain-value copy in the user's cache."""

from __future__ import annotations

import gzip
import json
import marshal
from pathlib import Path

import pytest

from klint import k8s_schemas
from klint.data import data_path


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "klint"


def _bundled(name: str) -> object:
    with gzip.open(data_path("schemas", "kubernetes", name), "rt", encoding="utf-8") as handle:
        return json.load(handle)


def test_the_copy_gives_the_bundled_json(cache: Path) -> None:
    expected = _bundled("definitions.json.gz")
    assert k8s_schemas._read_gzip_json("definitions.json.gz") == expected  # written
    (copy,) = cache.glob("schema-*.marshal")
    assert marshal.loads(copy.read_bytes()) == expected
    assert k8s_schemas._read_gzip_json("definitions.json.gz") == expected  # read back


def test_a_damaged_or_forged_copy_is_ignored(cache: Path) -> None:
    name = "v1.30.json.gz"
    expected = _bundled(name)
    k8s_schemas._read_gzip_json(name)
    (copy,) = cache.glob("schema-*.marshal")
    for damage in (b"", b"\x00garbage", copy.read_bytes()[:100], marshal.dumps(["not", "a dict"])):
        copy.write_bytes(damage)
        assert k8s_schemas._read_gzip_json(name) == expected


def test_an_unwritable_cache_still_reads_the_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert k8s_schemas._read_gzip_json("v1.30.json.gz") == _bundled("v1.30.json.gz")
