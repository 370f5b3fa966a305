"""The conversation: more, repeat, topics and numbers, confirmation, escalation, start over."""

import pytest

from kiosk.dialogue import command_of, number_of
from kiosk.messages import Transcript
from kiosk.parse import split_sentences


def test_commands_in_many_phrasings():
    assert command_of("tell me more") == "more"
    assert command_of("um, go on") == "more"
    assert command_of("say that again") == "repeat"
    assert command_of("be quiet") == "stop"
    assert command_of("what can I ask") == "help"
    assert command_of("slow down") == "slower"
    assert command_of("yeah") == "yes"
    assert command_of("nope") == "no"
    assert command_of("start over") == "start_over"
    assert command_of("good bye") == "goodbye"
    assert command_of("m") == "more"
    assert command_of("tell me more about dystonia and its causes please") is None
    assert command_of("what is blepharospasm") is None


def test_numbers_spoken_or_typed():
    assert number_of("3") == 3
    assert number_of("number three") == 3
    assert number_of("the third one") == 3
    assert number_of("topic twelve") == 12
    assert number_of("three kinds of dystonia") is None


def test_answer_then_more_then_the_end(session):
    first = session.handle("tell me about the hand and forearm")
    assert first.kind == "answer" and first.answer.title == "Hand and forearm"
    assert first.say.startswith("Hand and forearm.")
    said = [first.answer.text]
    for _ in range(5):
        reply = session.handle("more")
        if reply.answer.topic_id != "dystonia/hand-and-forearm":
            break
        said.append(reply.answer.text)
    topic = session.kb.topic("dystonia/hand-and-forearm")
    assert " ".join(said) == topic.text
    # After the item, "more" goes on with the list it belongs to.
    assert reply.answer.topic_id == topic.parent


def test_more_at_the_end_of_a_paragraph_says_so(session):
    session.handle("what are the basal ganglia")
    while (reply := session.handle("more")).answer is not None:
        pass
    assert reply.say.startswith("That is all I have about")


def test_first_answer_is_short(session, kb):
    for topic in kb.topics:
        reply = session.open(topic.id)
        assert len(reply.answer.text.split()) <= 50 or len(topic.sentences[0].split()) > 50


def test_more_after_a_single_item_goes_on_with_its_list(session):
    first = session.handle("can a stroke cause dystonia")
    assert first.answer.topic_id == "dystonia/other-disorders/stroke"
    rest = session.handle("tell me more")
    assert rest.answer.topic_id == "dystonia/other-disorders"
    assert "Huntington" in rest.answer.text


def test_repeat_says_the_last_thing_again(session):
    first = session.handle("what is blepharospasm")
    assert session.handle("say that again").say == first.say
    assert session.handle("r").say == first.say


def test_topics_then_a_number_opens_that_topic(session, kb):
    menu = session.handle("topics")
    assert menu.kind == "topics" and menu.extra["menu"][0] == kb.menu()[0].title
    reply = session.handle("number three")
    assert reply.answer.topic_id == kb.menu()[2].id
    assert "There is no topic number 99" in session.handle("99").say


def test_confirmation_yes_and_no(session, index):
    unsure = Transcript("what is blepharospasm", confidence=0.6, completeness=0.7, engine="test")
    reply = session.handle("what is blepharospasm", unsure)
    assert reply.kind == "confirm" and "Did you mean: Eyelids, blepharospasm?" in reply.say
    yes = session.handle("yes")
    assert yes.answer.topic_id == "dystonia/eyelids"
    session.handle("what is blepharospasm", unsure)
    no = session.handle("no")
    assert no.kind in ("confirm", "help") and no.answer is None


def test_not_understood_escalates_without_repeating_itself(session):
    replies = [session.handle("").say for _ in range(3)]
    assert "didn't catch" in replies[0]
    assert "for example" in replies[1]
    assert "topics" in replies[2].lower() and "1." in replies[2]
    assert len(set(replies)) == 3


def test_decline_is_honest_and_hints(session):
    reply = session.handle("call a taxi for me")
    assert reply.kind == "decline"
    assert reply.say.startswith("Sorry, I don't have information about that here.")
    assert "topics" in reply.say


@pytest.mark.parametrize("question", ["what are", "um what is the", "can you tell me"])
def test_a_question_that_asks_nothing_yet_is_not_caught_rather_than_declined(session, question):
    """Broken off after its first words (or noise heard as "what are"): the visitor is asked again,
    not told the kiosk has no information about it."""
    reply = session.handle(question)
    assert reply.kind == "decline" and reply.say.startswith("Sorry, I didn't catch that."), reply.say


def test_start_over_and_goodbye_forget_the_visitor(session):
    session.handle("what is blepharospasm")
    assert session.handle("start over").kind == "help"
    assert session.topic_id is None and not session.history and not session.pending
    session.handle("what is blepharospasm")
    assert session.handle("goodbye").kind == "goodbye"
    assert session.topic_id is None


def test_every_answer_begins_with_one_of_the_openings_the_speaker_makes_ahead(session):
    """The speaker synthesises `openings()` at start, so an answer's first sound comes without waiting for it."""
    openings = set(session.openings())
    answered = 0
    for topic in session.kb.topics:
        session.reset()
        reply = session.handle(f"tell me about {topic.title}")
        if reply.kind != "answer" or reply.answer.topic_id != topic.id:
            continue
        answered += 1
        first = split_sentences(reply.say)[0]
        assert first in openings or reply.answer.text.lower().startswith(topic.title.lower()), (topic.id, first)
    assert answered >= len(session.kb.topics) // 2, answered
