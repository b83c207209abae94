"""``render --env E -f curl`` PUTs into the environment's cluster, reading its credentials
from the variables the environment names when the script runs: none is ever in the script."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.plan.support import Repo, es_client, show
from watchmgr.sandbox import ApiKey, Sandbox, Security, User

KEY = ApiKey("curl-id", "curl-secret-never-printed")
USER = User("deployer", "pa55-never-printed")


def script(repo: Repo, sandbox: Sandbox, credentials: str, environ: dict[str, str]) -> str:
    repo.environment(
        "dev",
        f"elasticsearch:\n  hosts: [{sandbox.url}]\n{credentials}rules:\n  paths: [rules/]\n",
    )
    result = repo.run("render", "--env", "dev", "--format", "curl", env=environ)
    assert result.exit_code == 0, show(result)
    return result.stdout


def run(repo: Repo, text: str, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    path = repo.root / "put.sh"
    path.write_text(text)
    env = {"PATH": os.environ["PATH"], **environ}
    return subprocess.run(["sh", str(path)], capture_output=True, text=True, env=env, timeout=60)


def stored(sandbox: Sandbox) -> list[str]:
    answer = es_client(sandbox).watcher.query_watches(size=100)
    return sorted(w["_id"] for w in answer["watches"])


@pytest.mark.parametrize("form", ["encoded", "id:api_key"])
def test_the_script_puts_into_the_environments_cluster_with_its_api_key(
    repo: Repo, sandbox: Sandbox, form: str
) -> None:
    value = KEY.encoded if form == "encoded" else f"{KEY.id}:{KEY.api_key}"
    environ = {"TEST_KEY": value}
    text = script(repo, sandbox, "  api_key_env: TEST_KEY\n", environ)
    assert f"{sandbox.url}/_watcher/watch/Rule-0000" in text
    assert "localhost:9200" not in text
    assert KEY.api_key not in text and KEY.encoded not in text
    sandbox.set_security(Security(api_keys=(KEY,)))
    ran = run(repo, text, environ)
    assert ran.returncode == 0, ran.stderr
    sandbox.set_security(None)
    assert stored(sandbox) == ["Rule-0000", "Rule-0001", "Rule-0002"]


def test_basic_credentials_come_from_their_two_variables(repo: Repo, sandbox: Sandbox) -> None:
    environ = {"TEST_USER": USER.username, "TEST_PASSWORD": USER.password}
    credentials = "  username_env: TEST_USER\n  password_env: TEST_PASSWORD\n"
    text = script(repo, sandbox, credentials, environ)
    assert USER.password not in text
    sandbox.set_security(Security(users=(USER,)))
    ran = run(repo, text, environ)
    assert ran.returncode == 0, ran.stderr
    sandbox.set_security(None)
    assert len(stored(sandbox)) == 3


def test_a_variable_that_is_not_set_stops_the_script_before_any_put(
    repo: Repo, sandbox: Sandbox
) -> None:
    text = script(repo, sandbox, "  api_key_env: TEST_KEY\n", {})
    sandbox.clear_log()
    ran = run(repo, text, {})
    assert ran.returncode != 0
    assert "TEST_KEY" in ran.stderr and "set TEST_KEY" in ran.stderr, ran.stderr
    assert sandbox.writes() == []


def test_a_sandbox_environment_keeps_the_seeds_localhost(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.rule(
        "a", "title: A\nlogsource: {product: windows}\ndetection: {s: {x: 1}, condition: s}\n"
    )
    repo.environment("local", "sandbox:\n  state: .watchmgr/local.json\n")
    result = repo.run("render", "--env", "local", "--format", "curl")
    assert result.stdout.startswith(
        "curl -s -XPUT -H 'Content-Type: application/json' --data-binary @- "
        "localhost:9200/_watcher/watch/A <<'EOF'\n"
    ), show(result)


def test_an_elastic_cloud_environment_targets_the_deployments_endpoint(tmp_path: Path) -> None:
    import base64

    cloud = base64.b64encode(b"eu-west-1.aws.found.io:443$abcdef$ghijk").decode()
    repo = Repo(tmp_path)
    repo.rule(
        "a", "title: A\nlogsource: {product: windows}\ndetection: {s: {x: 1}, condition: s}\n"
    )
    repo.environment("prod", f"elasticsearch:\n  cloud_id: 'siem:{cloud}'\n  api_key_env: K\n")
    result = repo.run("render", "--env", "prod", "--format", "curl")
    assert result.exit_code == 0, show(result)
    assert "https://abcdef.eu-west-1.aws.found.io:443/_watcher/watch/A " in result.stdout


def test_certificates_are_handed_to_curl_as_the_environment_says(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.rule(
        "a", "title: A\nlogsource: {product: windows}\ndetection: {s: {x: 1}, condition: s}\n"
    )
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_text("not parsed by render")
    hosts = "elasticsearch:\n  hosts: [https://es.example.com:9200]\n"
    cases = {
        "ca_certs: certs/ca.pem": "--cacert certs/ca.pem ",
        "verify_certs: false": "--insecure ",
        "ssl_assert_fingerprint: '" + "ab" * 32 + "'": "# curl cannot take ca_certs_env",
    }
    for setting, expected in cases.items():
        repo.environment("prod", f"{hosts}  {setting}\n")
        result = repo.run("render", "--env", "prod", "--format", "curl")
        assert result.exit_code == 0, show(result)
        assert expected in result.stdout, (setting, result.stdout[:600])
