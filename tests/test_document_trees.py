"""A plain manifest's node trees are released after loading and composed again, with the
same nodes at the same places, when a finding needs positions (klint.document_trees)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from klint.document_trees import release
from klint.documents import Document, parse_stream
from klint.sources.base import LoadSettings
from klint.sources.manifests import ManifestFile, load_bytes
from tests.conftest import CORPUS

TRICKY = {
    "several": "a: 1\n---\n# comment\nb:\n  - x\n  - y: [1, 2]\n---\nc: |\n  text\n  more\n",
    "crlf": "kind: Pod\r\nmetadata:\r\n  name: x\r\n---\r\nkind: Service\r\n",
    "unicode": 'a: "é€😀"\nb: ü\n---\nc: "\\u00e9"\nd: 1\n',
    "anchors": "base: &b {cpu: 1}\nlimits:\n  <<: *b\n  memory: 2\nlist: [*b, *b]\n",
    "flow root": "--- {a: 1, b: [2, 3]}\n--- [x, y]\n---\nplain: value\n",
    "scalar root": "--- just text\n---\nkind: Pod\n",
    "explicit end": "a: 1\n...\n---\nb: 2\n...\n---\n",
    "block scalars": "k: |+\n  kept\n\n\n---\nv: >-\n  folded\n  text\nz: 'q''uote'\n",
    "tags": "a: !!str 8080\nb: !!int '7'\nc: !custom x\n",
    "line separators": "a: 'x\u2028y\x85z'\nb: 1\n---\nc: 2\n",
    "deep indent": "spec:\n    template:\n        spec:\n          containers:\n          - a\n",
}


def _shape(node: yaml.Node, offset: int) -> Any:
    """Everything about a node tree that a locator or fix reads: kinds, tags, values, styles
    and absolute positions (line + the document's offset, column)."""
    where = (
        node.start_mark.line + offset,
        node.start_mark.column,
        node.end_mark.line + offset,
        node.end_mark.column,
    )
    if isinstance(node, yaml.ScalarNode):
        return ("scalar", node.tag, node.value, node.style, where)
    if isinstance(node, yaml.SequenceNode):
        return ("seq", node.tag, node.flow_style, where, [_shape(n, offset) for n in node.value])
    pairs = [(_shape(k, offset), _shape(v, offset)) for k, v in node.value]
    return ("map", node.tag, node.flow_style, where, pairs)


def _released(text: str) -> tuple[list[Any], list[Document]]:
    """The shapes of the trees as composed, and the documents after releasing them."""
    parsed = parse_stream(text, "x.yaml")
    before = [_shape(d.root, d.line_offset) for d in parsed.documents]
    release(parsed.documents, text)
    return before, parsed.documents


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_a_released_tree_is_composed_again_the_same(name: str) -> None:
    before, documents = _released(TRICKY[name])
    assert before
    assert [_shape(d.root, d.line_offset) for d in documents] == before
    # a document whose root starts a line is released (only a root after ``---`` is not)
    assert any(d.tree is None for d in documents)


def test_trees_are_released_only_where_their_text_gives_them_back() -> None:
    _, documents = _released(TRICKY["flow root"])
    assert [d.tree is None for d in documents] == [False, False, True]
    # a %TAG handle is declared outside the document's text: nothing is released
    text = "%TAG !e! tag:example.com,2000:\n---\na: !e!thing x\n"
    before, documents = _released(text)
    assert all(d.tree is not None for d in documents)
    assert [_shape(d.root, d.line_offset) for d in documents] == before


def test_the_recent_trees_are_kept_and_others_composed_again() -> None:
    text = "".join(f"---\nk: {i}\n" for i in range(20))
    _, documents = _released(text)
    first = documents[0].root
    assert documents[0].root is first  # the findings of one object share one tree
    for document in documents[1:]:
        assert document.root.value[0][1].value == str(document.data["k"])
    assert documents[0].root is not first  # composed again: trees do not accumulate
    assert _shape(documents[0].root, 0) == _shape(first, 0)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="needs the shared corpus (KLINT_CORPUS)")
def test_every_corpus_manifest_gives_back_the_same_trees() -> None:
    released = 0
    for path in sorted(CORPUS.rglob("*.y*ml")):  # raw, rendered charts and overlays
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        try:
            before, documents = _released(text)
        except UnicodeEncodeError:  # not UTF-8: never reaches the parser
            continue
        assert [_shape(d.root, d.line_offset) for d in documents] == before, path
        released += sum(d.tree is None for d in documents)
    assert released > 1000


def test_a_loaded_manifest_holds_no_tree_and_rendered_output_keeps_its_own(
    tmp_path: Path,
) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(TRICKY["several"])
    loaded = ManifestFile(manifest, "app.yaml").load(LoadSettings())
    assert len(loaded.documents) == 3
    assert all(d.tree is None for d in loaded.documents)

    def mapper(documents: list[Document], directory: Path, cwd: Path) -> Any:
        return object()  # a locator of rendered output: may hold nodes, so trees stay

    rendered = b"---\n# Source: chart/templates/a.yaml\nkind: Pod\n"
    unit = load_bytes(rendered, "out.yaml", LoadSettings(), tmp_path, tmp_path, rendered=mapper)
    assert all(d.tree is not None for d in unit.documents)
