"""Connecting to the clusters teams run: Elasticsearch 8.x and 9.x, HTTPS with the cluster's own
CA, Elastic Cloud, and every kind of credential, through the CLI and the installed client.

`make test` runs this file twice: with the client `pip` installed (9.x) and with the 8.x client
first on the path (`.venv-es8`), so that neither client major can regress.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.plan.support import Repo, dev_repo, show, successful_writes
from watchmgr.cli import app
from watchmgr.sandbox import ApiKey, Sandbox, SandboxConfig, Security, Token, User

ES_VERSIONS = ("8.19.0", "9.1.0")
SUPPORTED = "watchmgr supports Elasticsearch 8.x and 9.x"
KEY = ApiKey("VuaCfGcBCdbkQm-e5aOx", "ui2lp2axTNmsyakw9tvNnw", frozenset({"manage_watcher"}))


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


class CliSandbox:
    """`python -m watchmgr.sandbox` in a process of its own, as a user starts it."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "watchmgr.sandbox", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.banner = [self.process.stdout.readline()]
        if "--tls-dir" in args:
            self.banner += [self.process.stdout.readline(), self.process.stdout.readline()]
        found = re.search(r"listening on (\S+)", self.banner[0])
        assert found, [*self.banner, self.process.stderr.read() if self.process.stderr else ""]
        self.url = found.group(1)

    def fingerprint(self) -> str:
        found = [re.search(r"fingerprint\W+([0-9a-f]{64})\b", line) for line in self.banner]
        (match,) = [m for m in found if m]
        return match.group(1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.communicate(timeout=10)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.chdir(tmp_path)
    repo = Repo(tmp_path)
    repo.rules(3)
    return repo


def es_env(repo: Repo, url: str, extra: str = "") -> None:
    repo.environment(
        "prod", f"elasticsearch:\n  hosts: [{url}]\n{extra}rules:\n  paths: [rules/]\n"
    )


# ------------------------------------------------------------------------------ both majors


@pytest.mark.parametrize("es_version", ES_VERSIONS)
def test_apply_then_plan_against_the_sandbox_command_of_each_major(
    repo: Repo, es_version: str
) -> None:
    # 8.19.0 is the sandbox command's default: no option at all, as the README shows it.
    sandbox = CliSandbox() if es_version == "8.19.0" else CliSandbox("--es-version", es_version)
    try:
        assert f"Elasticsearch {es_version} Watcher API" in sandbox.banner[0]
        es_env(repo, sandbox.url)
        applied = repo.run("apply", "--env", "prod", "--yes")
        assert applied.exit_code == 0, show(applied)
        assert "3 done, 0 not done" in applied.stdout
        planned = repo.run("plan", "--env", "prod", "--detailed-exitcode")
        assert planned.exit_code == 0, show(planned)
    finally:
        sandbox.stop()


@pytest.mark.parametrize("es_version", ["7.17.0", "10.0.0"])
def test_a_cluster_of_another_major_is_one_line_naming_the_supported_ones(
    repo: Repo, es_version: str
) -> None:
    with Sandbox(SandboxConfig(es_version=es_version)) as sandbox:
        es_env(repo, sandbox.url)
        for command in (["plan"], ["apply", "--yes"]):
            result = repo.run(*command, "--env", "prod")
            assert result.exit_code == 1, show(result)
            assert one_line(result.stderr).endswith(SUPPORTED), show(result)
        assert successful_writes(sandbox) == []


def test_the_installed_client_is_the_major_the_test_run_asked_for() -> None:
    import elasticsearch

    major = elasticsearch.__versionstr__.split(".")[0]
    assert major in ("8", "9")
    assert major == os.environ.get("WATCHMGR_EXPECT_CLIENT_MAJOR", major)


# ------------------------------------------------------------------------------ HTTPS


def test_the_https_sandbox_prints_its_ca_fingerprint_and_keeps_its_ca(tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    first = CliSandbox("--tls-dir", str(certs))
    first.stop()
    assert first.url.startswith("https://127.0.0.1:")
    der = ssl.PEM_cert_to_DER_cert((certs / "ca.crt").read_text())
    assert first.fingerprint() == hashlib.sha256(der).hexdigest()
    assert (certs / "http.key").stat().st_mode & 0o077 == 0
    made = {p.name: p.read_bytes() for p in certs.iterdir()}
    second = CliSandbox("--tls-dir", str(certs))
    second.stop()
    assert second.fingerprint() == first.fingerprint()
    assert {p.name: p.read_bytes() for p in certs.iterdir()} == made


@pytest.fixture
def https(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(tls_dir=tmp_path / "certs")) as sandbox:
        yield sandbox


def colons(fingerprint: str) -> str:
    return ":".join(fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()


def test_https_with_the_ca_file_then_its_fingerprint_then_its_pem_in_a_variable(
    repo: Repo, https: Sandbox
) -> None:
    ca = https.certificates.ca
    es_env(repo, https.url, f"  ca_certs: {ca}\n")
    applied = repo.run("apply", "--env", "prod", "--yes")
    assert applied.exit_code == 0, show(applied)
    for fingerprint in (https.certificates.fingerprint(), colons(https.certificates.fingerprint())):
        es_env(repo, https.url, f"  ssl_assert_fingerprint: '{fingerprint}'\n")
        planned = repo.run("plan", "--env", "prod", "--detailed-exitcode")
        assert planned.exit_code == 0, show(planned)
    es_env(repo, https.url.replace("127.0.0.1", "localhost"), "  ca_certs_env: PROD_CA\n")
    planned = repo.run(
        "plan", "--env", "prod", "--detailed-exitcode", env={"PROD_CA": ca.read_text()}
    )
    assert planned.exit_code == 0, show(planned)


def test_https_without_the_ca_is_one_line_saying_how_to_trust_it(
    repo: Repo, https: Sandbox
) -> None:
    es_env(repo, https.url)
    for command in (["plan"], ["apply", "--yes"]):
        result = repo.run(*command, "--env", "prod")
        assert result.exit_code == 1, show(result)
        line = one_line(result.stderr)
        assert "cannot verify the TLS certificate" in line, line
        assert "ca_certs" in line and "ssl_assert_fingerprint" in line, line
    assert https.request_log == []  # no request got past the handshake


def test_a_wrong_fingerprint_is_one_line(repo: Repo, https: Sandbox) -> None:
    es_env(repo, https.url, f"  ssl_assert_fingerprint: '{'ab' * 32}'\n")
    result = repo.run("apply", "--env", "prod", "--yes")
    assert result.exit_code == 1, show(result)
    assert "has the fingerprint ssl_assert_fingerprint names" in one_line(result.stderr)
    assert https.request_log == []


# ------------------------------------------------------------------------------ Elastic Cloud


def cloud_id(port: int) -> str:
    # The client makes https://<es uuid>.<host>:<port> of a cloud id; "127.0" + "0.1" is the
    # sandbox's loopback address, so the client's own cloud_id handling is what is tested.
    return "prod:" + base64.b64encode(f"0.1:{port}$127.0$kibana".encode()).decode()


@pytest.mark.parametrize("form", ["encoded", "id:key"])
def test_cloud_id_with_an_api_key_in_either_form(repo: Repo, https: Sandbox, form: str) -> None:
    https.set_security(Security(api_keys=(KEY,)))
    repo.environment(
        "prod",
        f"elasticsearch:\n  cloud_id: '{cloud_id(https.port)}'\n  api_key_env: PROD_KEY\n"
        f"  ca_certs: {https.certificates.ca}\nrules:\n  paths: [rules/]\n",
    )
    value = KEY.encoded if form == "encoded" else f"{KEY.id}:{KEY.api_key}"
    applied = repo.run("apply", "--env", "prod", "--yes", env={"PROD_KEY": value})
    assert applied.exit_code == 0, show(applied)
    assert len(successful_writes(https)) >= 3


def test_a_malformed_cloud_id_is_one_line(repo: Repo) -> None:
    repo.environment("prod", "elasticsearch:\n  cloud_id: 'prod:not*base64'\n")
    result = repo.run("plan", "--env", "prod")
    assert result.exit_code == 1, show(result)
    assert "Cloud ID is not properly formatted" in one_line(result.stderr)


# ------------------------------------------------------------------------------ credentials


def test_basic_auth_and_a_bearer_token(repo: Repo, tmp_path: Path) -> None:
    security = Security(users=(User("svc-watchmgr", "s3cret"),), tokens=(Token("tok-123"),))
    config = SandboxConfig(security=security, tls_dir=tmp_path / "certs")
    with Sandbox(config) as sandbox:
        ca = f"  ca_certs: {sandbox.certificates.ca}\n"
        es_env(repo, sandbox.url, ca + "  username_env: ES_USER\n  password_env: ES_PASSWORD\n")
        good = {"ES_USER": "svc-watchmgr", "ES_PASSWORD": "s3cret"}
        applied = repo.run("apply", "--env", "prod", "--yes", env=good)
        assert applied.exit_code == 0, show(applied)
        wrong = repo.run("plan", "--env", "prod", env={**good, "ES_PASSWORD": "nope"})
        assert wrong.exit_code == 1, show(wrong)
        assert "refused the credentials (401" in one_line(wrong.stderr)
        es_env(repo, sandbox.url, ca + "  bearer_token_env: ES_TOKEN\n")
        planned = repo.run(
            "plan", "--env", "prod", "--detailed-exitcode", env={"ES_TOKEN": "tok-123"}
        )
        assert planned.exit_code == 0, show(planned)
        wrong = repo.run("plan", "--env", "prod", env={"ES_TOKEN": "tok-999"})
        assert "refused the credentials (401" in one_line(wrong.stderr)


def test_least_privilege_keys_plan_and_apply_without_reading_the_cluster_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monitor = ApiKey("mon", "monkey", frozenset({"monitor_watcher"}))
    manage = ApiKey("man", "mankey", frozenset({"manage_watcher"}))
    monkeypatch.chdir(tmp_path)
    with Sandbox(SandboxConfig(security=Security(api_keys=(monitor, manage)))) as sandbox:
        repo = dev_repo(tmp_path, sandbox, rules=2)
        repo.cluster_env("dev", sandbox, "")
        text = (tmp_path / "environments" / "dev.yaml").read_text()
        text = text.replace("rules:", "  api_key_env: KEY\nrules:")
        (tmp_path / "environments" / "dev.yaml").write_text(text)
        applied = repo.run("apply", "--env", "dev", "--yes", env={"KEY": manage.encoded})
        assert applied.exit_code == 0, show(applied)
        planned = repo.run(
            "plan", "--env", "dev", "--detailed-exitcode", env={"KEY": monitor.encoded}
        )
        assert planned.exit_code == 0, show(planned)


# ------------------------------------------------------------------------------ the sandbox command


@pytest.mark.parametrize("version", ["banana", "7.17.0", "10.0.0", "8.19", "9.1.0-SNAPSHOT"])
def test_the_sandbox_command_emulates_only_8_and_9(version: str) -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["sandbox", "--es-version", version])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "the sandbox emulates Elasticsearch 8.x and 9.x" in result.output


def test_the_sandbox_command_refuses_a_port_out_of_range_or_taken() -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["sandbox", "--port", "70000"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["sandbox", "--port", str(port)])
    assert result.exit_code == 1, result.output
    assert one_line(result.stderr).startswith(f"watchmgr sandbox: cannot start on 127.0.0.1:{port}")
