"""ops/: alerting rules pass promtool and their tests, dashboard queries parse, metrics exist."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry, generate_latest
from redis.asyncio import Redis

from bot.commands.feedback import FeedbackMetrics
from bot.commands.metrics import CommandMetrics
from bot.notifier.metrics import NotifierMetrics
from core import keys
from core.feed_health import FeedHealthCache
from core.health import check_readiness
from core.metrics import CoreMetrics
from core.redis_conn import free_port, make_client
from workers.classifier.role import ClassifierMetrics
from workers.poller.metrics import PollerMetrics
from workers.poller.websub_metrics import WebSubMetrics
from workers.truce.escalation import EscalationMetrics
from workers.truce.role import TruceMetrics

OPS = Path(__file__).resolve().parents[2] / "ops"
RULES = OPS / "prometheus" / "rules.yml"
RULES_TEST = OPS / "prometheus" / "rules_test.yml"
DASHBOARD = OPS / "grafana" / "dashboard.json"
METRIC = re.compile(r"\b(cw_[a-z0-9_]+)\b")
# Grafana's variables, given a value so that promtool can parse what Prometheus will receive.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def promtool() -> str:
    """Return promtool's path, or skip the test with the reason."""
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool not installed (Debian package 'prometheus'; .ci/run installs it)")
    return found


def run_promtool(*args: str) -> subprocess.CompletedProcess[str]:
    """Run promtool with ``args``; the result holds its output for the assertion message."""
    return subprocess.run([promtool(), *args], capture_output=True, text=True, timeout=120,
                          check=False)


def alert_rules() -> list[dict[str, Any]]:
    """Every alerting rule of rules.yml."""
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def dashboard_exprs() -> list[str]:
    """Every query of the dashboard, with Grafana's variables replaced by values."""
    exprs = []
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for name, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(name, value)
            exprs.append(expr)
    return exprs


def exported_series() -> set[str]:
    """Every series name the service's metric sets can export, on one registry."""
    registry = CollectorRegistry()
    for metric_set in (CoreMetrics, PollerMetrics, ClassifierMetrics, TruceMetrics,
                       EscalationMetrics, NotifierMetrics, CommandMetrics, FeedbackMetrics,
                       WebSubMetrics):
        metric_set(registry)
    names: set[str] = set()
    suffixes = {"counter": ("_total", "_created"), "gauge": ("",),
                "histogram": ("_bucket", "_sum", "_count", "_created")}
    for family in registry.collect():
        names.update(family.name + s for s in suffixes.get(family.type, ("",)))
    return names


def test_rules_pass_promtool_check() -> None:
    result = run_promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_rules_pass_their_promtool_unit_tests() -> None:
    result = run_promtool("test", "rules", str(RULES_TEST))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_rule_has_a_firing_and_a_quiet_case() -> None:
    cases: dict[str, set[bool]] = {}
    for test in yaml.safe_load(RULES_TEST.read_text())["tests"]:
        for case in test.get("alert_rule_test", []):
            cases.setdefault(case["alertname"], set()).add(bool(case.get("exp_alerts")))
    for rule in alert_rules():
        assert cases.get(rule["alert"]) == {True, False}, (
            f"{rule['alert']}: rules_test.yml needs a case where it fires and one where it "
            "does not")


def test_every_metric_the_rules_and_dashboard_use_is_exported() -> None:
    exported = exported_series()
    used = {name for rule in alert_rules() for name in METRIC.findall(rule["expr"])}
    used |= {name for expr in dashboard_exprs() for name in METRIC.findall(expr)}
    assert used, "no metric found in the rules or the dashboard"
    assert sorted(used - exported) == [], "a rule or panel uses a metric nobody exports"


def test_dashboard_is_json_and_every_query_passes_promtool(tmp_path: Path) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"]
    exprs = dashboard_exprs()
    assert len(exprs) >= 20
    # promtool has no "check expr": each query becomes a recording rule, which it parses.
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{i}", "expr": expr} for i, expr in enumerate(exprs)]}]}
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump(rules))
    result = run_promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"


async def test_readiness_exports_the_gauges_the_rules_need(redis: Redis, tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump({"feeds": [
        {"id": f"f{i}", "url": f"https://example.org/{i}.xml", "name": f"F{i}"}
        for i in range(3)]}))
    await redis.hset(keys.feed_state("f1"), mapping={"error_streak": "2", "polls_total": "2"})
    beat = time.time() - 5
    await redis.hset(keys.HEARTBEATS, mapping={"notifier/h-notifier-0": f"{beat - 100:.3f}",
                                               "notifier/h-notifier-1": f"{beat:.3f}"})
    registry = CollectorRegistry()
    metrics = CoreMetrics(registry)
    await check_readiness(redis, 15, metrics, feeds=FeedHealthCache(tmp_path, max_age_s=0))
    assert registry.get_sample_value("cw_redis_up") == 1
    assert registry.get_sample_value("cw_feeds_failing") == 1
    assert registry.get_sample_value("cw_feeds_enabled") == 3
    # The newest beat of any process of the role.
    stamp = registry.get_sample_value("cw_role_heartbeat_timestamp_seconds",
                                      {"role": "notifier"})
    assert stamp == pytest.approx(beat, abs=0.01)
    # Every process of the role gone: the last stamp stays, so the alert sees its age grow.
    await redis.delete(keys.HEARTBEATS)
    await check_readiness(redis, 15, metrics)
    assert registry.get_sample_value("cw_role_heartbeat_timestamp_seconds",
                                     {"role": "notifier"}) == stamp
    assert b"cw_redis_up 1.0" in generate_latest(registry)


async def test_unreachable_redis_sets_redis_up_to_zero() -> None:
    registry = CollectorRegistry()
    client = make_client(f"redis://127.0.0.1:{free_port()}/0")
    try:
        result = await check_readiness(client, 15, CoreMetrics(registry))
    finally:
        await client.aclose()
    assert not result.ready and not result.redis_up
    assert registry.get_sample_value("cw_redis_up") == 0
