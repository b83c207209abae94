"""An 8.x elasticsearch client works against 8.x and 9.x sandboxes, as against ES (§6.3).

The 8.x client lives in `.venv-es8/` (`pip install --target .venv-es8 "elasticsearch>=8.15,<9"`,
or set WATCHMGR_ES8_PATH); it runs in a subprocess so it never meets the 9.x client in
`sys.modules`. Skipped when it is not installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from watchmgr.sandbox import Sandbox, SandboxConfig

ES8 = Path(os.environ.get("WATCHMGR_ES8_PATH", Path(__file__).resolve().parents[2] / ".venv-es8"))

SCRIPT = r"""
import json, sys
import elasticsearch
from elasticsearch import Elasticsearch, NotFoundError
out = {"client": elasticsearch.__versionstr__}
for url in sys.argv[1:]:
    es = Elasticsearch(url, max_retries=0)
    steps = []
    watch = {"trigger": {"schedule": {"interval": "1m"}},
             "actions": {"log": {"logging": {"text": "x"}}}}
    steps.append(es.watcher.put_watch(id="w8", body=watch)["created"])
    steps.append(es.watcher.get_watch(id="w8")["watch"]["actions"]["log"]["logging"]["level"])
    steps.append(es.watcher.query_watches()["count"])
    steps.append(es.watcher.deactivate_watch(watch_id="w8")["status"]["state"]["active"])
    steps.append(es.watcher.activate_watch(watch_id="w8")["status"]["state"]["active"])
    steps.append(es.watcher.ack_watch(watch_id="w8")["status"]["actions"]["log"]["ack"]["state"])
    steps.append(es.watcher.execute_watch(id="w8")["watch_record"]["state"])
    steps.append(es.watcher.stats()["stats"][0]["watcher_state"])
    steps.append(es.watcher.delete_watch(id="w8")["found"])
    try:
        es.watcher.get_watch(id="w8")
    except NotFoundError as err:
        steps.append(err.meta.status)
    out[url] = steps
print(json.dumps(out))
"""


@pytest.mark.skipif(not (ES8 / "elasticsearch").is_dir(), reason=f"no 8.x client in {ES8}")
def test_8x_client_works_against_8x_and_9x_sandboxes() -> None:
    with (
        Sandbox(SandboxConfig(es_version="8.19.0")) as es8,
        Sandbox(SandboxConfig(es_version="9.1.0")) as es9,
    ):
        url8, url9 = es8.url, es9.url
        env = {**os.environ, "PYTHONPATH": str(ES8)}
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT, es8.url, es9.url],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        assert any(e.path == "/_watcher/watch/w8" for e in es9.request_log)
    assert out["client"].startswith("8.")
    expected = [
        True,
        "info",
        1,
        False,
        True,
        "awaits_successful_execution",
        "executed",
        "started",
        True,
        404,
    ]
    assert out[url8] == expected
    assert out[url9] == expected
