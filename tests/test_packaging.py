"""The Dockerfile and docker-compose.yml parse and say what production needs (no engine here)."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """Parse the Dockerfile into (instruction, arguments), joining continuation lines."""
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    rows = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            rows.append((word.upper(), rest.strip()))
    return rows


def test_dockerfile_is_slim_non_root_with_healthcheck() -> None:
    rows = dockerfile_instructions()
    known = {"FROM", "ENV", "WORKDIR", "COPY", "RUN", "USER", "VOLUME", "EXPOSE", "HEALTHCHECK",
             "ENTRYPOINT", "CMD", "ARG", "LABEL"}
    assert {word for word, _ in rows} <= known
    assert rows[0][0] == "FROM" and "slim" in rows[0][1]
    users = [arg for word, arg in rows if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    health = [arg for word, arg in rows if word == "HEALTHCHECK"]
    assert health and "/healthz" in health[0]
    for word, arg in rows:
        if word == "COPY":
            for src in arg.split()[:-1]:
                assert (REPO / src).exists(), f"COPY source {src} missing"


def test_compose_runs_redis_with_aof_and_the_service() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    redis = compose["services"]["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command and "--appendfsync everysec" in command
    service = compose["services"]["ceasefire-watch"]
    assert service["environment"]["REDIS_URL"].startswith("redis://redis:")
    assert service["depends_on"]["redis"]["condition"] == "service_healthy"
