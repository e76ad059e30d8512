"""The truce replay's expectation (truce_replay_expected.yaml) and the check of a run against it.

The expectation was written by reading the items before any code ran on them. A run yields
each region's reports; the state after any item is the fold of the reports up to it, so the
check asks of the stored reports what a reader of the timeline would: did the truce enter
each firm phase, caused by one of the items that report it, or at its stated time?
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from core.truce import advance, fold
from core.truce_model import Report, TruceState

EXPECTED = Path(__file__).with_name("truce_replay_expected.yaml")
# A scheduled transition is on time within this much of the expected time.
ON_TIME = timedelta(hours=1)


@dataclass(frozen=True)
class Item:
    """One replayed item: its labelled row and the publication time the replay gives it."""

    id: str
    published: datetime
    row: dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    """One truce's replay: region, items in publication order, and the expectation."""

    name: str
    region: str
    items: list[Item]
    spec: dict[str, Any]


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def load_scenarios(eval_dir: Path) -> list[Scenario]:
    """Both scenarios with their labelled rows (ids stay strings: the YAML quotes them)."""
    spec = yaml.safe_load(EXPECTED.read_text(encoding="utf-8"))
    rows: dict[str, dict[str, Any]] = {}
    for name in ("train.jsonl", "dev.jsonl"):
        for line in (eval_dir / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            rows[str(row["id"])] = row
    out = []
    for name, sc in spec["scenarios"].items():
        items = [Item(str(i["id"]), _time(i["published"]), rows[str(i["id"])]) for i in sc["items"]]
        out.append(Scenario(name, sc["region"], items, sc))
    return out


@dataclass
class Outcome:
    """What a run got right and wrong, firm expectations apart from debatable ones."""

    firm_ok: list[str] = field(default_factory=list)
    firm_missed: list[str] = field(default_factory=list)
    soft_ok: list[str] = field(default_factory=list)
    soft_missed: list[str] = field(default_factory=list)

    def add(self, ok: bool, firm: bool, what: str) -> None:
        """Record one expectation's result."""
        bucket = (self.firm_ok if ok else self.firm_missed) if firm else (
            self.soft_ok if ok else self.soft_missed)
        bucket.append(what)

    def summary(self) -> str:
        """One line of counts."""
        return (f"firm {len(self.firm_ok)}/{len(self.firm_ok) + len(self.firm_missed)}, "
                f"debatable {len(self.soft_ok)}/{len(self.soft_ok) + len(self.soft_missed)}")


class Run:
    """The reports a run stored for one scenario's region, read as a reader reads a timeline."""

    def __init__(self, scenario: Scenario, reports: Iterable[Report], item_of: dict[str, str]):
        """``item_of`` maps an alert id to the replayed item id it came from."""
        self.scenario = scenario
        self.item_of = item_of
        self.reports = sorted(reports, key=lambda r: r.key)
        self.final = fold(scenario.region, self.reports)
        self.published = {i.id: i.published for i in scenario.items}

    def state_after(self, item_id: str) -> TruceState:
        """The state once every item up to ``item_id`` was published."""
        at = self.published[item_id]
        reports = [r for r in self.reports if r.at <= at]
        return advance(fold(self.scenario.region, reports), at)

    def state_at(self, at: datetime) -> TruceState:
        """The state at time ``at``."""
        return advance(fold(self.scenario.region, [r for r in self.reports if r.at <= at]), at)

    def _caused_by(self, alert_id: str) -> str:
        return self.item_of.get(alert_id, alert_id)

    def transition_ok(self, exp: dict[str, Any]) -> bool:
        """Whether the run shows this expected transition."""
        accept = {str(x) for x in exp.get("accept_items") or []} | (
            {str(exp["cause_item"])} if exp.get("cause_item") else set())
        if "extended" in exp:
            new_end = _time(exp["extended"])
            return any(
                t.cause == "extended" and t.until is not None
                and abs(t.until - new_end) <= ON_TIME and self._caused_by(t.alert_id) in accept
                for t in self.final.transitions
            )
        if "starts" in exp:
            start = _time(exp["starts"])
            return any(t.phase == "in_force" and t.previous != "in_force"
                       and abs(t.at - start) <= ON_TIME for t in self.final.transitions)
        phase = exp["phase"]
        window = exp.get("accept_window")
        for t in self.final.transitions:
            if t.phase != phase or t.previous == phase:
                continue
            if t.alert_id and self._caused_by(t.alert_id) in accept:
                return True
            if "scheduled" in exp and not t.alert_id:
                if window:
                    if _time(window[0]) <= t.at <= _time(window[1]):
                        return True
                elif abs(t.at - _time(exp["scheduled"])) <= ON_TIME:
                    return True
        return False

    def checkpoint_ok(self, exp: dict[str, Any]) -> bool:
        """Whether the state at this checkpoint is the one expected."""
        state = (self.state_after(str(exp["after_item"])) if "after_item" in exp
                 else self.state_at(_time(exp["at"])))
        if state.phase not in exp["phase_in"]:
            return False
        if "until" in exp and (state.until is None
                               or abs(state.until - _time(exp["until"])) > ON_TIME):
            return False
        return "starts" not in exp or (
            state.starts is not None and abs(state.starts - _time(exp["starts"])) <= ON_TIME)

    def check(self) -> Outcome:
        """Every expected transition and checkpoint of the scenario, judged."""
        out = Outcome()
        for exp in self.scenario.spec["transitions"]:
            what = (f"transition {exp.get('phase') or exp.get('extended') or exp.get('starts')}"
                    f" <- {exp.get('cause_item') or exp.get('scheduled')}")
            out.add(self.transition_ok(exp), bool(exp.get("firm")), what)
        for exp in self.scenario.spec["checkpoints"]:
            what = f"checkpoint {exp.get('after_item') or exp.get('at')}: {exp['phase_in']}"
            out.add(self.checkpoint_ok(exp), bool(exp.get("firm")), what)
        return out
