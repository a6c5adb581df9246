"""The word error rate the speech bench compares models by."""

from __future__ import annotations

from tests.bench.speech_bench import word_errors, words


def test_words_ignore_case_and_punctuation() -> None:
    assert words("Tap the link -- in our bio, today!") == [
        "tap",
        "the",
        "link",
        "in",
        "our",
        "bio",
        "today",
    ]
    assert words("It's twenty-one") == ["it's", "twenty", "one"]


def test_word_errors_count_substitutions_deletions_and_insertions() -> None:
    reference = "save twenty percent on every order"
    assert word_errors(reference, "Save twenty percent on every order.") == (0, 6)
    assert word_errors(reference, "save plenty percent on every order") == (1, 6)  # substituted
    assert word_errors(reference, "save twenty on every order") == (1, 6)  # deleted
    assert word_errors(reference, "so save twenty percent on every order now") == (2, 6)
    assert word_errors(reference, "") == (6, 6)
