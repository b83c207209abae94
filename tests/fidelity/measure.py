"""Does each rule's watch fire? Real Lucene over events generated from the rule's Sigma semantics.

Shared by the fidelity test (which asserts the thresholds) and `benchmarks/fidelity.py` (which
prints the figures and the rules that miss). One question per rendered condition — its query
over its positives, case variants and negatives — streamed through one oracle process. `ask`
and `ask_regression` keep Lucene's answers, so that the sandbox differential
(test_sandbox_vs_lucene.py) compares the sandbox against the same answers in the same session
instead of asking Lucene again.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fidelity.events import CannotGenerate, RuleEvents, generate
from tests.fidelity.oracle import Answer, LuceneOracle, Question
from watchmgr import query as query_module
from watchmgr.errors import RuleError
from watchmgr.rules import Rule, load_paths
from watchmgr.settings import DEFAULT_SETTINGS, WatchSettings


@dataclass(frozen=True)
class Verdict:
    """What Lucene did with one condition's events."""

    rule: str
    query: str
    parse_error: str | None
    missed_positives: tuple[dict[str, object], ...]
    missed_cases: tuple[dict[str, object], ...]
    matched_negatives: tuple[dict[str, object], ...]


@dataclass
class Figures:
    """Per rule: every condition's verdict; and the rules left out, with why."""

    verdicts: dict[str, list[Verdict]] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)

    @property
    def rules(self) -> int:
        return len(self.verdicts)

    def parse_errors(self) -> list[Verdict]:
        return [v for vs in self.verdicts.values() for v in vs if v.parse_error is not None]

    def failing(self, kind: str) -> dict[str, list[Verdict]]:
        """Rules with a verdict whose `kind` (a Verdict attribute) is non-empty."""
        return {
            rule: [v for v in vs if getattr(v, kind) or v.parse_error]
            for rule, vs in self.verdicts.items()
            if any(getattr(v, kind) or v.parse_error for v in vs)
        }

    def share(self, kind: str) -> float:
        """The share of rules none of whose conditions fail on `kind`."""
        return 1 - len(self.failing(kind)) / self.rules if self.rules else 0.0


def corpus_rules(corpus: Path) -> list[Rule]:
    """Every rule under `corpus` (a folder of rule files), as watchmgr loads them."""
    return list(load_paths([corpus], corpus).rules)


def _cases(
    rules: Iterable[Rule], settings: WatchSettings, figures: Figures, skip_costly: bool
) -> Iterator[tuple[str, str, RuleEvents]]:
    for rule in rules:
        for condition in rule.conditions:
            try:
                query = query_module.render(
                    rule, condition, settings.dialect, settings.keyword_suffix
                )
            except RuleError as err:
                figures.left_out[rule.path] = f"does not render: {err.message}"
                continue
            text = query.text
            if skip_costly and query.costly:
                figures.left_out[rule.path] = f"extreme cost, warned: {query.warnings[-1]}"
                continue
            try:
                events = generate(rule, condition)
            except CannotGenerate as err:
                figures.left_out[rule.path] = f"no events: {err}"
                continue
            if not events.positives:
                figures.left_out[rule.path] = "no positive event could be generated"
                continue
            yield rule.path, text, events


@dataclass(frozen=True)
class Asked:
    """One rendered condition, the events generated for it, and Lucene's answer over them."""

    rule: str
    query: str
    events: RuleEvents
    answer: Answer

    @property
    def question(self) -> Question:
        e = self.events
        return Question(self.query, [*e.positives, *e.case_variants, *e.negatives])


@dataclass
class Answers:
    """Lucene's answers for a corpus, and the rules left out (with why)."""

    asked: list[Asked]
    left_out: dict[str, str]


def ask(
    oracle: LuceneOracle,
    rules: Iterable[Rule],
    settings: WatchSettings = DEFAULT_SETTINGS,
    skip_costly: bool = False,
) -> Answers:
    """Render every rule's conditions under `settings` and ask Lucene about their events.

    With `skip_costly`, queries the renderer warns are extreme in cost are left out (Lucene 8
    needs up to minutes to build some of them). Rendering and event generation run while
    Lucene answers the questions already sent.
    """
    figures = Figures()
    cases: list[tuple[str, str, RuleEvents]] = []

    def questions() -> Iterator[Question]:
        for case in _cases(rules, settings, figures, skip_costly):
            cases.append(case)
            _, text, e = case
            yield Question(text, [*e.positives, *e.case_variants, *e.negatives])

    answers = list(oracle.match_many(questions()))
    asked = [Asked(path, text, e, a) for (path, text, e), a in zip(cases, answers, strict=True)]
    return Answers(asked, figures.left_out)


def figures_of(answers: Answers) -> Figures:
    """Per rule, what Lucene missed or wrongly matched of each condition's events."""
    figures = Figures(left_out=dict(answers.left_out))
    for item in answers.asked:
        path, text, events, answer = item.rule, item.query, item.events, item.answer
        p, c = len(events.positives), len(events.case_variants)
        docs = [*events.positives, *events.case_variants, *events.negatives]
        verdict = Verdict(
            rule=path,
            query=text,
            parse_error=answer.parse_error,
            missed_positives=tuple(docs[i] for i in range(p) if i not in answer.matches),
            missed_cases=tuple(docs[i] for i in range(p, p + c) if i not in answer.matches),
            matched_negatives=tuple(
                docs[i] for i in range(p + c, len(docs)) if i in answer.matches
            ),
        )
        figures.verdicts.setdefault(path, []).append(verdict)
    return figures


def with_dialect(dialect: str, settings: WatchSettings = DEFAULT_SETTINGS) -> WatchSettings:
    return dataclasses.replace(settings, dialect=dialect)


#: what each share counts, and the goal for it (issue 11, "Must show").
GOALS = {"missed_positives": 99.5, "missed_cases": 97.0, "matched_negatives": 90.0}


def reason(verdict: Verdict, kind: str) -> str:
    """Why a condition failed on `kind`, in one line."""
    if verdict.parse_error is not None:
        return f"Lucene refuses the query: {verdict.parse_error[:160]}"
    docs: tuple[dict[str, object], ...] = getattr(verdict, kind)
    doc = docs[0]
    long = [k for k, v in doc.items() if isinstance(v, str) and len(v) > 256]
    if long:
        return f"{long[0]} is over 256 characters, so not in .keyword (ignore_above)"
    shown = json.dumps(doc, ensure_ascii=False)
    what = {"missed_positives": "misses", "missed_cases": "misses", "matched_negatives": "matches"}
    return f"{what[kind]} {shown[:200]} — query {verdict.query[:200]}"


@dataclass
class RegressionAnswers:
    """SigmaHQ's regression cases, each rendered condition's question with its case's number
    (`owners`) and Lucene's answer, and the cases whose rule does not render (with why)."""

    cases: list[Any]
    questions: list[Question]
    owners: list[int]
    answers: list[Answer]
    missing: dict[int, str]


def measure_regression(
    oracle: LuceneOracle, corpus: Path, dialect: str
) -> tuple[int, int, list[tuple[str, str]]]:
    """(rules that fire on their real events, rules, [(rule, why not)]) for SigmaHQ's tests."""
    return regression_figures(ask_regression(oracle, corpus, dialect))


def ask_regression(oracle: LuceneOracle, corpus: Path, dialect: str) -> RegressionAnswers:
    """Ask Lucene about each regression rule's rendered conditions over its real events."""
    from tests.fidelity.regression import load_cases

    cases = list(load_cases(corpus))
    questions: list[Question] = []
    owners: list[int] = []
    missing: dict[int, str] = {}
    for number, case in enumerate(cases):
        for rule in corpus_rules(case.rule):
            for condition in rule.conditions:
                try:
                    text = query_module.render(rule, condition, dialect).text
                except RuleError as err:
                    missing[number] = f"does not render: {err.message}"
                    continue
                questions.append(Question(text, list(case.events)))
                owners.append(number)
    answers = list(oracle.match_many(questions))
    return RegressionAnswers(cases, questions, owners, answers, missing)


def regression_figures(asked: RegressionAnswers) -> tuple[int, int, list[tuple[str, str]]]:
    """(rules that fire on their real events, rules, [(rule, why not)])."""
    cases, missing = asked.cases, dict(asked.missing)
    fired: set[int] = set()
    for number, answer in zip(asked.owners, asked.answers, strict=True):
        needed = cases[number].match_count or 1
        if answer.parse_error is None and len(answer.matches) >= needed:
            fired.add(number)
        elif answer.parse_error is not None:
            missing[number] = f"Lucene refuses the query: {answer.parse_error[:160]}"
        else:
            missing.setdefault(number, f"matches {len(answer.matches)} of {needed} events")
    why = [(str(cases[n].rule), missing.get(n, "")) for n in range(len(cases)) if n not in fired]
    return len(fired), len(cases), why
