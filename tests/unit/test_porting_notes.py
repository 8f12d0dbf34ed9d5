"""The README's "Porting from Infobip" says how Switchboard treats each Infobip field it takes
but does not act as Infobip does: a client moving over must not have to find out by trying."""

from __future__ import annotations

import re
from pathlib import Path

from api.working_hours import SEND_AWAY, WorkingHoursIn

ROOT = Path(__file__).resolve().parents[2]


def porting_section() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"^## Porting from Infobip\n(.*?)^## ", readme, flags=re.S | re.M)
    assert match, "the README has no 'Porting from Infobip' section"
    return " ".join(match.group(1).split())


def test_send_away_message_every_oowh_period_is_accepted_and_its_treatment_said_where_clients_port():
    accepted = WorkingHoursIn.model_validate({
        "name": "office", "timezone": "Europe/Zagreb", "message": "closed",
        "workWeek": {day: {"startTime": 540, "endTime": 1020, "enabled": True} for day in (
            "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")},
        SEND_AWAY: True,
    })
    assert accepted.send_away_message_every_oowh_period is True
    section = porting_section()
    assert f"`{SEND_AWAY}` is accepted" in section
    assert "not acted on: the auto-reply goes once per entry into a closed queue" in section
