"""The output formats, one set per kind of output: what each command's ``--format`` accepts
(the CLI declares that option once, over these sets) and what the renderers dispatch on.

Nothing is imported here, so the CLI can name the sets while ``watchmgr --help`` stays fast.
"""

from __future__ import annotations

#: ``plan``: tables and diffs, the versioned JSON plan, a pull-request comment.
PLAN = ("text", "json", "markdown")
#: ``render``'s watches (``render --format query`` prints bare queries instead).
WATCHES = ("ndjson", "json", "curl")
RENDER = (*WATCHES, "query")
#: For people, or a versioned JSON document: apply, destroy, validate, status, test, the lists.
TEXT_OR_JSON = ("text", "json")
#: ``config show``: as the environment files are written, or a JSON document.
CONFIG = ("yaml", "json")
