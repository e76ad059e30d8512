"""The packaging as shipped: the wheel built from this tree, and what the container needs.

The wheel is built offline (``pip wheel --no-build-isolation``, with the setuptools of the
``test`` extra) from a copy of the tree, so the build leaves nothing in the checkout.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {"core", "bot", "workers", "config"}
# What a build may leave beside the sources: never part of the copy it builds from.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv*", "__pycache__", "*.egg-info", ".mypy_cache", ".ruff_cache",
    ".pytest_cache", "build", "dist", "data",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """Build the wheel from a copy of the tree; return it opened."""
    root = tmp_path_factory.mktemp("packaging")
    src, out = root / "src", root / "wheels"
    shutil.copytree(REPO, src, ignore=_NOT_SOURCE)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--wheel-dir", str(out), str(src)],
        capture_output=True, text=True, timeout=240, check=False,
    )
    assert build.returncode == 0, f"pip wheel failed:\n{build.stdout}\n{build.stderr}"
    [path] = out.glob("ceasefire_watch-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_holds_the_service_packages_and_nothing_else(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    tops = {name.split("/", 1)[0] for name in names}
    [dist_info] = [t for t in tops if t.endswith(".dist-info")]
    assert tops - {dist_info} == PACKAGES
    for package in PACKAGES:
        assert f"{package}/__init__.py" in names
    # Every module of the service is in it, and none of the test or bench code.
    for package in PACKAGES - {"config"}:
        for module in (REPO / package).rglob("*.py"):
            assert module.relative_to(REPO).as_posix() in names, f"{module} not packaged"
    assert not [n for n in names if n.startswith(("testkit/", "tests/", "bench/"))]


def test_wheel_holds_the_config_data_files(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for required in ("config/feeds.yaml", "config/regions.yaml", "config/settings.yaml",
                     "config/classifier_params.yaml", "config/classifier_ngrams.bin"):
        assert required in names, f"{required} not packaged"
    lexicons = {p.relative_to(REPO).as_posix() for p in (REPO / "config" / "lexicons").glob("*")}
    assert lexicons and lexicons <= names, f"lexicons missing: {lexicons - names}"
    # Packaged byte for byte: the classifier reads its n-gram table as it was fitted.
    bin_file = "config/classifier_ngrams.bin"
    assert wheel.read(bin_file) == (REPO / bin_file).read_bytes()


def test_wheel_holds_the_bot_catalogues(wheel: zipfile.ZipFile) -> None:
    # bot/i18n.py compiles them in memory at start: the .po files are the catalogues.
    names = set(wheel.namelist())
    catalogues = {p.relative_to(REPO).as_posix() for p in (REPO / "bot" / "locale").rglob("*.po")}
    assert len(catalogues) == 11 and catalogues <= names, catalogues - names
    assert "bot/locale/messages.pot" in names


def test_wheel_declares_the_console_script(wheel: zipfile.ZipFile) -> None:
    [entry_points] = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "[console_scripts]" in text
    assert "ceasefire-watch = core.entry:main" in text.splitlines()


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


def test_image_copies_what_the_wheel_needs_and_runs_non_root_with_a_healthcheck() -> None:
    # No container engine here: what can go wrong without one is a COPY that misses a package
    # (the image's `pip install .` would then build a wheel without it), root, no healthcheck.
    rows = dockerfile_instructions()
    known = {"FROM", "ENV", "WORKDIR", "COPY", "RUN", "USER", "VOLUME", "EXPOSE", "HEALTHCHECK",
             "ENTRYPOINT", "CMD", "ARG", "LABEL"}
    assert {word for word, _ in rows} <= known
    assert rows[0][0] == "FROM" and "slim" in rows[0][1]
    copied = {src.rstrip("/") for word, arg in rows if word == "COPY" for src in arg.split()[:-1]}
    assert {"pyproject.toml", "README.md"} | PACKAGES <= copied
    assert all((REPO / src).exists() for src in copied), f"a COPY source is missing: {copied}"
    users = [arg for word, arg in rows if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    health = [arg for word, arg in rows if word == "HEALTHCHECK"]
    assert health and "/healthz" in health[0]


def test_compose_runs_redis_with_aof_and_the_service() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    redis = compose["services"]["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command and "--appendfsync everysec" in command
    service = compose["services"]["ceasefire-watch"]
    assert service["environment"]["REDIS_URL"].startswith("redis://redis:")
    assert service["depends_on"]["redis"]["condition"] == "service_healthy"


def test_the_console_scripts_module_imports_nothing_heavy() -> None:
    """Parse workers import the console script again: it must not pull in the whole CLI."""
    code = ("import sys, core.entry; print(sorted(m for m in sys.modules"
            " if m.startswith(('core.', 'click', 'structlog', 'redis'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "['core.entry']", out
