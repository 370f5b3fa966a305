"""Mending words: everyday phrases, real words kept as they are."""

from kiosk.textnorm import (
    Corrector,
    content_tokens,
    english_words,
    is_english,
    paraphrases,
    pronounced_alike,
    rephrase,
    stem,
    tokenize,
)


def test_an_everyday_phrase_becomes_its_word_as_sure_as_its_least_sure_word():
    heard = list(zip(tokenize("what brings on the spasms"), [1.0, 0.9, 0.4, 1.0, 0.8], strict=True))
    assert rephrase(heard) == [("what", 1.0), ("cause", 0.4), ("the", 1.0), ("spasms", 0.8)]
    assert rephrase([("lead", 1.0), ("poisoning", 1.0)]) == [("lead", 1.0), ("poisoning", 1.0)]  # no "to"


def test_a_phrase_stays_itself_when_the_content_does_not_know_its_word():
    heard = [("get", 1.0), ("rid", 1.0), ("of", 1.0), ("aphids", 1.0)]
    without_treat = {phrase: word for phrase, word in paraphrases().items() if word != "treat"}
    assert rephrase(heard, without_treat) == heard
    assert rephrase(heard)[0] == ("treat", 1.0)


def test_inflected_forms_the_dictionary_lacks_are_still_real_words():
    english = english_words()
    assert "clenching" not in english and is_english("clenching", english)
    assert "wobbles" not in english and is_english("wobbles", english)
    assert not is_english("blinkking", english)


def test_a_real_word_is_moved_only_onto_a_word_pronounced_the_same():
    assert pronounced_alike("tumour", "tumor")
    assert not pronounced_alike("toilets", "tilts")  # one metaphone key, different vowels
    corrector = Corrector(["tilts", "tumor", "cramp"])
    assert corrector.correct(["toilets", "tumour", "kramp"]) == ["toilets", "tumor", "cramp"]


def test_real_words_side_by_side_join_only_into_a_word_that_sounds_like_them():
    corrector = Corrector(["specialist", "everyday", "dystonia"])
    assert corrector.correct(["special", "diet"]) == ["special", "diet"]  # looks like "specialist"; is not
    assert corrector.correct(["every", "day"]) == ["everyday"]  # a recogniser's split of one word
    assert corrector.correct(["dis", "tonia"]) == ["dystonia"]


def test_every_form_of_a_stop_word_is_a_stop_word():
    assert content_tokens("the medicine helps and keeps me going") == ["medicine"]
    assert content_tokens("is it helpful") == []
    assert content_tokens("generalized dystonia") == ["generalized", "dystonia"]  # not "generally"


def test_medical_is_not_cut_to_the_stem_of_medication():
    assert stem("medical") != stem("medication") == stem("medications")
    assert stem("curable") == stem("cure")
