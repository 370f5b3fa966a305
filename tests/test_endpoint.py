"""End-of-speech decisions on frame sequences: slow, halting speakers are not cut off."""

from kiosk.endpoint import Endpointer, EndpointSettings, Event

S = EndpointSettings()
FRAMES_PER_S = round(1 / S.frame_s)


def run(pattern: list[tuple[bool, float]], complete_after: float | None = None) -> list[tuple[float, Event]]:
    """Feed (speech?, seconds) runs; return (time, event) for every event."""
    ep = Endpointer(S)
    events, t = [], 0.0
    for voiced, seconds in pattern:
        for _ in range(round(seconds * FRAMES_PER_S)):
            t += S.frame_s
            if complete_after is not None and t >= complete_after:
                ep.mark_complete(True)
            event = ep.feed(voiced)
            if event is not Event.NONE:
                events.append((round(t, 2), event))
    return events


def test_a_click_is_not_speech():
    assert run([(False, 1), (True, 0.06), (False, 3)]) == []


def test_late_start_then_question_ends_after_the_generous_silence():
    events = run([(False, 4.0), (True, 1.5), (False, 3.0)])
    # An unfinished-sounding question gets the "still listening" cue before it ends.
    assert [e for _, e in events] == [Event.START, Event.CUE, Event.END]
    start, end = events[0][0], events[-1][0]
    assert 4.1 <= start <= 4.2 and abs(end - (5.5 + S.silence_s)) < 0.05


def test_a_two_second_pause_mid_question_is_not_the_end_if_speech_resumes_before_the_timeout():
    # speech, 1.8 s pause (under the 2.0 s timeout), speech again
    events = run([(True, 1.0), (False, 1.8), (True, 1.0), (False, 2.5)])
    kinds = [e for _, e in events]
    assert kinds == [Event.START, Event.CUE, Event.END]
    assert events[-1][0] > 3.8  # ended only after the second part


def test_long_pause_gets_one_cue_only():
    events = run([(True, 1.0), (False, 1.5), (True, 0.3), (False, 1.5), (True, 0.5), (False, 2.5)])
    assert [e for _, e in events].count(Event.CUE) == 1


def test_a_complete_question_ends_sooner():
    slow = run([(True, 1.5), (False, 3.0)])
    quick = run([(True, 1.5), (False, 3.0)], complete_after=1.0)
    assert quick[-1][0] < slow[-1][0] - 1.0
    assert Event.CUE not in [e for _, e in quick]  # a finished question is not told "still listening"


def test_endless_speech_is_capped():
    events = run([(True, 30.0)])
    first_end = next(t for t, e in events if e is Event.END)
    assert first_end <= S.max_utterance_s + S.start_s + 0.05
