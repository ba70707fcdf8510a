"""Kustomize features that reach out on their own (issue 22, class 1): plugin config files,
a kustomization file that is a link out of the repository, a local folder named like a git
repository. Each is refused before the tool runs, also without a network namespace."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from klint.sandbox import NO_NAMESPACE_ENV, child_env
from klint.sources.kustomize import tool
from klint.sources.kustomize.build import build
from klint.sources.kustomize.sandbox import KustomizeBuildError
from tests.adversarial.probes import loopback_server, measured_run

pytestmark = pytest.mark.skipif(
    shutil.which("kustomize") is None and shutil.which("kubectl") is None,
    reason="needs kustomize or kubectl",
)

CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
PRIVILEGED_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: other}
spec:
  containers: [{name: c, image: nginx:1.25, securityContext: {privileged: true}}]
"""
# Builtin plugin configs that make kustomize load a URL (field → config with {url}).
PLUGIN_CONFIGS = {
    "SecretGenerator files": (
        "generators",
        "apiVersion: builtin\nkind: SecretGenerator\nmetadata: {{name: s}}\n"
        "files: [{url}/secret.txt]\n",
    ),
    "ConfigMapGenerator envs": (
        "generators",
        "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {{name: e}}\n"
        "envs: [{url}/env.txt]\n",
    ),
    "PatchTransformer path": (
        "transformers",
        "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {{name: p}}\n"
        "path: {url}/patch.yaml\n",
    ),
    "PatchStrategicMergeTransformer paths": (
        "transformers",
        "apiVersion: builtin\nkind: PatchStrategicMergeTransformer\nmetadata: {{name: m}}\n"
        "paths: [{url}/patch.yaml]\n",
    ),
    "ReplacementTransformer path": (
        "transformers",
        "apiVersion: builtin\nkind: ReplacementTransformer\nmetadata: {{name: r}}\n"
        "replacements:\n- path: {url}/replacement.yaml\n",
    ),
}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def plugin_overlay(directory: Path, case: str, url: str, inline: bool = False) -> Path:
    field, config = PLUGIN_CONFIGS[case]
    write(directory / "cm.yaml", CONFIG_MAP)
    text = config.format(url=url)
    if inline:
        entry = "- |\n" + textwrap.indent(text, "  ")
    else:
        write(directory / "plugin.yaml", text)
        entry = "- plugin.yaml\n"
    write(directory / "kustomization.yaml", f"resources: [cm.yaml]\n{field}:\n{entry}")
    return directory


@pytest.mark.parametrize("inline", [False, True], ids=["file", "inline"])
@pytest.mark.parametrize("case", sorted(PLUGIN_CONFIGS))
def test_plugin_configs_never_reach_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, inline: bool
) -> None:
    monkeypatch.setenv(NO_NAMESPACE_ENV, "1")  # the refusal alone must hold
    with loopback_server(lifetime=30) as server:
        overlay = plugin_overlay(tmp_path / "overlay", case, server.url, inline)
        with pytest.raises(KustomizeBuildError, match="not fetched: klint runs offline"):
            build(overlay, root=tmp_path)
        assert server.requests == []


def test_the_loopback_server_would_be_reached_through_a_plugin_config(tmp_path: Path) -> None:
    """The probe can fail: the tool itself, with klint's environment but no namespace,
    fetches the file a SecretGenerator config names."""
    with loopback_server(lifetime=30) as server:
        overlay = plugin_overlay(tmp_path / "overlay", "SecretGenerator files", server.url)
        subprocess.run(
            [*tool.find_tool().argv, str(overlay)],
            capture_output=True,
            env=child_env(tmp_path),
            timeout=60,
            check=False,
        )
        assert server.requests


def test_local_files_of_plugin_configs_are_confined_and_copied(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    overlay = repo / "overlay"
    write(overlay / "data" / "key.txt", "value\n")
    write(
        overlay / "gen.yaml",
        "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {name: g}\n"
        "files: [k=data/key.txt]\n",
    )
    write(overlay / "kustomization.yaml", "generators: [gen.yaml]\n")
    built = build(overlay, root=repo)
    assert "k: |" in built.text or "k: value" in built.text
    outside = tmp_path / "secret.txt"
    outside.write_text("klint-canary-" + secrets.token_hex(8))
    (overlay / "data" / "key.txt").unlink()
    (overlay / "data" / "key.txt").symlink_to(outside)
    with pytest.raises(KustomizeBuildError, match="outside the root") as refused:
        build(overlay, root=repo)
    assert "klint-canary-" not in refused.value.message


def test_a_kustomization_linked_out_of_the_repository_is_an_input_problem(
    tmp_path: Path,
) -> None:
    canary = "klint-canary-" + secrets.token_hex(8)
    outside = tmp_path / "outside"
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write(repo / "pods" / "pod.yaml", PRIVILEGED_POD)
    (repo / "overlay").mkdir()
    (repo / "overlay" / "kustomization.yaml").symlink_to(outside / "k.yaml")
    for text in (f"resources: [{canary}.yaml]\n", f"secret: {canary}\nkind: {canary}\n"):
        write(outside / "k.yaml", text)
        for output in ("text", "sarif", "json"):
            run = measured_run("check", "--format", output, "overlay", "pods", cwd=repo)
            everything = run.stdout + run.stderr
            assert canary not in everything
            assert "internal error" not in everything
            assert "symbolic link that leads outside the root" in everything
            assert "KL101" in run.stdout  # the other unit's findings are kept
            assert run.returncode == 2


def test_a_local_folder_named_like_a_repository_never_runs_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(NO_NAMESPACE_ENV, "1")
    overlay = tmp_path / "overlay"
    write(overlay / "github.com" / "x" / "y" / "kustomization.yaml", "resources: [cm.yaml]\n")
    write(overlay / "github.com" / "x" / "y" / "cm.yaml", CONFIG_MAP)
    write(overlay / "kustomization.yaml", "resources: [github.com/x/y]\n")
    with pytest.raises(KustomizeBuildError, match=r"write it as \./github\.com/x/y"):
        build(overlay, root=tmp_path)
    write(overlay / "kustomization.yaml", "resources: [./github.com/x/y]\n")
    assert "name: c" in build(overlay, root=tmp_path).text
    env = child_env(tmp_path)
    assert "file" not in env["GIT_ALLOW_PROTOCOL"].split(":")  # git refuses every transport


@pytest.mark.parametrize("shape", ["aliases", "large", "broken"])
def test_a_plugin_config_klint_cannot_scan_is_never_built(tmp_path: Path, shape: str) -> None:
    lines = ["apiVersion: builtin", "kind: ConfigMapGenerator", "metadata: {name: g}"]
    if shape == "aliases":  # 10**9 values when expanded, a few hundred bytes
        lines += ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
        lines += ["files: [*a8]"]
    elif shape == "large":
        lines += ["literals: [" + ", ".join(["k=v"] * 400_000) + "]"]
    else:
        lines += ["files: [a", "- b"]
    write(tmp_path / "overlay" / "gen.yaml", "\n".join(lines) + "\n")
    write(tmp_path / "overlay" / "kustomization.yaml", "generators: [gen.yaml]\n")
    with pytest.raises(KustomizeBuildError, match=r"plugin config that .*not built unscanned"):
        build(tmp_path / "overlay", root=tmp_path)
