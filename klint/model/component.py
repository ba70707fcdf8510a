"""Component context: what kind of component or input an object is, where that changes what
a reviewer expects of it. A finding in such a context is reported a level lower with the
reason in its message; nothing is hidden.

Kinds told from the object itself, for the rules tagged ``expected-for:<kind>`` (reported as
a note):

- ``node-agent``: a DaemonSet that reaches into its node (a host namespace or a hostPath
  volume), as CNI plugins, CSI node plugins, node-exporter and mesh dataplanes do; and a
  Job or CronJob that inspects its node like a CIS scanner (kube-bench): hostPID only, and
  every hostPath under a node configuration folder (``/etc/kubernetes``,
  ``/var/lib/kubelet``, ...) mounted read-only;
- ``helm-test``: a Pod (or Job) annotated ``helm.sh/hook: test``, run only by ``helm test``;
- ``helm-hook``: a Job run by another Helm hook (``pre-install``, ``pre-upgrade``, ...): it
  runs once per release operation and is deleted by its hook policy;
- ``openshift``: a DeploymentConfig, or a manifest under an ``openshift/`` folder: the
  restricted-v2 SecurityContextConstraints set seccomp RuntimeDefault, drop every
  capability and run as a UID from the namespace's range at admission;
- ``pause``: a container running the Kubernetes pause image (``registry.k8s.io/pause``,
  any tag or digest), which reserves capacity or keeps a pod alive and runs nothing;
- ``installer-resources``: a Helm chart container without resources whose template reads
  them from values.yaml (``resources: {}``, the ``helm create`` default): the chart leaves
  sizing to the installer, and values are where it is set.

Kinds told from where the input lives (reported as a note too). Copies *fixed elsewhere*,
for every rule, ``never-downgraded`` ones included (the same finding is reported at its
level on the source the copy is made from, or upstream):

- ``vendored``: a copy of another project's manifests (``third_party/``, ``vendor/``),
  changed upstream rather than here;
- ``test-data``: a unit test's input or golden file (``testdata/``, ``_testdata/``,
  ``test-data/``, ``golden/``), read by a test and never applied (``fixtures/`` stays
  not-deployed: linters' own fixtures are named on the command line to be linted);
- ``published``: release bundles built from the repository's sources (``releases/``,
  ``dist/``; a folder named as a release version, at least major.minor.patch: ``v4.2.0/``,
  ``1.2.3/``, ``v1.2.3-rc.1/``, not ``v1/`` or ``v1beta1/``; and packaged chart releases: a
  ``.tgz`` chart that is not a dependency in a chart's ``charts/`` folder, as Helm
  repositories committed to git hold one per version; one beside a Helm repository's
  ``index.yaml`` is a release even in a ``charts/`` folder that belongs to no chart: its
  unit says so, ``LoadedUnit.context``), fixed in those sources.

Inputs *users copy or run*, for every rule not tagged ``never-downgraded``:

- ``not-deployed``: a file under a folder of tests, examples, samples, docs or development
  scripts (``tests/``, ``testing/``, ``e2e/``, ``examples/``, ``samples/``, ``recipes/``,
  ``docs/``, ``hack/``, Go's ``fake/`` packages, ...; a folder with a word of its name that
  is or ends with sample(s)/example(s): ``configsamples/``, ``example-apps/``, or is a test
  word: ``kafka-testing/``, ``e2e-tests/``, ``test_infra/`` (not ``attestation/``); a
  ``ci/`` folder at the top of what is linted (prow and e2e manifests; a chart's ``ci/``
  holds values files, read only as values); a demo
  application or tutorial, by a word of its folder's name: ``demo/``, ``consul-demo/``,
  ``demo_apps/``, ``tutorials/``, ``walkthrough/`` (not ``demon/``, not ``quickstart/``,
  which is what users install); a test workload by its file's name: ``test-po.yaml``,
  ``test_pod.yml``, ``smoke-test.yaml``; development environments: ``dev-env/``,
  ``devenv/``, ``local-dev/``, ``config/dev/`` beside a kubebuilder tree's deployed config,
  ``local/`` directly under ``deploy/``, ``config/`` or ``manifests/`` (a kind install of
  local builds), not ``overlays/dev/``): applied to test clusters or copied by users; a
  chart its maintainers deprecated (``unmaintained``: Chart.yaml ``deprecated: true``, the
  unit says so, ``LoadedUnit.context``); an archived folder (``_archived/``, ``archive/``,
  ``attic/``), kept for reference and no longer maintained; or under a hidden folder
  (``.local/``, ``.dev/``: developer-local, not deployed; ``.github/`` and ``.tekton/`` hold
  CI, which runs, and a folder named on the command line is what the user means to lint);
- ``template-source``: a document with unquoted Go template actions (``namespace: {{
  .Namespace }}``, a line starting ``{{``), or with one inside its name, namespace or a
  label (``name: load-{{.Replica}}``): a template some tool renders, which YAML reads as
  something else, so what the rules see is not what is applied.

A level lower was measured as not enough: one level kept 400 test-input errors as warnings
on 9 repositories (published chart archives under ``docs/``, injector golden files under
``testdata/``) that no reviewer acts on. Every such finding stays in the report, with its
reason, for ``--fail-on note`` or a reviewer who wants them.

The settings that are dangerous in any component (a privileged container, the container
runtime socket, cluster-admin and bindings to everyone) are tagged ``never-downgraded``: they
keep their level in every component and in inputs users copy or run, and are notes only in
copies fixed elsewhere.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from klint.findings import ARCHIVE_SUFFIXES, archive_member
from klint.model.pause import pause_container_image
from klint.model.resource import Resource, dig
from klint.model.workload import containers, pod_view

TAG_PREFIX = "expected-for:"
NEVER_DOWNGRADED = "never-downgraded"
HELM_TEST_HOOKS = frozenset({"test", "test-success", "test-failure"})
# Folder names (any component of the path, lower-cased) of inputs that are not deployed as
# they are: test inputs, examples and documentation.
NOT_DEPLOYED_FOLDERS = frozenset(
    {
        "test",
        "tests",
        "testing",
        "e2e",
        "systemtest",
        "fixtures",
        "fake",
        "fakes",
        "mocks",
        "examples",
        "example",
        "samples",
        "sample",
        "docs",
        "doc",
        "hack",
        "recipes",
        # development environments and tools (``dev/`` alone may be a deployed environment
        # overlay: only ``config/dev/``, beside a kubebuilder tree's deployed config, counts)
        "dev-env",
        "devenv",
        "local-dev",
        "dev-tools",
        "devtools",
    }
)
# Word parts of a folder name that make it a test folder (``kafka-testing``, ``e2e-tests``,
# ``test_infra``); whole words only, not ``attestation``, ``contest`` or ``latest``.
TEST_WORDS = frozenset({"test", "tests", "testing", "e2e"})
# A folder name with a word part that is, or ends with, ``sample(s)``/``example(s)``
# (``configsamples``, ``config-examples``, ``example-apps``, ``exampleSite``); not
# ``sampler``, ``sampling`` or ``downsample``.
_SAMPLE_WORD = re.compile(r"(?<!down)(?<!re)(?<!up)(?<!sub)(?:sample|example)s?$|^examples?")
# Word parts of a folder name that make it a demo application or a tutorial, shown to users
# and not deployed as it is (``demo/``, ``consul-demo/``, ``demo_apps/``, ``tutorials/``,
# ``walkthrough/``); whole words only, not ``demon`` or ``democratic``.
DEMO_WORDS = frozenset(
    {"demo", "demos", "demoapp", "demoapps", "tutorial", "tutorials", "walkthrough", "walkthroughs"}
)
# A manifest file named as a test input: ``test-po.yaml``, ``test_pod.yml``,
# ``deployment-test.yaml`` (not ``latest.yaml``, ``contest.yaml`` or ``attestation.yaml``).
_TEST_FILE = re.compile(r"(?:test[-_].*|.*[-_]test)\.(?:ya?ml|json)")
# Folder names of archived inputs: kept for reference, no longer maintained or deployed
# (kubernetes/examples ``_archived/``).
ARCHIVED_FOLDERS = frozenset({"_archived", "archived", "_archive", "archive", "attic"})
# Folder names of unit-test data: inputs and golden files a test reads, never applied.
TEST_DATA_FOLDERS = frozenset({"testdata", "_testdata", "test-data", "golden"})
VENDORED_FOLDERS = frozenset({"third_party", "third-party", "vendor"})
PUBLISHED_FOLDERS = frozenset({"releases", "dist"})
# A folder named as a release version, at least major.minor.patch (``v4.2.0``, ``1.2.3``,
# ``v1.2.3-rc.1``): a frozen copy of that release (``api/v1/`` and ``v1beta1/`` are not).
RELEASE_VERSION = re.compile(r"v?\d+\.\d+\.\d+(?:[-+][0-9a-z.+-]*)?")
OPENSHIFT_FOLDERS = frozenset({"openshift", "ocp", "okd"})
# Hidden folders that hold what CI runs, not developer-local files.
CI_HIDDEN_FOLDERS = frozenset({".github", ".tekton"})
_TEMPLATE_SOURCES: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Expectation:
    """A context kind (the tag suffix), the words that explain it, and whether it comes
    from the file's folder (worded as where, not what, the input is)."""

    kind: str
    reason: str
    from_path: bool = False
    fixed_elsewhere: bool = False

    def message(self, message: str) -> str:
        """The finding's message with the reason it is a note."""
        if self.from_path:
            return f"{message.rstrip('.')} ({self.reason}; kept as a note)."
        return f"{message.rstrip('.')} (expected for {self.reason}; kept as a note)."


def component_kinds(
    resource: Resource,
    field_path: tuple[str | int, ...] = (),
    values_set: bool = False,
    path: str = "",
) -> list[Expectation]:
    """The component kinds the object in file ``path`` is (usually none); ``values_set``:
    the finding's field (at ``field_path``) is set from a Helm values file."""
    kinds = []
    openshift = _openshift_reason(resource, path)
    if openshift:
        kinds.append(
            Expectation(
                "openshift",
                f"{openshift}, where the restricted-v2 SecurityContextConstraints set it",
            )
        )
    if _is_helm_test(resource):
        kinds.append(Expectation("helm-test", "a Helm test hook, run only by `helm test`"))
    elif resource.kind == "Job" and resource.annotations.get("helm.sh/hook", "").strip():
        hooks = resource.annotations["helm.sh/hook"].strip()
        kinds.append(Expectation("helm-hook", f"a short-lived Helm hook Job ({hooks})"))
    pause = pause_container_image(resource, field_path)
    if pause:
        what = "reserves capacity or keeps the pod alive and runs nothing"
        kinds.append(Expectation("pause", f"a pause container ({pause}), which {what}"))
    reason = _node_agent_reason(resource)
    if reason:
        kinds.append(Expectation("node-agent", f"a node agent ({reason})"))
    if values_set and _has_empty_resources(resource, field_path):
        kinds.append(
            Expectation(
                "installer-resources",
                "a chart that leaves resources to the installer (set from values.yaml)",
            )
        )
    return kinds


def below_named_folder(path: str, folders: Sequence[str]) -> str:
    """``path`` relative to the longest named folder that holds it (else unchanged): a
    folder named on the command line is what the user means to lint, so its own name
    (``examples/``) does not make its files "not deployed"."""
    for folder in folders:
        if path.startswith(folder + "/"):
            return path[len(folder) + 1 :]
    return path


def path_context(path: str) -> Expectation | None:
    """The context of an input file at ``path`` (relative, ``/``-separated), if any: a copy
    fixed elsewhere (vendored, published, test data) before an input users copy or run."""
    parts = path.lower().split("/")
    folders = parts[:-1]
    if folders[:1] == ["ci"] and "values" in parts[-1]:
        folders = folders[1:]  # a chart's ci/ values file (chart-testing), read as values
    archive = _release_archive(path.lower())
    if archive is not None:
        what = "a packaged chart release, fixed in its chart sources"
        return Expectation("published", f"in {archive}: {what}", True, True)
    for names, kind, what, elsewhere in _FOLDER_CONTEXTS:
        folder = next((f for i, f in enumerate(folders) if _named(f, names, folders[:i])), None)
        if folder is not None:
            return Expectation(kind, f"in {folder}/: {what}", True, elsewhere)
    release = next((f for f in folders if RELEASE_VERSION.fullmatch(f)), None)
    if release is not None:
        what = "a release copy, fixed in its sources"
        return Expectation("published", f"in {release}/: {what}", True, True)
    if _TEST_FILE.fullmatch(parts[-1]):
        what = "a test input by its file name, not deployed"
        return Expectation("not-deployed", f"{parts[-1]} is {what}", from_path=True)
    hidden = next((f for f in folders if _hidden(f)), None)
    if hidden is not None:
        what = "a hidden, developer-local folder, not deployed"
        return Expectation("not-deployed", f"in {hidden}/: {what}", from_path=True)
    return None


# Folder names, their context kind, the words that explain it, and whether the input is a
# copy fixed elsewhere (checked in this order: the first that names a folder of the path).
_FOLDER_CONTEXTS = (
    (VENDORED_FOLDERS, "vendored", "a vendored copy, changed upstream", True),
    (TEST_DATA_FOLDERS, "test-data", "a unit test's input, never applied", True),
    (NOT_DEPLOYED_FOLDERS, "not-deployed", "a test, example or docs input, not deployed", False),
    (DEMO_WORDS, "not-deployed", "a demo application or tutorial, not deployed", False),
    (ARCHIVED_FOLDERS, "not-deployed", "archived, no longer maintained or deployed", False),
    (PUBLISHED_FOLDERS, "published", "a published release bundle, fixed in its sources", True),
)


def _named(folder: str, names: frozenset[str], above: list[str]) -> bool:
    """``folder`` (below the folders ``above``) is one of ``names``; for the not-deployed
    names, also a sample or example folder by a word of its name, ``config/dev/`` and a
    local development install (``deploy/local/``); a demo or tutorial folder by a word of its
    name."""
    if folder in names:
        return True
    if names is DEMO_WORDS:
        return any(word in DEMO_WORDS for word in re.split(r"[-_.]", folder))
    if names is not NOT_DEPLOYED_FOLDERS:
        return False
    if folder == "dev" and above[-1:] == ["config"]:
        return True
    if folder == "local" and above[-1:] in (["deploy"], ["config"], ["manifests"]):
        return True
    if folder == "ci" and not above:  # a root ``ci/`` of manifests (a chart's is values)
        return True
    words = re.split(r"[-_.]", folder)
    return any(w in TEST_WORDS or _SAMPLE_WORD.search(w) for w in words)


def _hidden(folder: str) -> bool:
    """A hidden folder (``.local``) other than ``.``, ``..`` and the CI folders."""
    return folder.startswith(".") and folder.strip(".") != "" and folder not in CI_HIDDEN_FOLDERS


def _release_archive(path: str) -> str | None:
    """The packaged chart (``op-4.0.7.tgz``) that is, or holds, the file at ``path``, when it
    is a release archive: a chart archive that is not a dependency vendored in a chart's
    ``charts/`` folder (those are the chart's own dependencies, located in the archive like
    any subchart)."""
    split = archive_member(path)
    archive = split[0] if split is not None else path
    if not archive.endswith(ARCHIVE_SUFFIXES):
        return None
    folder, _, name = archive.rpartition("/")
    return None if folder.rpartition("/")[2] == "charts" else name


def unit_expectation(context: Expectation | None, tags: tuple[str, ...]) -> Expectation | None:
    """A whole unit's context (:attr:`LoadedUnit.context`) for a rule with ``tags``: a copy
    fixed elsewhere for every rule, anything else for rules not tagged never-downgraded."""
    if context is None or (NEVER_DOWNGRADED in tags and not context.fixed_elsewhere):
        return None
    return context


def expectation(
    resource: Resource,
    tags: tuple[str, ...],
    path: str = "",
    field_path: tuple[str | int, ...] = (),
    values_set: bool = False,
) -> Expectation | None:
    """The context that lowers a rule's finding on the object in file ``path``: the first
    component kind the rule's tags expect, else the file's path context (unless the rule
    is ``never-downgraded``)."""
    wanted = {tag[len(TAG_PREFIX) :] for tag in tags if tag.startswith(TAG_PREFIX)}
    if wanted:
        kinds = component_kinds(resource, field_path, values_set, path)
        found = next((k for k in kinds if k.kind in wanted), None)
        if found is not None:
            return found
    if NEVER_DOWNGRADED in tags:
        context = path_context(path)
        return context if context is not None and context.fixed_elsewhere else None
    if _template_source(resource):
        return Expectation(
            "template-source",
            "a Go template source (unquoted {{ }}), read before a tool renders it",
            from_path=True,
        )
    return path_context(path)


def _template_source(resource: Resource) -> bool:
    """The object's document has unquoted Go template actions (computed once per document).

    YAML reads an unquoted ``{{ .Namespace }}`` as a flow mapping whose key is a flow
    mapping; no Kubernetes object has a mapping as a key, while quoted actions and template
    text in block scalars (alert and dashboard templates) stay strings.
    """
    if _templated_metadata(resource):
        return True
    root = resource.document.root
    found = _TEMPLATE_SOURCES.get(root)
    if found is None:
        found = _has_mapping_key(root)
        _TEMPLATE_SOURCES[root] = found
    return found


def _templated_metadata(resource: Resource) -> bool:
    """A name, namespace or label value with a template action inside (``app-{{.Replica}}``,
    kube-burner and envsubst-like tools): no API server accepts one, a tool renders it."""
    metadata = resource.data.get("metadata")
    if not isinstance(metadata, dict):
        return False
    labels = metadata.get("labels")
    values = [metadata.get(k) for k in ("name", "generateName", "namespace")]
    values += list(labels.values()) if isinstance(labels, dict) else []
    return any(isinstance(v, str) and "{{" in v and "}}" in v for v in values)


def _has_mapping_key(root: yaml.Node) -> bool:
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.MappingNode) and key.flow_style:
                    return True
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return False


def _openshift_reason(resource: Resource, path: str) -> str:
    if resource.kind == "DeploymentConfig":
        return "an OpenShift DeploymentConfig"
    folder = next((f for f in path.lower().split("/")[:-1] if f in OPENSHIFT_FOLDERS), None)
    return f"a manifest in {folder}/ for OpenShift" if folder else ""


def _is_helm_test(resource: Resource) -> bool:
    hooks = resource.annotations.get("helm.sh/hook", "")
    return any(hook.strip() in HELM_TEST_HOOKS for hook in hooks.split(","))


def _has_empty_resources(resource: Resource, field_path: tuple[str | int, ...]) -> bool:
    """The container at the start of ``field_path`` sets no requests and no limits."""
    pod = pod_view(resource)
    if pod is None:
        return False
    for container in containers(pod, ("initContainers", "containers")):
        if tuple(field_path[: len(container.path)]) == tuple(container.path):
            return not container.get("resources", "requests") and not container.get(
                "resources", "limits"
            )
    return False


def _node_agent_reason(resource: Resource) -> str:
    if resource.kind in ("Job", "CronJob"):
        return _node_scanner_reason(resource)
    if resource.kind != "DaemonSet":
        return ""
    pod = pod_view(resource)
    if pod is None:
        return ""
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.spec.get(field) is True:
            return f"a DaemonSet with {field}"
    for volume, _ in pod.volumes():
        path = dig(volume, ("hostPath", "path"))
        if volume.get("hostPath") is not None:
            return f"a DaemonSet mounting host path {path}" if path else "a DaemonSet with hostPath"
    return ""


# Host folders of node configuration a CIS or node scanner (kube-bench) reads: the kubelet's
# and control plane's config, systemd units, CNI config and the binaries whose flags it checks.
NODE_CONFIG_FOLDERS = (
    "/etc/kubernetes",
    "/var/lib/kubelet",
    "/var/lib/kube-proxy",
    "/var/lib/etcd",
    "/etc/systemd",
    "/lib/systemd",
    "/etc/default",
    "/etc/cni",
    "/opt/cni",
    "/srv/kubernetes",
    "/usr/bin",
    "/usr/local/bin",
)


def _node_scanner_reason(resource: Resource) -> str:
    """A Job or CronJob that inspects its node like a CIS scanner: hostPID (and no other host
    namespace), at least one hostPath, every one under a node configuration folder and
    mounted read-only by every container that mounts it ("" when it is not)."""
    pod = pod_view(resource)
    if pod is None or pod.spec.get("hostPID") is not True:
        return ""
    if pod.spec.get("hostNetwork") is True or pod.spec.get("hostIPC") is True:
        return ""
    host: dict[Any, str] = {}
    for volume, _ in pod.volumes():
        if volume.get("hostPath") is None:
            continue
        path = dig(volume, ("hostPath", "path"))
        if not isinstance(path, str) or not _under_node_config(path):
            return ""
        host[volume.get("name")] = path
    if not host:
        return ""
    for container in containers(pod, ("initContainers", "containers", "ephemeralContainers")):
        mounts = container.data.get("volumeMounts")
        for mount in mounts if isinstance(mounts, list) else []:
            named = isinstance(mount, dict) and mount.get("name") in host
            if named and mount.get("readOnly") is not True:
                return ""
    paths = ", ".join(sorted(set(host.values())))
    return f"a {resource.kind} with hostPID reading node configuration read-only ({paths})"


def _under_node_config(path: str) -> bool:
    clean = "/" + "/".join(p for p in path.split("/") if p not in ("", "."))
    if ".." in clean.split("/"):
        return False
    return any(clean == f or clean.startswith(f + "/") for f in NODE_CONFIG_FOLDERS)
