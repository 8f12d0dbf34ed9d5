"""`switchboard demo`: the hand-off scenario against a running stack, step by step.

Creates what the scenario needs if absent (a bot, three queues, two rules at the top of the
routing), carries one conversation Front desk -> Authentication bot -> Authenticated
sessions, and prints its timeline. Run it after `make run`, in a second terminal.
"""

from __future__ import annotations

import sys
from typing import Any

import httpx

from switchboard.settings import Settings

FRONT_DESK = "Front desk"
BOT_QUEUE = "Authentication bot"
AUTHENTICATED = "Authenticated sessions"
BOT_NAME = "Strong authentication bot"
AGENT_EMAIL = "front-desk-agent@switchboard.invalid"
STRONG_RULE = "Strongly authenticated sessions"
FRONT_RULE = "Web chat to the front desk"


class Demo:
    def __init__(self, api: httpx.Client) -> None:
        self.api = api

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.api.request(method, f"/ccaas/1{path}", **kwargs)
        if response.status_code >= 400:
            raise SystemExit(f"{method} {path} answered {response.status_code}: {response.text}")
        return response.json()

    def bot_key(self) -> tuple[str, str]:
        """The demo bot's id and a key for it (rotated if the bot exists: keys show once)."""
        bots = self.call("GET", "/bots", params={"limit": 999})["bots"]
        bot = next((b for b in bots if b["displayName"] == BOT_NAME), None)
        if bot is None:
            bot = self.call("POST", "/bots", json={"displayName": BOT_NAME})
            return bot["id"], bot["apiKey"]
        return bot["id"], self.call("POST", f"/bots/{bot['id']}/api-key")["apiKey"]

    def agent_key(self, queue: dict) -> tuple[str, str]:
        """The demo agent, a member of `queue`, and a key for it (rotated if it exists)."""
        agents = self.call("GET", "/agents", params={"limit": 999})["agents"]
        agent = next((a for a in agents if a["email"] == AGENT_EMAIL), None)
        if agent is None:
            agent = self.call("POST", "/agents", json={"displayName": "Ana (front desk)", "email": AGENT_EMAIL})
            key = agent["apiKey"]
        else:
            key = self.call("POST", f"/agents/{agent['id']}/api-key")["apiKey"]
        self.call("POST", f"/agents/{agent['id']}/queues", json={"queueId": queue["id"]})
        return agent["id"], key

    def queue(self, name: str, **fields: Any) -> dict:
        found = [q for q in self.call("GET", "/queues", params={"name": name, "limit": 999})["queues"]
                 if q["name"] == name]
        if not found:
            return self.call("POST", "/queues", json={"name": name, **fields})
        queue = found[0]
        if any(queue.get(key) != value for key, value in fields.items()):
            queue = self.call("PUT", f"/queues/{queue['id']}", json={"name": name, **fields})
        return queue

    def routing(self, front: dict, authenticated: dict) -> None:
        current = self.call("GET", "/routing")["routes"]
        ours = [
            {"name": STRONG_RULE, "queueId": authenticated["id"], "priority": "HIGH",
             "expression": {"$eq": {"conversation.authentication": "STRONG"}}},
            {"name": FRONT_RULE, "queueId": front["id"],
             "expression": {"$eq": {"message.channel": "WEBCHAT"}}},
        ]
        fields = ("name", "queueId", "expression", "priority")
        if [{key: rule[key] for key in fields} for rule in current[:2]] == [
            {"priority": "NORMAL", **rule} for rule in ours
        ]:
            return  # already in place: no new routing version
        keep = [
            {key: rule[key] for key in ("id", *fields, "enabled", "routeOnlyDuringWorkingHours")}
            for rule in current if rule["name"] not in (STRONG_RULE, FRONT_RULE)
        ]
        self.call("PUT", "/routing", json=ours + keep)


def run_demo(settings: Settings) -> int:
    key = settings.bootstrap_supervisor_key
    key_file = settings.home / "supervisor.key"
    if key is None and key_file.exists():
        key = key_file.read_text().strip()
    if not key:
        print(f"No supervisor key: set SWITCHBOARD_SUPERVISOR_KEY or start `make run` first ({key_file}).",
              file=sys.stderr)
        return 2
    base = f"http://{settings.api_host}:{settings.api_port}"
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"App {key}"}, timeout=60) as api:
            return scenario(Demo(api), base)
    except httpx.ConnectError:
        print(f"Switchboard does not answer at {base}: start it with `make run`.", file=sys.stderr)
        return 2


def scenario(demo: Demo, base: str) -> int:
    bot_id, bot_key = demo.bot_key()
    front = demo.queue(FRONT_DESK)
    bot_queue = demo.queue(BOT_QUEUE, botId=bot_id)
    authenticated = demo.queue(AUTHENTICATED)
    demo.routing(front, authenticated)
    _, agent_key = demo.agent_key(front)
    names = {q["id"]: q["name"] for q in (front, bot_queue, authenticated)}

    conversation = demo.call("POST", "/conversations", json={
        "channel": "WEBCHAT", "topic": "Card blocked", "message": {"content": "My card is blocked"},
    })
    cid = conversation["id"]
    print(f"1. Created conversation {cid}: routed to {names.get(conversation['queueId'])}, "
          f"priority {conversation['priority']}")

    with httpx.Client(base_url=base, headers={"Authorization": f"App {agent_key}"}, timeout=60) as agent:
        moved = agent.patch(f"/ccaas/1/conversations/{cid}",
                            json={"queueId": bot_queue["id"], "reason": "customer must authenticate strongly"})
    if moved.status_code != 200:
        print(f"The agent's reroute was refused: {moved.text}", file=sys.stderr)
        return 1
    print(f"2. The front desk agent rerouted it to {names.get(moved.json()['queueId'])}; "
          "the bot is waited for")

    with httpx.Client(base_url=base, headers={"Authorization": f"App {bot_key}"}, timeout=60) as bot:
        reported = bot.post(f"/ccaas/1/conversations/{cid}/authentication",
                            json={"status": "SUCCEEDED", "level": "STRONG"})
    if reported.status_code != 200:
        print(f"The bot's report was refused: {reported.text}", file=sys.stderr)
        return 1
    after = reported.json()
    print(f"3. The bot reported strong authentication; routing alone moved it to "
          f"{names.get(after['queueId'])} (priority {after['priority']})")

    events = demo.call("GET", f"/conversations/{cid}/events")["events"]
    rules = {r["id"]: r["name"] for r in demo.call("GET", "/routing")["routes"]}
    print("4. Its timeline, as a supervisor reads it:\n")
    print(timeline_table(events, names, rules))
    print(f"\nIn the Temporal UI: the workflow conversation-{cid}")
    return 0 if after["queueId"] == authenticated["id"] else 1


def timeline_table(events: list[dict], queues: dict[str, str], rules: dict[str, str]) -> str:
    def queue(queue_id: str | None) -> str:
        if queue_id is None:
            return ""
        return queues.get(queue_id, queue_id)

    rows = [("#", "time (UTC)", "event", "by", "from", "to", "rule (version)", "why")]
    for e in events:
        rule = ""
        if e["routingVersion"] is not None:
            name = rules.get(e["routeId"], "none matched") if e["routeId"] else "none matched"
            rule = f"{name} (v{e['routingVersion']})"
        actor = e["actor"]["type"] + (f" {e['actor']['name']}" if e["actor"]["name"] else "")
        rows.append((str(e["seq"]), e["at"][11:23], e["type"], actor, queue(e["fromQueueId"]),
                     queue(e["toQueueId"]), rule, e["reason"] or ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
