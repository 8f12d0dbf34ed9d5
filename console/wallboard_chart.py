"""The wallboard's chart of a queue's service level through the day: an SVG drawn here, one
bar per hour (its service level, 0-100 %), the target as a dashed line. Nothing in it comes
from another host (the pages' Content-Security-Policy is default-src 'self'): no script, no
font, no link; its text takes the page's font."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from console.render import parse_time

WIDTH, HEIGHT = 960, 260
LEFT, RIGHT, TOP, BOTTOM = 76, 12, 14, 36
HOURS = 24


def _local(value: str, zone: ZoneInfo) -> datetime:
    moment = parse_time(value)
    assert moment is not None
    return moment.astimezone(zone)


def service_level_chart(day: dict[str, Any]) -> Markup:
    """`day` is the API's service-level-today answer."""
    zone = ZoneInfo(day["timeZone"])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / HOURS

    def y(fraction: float) -> float:
        return TOP + plot_h * (1 - fraction)

    target = day["targetPercent"] / 100
    parts = [f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" class="wb-plot"/>']
    for percent in (0, 50, 100):
        parts.append(f'<text x="{LEFT - 8}" y="{y(percent / 100) + 6:.1f}" text-anchor="end" class="wb-axis">'
                     f'{percent}%</text>')
    for hour in range(0, HOURS + 1, 3):
        parts.append(f'<text x="{LEFT + hour * slot:.1f}" y="{HEIGHT - 10}" text-anchor="middle" class="wb-axis">'
                     f'{hour:02d}</text>')
    for interval in day["intervals"]:
        hour = _local(interval["start"], zone).hour
        x = LEFT + hour * slot + slot * 0.12
        level = interval["serviceLevel"]
        label = (f'{_local(interval["start"], zone):%H:%M}: '
                 + ("no answered or abandoned stays" if level is None else
                    f'{level * 100:.0f}% ({interval["answeredWithinTarget"]} of {interval["answered"]} answered '
                    f'within target, {interval["abandonedAfterTarget"]} abandoned after it)'))
        if level is None:
            parts.append(f'<rect x="{x:.1f}" y="{y(0) - 3:.1f}" width="{slot * 0.76:.1f}" height="3" class="wb-none">'
                         f'<title>{escape(label)}</title></rect>')
            continue
        bar = "wb-met" if level >= target else "wb-missed"
        parts.append(f'<rect x="{x:.1f}" y="{y(level):.1f}" width="{slot * 0.76:.1f}" '
                     f'height="{max(y(0) - y(level), 2):.1f}" class="{bar}" data-hour="{hour}">'
                     f'<title>{escape(label)}</title></rect>')
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(target):.1f}" y2="{y(target):.1f}" '
                 'class="wb-target"/>')
    parts.append(f'<text x="{WIDTH - RIGHT - 4}" y="{y(target) - 6:.1f}" text-anchor="end" class="wb-axis">'
                 f'target {day["targetPercent"]}%</text>')
    title = (f'Service level by hour today in {day["queueName"]} ({day["timeZone"]}), '
             f'target {day["targetPercent"]}% within {day["targetSeconds"]} s')
    return Markup(
        f'<svg class="wb-chart" data-testid="wb-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f'<title>{escape(title)}</title>{"".join(parts)}</svg>')
