"""Every fixed sentence the kiosk says, in one place: short, calm, never blaming the visitor."""

GREETING = (
    "Hello. I answer questions about {subjects}. Ask a question, or say topics to hear a list. "
    "Say help at any time."
)
TEXT_GREETING = "Hello. Type a question about {subjects} and press Enter. Or type a topic number."
DECLINE = "Sorry, I don't have information about that here."
DECLINE_HINT = "You can ask about {examples}. Or say topics."
NOT_CAUGHT = [
    "Sorry, I didn't catch that. Please ask again, in your own time.",
    "You could ask, for example: {example}",
    "Here are the topics I know. {topics}",
]
"""Said one after another when nothing is understood, so the visitor never hears the same reproach twice.
"Ask again", not "say it again": the same words answer a typist in text mode."""
CONFIRM = "Did you mean: {title}? Please say yes or no."
CONFIRM_NO = "All right. Please ask in other words, or say topics."
CONFIRM_NEXT = "Then did you mean: {title}?"
NOTHING_TO_CONFIRM = "Please ask a question, or say topics."
NO_MORE = "That is all I have about {title}."
NOTHING_YET = "Nothing has been said yet. Ask a question, or say topics."
MORE_HINT = "Say more to hear the rest."
TOPICS_INTRO = "Topics. Say or type a number, or the name."
HELP = (
    "Ask a question in your own words, like: {example} "
    "Say more to hear the rest, repeat to hear it again, stop to make me quiet, "
    "topics for a list, slower or louder to change my voice, and goodbye when you are done."
)
NO_SUCH_NUMBER = "There is no topic number {number}. There are {count}."
START_OVER = "Starting again."
GOODBYE = "Goodbye. Take care."
SLOWER = "I will speak more slowly."
FASTER = "I will speak faster."
LOUDER = "I will speak louder."
QUIETER = "I will speak more quietly."
STOPPED = ""
SPEECH_BACK = "I can speak again."
"""Said when speech works again after a failure (saying it is how the kiosk finds out)."""
SPEECH_LOST_NOTE = "(I cannot speak just now: my answers are shown as text)"
SPEECH_BACK_NOTE = "(I can speak again)"
"""The caption notes when speech is lost (the visitor must read from now on) and when it is back."""
MIC_LOST = "I can't hear you just now. You can use the buttons on the screen, or the keys, while I try again."
MIC_BACK = "I can hear you again."
