"""No secret value ever appears in an output, repr, error or debug log."""

from __future__ import annotations

import logging
import pickle
import shutil
from pathlib import Path

import pytest

from tests.config.support import REPO, config_error, env_from
from watchmgr.config import (
    ConnectionParams,
    Secret,
    connection_params,
    dump_yaml,
    list_environments,
    load_environment,
    resolved_config,
)
from watchmgr.errors import ConfigError

API_KEY = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="
USER, PASSWORD = "svc-watchmgr-9f3a", "correct-horse-battery-staple-42"
TOKEN = "dGhpcy1pcy1hLWJlYXJlci10b2tlbi0xMjM0NQ"
SECRETS = (API_KEY, USER, PASSWORD, TOKEN)
ENVIRON = {
    "WATCHMGR_PROD_API_KEY": API_KEY,
    "WATCHMGR_STAGING_USERNAME": USER,
    "WATCHMGR_STAGING_PASSWORD": PASSWORD,
    "WATCHMGR_DEV_API_KEY": TOKEN,
}


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"secret leaked into: {text[:500]}"


@pytest.mark.parametrize("name", ["dev", "staging", "prod"])
def test_resolved_config_repr_and_params_never_show_a_secret(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for key, value in ENVIRON.items():
        monkeypatch.setenv(key, value)
    caplog.set_level(logging.DEBUG)
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "internal-ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    env = load_environment(tmp_path, name)
    params = connection_params(env, ENVIRON)
    shown = dump_yaml(resolved_config(env, ENVIRON, debug=True))
    assert "***" in shown and "(not set)" not in shown
    for text in (
        repr(env),
        str(env),
        repr(params),
        str(params),
        shown,
        repr(resolved_config(env, ENVIRON, debug=True)),
        repr(list_environments(tmp_path)),
        caplog.text,
    ):
        assert_clean(text)
    # the one place the secret is in clear: what is handed to the client
    kwargs = params.client_kwargs()
    assert kwargs.get("api_key") in (API_KEY, TOKEN) or kwargs.get("basic_auth") == (USER, PASSWORD)


def test_secret_wrapper_masks_everything() -> None:
    secret = Secret(PASSWORD)
    assert (repr(secret), str(secret), f"{secret}") == ("Secret('***')", "***", "***")
    assert secret.reveal() == PASSWORD
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    params = ConnectionParams(basic_auth=(Secret(USER), Secret(PASSWORD)))
    assert_clean(repr(params))


def test_a_missing_variable_error_does_not_show_the_other_secret(tmp_path: Path) -> None:
    env = env_from(
        tmp_path,
        "elasticsearch:\n  hosts: [https://es.example.com]\n  username_env: U\n  password_env: P\n",
    )
    with pytest.raises(ConfigError) as caught:
        connection_params(env, environ={"U": USER})
    assert "P is not set" in str(caught.value)
    assert_clean(str(caught.value))


@pytest.mark.parametrize(
    "text",
    [
        f"elasticsearch:\n  hosts: [https://es.example.com]\n  api_key: {API_KEY}\n",
        f"elasticsearch:\n  hosts: [https://es.example.com]\n  api_key_env: {API_KEY}\n",
        f"elasticsearch:\n  hosts: ['https://{USER}:{PASSWORD}@es.example.com']\n",
        f"elasticsearch:\n  hosts: [https://es.example.com]\n  password: {PASSWORD}\n",
        f"elasticsearch:\n  hosts: [https://es.example.com]\n  bearer_token_env: [{TOKEN}]\n",
        f"elasticsearch:\n  hosts: [https://es.example.com]\n  request_timeout: '{TOKEN}'\n",
        f"sandbox: {{}}\ndescription: Bearer {TOKEN}\n",
        f"sandbox: {{}}\nwatch:\n  actions:\n    h:\n      webhook:\n        url: https://x.example.com/?token={TOKEN}\n",
        f"sandbox: {{}}\nwatch:\n  actions:\n    h:\n      webhook:\n"
        f"        url: https://x.example.com/\n        headers: {{X-Api-Key: {TOKEN}}}\n",
        f"sandbox: {{}}\nwatch: [{API_KEY}]\n",
        f"sandbox: {{}}\nwatch: {{interval: [{PASSWORD}\n",
    ],
    ids=[
        "api_key",
        "secret in api_key_env",
        "userinfo",
        "password",
        "wrong type",
        "request_timeout",
        "bearer value",
        "url query",
        "header",
        "watch list",
        "malformed",
    ],
)
def test_errors_about_secrets_do_not_quote_them(tmp_path: Path, text: str) -> None:
    message = config_error(tmp_path, text)
    assert ".yaml:" in message
    assert_clean(message)


def test_an_interval_error_quotes_the_value_it_cannot_read(tmp_path: Path) -> None:
    # Values outside `elasticsearch:` are settings, not credentials: quoting them helps.
    assert "'30x'" in config_error(tmp_path, "sandbox: {}\nwatch: {interval: 30x}\n")


def test_config_reads_only_the_environment_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The process environment holds the variable; config is handed another mapping and
    # must not look past it (the command line passes os.environ, nothing else reads it).
    monkeypatch.setenv("K", API_KEY)
    env = env_from(
        tmp_path, "elasticsearch:\n  hosts: [https://es.example.com]\n  api_key_env: K\n"
    )
    with pytest.raises(ConfigError, match="environment variable K is not set"):
        connection_params(env, {})
    assert resolved_config(env, {})["elasticsearch"]["auth"]["api_key"] == "(not set)"
    assert resolved_config(env, {"K": API_KEY})["elasticsearch"]["auth"]["api_key"] == "***"
    assert connection_params(env, {"K": "other"}).client_kwargs()["api_key"] == "other"
