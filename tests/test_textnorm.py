"""Mending words: everyday phrases, real words kept as they are."""

from kiosk.textnorm import Corrector, english_words, is_english, pronounced_alike, rephrase, tokenize


def test_an_everyday_phrase_becomes_its_word_and_keeps_where_it_came_from():
    tokens = tokenize("what brings on the spasms")
    traced = [(token, [i]) for i, token in enumerate(tokens)]
    assert rephrase(traced) == [("what", [0]), ("cause", [1, 2]), ("the", [3]), ("spasms", [4])]
    assert rephrase([("lead", [0]), ("poisoning", [1])]) == [("lead", [0]), ("poisoning", [1])]  # no "to"


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
