"""The flows every command runs, from options already parsed to values and diagnostics.

One module per flow: `inputs` (the environment, `Connect`, `Choices`, `Tuning`), `conversion`
(rules to watches, the desired state) with `schedules` (its schedule warnings), `planning`
(plans and ``--target``), `saved` (saved plans), `applying`, `ruletests` (`watchmgr test`),
`mappings` (`watchmgr check`, and the same check in `plan`), `inventory` (status, export,
destroy), `backends` (pySigma's pipelines and other query languages) and `lock`.

Each flow returns values and puts every error and warning it does not raise into the
`Diagnostics` it is given, in the order found; a `WatchmgrError` it raises stops the command.
Nothing here prints, parses options, decides an exit code or knows which cluster it talks to:
the edge (`watchmgr.cli`) passes a `Connect`, or a `Cluster` it opened, and a `Tuning` saying
how the conversion runs; nothing here reads the process environment.

The names below are the workflow's surface, what the CLI calls as ``workflow.<name>``; the
modules' other names are their own (tests and the benchmarks may import them from there).
"""

from __future__ import annotations

from watchmgr.workflow.applying import apply, not_applied, plan_to_apply
from watchmgr.workflow.backends import (
    QUERY_BACKENDS,
    QUERY_TARGETS,
    backend_queries,
    installed_pipelines,
)
from watchmgr.workflow.conversion import convert_environment, convert_rules, desired
from watchmgr.workflow.inputs import Choices, Connect, Tuning, endpoint, environment
from watchmgr.workflow.inventory import destroy_plan, exported, watch_statuses
from watchmgr.workflow.lock import lock_state, unlock
from watchmgr.workflow.mappings import check_mappings
from watchmgr.workflow.planning import PlanOptions, Plans, Targets, plan_environments, refusal
from watchmgr.workflow.ruletests import test_rules
from watchmgr.workflow.saved import saved_plan

__all__ = [
    "QUERY_BACKENDS",
    "QUERY_TARGETS",
    "Choices",
    "Connect",
    "PlanOptions",
    "Plans",
    "Targets",
    "Tuning",
    "apply",
    "backend_queries",
    "check_mappings",
    "convert_environment",
    "convert_rules",
    "desired",
    "destroy_plan",
    "endpoint",
    "environment",
    "exported",
    "installed_pipelines",
    "lock_state",
    "not_applied",
    "plan_environments",
    "plan_to_apply",
    "refusal",
    "saved_plan",
    "test_rules",
    "unlock",
    "watch_statuses",
]
