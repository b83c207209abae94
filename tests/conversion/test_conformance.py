"""sigmac-2020 conformance: 390 rules and the 410 watches legacy sigmac made of them (Jan 2020).

The `sigmac-2020` dialect reproduces them byte for byte. The `sigmac` dialect differs
exactly where the 2020 watch was wrong; every such watch is listed below with the reason
(the README has the same table).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import pytest

from tests.conversion.support import without_owner
from watchmgr.rules import load_paths
from watchmgr.settings import DEFAULT_SETTINGS
from watchmgr.watch import render_rules

#: rule directory → why the `sigmac` dialect's watch differs from 2020's.
DEVIATIONS = {
    # `|contains: '\SYSTEM\'` became `*\\SYSTEM\*`: an escaped, literal `*`.
    **dict.fromkeys(
        [
            "sysmon_disable_security_events_logging_adding_reg_key_minint",
            "sysmon_new_dll_added_to_appcertdlls_registry_key",
            "sysmon_new_dll_added_to_appinit_dlls_registry_key",
            "sysmon_possible_privilege_escalation_via_service_registry_permissions_weakness",
            "sysmon_registry_persistence_key_linking",
            "sysmon_webshell_creation_detect",
            "win_local_system_owner_account_discovery",
            "win_malware_ryuk",
            "win_meterpreter_or_cobaltstrike_getsystem_service_installation",
            "win_meterpreter_or_cobaltstrike_getsystem_service_start",
            "win_query_registry",
            "win_transferring_files_with_credential_data_via_network_shares",
        ],
        "backslash before a modifier's wildcard",
    ),
    # `echo EEEE > ` was searched as `echo EEEE  `.
    **dict.fromkeys(
        ["win_alert_mimikatz_keywords", "win_malware_dtrack", "win_malware_formbook"],
        "< and > deleted",
    ),
    # `F:/re/` on the analyzed field never matches a PCRE pattern with search semantics.
    **dict.fromkeys(
        [
            "powershell_invoke_obfuscation_obfuscated_iex",
            "win_invoke_obfuscation_obfuscated_iex_commandline",
            "win_invoke_obfuscation_obfuscated_iex_services",
            "win_mal_creddumper",
        ],
        "regex on the analyzed field, PCRE syntax",
    ),
    # A lone keyword with wildcards, quoted: a phrase that cannot match inside a longer token.
    **dict.fromkeys(
        ["powershell_shellcode_b64", "powershell_winlogon_helper_dll"], "quoted lone wildcard"
    ),
    # The e-mail listed `{{#aggregations.by.buckets}}`, which is not in the context: empty.
    **dict.fromkeys(
        [
            "win_multiple_suspicious_cli",
            "win_rare_schtask_creation",
            "win_rare_schtasks_creations",
            "win_rare_service_installs",
            "win_susp_commands_recon_activity",
        ],
        "bucket listing path",
    ),
    # count(F) by G compared the top value's doc count in bucket 0, not the distinct count.
    **dict.fromkeys(
        ["win_susp_failed_logons_single_source", "sysmon_possible_dns_rebinding"],
        "count(F) by G",
    ),
    # `near` was dropped: the watch alerted on the selection alone. Now a named error.
    **dict.fromkeys(["sysmon_mimikatz_inmemory_detection", "win_susp_samr_pwset"], "near dropped"),
    # `EventID:("4776" "4624" "4625")`: no OR, unlike every other list; not what sigmac's
    # code at that commit prints (the same value list with OR means the same).
    "win_alert_hacktool_use": "list without OR",
}


def _compare(shared: Path, dialect: str) -> tuple[int, dict[str, list[str]]]:
    settings = dataclasses.replace(DEFAULT_SETTINGS, dialect=dialect)
    identical = 0
    differing: dict[str, list[str]] = {}
    for rule_dir in sorted(
        p for p in (shared / "conformance" / "sigmac-2020").iterdir() if p.is_dir()
    ):
        expected = json.loads((rule_dir / "watches.json").read_text(encoding="utf-8"))
        # ATC ran one sigmac per rule file, so each file is converted on its own.
        rendered = render_rules(load_paths([rule_dir / "rule.yml"]).rules, lambda _r: settings)
        got = {w.id: json.dumps(without_owner(w.body)) for w in rendered.watches}
        for watch in expected:
            if got.get(watch["id"]) == json.dumps(watch["body"]):
                identical += 1
            else:
                differing.setdefault(rule_dir.name, []).append(watch["id"])
    return identical, differing


@pytest.mark.slow
def test_sigmac_2020_dialect_reproduces_the_2020_watches(shared: Path) -> None:
    identical, differing = _compare(shared, "sigmac-2020")
    print(f"\nsigmac-2020 dialect: {identical}/410 watches identical ({identical / 410:.1%})")
    assert differing == {"win_alert_hacktool_use": ["Hacktool-Use"]}
    assert identical == 409


@pytest.mark.slow
def test_sigmac_dialect_differs_exactly_where_2020_was_wrong(shared: Path) -> None:
    identical, differing = _compare(shared, "sigmac")
    print(f"\nsigmac dialect: {identical}/410 watches identical ({identical / 410:.1%})")
    for reason, count in sorted(
        Counter(DEVIATIONS[d] for d in differing if d in DEVIATIONS).items()
    ):
        print(f"  {count:2d} rules: {reason}")
    assert sorted(differing) == sorted(DEVIATIONS), "undocumented differences"
    assert identical == 372
