"""What a fix changes: per check, the edits (in object field paths) that resolve a finding.

A fixer is keyed by check name and reads the object a finding came from and the finding's
field path; it returns a :class:`FixPlan` (edits relative to the object root) or None when
the finding has no unambiguous fix (e.g. an added capability: which one is needed?).
Fixers never touch files: :mod:`klint.edits` turns plans into text edits.

A plan is marked ``overrides`` when it replaces a value someone wrote explicitly (such as
``allowPrivilegeEscalation: true``) or when it has to change a second field for the object
to stay valid: that is a deliberate choice, so even a rule whose fix is ``safe`` applies it
only with ``--unsafe``.

Fixes must give objects the API server accepts. Pod validation rejects
``allowPrivilegeEscalation: false`` next to ``privileged: true`` or an added
``CAP_SYS_ADMIN``; so the escalation fix drops ``privileged`` in the same plan (needs
review) and offers nothing next to ``CAP_SYS_ADMIN``. ``runAsNonRoot: true`` next to
``runAsUser: 0`` is accepted but never starts: that plan needs review too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from klint.catalog import Rule
from klint.findings import Applicability, FieldPath, field_path_text
from klint.model.resource import dig
from klint.model.workload import CONTAINER_LISTS

EditOp = Literal["set", "delete", "append"]
SAFE, NEEDS_REVIEW = Applicability.SAFE.value, Applicability.NEEDS_REVIEW.value


@dataclass(frozen=True)
class Edit:
    """Set a value, delete a key or append an item to a list (created when missing)."""

    op: EditOp
    path: FieldPath
    value: Any = None

    def describe(self) -> str:
        """``spec.containers[0].securityContext.privileged: false`` and the like."""
        where = dotted(self.path)
        if self.op == "delete":
            return f"remove {where}"
        if self.op == "append":
            return f"add {_yaml_scalar(self.value)} to {where}"
        return f"set {where}: {_yaml_scalar(self.value)}"


@dataclass(frozen=True)
class FixPlan:
    """The edits for one finding and whether they replace an explicitly written value."""

    edits: tuple[Edit, ...]
    overrides: bool = False

    def describe(self) -> str:
        return "; ".join(edit.describe() for edit in self.edits)


Fixer = Callable[[Mapping[str, Any], FieldPath], "FixPlan | None"]


dotted = field_path_text  # a field path as people write it: spec.containers[0].image


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _set(path: FieldPath, value: Any, current: Any) -> FixPlan:
    """Set ``path`` to ``value``; an explicit different value is an override."""
    return FixPlan((Edit("set", path, value),), overrides=current is not None)


def _is_container_path(path: FieldPath, depth: int) -> bool:
    """Whether ``path`` reaches into a container ``depth`` steps below the container."""
    if len(path) < depth + 2:
        return False
    return path[-depth - 2] in CONTAINER_LISTS and isinstance(path[-depth - 1], int)


def set_false(obj: Mapping[str, Any], path: FieldPath) -> FixPlan | None:
    """``privileged``, ``hostNetwork``, ``automountServiceAccountToken``… → false."""
    return FixPlan((Edit("set", path, False),))


def set_true(obj: Mapping[str, Any], path: FieldPath) -> FixPlan | None:
    """``readOnlyRootFilesystem`` → true."""
    return FixPlan((Edit("set", path, True),))


def allow_privilege_escalation(obj: Mapping[str, Any], path: FieldPath) -> FixPlan | None:
    """``allowPrivilegeEscalation: false`` on the container, valid for the API server.

    A privileged container escalates by definition: the plan sets ``privileged: false``
    first (an override). Next to an added ``CAP_SYS_ADMIN`` there is no fix to offer.
    """
    if not path or path[-1] != "allowPrivilegeEscalation":
        return None
    context = path[:-1]
    added = dig(obj, (*context, "capabilities", "add"))
    if isinstance(added, list) and "CAP_SYS_ADMIN" in added:
        return None
    escalation = Edit("set", path, False)
    if dig(obj, (*context, "privileged")) is True:
        return FixPlan((Edit("set", (*context, "privileged"), False), escalation), True)
    return FixPlan((escalation,), overrides=dig(obj, path) is not None)


def run_as_non_root(obj: Mapping[str, Any], path: FieldPath) -> FixPlan | None:
    """``runAsNonRoot: true``: on the pod when it sets nothing, else where it is reported."""
    if not path or path[-1] != "runAsNonRoot":
        return None
    current = dig(obj, path)
    root_user = _runs_as_root_user(obj, path)
    if current is None and _is_container_path(path, 2):
        pod_path = (*path[:-4], "securityContext", "runAsNonRoot")
        if dig(obj, pod_path) is None:
            return FixPlan((Edit("set", pod_path, True),), overrides=root_user)
    return FixPlan((Edit("set", path, True),), overrides=current is not None or root_user)


def _runs_as_root_user(obj: Mapping[str, Any], path: FieldPath) -> bool:
    """Whether ``runAsUser: 0`` applies where ``path`` (a ``runAsNonRoot``) is set."""
    here = dig(obj, (*path[:-1], "runAsUser"))
    if here is None and _is_container_path(path, 2):
        here = dig(obj, (*path[:-4], "securityContext", "runAsUser"))
    return bool(here == 0)


def seccomp_profile(obj: Mapping[str, Any], path: FieldPath) -> FixPlan | None:
    """``seccompProfile.type: RuntimeDefault``: on the pod when it sets no profile."""
    if path and path[-1] == "type":
        return _set(path, "RuntimeDefault", dig(obj, path))
    if not path or path[-1] != "seccompProfile":
        return None
    if _is_container_path(path, 2):
        pod_profile = (*path[:-4], "securityContext", "seccompProfile")
        if dig(obj, pod_profile) is None:
            return _set((*pod_profile, "type"), "RuntimeDefault", None)
    return _set((*path, "type"), "RuntimeDefault", None)


def _drop(capability: str) -> Fixer:
    def fixer(obj: Mapping[str, Any], path: FieldPath) -> FixPlan | None:
        if len(path) < 2 or path[-2:] != ("capabilities", "drop"):
            return None  # an added capability: which ones the app needs is not ours to say
        dropped = dig(obj, path)
        if dropped is not None and not isinstance(dropped, list):
            return None
        return FixPlan((Edit("append", path, capability),))

    fixer.__doc__ = f"Add {capability} to ``capabilities.drop``."
    return fixer


def remove_key(obj: Mapping[str, Any], path: FieldPath) -> FixPlan | None:
    """Remove the reported key (``hostPort``)."""
    if not path or not isinstance(path[-1], str):
        return None
    return FixPlan((Edit("delete", path),))


def proc_mount_default(obj: Mapping[str, Any], path: FieldPath) -> FixPlan | None:
    """``procMount: Default``."""
    if not path or path[-1] != "procMount":
        return None
    return _set(path, "Default", dig(obj, path))


FIXERS: dict[str, Fixer] = {
    "allow-privilege-escalation": allow_privilege_escalation,
    "run-as-non-root": run_as_non_root,
    "seccomp-restricted": seccomp_profile,
    "seccomp-baseline": seccomp_profile,
    "capabilities-restricted": _drop("ALL"),
    "net-raw-not-dropped": _drop("NET_RAW"),
    "writable-root-filesystem": set_true,
    "privileged": set_false,
    "host-namespace": set_false,
    "automount-service-account-token": set_false,
    "service-account-automount": set_false,
    "host-port": remove_key,
    "proc-mount-baseline": proc_mount_default,
    "proc-mount-restricted": proc_mount_default,
}
"""Check name → fixer. A rule offers a fix when it declares ``fix:`` and its check is here."""


def component_flag(rule: Rule, obj: Mapping[str, Any], path: FieldPath) -> FixPlan | None:
    """A cluster component's flag set to the rule's ``fix_value`` where the finding points
    at it: a ``--flag=value`` list item, a kubeadm ``extraArgs`` entry (map or
    ``{name, value}``) or a KubeletConfiguration field of the same type. A ``--flag value``
    pair, a missing flag and YAML inside a string (kind patches) get no fix."""
    want, flag = rule.params.get("fix_value"), rule.params.get("flag")
    if want is None or not isinstance(flag, str) or not path:
        return None
    current, text = dig(obj, path), str(want).lower() if isinstance(want, bool) else str(want)
    if isinstance(current, str) and current.startswith(f"--{flag}="):
        return _set(path, f"--{flag}={text}", current)
    if isinstance(current, dict) and current.get("name") == flag and "value" in current:
        return _set((*path, "value"), text, current.get("value"))
    if isinstance(current, bool):
        return _set(path, text == "true", current)
    if isinstance(current, int) and text.isdigit():
        return _set(path, int(text), current)
    if isinstance(current, str) and not current.startswith("-"):
        return _set(path, text, current)
    return None


# Check name → fixer that also reads the rule (its params say what to write).
RULE_FIXERS: dict[str, Callable[[Rule, Mapping[str, Any], FieldPath], FixPlan | None]] = {
    "component-flag": component_flag,
}


def fix_of(rule: Rule) -> tuple[str, str] | None:
    """The rule's fix (applicability, description) when it has one klint can apply."""
    applicability = rule.fix.get("applicability")
    known = rule.check in FIXERS or rule.check in RULE_FIXERS
    if not known or applicability not in (SAFE, NEEDS_REVIEW):
        return None
    return str(applicability), str(rule.fix.get("description", ""))


def plan_for(rule: Rule, obj: Mapping[str, Any], path: FieldPath) -> FixPlan | None:
    """The edits that fix a finding of ``rule`` at ``path`` of ``obj`` (its object)."""
    if fix_of(rule) is None:
        return None
    rule_fixer = RULE_FIXERS.get(rule.check)
    if rule_fixer is not None:
        return rule_fixer(rule, obj, path)
    fixer = FIXERS.get(rule.check)
    return fixer(obj, path) if fixer is not None else None


def applicability(rule: Rule, plan: FixPlan) -> Applicability:
    """``needs-review`` when the rule says so or the plan replaces an explicit value."""
    declared = rule.fix.get("applicability")
    if declared != SAFE or plan.overrides:
        return Applicability.NEEDS_REVIEW
    return Applicability.SAFE


def describe_fix(plan: FixPlan, level: Applicability) -> str:
    """``Set spec.containers[0].securityContext.privileged: false (klint fix: safe).``"""
    text = plan.describe()
    return f"{text[:1].upper()}{text[1:]} (klint fix: {level.value})."
