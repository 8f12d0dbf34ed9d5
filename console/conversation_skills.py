"""The skills part of a conversation's page: its required skills (relaxed or when they relax),
the API's dry run of who may take it now and at each coming relaxation, and the rows of the form
that replaces its requirements (conversations.set_required_skills). SPEC "Skills"."""

from __future__ import annotations

from typing import Any

from console.client import Api, Refusal
from console.forms import item_errors
from console.skill_rows import REQUIRED, required_rows, shown

BASE = "/ccaas/1/conversations"
# The form's rows, and the API's field they are sent as.
PREFIX = "skills"
FIELD = "requiredSkills"


async def skills_part(client: Api, conversation: dict[str, Any], refusal: Refusal | None = None,
                      values: dict[str, str] | None = None) -> dict[str, Any]:
    """The page's context for its skills section. `eligibility` is None when the API does not
    answer this user the dry run (a 403: the section shows no agents then, rather than a refusal);
    `values` is the skills form as posted, shown again with `refusal`."""
    answer = await client.call("GET", f"{BASE}/{conversation['id']}/eligible-agents")
    requirements = conversation.get(FIELD) or []
    posted = shown(values, PREFIX, REQUIRED)
    return {
        "requirements": requirements,
        "eligibility": answer.body if answer.ok else None,
        "required_skill_rows": required_rows(requirements) if posted is None else posted,
        "skill_errors": item_errors(refusal, FIELD),
        "skill_messages": refusal.at(FIELD) if refusal else [],
    }
