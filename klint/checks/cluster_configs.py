"""Configuration files the API server reads: EncryptionConfiguration, the audit Policy and
the AdmissionConfiguration (with the PodSecurity plugin's configuration)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.findings import FieldPath
from klint.model.resource import Resource

_ENCRYPTION_GROUPS = ("apiserver.config.k8s.io", "apiserver.k8s.io")
_STRONG = ("kms", "secretbox")


def _covers_secrets(resources: Any) -> bool:
    return isinstance(resources, list) and any(
        str(r) in ("secrets", "*.*", "*.") for r in resources
    )


def encryption_config(resource: Resource, _: UnitContext, params: Params) -> Iterator[Violation]:
    """EncryptionConfiguration that leaves Secrets unencrypted or weakly encrypted."""
    if resource.kind != "EncryptionConfiguration" or resource.group not in _ENCRYPTION_GROUPS:
        return
    entries = resource.get("resources")
    entries = entries if isinstance(entries, list) else []
    covering = [
        (index, entry)
        for index, entry in enumerate(entries)
        if isinstance(entry, dict) and _covers_secrets(entry.get("resources"))
    ]
    problem = params["problem"]
    if problem == "no-secrets":
        if not covering:
            where: FieldPath = ("resources",) if "resources" in resource.data else ("kind",)
            yield Violation(where, "EncryptionConfiguration does not cover secrets.")
        return
    for index, entry in covering:
        providers = entry.get("providers")
        first = providers[0] if isinstance(providers, list) and providers else None
        if not isinstance(first, dict) or not first:
            continue
        name = str(next(iter(first)))
        path = ("resources", index, "providers", 0)
        if problem == "identity-first" and name == "identity":
            yield Violation(
                path,
                "EncryptionConfiguration writes secrets with the identity provider first: "
                "they are stored in etcd unencrypted.",
            )
        elif problem == "weak-provider" and name not in (*_STRONG, "identity"):
            yield Violation(
                path,
                f"EncryptionConfiguration encrypts secrets with {name}, whose key sits on the "
                "control-plane disk next to the data; prefer kms (v2) or secretbox.",
            )
        elif problem == "weak-provider" and name == "kms":
            kms = first.get("kms")
            if isinstance(kms, dict) and str(kms.get("apiVersion", "v1")) == "v1":
                yield Violation(
                    (*path, "kms"),
                    "EncryptionConfiguration uses KMS v1, deprecated since Kubernetes 1.28; "
                    "use KMS v2 (apiVersion: v2).",
                )


_SENSITIVE = (("", "secrets"), ("", "configmaps"), ("authentication.k8s.io", "tokenreviews"))
_DETAILED = ("Request", "RequestResponse")
_NARROWING = ("users", "userGroups", "verbs", "namespaces")


def _rule_matches(rule: dict[str, Any], group: str, name: str) -> bool:
    if rule.get("nonResourceURLs") and not rule.get("resources"):
        return False
    kinds = rule.get("resources")
    if not kinds:
        return True
    for kind in kinds if isinstance(kinds, list) else []:
        if not isinstance(kind, dict):
            continue
        if str(kind.get("group", "")) not in (group, "*"):
            continue
        names = kind.get("resources")
        if not names or any(str(n) in (name, "*", f"{name}/*") for n in names):
            return True
    return False


def audit_policy(resource: Resource, _: UnitContext, params: Params) -> Iterator[Violation]:
    """Audit Policy that logs nothing, misses requests, or writes secrets into the log."""
    if resource.kind != "Policy" or resource.group != "audit.k8s.io":
        return
    rules = resource.get("rules")
    rules = [r if isinstance(r, dict) else {} for r in rules] if isinstance(rules, list) else []
    problem = params["problem"]
    if problem == "empty":
        if not rules:
            where: FieldPath = ("rules",) if "rules" in resource.data else ("kind",)
            yield Violation(where, "audit Policy has no rules: the API server logs no events.")
        return
    if problem == "no-catch-all":
        if rules and not any(
            not any(rule.get(k) for k in (*_NARROWING, "resources", "nonResourceURLs"))
            for rule in rules
        ):
            yield Violation(
                ("rules",),
                "audit Policy has no catch-all rule: requests its rules do not match are "
                "not logged.",
            )
        return
    for group, name in _SENSITIVE:
        for index, rule in enumerate(rules):
            if not _rule_matches(rule, group, name):
                continue
            level = str(rule.get("level", ""))
            if level in _DETAILED:
                where = ("rules", index, "level") if "level" in rule else ("rules", index)
                yield Violation(
                    where,
                    f"audit Policy logs {name} at level {level}: their contents are written "
                    "to the audit log; log them at Metadata.",
                )
            if not any(rule.get(k) for k in _NARROWING):
                break  # the first rule that matches every request decides


_PSA_KINDS = ("PodSecurityConfiguration",)
_CONTROLLERS = (
    "replicaset-controller",
    "deployment-controller",
    "daemon-set-controller",
    "statefulset-controller",
    "job-controller",
    "cronjob-controller",
    "replication-controller",
)


def _pod_security_configs(resource: Resource) -> Iterator[tuple[dict[str, Any], FieldPath]]:
    if resource.kind in _PSA_KINDS and resource.group == "pod-security.admission.config.k8s.io":
        yield resource.data, ()
        return
    if resource.kind != "AdmissionConfiguration" or resource.group not in _ENCRYPTION_GROUPS:
        return
    plugins = resource.get("plugins")
    for index, plugin in enumerate(plugins if isinstance(plugins, list) else []):
        if isinstance(plugin, dict) and plugin.get("name") == "PodSecurity":
            config = plugin.get("configuration")
            if isinstance(config, dict):
                yield config, ("plugins", index, "configuration")


def admission_config(resource: Resource, _: UnitContext, params: Params) -> Iterator[Violation]:
    """AdmissionConfiguration: PodSecurity enforcing privileged or exempting broadly; no
    EventRateLimit."""
    problem = params["problem"]
    if problem == "event-rate-limit":
        if resource.kind != "AdmissionConfiguration" or resource.group not in _ENCRYPTION_GROUPS:
            return
        plugins = resource.get("plugins")
        plugins = plugins if isinstance(plugins, list) else []
        if not any(isinstance(p, dict) and p.get("name") == "EventRateLimit" for p in plugins):
            where: FieldPath = ("plugins",) if "plugins" in resource.data else ("kind",)
            yield Violation(
                where,
                "AdmissionConfiguration does not configure EventRateLimit: a client can "
                "flood the API server with events.",
            )
        return
    for config, base in _pod_security_configs(resource):
        if problem == "enforce-privileged":
            defaults = config.get("defaults")
            enforce = defaults.get("enforce") if isinstance(defaults, dict) else None
            if enforce is None:
                where = (*base, "defaults") if isinstance(defaults, dict) else (*base, "kind")
                yield Violation(
                    where,
                    "PodSecurity configuration does not set defaults.enforce: namespaces "
                    "without a label enforce privileged (no restriction).",
                )
            elif str(enforce) == "privileged":
                yield Violation(
                    (*base, "defaults", "enforce"),
                    "PodSecurity configuration enforces privileged by default: namespaces "
                    "without a label get no restriction.",
                )
        else:
            yield from _broad_exemptions(config, base)


def _broad_exemptions(config: dict[str, Any], base: FieldPath) -> Iterator[Violation]:
    exemptions = config.get("exemptions")
    if not isinstance(exemptions, dict):
        return
    users = exemptions.get("usernames")
    for index, user in enumerate(users if isinstance(users, list) else []):
        name = str(user)
        if name.rsplit(":", 1)[-1] in _CONTROLLERS or name in ("system:admin", "kubernetes-admin"):
            yield Violation(
                (*base, "exemptions", "usernames", index),
                f'PodSecurity exempts user "{name}": every pod it creates for anyone skips '
                "Pod Security admission.",
            )
    namespaces = exemptions.get("namespaces")
    for index, namespace in enumerate(namespaces if isinstance(namespaces, list) else []):
        if str(namespace) in ("default", "*"):
            yield Violation(
                (*base, "exemptions", "namespaces", index),
                f'PodSecurity exempts namespace "{namespace}", where workloads run by default.',
            )


def _problem_schema(*values: str) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["problem"],
        "properties": {"problem": {"enum": list(values)}},
    }


CHECKS = (
    Check(
        "encryption-config",
        encryption_config,
        "EncryptionConfiguration leaving Secrets unencrypted or weakly encrypted.",
        _problem_schema("identity-first", "no-secrets", "weak-provider"),
    ),
    Check(
        "audit-policy",
        audit_policy,
        "Audit Policy logging nothing, missing requests or logging secrets.",
        _problem_schema("empty", "no-catch-all", "sensitive"),
    ),
    Check(
        "admission-config",
        admission_config,
        "AdmissionConfiguration: PodSecurity defaults and exemptions, EventRateLimit.",
        _problem_schema("enforce-privileged", "broad-exemptions", "event-rate-limit"),
    ),
)
