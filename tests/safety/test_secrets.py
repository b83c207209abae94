"""No command ever prints or writes a credential: every command, failing ones and debug output
included, runs with marker values in the credential variables, and everything it prints and
every file it leaves behind (plan files, the conversion cache) is scanned for them."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.plan.support import rule_yaml
from watchmgr.cli import app
from watchmgr.sandbox import ApiKey, Sandbox, SandboxConfig, Security, Token, User

KEY = ApiKey("marker-key-id-4f2a", "MARKER-apikey-9c1e7d", frozenset({"manage_watcher"}))
READ_ONLY = ApiKey("marker-ro-id-77aa", "MARKER-rokey-2b4f6e", frozenset({"monitor_watcher"}))
USER = User("marker-user-0c3d", "MARKER-password-8e2a5f")
TOKEN = Token("MARKER-bearer-token-1f9b3c")
WRONG = "MARKER-wrong-key-6a0d4e"
VARIABLES = {
    "WM_KEY": KEY.encoded,
    "WM_ID_KEY": f"{KEY.id}:{KEY.api_key}",
    "WM_RO_KEY": READ_ONLY.encoded,
    "WM_USER": USER.username,
    "WM_PASSWORD": USER.password,
    "WM_TOKEN": TOKEN.value,
    "WM_WRONG": WRONG,
}
#: What must never be seen: each secret, and each as it travels in an Authorization header.
SECRETS = [
    KEY.api_key,
    KEY.encoded,
    READ_ONLY.api_key,
    READ_ONLY.encoded,
    USER.password,
    base64.b64encode(f"{USER.username}:{USER.password}".encode()).decode(),
    TOKEN.value,
    WRONG,
]
CREDENTIALS = {
    "key": "api_key_env: WM_KEY",
    "idkey": "api_key_env: WM_ID_KEY",
    "user": "username_env: WM_USER\n  password_env: WM_PASSWORD",
    "token": "bearer_token_env: WM_TOKEN",
    "wrong": "api_key_env: WM_WRONG",
    "readonly": "api_key_env: WM_RO_KEY",
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    security = Security(api_keys=(KEY, READ_ONLY), users=(USER,), tokens=(TOKEN,))
    with Sandbox(SandboxConfig(es_version="9.1.0", security=security)) as sb:
        yield sb


def commands(env: str) -> list[list[str]]:
    return [
        ["environments"],
        ["config", "show", "--env", env],
        ["config", "show", "--env", env, "--debug"],
        ["validate", "--env", env],
        ["render", "--env", env],
        ["plan", "--env", env],
        ["plan", "--env", env, "--format", "json"],
        ["plan", "--env", env, "--format", "markdown", "--detailed-exitcode"],
        ["plan", "--env", env, "--out", f"plan-{env}.json"],
        ["apply", "--env", env, f"plan-{env}.json", "--yes"],
        ["apply", "--env", env, "--yes"],
        ["unlock", "--env", env, "--yes"],
        ["apply", "--env", env, "--yes", "--parallelism", "0"],
    ]


@pytest.mark.parametrize("env", sorted(CREDENTIALS))
def test_no_command_prints_or_writes_a_credential(
    env: str, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules").mkdir()
    for n in range(3):
        (tmp_path / "rules" / f"r{n}.yml").write_text(rule_yaml(f"Secret test {env} {n}"))
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / f"{env}.yaml").write_text(
        f"elasticsearch:\n  hosts: [{sandbox.url}]\n  {CREDENTIALS[env]}\n"
        "rules:\n  paths: [rules/]\n"
    )
    printed: list[str] = []
    codes: list[int] = []
    for args in commands(env):
        result = CliRunner().invoke(app, args, env={**VARIABLES, "WATCHMGR_DEBUG": "1"})
        printed.append(f"$ watchmgr {' '.join(args)}\n{result.stdout}{result.stderr}")
        codes.append(result.exit_code)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == f"plan-{env}.json" for p in written)
    assert any(".watchmgr" in p.parts for p in written)  # the conversion cache was written
    everything = "\n".join(printed)
    for secret in SECRETS:
        assert secret not in everything, everything
        for path in written:
            assert secret.encode() not in path.read_bytes(), path
    if env in ("wrong", "readonly"):  # the failing ones failed, and said why
        assert "401" in everything or "manage_watcher" in everything, everything
    else:
        assert codes[10] == 0, everything  # apply went through with these credentials
