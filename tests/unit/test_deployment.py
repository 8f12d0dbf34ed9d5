"""docker-compose.yml and the README must name exactly the settings the code reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from switchboard.settings import VARIABLES, Settings, SettingsError
from workflows import search_attributes

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_sets_only_variables_the_settings_read():
    for name, service in compose()["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith("SWITCHBOARD_"):
                assert variable in VARIABLES, f"{name} sets {variable}, which nothing reads"


def test_compose_api_and_worker_share_one_store_and_temporal():
    services = compose()["services"]
    api, worker = services["api"]["environment"], services["worker"]["environment"]
    for variable in ("SWITCHBOARD_DATABASE_URL", "SWITCHBOARD_TEMPORAL_ADDRESS", "SWITCHBOARD_TASK_QUEUE"):
        assert api[variable] == worker[variable]
    assert api["SWITCHBOARD_DATABASE_URL"].startswith("postgresql://")
    assert services["api"]["command"] == ["switchboard", "api"]
    assert services["worker"]["command"] == ["switchboard", "worker"]


def test_compose_publishes_temporal_to_this_machine_only():
    # Temporal's frontend and Web UI have no authentication here and show message text.
    services = compose()["services"]
    for name in ("temporal", "temporal-ui"):
        for port in services[name].get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond this machine"


def test_compose_registers_every_search_attribute_the_workflow_sets():
    setup = " ".join(compose()["services"]["temporal-setup"]["command"])
    for key in search_attributes.ALL:
        assert key.name in setup


def test_readme_documents_every_setting_with_its_default():
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `(SWITCHBOARD_[A-Z_]+)` \|", readme, re.MULTILINE))
    assert documented == set(VARIABLES)


def test_settings_come_from_the_environment():
    settings = Settings.from_env({
        "SWITCHBOARD_HOME": "/srv/sb",
        "SWITCHBOARD_API_PORT": "9000",
        "SWITCHBOARD_TEMPORAL_ADDRESS": "temporal:7233",
    })
    assert settings.database_url == "sqlite:////srv/sb/switchboard.db"
    assert settings.api_port == 9000
    assert settings.temporal_address == "temporal:7233"
    assert settings.bootstrap_supervisor_key is None
    assert settings.console_session_hours == 12
    assert Settings.from_env({"SWITCHBOARD_CONSOLE_SESSION_HOURS": "8"}).console_session_hours == 8


@pytest.mark.parametrize("variable, value", [
    ("SWITCHBOARD_SUPERVISOR_KEY", "short"),
    ("SWITCHBOARD_API_PORT", "eighty"),
    ("SWITCHBOARD_API_PORT", "70000"),
    ("SWITCHBOARD_CONSOLE_SESSION_HOURS", "0"),
    ("SWITCHBOARD_CONSOLE_SESSION_HOURS", "1.5"),
    ("SWITCHBOARD_CONSOLE_SESSION_HOURS", "721"),
    ("SWITCHBOARD_STREAMS_PER_KEY", "0"),
    ("SWITCHBOARD_STREAMS_PER_PROCESS", "many"),
    ("SWITCHBOARD_RETENTION_DAYS", "-1"),
])
def test_a_setting_that_cannot_work_is_refused_with_its_name(variable, value):
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({variable: value})
