"""The estimated wait formula (domain.estimated_wait)."""

from __future__ import annotations

from domain.estimated_wait import AnswerRate, estimated_wait_seconds


def rate(recent: int, hour: int, room: int = 0) -> AnswerRate:
    return AnswerRate(answers_recent=recent, answers_fallback=hour, agents_with_room=room)


def test_position_times_the_recent_mean_time_between_answers() -> None:
    # 6 answers in the last 30 minutes: one every 300 s.
    assert estimated_wait_seconds(1, rate(6, 9)) == 300.0
    assert estimated_wait_seconds(3, rate(6, 9)) == 900.0


def test_the_last_hour_when_the_last_half_hour_had_no_answer() -> None:
    assert estimated_wait_seconds(2, rate(0, 4)) == 1800.0


def test_none_without_an_answer_in_the_hour() -> None:
    assert estimated_wait_seconds(1, rate(0, 0)) is None


def test_agents_with_room_take_the_first_at_once() -> None:
    assert estimated_wait_seconds(1, rate(0, 0, room=1)) == 0.0
    assert estimated_wait_seconds(2, rate(6, 6, room=2)) == 0.0
    # The third waits for one answer after the two taken now.
    assert estimated_wait_seconds(3, rate(6, 6, room=2)) == 300.0


def test_rounded_to_the_second() -> None:
    assert estimated_wait_seconds(1, rate(7, 7)) == 257.0
