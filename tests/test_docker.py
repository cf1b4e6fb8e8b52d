"""The container setup: docker-compose.yml, the Dockerfile and the example config.

`docker compose config` validates the compose file where Docker is installed; on a machine
without it (like the one these tests were written on) the same promises are checked on the
parsed YAML: the services and their roles, health checks, restart policies, secrets from
`.env`, and an example config that `newswatch` itself accepts."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from newswatch.jobs.config import load_config

REPO = Path(__file__).resolve().parent.parent
COMPOSE = REPO / "docker-compose.yml"
NEWSWATCH_SERVICES = {"scheduler": "scheduler", "crawler": "crawler", "notifier": "notifier"}


def docker_compose() -> list[str] | None:
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) and subprocess.run(
                [*command, "version"], capture_output=True).returncode == 0:
            return command
    return None


@pytest.fixture
def compose_dir(tmp_path) -> Path:
    """The compose file with the files it names (.env, newswatch.yaml) beside it."""
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copy(REPO / "docker" / "env.example", tmp_path / ".env")
    shutil.copy(REPO / "docker" / "newswatch.yaml", tmp_path / "newswatch.yaml")
    return tmp_path


def test_compose_file(compose_dir):
    command = docker_compose()
    if command:
        done = subprocess.run([*command, "config", "--quiet"], cwd=compose_dir, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]

    assert set(services) == {"postgres", "redis", "mailpit", *NEWSWATCH_SERVICES}
    for name, role in NEWSWATCH_SERVICES.items():
        service = services[name]
        assert service["command"] == ["run", "--role", role]
        assert service["build"] == "."
        assert service["restart"] == "unless-stopped"
        assert "/healthz" in " ".join(service["healthcheck"]["test"])
        assert service["env_file"] == [{"path": ".env", "required": True}]
        assert "./newswatch.yaml:/config/newswatch.yaml:ro" in service["volumes"]
        assert service["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert services["crawler"]["deploy"]["replicas"] >= 2
    for name in ("postgres", "redis", "mailpit"):
        assert services[name]["healthcheck"]["test"]
        assert services[name]["restart"] == "unless-stopped"
    # The database password comes from .env, never from the file.
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD")
    # So does Redis's: whoever writes to the crawl queue decides what workers fetch.
    redis_command = services["redis"]["command"]
    assert redis_command[redis_command.index("--requirepass") + 1].startswith("${REDIS_PASSWORD:?")
    # Neither is published on the host: only the compose network reaches them.
    assert "ports" not in services["redis"] and "ports" not in services["postgres"]


def test_example_config_is_accepted(compose_dir, monkeypatch):
    env = dict(line.split("=", 1) for line in (compose_dir / ".env").read_text().splitlines()
               if line and not line.startswith("#"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config = load_config(compose_dir / "newswatch.yaml")
    assert config.database.startswith("postgresql+psycopg://newswatch:")
    assert config.redis == f"redis://:{env['REDIS_PASSWORD']}@redis:6379/0"
    assert (config.metrics.host, config.metrics.port) == ("0.0.0.0", 9108)
    healthcheck = " ".join(yaml.safe_load(COMPOSE.read_text())["services"]["crawler"]["healthcheck"]["test"])
    assert f":{config.metrics.port}/healthz" in healthcheck


def test_dockerfile_runs_newswatch_as_a_non_root_user():
    lines = [line.split(None, 1) for line in (REPO / "Dockerfile").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    instructions = [(line[0], line[1].strip()) for line in lines if len(line) == 2 and line[0].isupper()]
    assert instructions[0][0] == "FROM" and instructions[0][1].endswith("-slim")
    users = [rest for word, rest in instructions if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("ENTRYPOINT", '["newswatch"]') in instructions
    copied = {rest.split()[0] for word, rest in instructions if word == "COPY"}
    assert {"crawler", "alerts", "jobs", "store"} <= copied  # every package of the project
