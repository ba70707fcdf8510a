"""CEL for klint: the runtime wrapper, the Kubernetes CEL libraries and a bounded evaluator.

Nothing here imports the CEL runtime (``cel-expr-python``) at module level: a run without
policies, CRD validation rules or CEL custom rules never loads it.
"""
