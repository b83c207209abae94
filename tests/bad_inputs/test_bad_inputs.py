"""The bad-input catalogue: every case in this folder's YAML files, run through the CLI.

Each case is data: the files (and symbolic links) it writes into an otherwise good repository,
or the answer a fake server gives; the command line; the place the one error line must name
(`where`), a fragment of that line (`expect`) and the exit code (default 1). Every case must
end with exactly one line naming its place and containing the fragment, that exit code, no
traceback and no internal error, and nothing written: checked in the sandbox's request log,
or the fake server's for cluster answers (there every case runs both `plan` and `apply`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from tests.bad_inputs.fake_server import ES_HEADERS, Answer, fake_server
from tests.plan.support import rule_yaml
from watchmgr.cli import app
from watchmgr.sandbox import Sandbox, SandboxConfig

HERE = Path(__file__).parent
KINDS = ("rules", "environments", "plans", "cli", "cluster")
#: What each kind of case runs unless it says otherwise.
COMMANDS = {
    "rules": [["apply", "--env", "dev", "--yes"]],
    "environments": [["apply", "--env", "dev", "--yes"]],
    "plans": [["apply", "--env", "dev", "plan.json", "--yes"]],
    "cli": [],
    "cluster": [["plan", "--env", "dev"], ["apply", "--env", "dev", "--yes"]],
}
ENVIRONMENT = "elasticsearch:\n  hosts: [{url}]\nrules:\n  paths: [rules/]\n"


def _cases() -> Iterator[Any]:
    for kind in KINDS:
        for case in yaml.safe_load((HERE / f"{kind}.yaml").read_text(encoding="utf-8")):
            yield pytest.param(kind, case, id=f"{kind}: {case['name']}")


def cases() -> list[Any]:
    return list(_cases())


def test_the_catalogue_has_at_least_60_cases_of_every_kind() -> None:
    counted = [kind for kind, *_ in (p.values for p in cases())]
    assert len(counted) >= 60
    assert set(counted) == set(KINDS)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(es_version="9.1.0")) as sb:
        yield sb


@pytest.mark.parametrize(("kind", "case"), cases())
def test_bad_input(
    kind: str,
    case: dict[str, Any],
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in case.get("variables", {}).items():
        monkeypatch.setenv(name, value)
    write(tmp_path / "rules" / "good.yml", rule_yaml("Good rule"))
    commands = [case["args"]] if "args" in case else COMMANDS[kind]
    if kind == "cluster":
        with fake_server(answer(case)) as fake:
            write(tmp_path / "environments" / "dev.yaml", ENVIRONMENT.format(url=fake.url))
            for args in commands:
                check(run(args, fake.url), case)
            assert fake.writes() == [], fake.log
        return
    write(tmp_path / "environments" / "dev.yaml", ENVIRONMENT.format(url=sandbox.url))
    for name, text in case.get("files", {}).items():
        write(tmp_path / name, text.replace("{sandbox}", sandbox.url))
    for name, data in case.get("files_hex", {}).items():
        write(tmp_path / name, bytes.fromhex(data))
    for name, target in case.get("links", {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).symlink_to(target)
    if "nested" in case:
        depth = case["nested"]
        write(tmp_path / "plan.json", "[" * depth + "]" * depth)
    sandbox.clear_log()
    for args in commands:
        check(run(args, sandbox.url), case)
    assert sandbox.writes() == []


def answer(case: dict[str, Any]) -> Answer:
    body = case.get("body", "{}")
    if "nested" in case:
        body = '{"a":' * case["nested"] + "1" + "}" * case["nested"]
    headers = dict(ES_HEADERS) if case.get("product_header", True) else {}
    headers |= case.get("headers", {})
    return Answer(case.get("status", 200), body.encode(), headers, case.get("reset", False))


def write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def run(args: list[str], url: str) -> Result:
    return CliRunner().invoke(app, [a.replace("{sandbox}", url) for a in args])


def check(result: Result, case: dict[str, Any]) -> None:
    shown = f"exit {result.exit_code}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.exit_code == case.get("exit", 1), shown
    assert result.exception is None or isinstance(result.exception, SystemExit), shown
    assert "Traceback" not in result.output and "internal error" not in result.stderr, shown
    matching = [line for line in result.stderr.splitlines() if case["expect"] in line]
    assert len(matching) == 1, shown
    assert f"{case['where']}:" in matching[0], shown
