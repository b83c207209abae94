"""Bad input: one line each, ``path:line: message``, naming the offending key and what to do."""
# ruff: noqa: E501  (inline environment files read better as one string per case)

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.config.support import config_error, env_from, write
from watchmgr.config import connection_params, list_environments, load_environment
from watchmgr.errors import ConfigError

ES = "elasticsearch:\n  hosts: [https://es.example.com:9200]\n"

#: (case, environment file, other files, file the error is in, line, message pattern)
CASES: list[tuple[str, str, dict[str, str], str, int, str]] = [
    (
        "unknown key with suggestion",
        "sandbox: {}\nwatch:\n  intervall: 5m\n",
        {},
        "test",
        3,
        r"unknown key 'intervall' in watch \(did you mean 'interval'\?\)",
    ),
    (
        "unknown top-level key",
        "sandbox: {}\nwatches: {}\n",
        {},
        "test",
        2,
        r"unknown key 'watches' \(did you mean 'watch'\?\)",
    ),
    (
        "unknown key without a close match lists the valid ones",
        "sandbox: {}\nrules:\n  zzz: 1\n",
        {},
        "test",
        3,
        r"unknown key 'zzz' in rules \(valid keys: paths, exclude, min_level, status, tags, logsource\)",
    ),
    (
        "wrong type: hosts is not a list",
        "elasticsearch:\n  hosts: https://es.example.com:9200\n",
        {},
        "test",
        2,
        r"elasticsearch.hosts must be a list of URLs like https://es.example.com:9200, not text",
    ),
    (
        "wrong type: active is not a boolean",
        "sandbox: {}\nwatch:\n  active: sometimes\n",
        {},
        "test",
        3,
        r"watch.active must be true or false, not text",
    ),
    (
        "wrong type: watch is a list",
        "sandbox: {}\nwatch:\n  - interval: 5m\n",
        {},
        "test",
        2,
        r"watch must be a mapping, not a list",
    ),
    (
        "both elasticsearch and sandbox",
        ES + "sandbox:\n  state: .watchmgr/x.json\n",
        {},
        "test",
        3,
        r"both 'elasticsearch' and 'sandbox' are set",
    ),
    (
        "neither elasticsearch nor sandbox",
        "watch:\n  interval: 5m\n",
        {},
        "test",
        1,
        r"neither 'elasticsearch' nor 'sandbox' is set",
    ),
    (
        "literal secret: api_key",
        ES + "  api_key: c2VjcmV0LWtleS12YWx1ZQ==\n",
        {},
        "test",
        3,
        r"elasticsearch.api_key would put a secret in the file: .*'api_key_env: ",
    ),
    (
        "literal secret: password",
        ES + "  username_env: ES_USER\n  password: hunter2hunter2\n",
        {},
        "test",
        4,
        r"elasticsearch.password would put a secret in the file: .*'password_env: ",
    ),
    (
        "literal secret: the secret pasted into api_key_env",
        ES + "  api_key_env: VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAy==\n",
        {},
        "test",
        3,
        r"elasticsearch.api_key_env must name an environment variable .* not hold the secret",
    ),
    (
        "literal secret: credentials in a host URL",
        "elasticsearch:\n  hosts:\n    - https://elastic:changeme@es.example.com:9200\n",
        {},
        "test",
        3,
        r"elasticsearch.hosts\[0\] has credentials in the URL",
    ),
    (
        "literal secret: a bearer token as a value",
        "sandbox: {}\ndescription: Bearer abcdefghijklmnopqrstuvwxyz0123\n",
        {},
        "test",
        2,
        r"description holds what looks like a secret",
    ),
    (
        "literal secret: webhook Authorization header",
        "sandbox: {}\nwatch:\n  actions:\n    soar:\n      webhook:\n        url: https://soar.example.com/x\n"
        "        headers:\n          Authorization: Basic dXNlcjpwYXNzd29yZA==\n",
        {},
        "test",
        8,
        r"header 'Authorization' would put a secret into the file",
    ),
    (
        "extends cycle names the chain",
        "extends: a.yaml\nsandbox: {}\n",
        {"environments/a.yaml": "extends: b.yaml\n", "environments/b.yaml": "extends: a.yaml\n"},
        "b",
        1,
        r"extends cycle: \S*environments/a.yaml -> \S*environments/b.yaml -> \S*environments/a.yaml",
    ),
    (
        "extends itself",
        "extends: test.yaml\nsandbox: {}\n",
        {},
        "test",
        1,
        r"extends cycle: \S*environments/test.yaml -> \S*environments/test.yaml",
    ),
    (
        "extends a missing file",
        "sandbox: {}\nextends: bsae.yaml\n",
        {},
        "test",
        2,
        r"extends 'bsae.yaml', which does not exist",
    ),
    (
        "unknown pipeline name with suggestion",
        "sandbox: {}\nmapping:\n  pipelines:\n    - ecs_windws\n",
        {},
        "test",
        4,
        r"unknown pipeline 'ecs_windws' \(did you mean 'ecs_windows'\? installed: .*ecs_windows",
    ),
    (
        "missing pipeline file",
        "sandbox: {}\nmapping:\n  pipelines: [pipelines/missing.yml]\n",
        {},
        "test",
        3,
        r"pipeline file 'pipelines/missing.yml' does not exist",
    ),
    (
        "broken pipeline file",
        "sandbox: {}\nmapping:\n  pipelines: [pipelines/bad.yml]\n",
        {"pipelines/bad.yml": "transformations:\n  - type: no_such_transformation\n"},
        "test",
        3,
        r"pipeline file 'pipelines/bad.yml' is not a valid pySigma pipeline",
    ),
    (
        "invalid interval 30x",
        "sandbox: {}\nwatch:\n  interval: 30x\n",
        {},
        "test",
        3,
        r"watch.interval '30x' is not a Watcher interval: .*s, m, h, d, w",
    ),
    (
        "interval in ms (Watcher refuses)",
        "sandbox: {}\nwatch:\n  by_level:\n    critical:\n      interval: 500ms\n",
        {},
        "test",
        5,
        r"watch.by_level.critical.interval '500ms' is not a Watcher interval",
    ),
    (
        "invalid throttle period",
        "sandbox: {}\nwatch:\n  throttle_period: 1 hour\n",
        {},
        "test",
        3,
        r"watch.throttle_period '1 hour' is not a duration",
    ),
    (
        "invalid range",
        "sandbox: {}\nwatch:\n  range: 30m\n",
        {},
        "test",
        3,
        r"watch.range '30m' is not Elasticsearch date math",
    ),
    (
        "unknown level in by_level",
        "sandbox: {}\nwatch:\n  by_level:\n    crtical: {interval: 5m}\n",
        {},
        "test",
        4,
        r"unknown key 'crtical' in watch.by_level \(did you mean 'critical'\?\)",
    ),
    (
        "unknown min_level",
        "sandbox: {}\nrules:\n  min_level: hihg\n",
        {},
        "test",
        3,
        r"rules.min_level 'hihg' is not one of informational, low, medium, high, critical "
        r"\(did you mean 'high'\?\)",
    ),
    (
        "unknown status",
        "sandbox: {}\nrules:\n  status: [stable, testing]\n",
        {},
        "test",
        3,
        r"rules.status\[1\] 'testing' is not one of stable, test, experimental",
    ),
    (
        "unknown id scheme",
        "sandbox: {}\nwatch:\n  id_scheme: uuid\n",
        {},
        "test",
        3,
        r"watch.id_scheme 'uuid' is not one of title, sigma-id",
    ),
    (
        "bad e-mail address",
        "sandbox: {}\nwatch:\n  actions:\n    mail:\n      email:\n        to: [soc@example.com, nobody]\n",
        {},
        "test",
        6,
        r"watch.actions.mail.email.to 'nobody' is not an e-mail address",
    ),
    (
        "action with two types",
        "sandbox: {}\nwatch:\n  actions:\n    a:\n      index: {index: x}\n      logging: {}\n",
        {},
        "test",
        4,
        r"action 'a' needs exactly one of email, webhook, index, logging",
    ),
    (
        "unknown action type",
        "sandbox: {}\nwatch:\n  actions:\n    a:\n      emial: {to: a@b.c}\n",
        {},
        "test",
        5,
        r"unknown key 'emial' in watch.actions.a \(did you mean 'email'\?\)",
    ),
    (
        "webhook without url",
        "sandbox: {}\nwatch:\n  actions:\n    a:\n      webhook: {method: post}\n",
        {},
        "test",
        5,
        r"webhook action 'a' needs a 'url'",
    ),
    (
        "override without match",
        "sandbox: {}\noverrides:\n  - active: false\n",
        {},
        "test",
        3,
        r"an override needs 'match' with exactly one of id .* or path",
    ),
    (
        "override with both id and path",
        "sandbox: {}\noverrides:\n  - match: {id: abc, path: 'rules/*'}\n    skip: true\n",
        {},
        "test",
        3,
        r"an override needs 'match' with exactly one of id",
    ),
    (
        "username_env without password_env",
        ES + "  username_env: ES_USER\n",
        {},
        "test",
        3,
        r"elasticsearch.username_env needs password_env as well",
    ),
    (
        "two authentication methods",
        ES + "  api_key_env: ES_KEY\n  bearer_token_env: ES_TOKEN\n",
        {},
        "test",
        1,
        r"elasticsearch has more than one authentication method",
    ),
    (
        "hosts and cloud_id",
        ES + "  cloud_id: 'x:eHl6'\n",
        {},
        "test",
        1,
        r"elasticsearch needs exactly one of 'hosts' .* and 'cloud_id'",
    ),
    (
        "cloud_id not base64",
        "elasticsearch:\n  cloud_id: 'prod:not base64!'\n",
        {},
        "test",
        2,
        r"elasticsearch.cloud_id: Cloud ID is not properly formatted \(after 'name:' comes the "
        r"base64 of host\$es-id\$kibana-id",
    ),
    (
        "cloud_id with a port that is not a number",
        "elasticsearch:\n  cloud_id: 'prod:Zm9vOmJhcg=='\n",
        {},
        "test",
        2,
        r"elasticsearch.cloud_id: Cloud ID is not properly formatted",
    ),
    (
        "not a URL",
        "elasticsearch:\n  hosts: [es.example.com:9200]\n",
        {},
        "test",
        2,
        r"elasticsearch.hosts\[0\] must be an http:// or https:// URL",
    ),
    (
        "ssl_assert_fingerprint too short",
        ES + "  ssl_assert_fingerprint: 'AB:CD:EF'\n",
        {},
        "test",
        3,
        r"ssl_assert_fingerprint must be a SHA-256 fingerprint: 64 hex digits",
    ),
    (
        "two ways to trust the CA",
        ES + "  ca_certs: certs/ca.pem\n  ssl_assert_fingerprint: " + "ab" * 32 + "\n",
        {},
        "test",
        4,
        r"has both ca_certs and ssl_assert_fingerprint: .*one of them",
    ),
    (
        "ca_certs_env holding the PEM itself",
        ES + "  ca_certs_env: '-----BEGIN CERTIFICATE-----'\n",
        {},
        "test",
        3,
        r"ca_certs_env must name an environment variable",
    ),
    (
        "request_timeout not a number",
        ES + "  request_timeout: soon\n",
        {},
        "test",
        3,
        r"elasticsearch.request_timeout must be a positive number of seconds, not text",
    ),
    (
        "python tag",
        "sandbox: !!python/object/apply:os.system ['echo hi']\n",
        {},
        "test",
        1,
        r"YAML tag .*python/object/apply:os.system.* is not allowed: environment files are plain YAML",
    ),
    (
        "malformed YAML",
        "sandbox: {}\nwatch:\n  interval: [5m\n",
        {},
        "test",
        4,
        r"malformed YAML: ",
    ),
    (
        "duplicate key",
        "sandbox: {}\nwatch:\n  interval: 5m\n  interval: 10m\n",
        {},
        "test",
        4,
        r"duplicate key 'interval' \(first at line 3\)",
    ),
    (
        "non-text key",
        "sandbox: {}\nmapping:\n  placeholders:\n    1: [a]\n",
        {},
        "test",
        4,
        r"key '1' is not text \(quote it: YAML reads it as int\)",
    ),
    (
        "file is a list",
        "- sandbox: {}\n",
        {},
        "test",
        1,
        r"the file must be a mapping of keys .* not a list",
    ),
    (
        "error in the base file points at the base",
        "extends: base.yaml\nsandbox: {}\n",
        {"environments/base.yaml": "# shared\nwatch:\n  interval: 30x\n"},
        "base",
        3,
        r"watch.interval '30x' is not a Watcher interval",
    ),
    (
        "the child's value is reported where the child sets it",
        "extends: base.yaml\nsandbox: {}\nwatch:\n  interval: 5x\n",
        {"environments/base.yaml": "watch:\n  interval: 30m\n"},
        "test",
        4,
        r"watch.interval '5x' is not a Watcher interval",
    ),
    (
        "bad exclude glob",
        "sandbox: {}\nrules:\n  exclude: ['rules/[z-a]/*']\n",
        {},
        "test",
        3,
        r"rules.exclude 'rules/\[z-a\]/\*' is not a valid glob",
    ),
    (
        "rules path outside the repository",
        "sandbox: {}\nrules:\n  paths: [../other/rules]\n",
        {},
        "test",
        3,
        r"rules.paths entry '../other/rules' must be inside the repository",
    ),
    (
        "bad index pattern",
        "sandbox: {}\nmapping:\n  indices:\n    default: ['logs windows']\n",
        {},
        "test",
        4,
        r"mapping.indices.default 'logs windows' is not an index name or pattern",
    ),
    (
        "by_logsource entry without a logsource field",
        "sandbox: {}\nmapping:\n  indices:\n    by_logsource:\n      - indices: [a]\n",
        {},
        "test",
        5,
        r"a by_logsource entry must name product, category or service",
    ),
    (
        "placeholder without values",
        "sandbox: {}\nmapping:\n  placeholders:\n    admins: []\n",
        {},
        "test",
        4,
        r"placeholder 'admins' has no values",
    ),
    (
        "unknown dialect",
        "sandbox: {}\nwatch:\n  dialect: es-qs\n",
        {},
        "test",
        3,
        r"watch.dialect 'es-qs' is not one of sigma, sigmac, sigmac-2020",
    ),
]


@pytest.mark.parametrize(
    ("text", "files", "where", "line", "pattern"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_bad_input_is_one_line_at_the_offending_line(
    tmp_path: Path, text: str, files: dict[str, str], where: str, line: int, pattern: str
) -> None:
    write(tmp_path, files)
    message = config_error(tmp_path, text)
    prefix = f"{tmp_path / 'environments' / where}.yaml:{line}: "
    assert message.startswith(prefix), message
    assert re.search(pattern, message[len(prefix) :]), message


def test_missing_env_variable_is_named_at_its_line(tmp_path: Path) -> None:
    env = env_from(tmp_path, ES + "  api_key_env: WATCHMGR_TEST_API_KEY\n")
    with pytest.raises(ConfigError) as caught:
        connection_params(env, environ={})
    message = str(caught.value)
    assert message == (
        f"{tmp_path}/environments/test.yaml:3: environment variable WATCHMGR_TEST_API_KEY "
        "is not set (api_key_env names it; export it before running watchmgr)"
    )


def test_empty_env_variable_is_an_error_too(tmp_path: Path) -> None:
    env = env_from(tmp_path, ES + "  username_env: ES_U\n  password_env: ES_P\n")
    with pytest.raises(ConfigError, match=r"test.yaml:4: environment variable ES_P is empty"):
        connection_params(env, environ={"ES_U": "watchmgr", "ES_P": ""})


def test_missing_ca_file_is_reported_when_connecting_only(tmp_path: Path) -> None:
    env = env_from(tmp_path, ES + "  ca_certs: certs/ca.pem\n")
    with pytest.raises(
        ConfigError, match=r"test.yaml:3: ca_certs file 'certs/ca.pem' does not exist"
    ):
        connection_params(env, environ={})


def test_ca_certs_env_must_hold_a_pem_certificate(tmp_path: Path) -> None:
    env = env_from(tmp_path, ES + "  ca_certs_env: WATCHMGR_TEST_CA\n")
    with pytest.raises(
        ConfigError,
        match=r"test.yaml:3: environment variable WATCHMGR_TEST_CA is not set or empty "
        r"\(ca_certs_env names it; export the CA certificate's PEM text",
    ):
        connection_params(env, environ={})
    with pytest.raises(ConfigError, match=r"WATCHMGR_TEST_CA holds no PEM certificate"):
        connection_params(env, environ={"WATCHMGR_TEST_CA": "/etc/ssl/ca.pem"})
    broken = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"
    with pytest.raises(ConfigError, match=r"WATCHMGR_TEST_CA holds a CA certificate that does not"):
        connection_params(env, environ={"WATCHMGR_TEST_CA": broken})


def test_unknown_environment_lists_the_existing_ones(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "environments/prod.yaml": "sandbox: {}\n",
            "environments/dev.yaml": "sandbox: {}\n",
        },
    )
    with pytest.raises(ConfigError) as caught:
        load_environment(tmp_path, "prd")
    assert str(caught.value) == (
        "unknown environment 'prd': there is no environments/prd.yaml "
        "(environments: dev, prod; did you mean 'prod'?)"
    )


def test_unknown_environment_without_any(tmp_path: Path) -> None:
    (tmp_path / "environments").mkdir()
    with pytest.raises(ConfigError, match=r"\(environments: none\)$"):
        load_environment(tmp_path, "prod")


def test_no_environments_folder_says_where_to_run_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As from rules/ of a repository: the root is the current folder, which has no environments/.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_environment(Path("."), "local")
    assert str(caught.value) == (
        "unknown environment 'local': there is no environments/local.yaml (environments: none; "
        "this folder has no environments/ folder: run watchmgr from the repository root or pass "
        "--root)"
    )


def test_list_environments_shows_broken_files_with_their_error(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "environments/base.yaml": "watch: {interval: 5m}\n",
            "environments/good.yaml": "extends: base.yaml\nsandbox: {}\n",
            "environments/bad.yaml": "extends: base.yaml\nsandbox: {}\nwatch: {interval: 1x}\n",
        },
    )
    infos = list_environments(tmp_path)
    assert [i.name for i in infos] == ["bad", "good"]  # base.yaml is only extended
    assert infos[0].target == (
        f"invalid: {tmp_path}/environments/bad.yaml:3: watch.interval '1x' is not a Watcher "
        "interval: a whole number and one of the units s, m, h, d, w (like 30m; at least 1s)"
    )
    assert infos[1].target == "sandbox .watchmgr/local.json"
