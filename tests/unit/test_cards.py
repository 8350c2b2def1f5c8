"""Security code cards (SPEC §3): generation, the printed grid, the PDF and the HTML page."""

from __future__ import annotations

import re
import secrets
import zlib
from collections.abc import Callable
from datetime import date

import pytest

from securelogin.adapters.printing.card_pdf import render_card_html, render_card_pdf
from securelogin.domain.cards import (
    CARD_ALPHABET,
    HOW_TO_USE,
    LOOK_ALIKES,
    CardError,
    PrintableCard,
    card_grid,
    generate_card,
)

CARD_VALUE = re.compile(r"^[A-Z0-9]{3}$")


def counting_draw() -> tuple[list[int], Callable[[int], int]]:
    calls: list[int] = []

    def draw(n: int) -> int:
        calls.append(n)
        return len(calls) % n

    return calls, draw


def sample_card(**changes: object) -> PrintableCard:
    fields: dict[str, object] = {
        "serial": "SCC-1A2B3C4D",
        "holder": "alice",
        "issued": date(2026, 11, 23),
        "values": generate_card(secrets.randbelow),
    }
    fields.update(changes)
    return PrintableCard(**fields)  # type: ignore[arg-type]


def pdf_text(pdf: bytes) -> str:
    """The page's content streams, inflated (fpdf2 compresses them with zlib).

    Each stream is inflated from its start until zlib says it ended, so compressed bytes
    that happen to end in CR or contain "endstream" cannot confuse the reader.
    """
    out = []
    for match in re.finditer(rb"stream\r?\n", pdf):
        rest = pdf[match.end() :]
        try:
            out.append(zlib.decompressobj().decompress(rest).decode("latin-1"))
        except zlib.error:
            out.append(rest.split(b"endstream", 1)[0].decode("latin-1"))
    return "\n".join(out)


def test_SPEC_3_a_card_has_200_numbered_positions_of_three_characters_from_the_alphabet() -> None:
    values = generate_card(secrets.randbelow)
    assert sorted(values) == list(range(1, 201))
    assert all(CARD_VALUE.fullmatch(v) for v in values.values())
    assert set("".join(values.values())) <= set(CARD_ALPHABET)


def test_SPEC_3_the_randomness_is_injected_one_draw_per_character() -> None:
    calls, draw = counting_draw()
    values = generate_card(draw, positions=5)
    assert calls == [len(CARD_ALPHABET)] * 15
    assert values[1] == CARD_ALPHABET[1:4] and values[5] == CARD_ALPHABET[13:16]


def test_SPEC_2_new_cards_draw_from_an_alphabet_without_look_alike_pairs() -> None:
    assert set("0O1IL2Z5S8B") == LOOK_ALIKES
    assert not LOOK_ALIKES & set(CARD_ALPHABET)
    assert len(set(CARD_ALPHABET)) == len(CARD_ALPHABET) == 25
    every_draw = [generate_card(lambda n, i=i: i % n, positions=2) for i in range(25)]
    assert {c for card in every_draw for v in card.values() for c in v} == set(CARD_ALPHABET)


def test_SPEC_2_card_values_print_in_the_pdfs_monospaced_face() -> None:
    card = sample_card()
    pdf = render_card_pdf(card)
    faces = {
        name.decode(): re.search(
            rb"\n" + number + rb" 0 obj.*?/BaseFont\s*/([\w-]+)", pdf, re.DOTALL
        ).group(1)  # type: ignore[union-attr]
        for name, number in re.findall(rb"/(F\d+)\s*(\d+) 0 R", pdf)
    }
    text = pdf_text(pdf)
    for position in (1, 77, 200):
        before = text[: text.index(f"({card.values[position]}) Tj")]
        font = re.findall(r"/(F\d+) [\d.]+ Tf", before)[-1]
        assert faces[font] == b"Courier-Bold"


def test_SPEC_3_the_number_of_positions_is_configurable_within_printable_bounds() -> None:
    assert len(generate_card(secrets.randbelow, positions=300)) == 300
    for bad in (0, 1, 301):
        with pytest.raises(CardError):
            generate_card(secrets.randbelow, positions=bad)


def test_the_grid_is_numbered_down_each_column_like_the_paper_card() -> None:
    grid = card_grid(200)
    assert (grid.columns, grid.row_count) == (10, 20)
    assert grid.rows[0][:3] == (1, 21, 41) and grid.rows[19][9] == 200
    short = card_grid(11)
    assert short.columns == 6 and short.rows[1][-1] is None
    seen = [p for row in card_grid(201).rows for p in row if p is not None]
    assert sorted(seen) == list(range(1, 202))


def test_a_printable_card_refuses_gaps_and_foreign_characters() -> None:
    with pytest.raises(CardError, match="without gaps"):
        sample_card(values={1: "AAA", 3: "BBB"})
    with pytest.raises(CardError, match="A-Z and 0-9"):
        sample_card(values={1: "AAA", 2: "ab1"})
    assert sample_card(values={1: "O0I", 2: "1LZ"}).values[1] == "O0I"  # cards issued earlier


def test_the_pdf_is_one_page_with_title_serial_holder_grid_instructions_and_warning() -> None:
    card = sample_card()
    pdf = render_card_pdf(card)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1
    text = pdf_text(pdf)
    for expected in ("(Security Code Card)", "SCC-1A2B3C4D", "alice", "2026-11-23"):
        assert expected in text
    assert HOW_TO_USE.split(",")[0] in text and "Keep this card safe" in text
    for position in (1, 77, 200):
        assert f"({card.values[position]})" in text and f"({position})" in text


def test_the_same_card_renders_to_the_same_bytes() -> None:
    card = sample_card()
    assert render_card_pdf(card) == render_card_pdf(card)
    assert render_card_pdf(card, paper="Letter") != render_card_pdf(card)


def test_R_LOST_2_an_online_card_prints_its_expiry() -> None:
    card = sample_card(serial="dev_00112233", online=True, expires=date(2026, 12, 14))
    text = pdf_text(render_card_pdf(card, paper="Letter"))
    assert "Online Security Code Card" in text and "2026-12-14" in text
    html = render_card_html(card)
    assert "Valid until:" in html and ">2026-12-14</time>" in html


def test_the_html_page_escapes_what_it_prints() -> None:
    card = sample_card(holder='<script>alert("x")</script>', serial="SCC-<b>&")
    html = render_card_html(card)
    assert "<script>" not in html and "&lt;script&gt;alert(" in html
    assert "SCC-&lt;b&gt;&amp;" in html
    assert "@media print" in html and 'style="' not in html
    assert html.count('class="val"') == 200


def test_the_pdf_prints_a_non_latin_holder_instead_of_failing() -> None:
    pdf = render_card_pdf(sample_card(holder="李雷"))
    assert "Holder: ??" in pdf_text(pdf)
