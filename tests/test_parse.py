from kiosk.parse import parse_document, split_sentences
from kiosk.topics import build_topics


def kinds(blocks):
    return [(b.kind, b.text or b.items) for b in blocks]


def test_plain_text_headings_paragraphs_and_bullets():
    text = (
        "Intro paragraph. It has two sentences.\n\n"
        "Genetic changes\n\n"
        "Some forms are inherited.\n\n"
        "Symptoms:\n\n"
        "  • First thing\n  - Second thing\n  * Third thing\n"
    )
    assert kinds(parse_document(text)) == [
        ("paragraph", "Intro paragraph. It has two sentences."),
        ("heading", "Genetic changes"),
        ("paragraph", "Some forms are inherited."),
        ("heading", "Symptoms:"),
        ("list", ["First thing", "Second thing", "Third thing"]),
    ]


def test_a_long_line_or_sentence_is_not_a_heading():
    blocks = parse_document("This line ends like a sentence.\n\nthis one is lower case\n")
    assert [b.kind for b in blocks] == ["paragraph", "paragraph"]


def test_markdown_headings_emphasis_links_numbered_lists_and_code():
    text = (
        "# Title\n\nSome **bold** and a [link](http://x).\n\n## Part two ##\n\n"
        "1. one\n2. two\n   continued\n\n```\ncode is skipped\n```\n\nSetext\n------\n\nEnd.\n"
    )
    assert kinds(parse_document(text, markdown=True)) == [
        ("heading", "Title"),
        ("paragraph", "Some bold and a link."),
        ("heading", "Part two"),
        ("list", ["one", "two continued"]),
        ("heading", "Setext"),
        ("paragraph", "End."),
    ]


def test_sentence_split_keeps_abbreviations():
    expected = ["It may help, e.g. rest.", "Then more.", "3 more."]
    assert split_sentences("It may help, e.g. rest. Then more. 3 more.") == expected


def test_short_items_carry_their_lead_in_and_labelled_items_their_label():
    text = (
        "Other disorders\n\nIt may come with other conditions, including:\n\n• Stroke\n• Brain tumor\n\n"
        "Areas affected may include:\n\n• Eyelids. Spasms close the eyes (blepharospasm). They can blind.\n"
        "• Neck. In cervical dystonia, the head turns.\n"
    )
    topics = {t.title: t for t in build_topics(parse_document(text), "Doc", "doc.txt")}
    assert topics["Stroke"].text == "It may come with other conditions, including: Stroke."
    assert topics["Stroke"].parent == topics["Other disorders"].id
    assert "Stroke" in topics["Other disorders"].text and "Brain tumor" in topics["Other disorders"].text
    assert topics["Eyelids"].sentences == ["Spasms close the eyes (blepharospasm).", "They can blind."]
    assert topics["Eyelids"].aliases == ["blepharospasm"]
    assert topics["Neck"].aliases == ["cervical dystonia"]
