"""``KL000 input-problem``: the page and SARIF descriptor of input klint could not check.

Not a security finding: code scanning must not show "a YAML syntax error" as a security
alert, so the descriptor has no ``security`` tag and no ``security-severity``. The page is
``docs/input-problems.md`` (kept equal to :data:`PAGE` by a test) and ``klint explain KL000``.
"""

from __future__ import annotations

from typing import Any

ID = "KL000"
NAME = "input-problem"
HELP_URI = "https://github.com/klint-dev/klint/blob/main/docs/input-problems.md"
SUMMARY = "Input klint could not check."
DESCRIPTION = (
    "klint could not read, parse or render part of the input (a YAML syntax error, a file "
    "that is not UTF-8, a chart that fails to render...): nothing in it was checked."
)

PAGE = f"""# {ID} input-problem

{SUMMARY}

{DESCRIPTION} The other files and units of the run are still linted and reported.

This is not a rule and it cannot be disabled: it says that a result may be missing. In
SARIF it is a result of rule `{ID}` (with no security severity) and a
`toolExecutionNotification`; the run's `executionSuccessful` is `false` when the problem
stops a unit from being linted. On the command line it is printed on standard error in
every format, with its file, line and a code in brackets, for example:

```
charts/web/Chart.yaml:1:1: error: chart charts/web failed to render: ... [helm-render]
deploy/app.yaml:9:3: error: YAML syntax error: ... [yaml-syntax]
klint: error: no Kubernetes files found in k8s/ (...) [no-files-found]
```

## Exit code

- a path that does not exist, or paths with nothing to lint: 2, always;
- part of the input could not be linted (a render or build failure, a unit over its
  budget): 2, or 0 with `--exit-zero` or `--fail-on never`;
- a check that crashed (a bug in klint: please report it): 3.

## How to fix

Fix the input the message names: the YAML syntax, the file's encoding, the chart's
templates or its missing dependency (vendor it under `charts/`: klint never runs
`helm dependency update`), the kustomization. `klint check -v` also lists what was
skipped and why.
"""


def descriptor() -> dict[str, Any]:
    """The SARIF ``reportingDescriptor`` of ``KL000``: tagged ``input``, not ``security``."""
    help_text = DESCRIPTION + " Fix the input; the message names the cause."
    return {
        "id": ID,
        "name": NAME,
        "shortDescription": {"text": SUMMARY},
        "fullDescription": {"text": DESCRIPTION},
        "defaultConfiguration": {"level": "error"},
        "helpUri": HELP_URI,
        "help": {"text": help_text, "markdown": help_text},
        "properties": {"tags": ["input"], "precision": "very-high"},
    }
