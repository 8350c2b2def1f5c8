"""A security code card as one printable page: PDF with fpdf2, HTML with Jinja2 (SPEC §3).

The page carries a title and an explanation, the card itself inside a dashed cut line
(serial, holder, issue date, the numbered grid, how to use it) and a warning to keep it
safe.  Only the PDF core fonts are used (Helvetica, Courier, ZapfDingbats): usernames are
ASCII (SPEC §1), anything else is replaced rather than refused.

The PDF is deterministic: its creation date is the card's issue date and nothing else
varies, so the same card renders to the same bytes (reproducible output, easy tests).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # fpdf costs ~0.25 s to import: only when a PDF is made
    from fpdf import FPDF

from dataclasses import dataclass
from datetime import UTC, datetime, time
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from securelogin.domain.cards import HOW_TO_USE, KEEP_SAFE, CardGrid, PrintableCard

PAPER_SIZES = {"A4": (210.0, 297.0), "Letter": (215.9, 279.4)}
MARGIN = 12.0
CARD_WIDTH = 180.0
CUT_GAP = 3.5
CARD_HEADER = 17.0
CARD_FOOTER = 13.0
MAX_ROW_HEIGHT = 6.2
INK = (20, 24, 33)
MUTED = (96, 104, 118)
SHADE = (236, 239, 244)
ACCENT = (23, 74, 140)


def render_card_pdf(card: PrintableCard, *, paper: str = "A4") -> bytes:
    """One page (A4 or Letter) holding the card; the same card gives the same bytes."""
    width, height = PAPER_SIZES[paper]
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format=(width, height))
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_creation_date(datetime.combine(card.issued, time(), tzinfo=UTC))
    pdf.set_title(card.title)
    pdf.set_subject(f"{card.title} {_latin1(card.serial)}")
    pdf.set_author("securelogin")
    pdf.set_creator("securelogin")
    pdf.set_lang("en")
    pdf.add_page()
    left = (width - CARD_WIDTH) / 2
    y = _heading(pdf, card, left, MARGIN)
    warning_height = 24.0
    grid = card.grid
    room = height - MARGIN - y - 2 * CUT_GAP - CARD_HEADER - CARD_FOOTER - warning_height - 6
    row_height = min(MAX_ROW_HEIGHT, room / grid.row_count)
    card_height = CARD_HEADER + grid.row_count * row_height + CARD_FOOTER
    top = y + CUT_GAP
    _cut_line(pdf, left - CUT_GAP, y, CARD_WIDTH + 2 * CUT_GAP, card_height + 2 * CUT_GAP)
    _card_header(pdf, card, left, top)
    _grid(pdf, card, grid, left, top + CARD_HEADER, row_height)
    _card_footer(pdf, card, left, top + CARD_HEADER + grid.row_count * row_height)
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.5)
    pdf.rect(left, top, CARD_WIDTH, card_height, round_corners=True, corner_radius=2)
    _warning(pdf, left, top + card_height + CUT_GAP + 6, warning_height)
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    """The core fonts cover Latin-1; anything else prints as '?' instead of failing."""
    return text.encode("latin-1", "replace").decode("latin-1")


def _heading(pdf: FPDF, card: PrintableCard, left: float, y: float) -> float:
    pdf.set_text_color(*ACCENT)
    pdf.set_font("Helvetica", "B", 9)
    pdf.set_xy(left, y)
    pdf.cell(CARD_WIDTH, 5, "SECURELOGIN", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)
    pdf.set_font("Helvetica", "B", 20)
    pdf.set_x(left)
    pdf.cell(CARD_WIDTH, 10, card.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9.5)
    pdf.set_text_color(*MUTED)
    pdf.set_x(left)
    intro = (
        "Print this page at 100% scale, cut the card out along the dashed line and keep it "
        "with you. You need it to log in and to confirm withdrawals."
    )
    if card.expires is not None:
        intro += f" This card is valid until {card.expires.isoformat()}."
    pdf.multi_cell(CARD_WIDTH, 4.6, intro, new_x="LMARGIN", new_y="NEXT")
    return float(pdf.get_y()) + 2


def _cut_line(pdf: FPDF, x: float, y: float, w: float, h: float) -> None:
    pdf.set_draw_color(*MUTED)
    pdf.set_line_width(0.3)
    pdf.set_dash_pattern(dash=2.2, gap=1.6)
    pdf.rect(x, y, w, h)
    pdf.set_dash_pattern()
    # the scissors (ZapfDingbats "\x22") sit on the line, on a white patch
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x + 8, y - 2.2, 29, 4.4, style="F")
    pdf.set_font("ZapfDingbats", "", 10)
    pdf.set_text_color(*MUTED)
    pdf.text(x + 9, y + 1.3, '"')
    pdf.set_font("Helvetica", "I", 7.5)
    pdf.text(x + 15, y + 1.1, "cut along this line")


def _card_header(pdf: FPDF, card: PrintableCard, left: float, top: float) -> None:
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.5)
    pdf.set_fill_color(*ACCENT)
    # rounded like the card's border on top, square where it meets the details below
    pdf.rect(left, top, CARD_WIDTH, 8.5, style="F", round_corners=True, corner_radius=2)
    pdf.rect(left, top + 4, CARD_WIDTH, 4.5, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("Helvetica", "B", 11)
    pdf.set_xy(left + 3, top + 1.5)
    pdf.cell(100, 5.5, card.title.upper())
    pdf.set_font("Courier", "B", 11)
    pdf.set_xy(left + CARD_WIDTH - 93, top + 1.5)
    pdf.cell(90, 5.5, f"{card.serial_label} {_latin1(card.serial)}", align="R")
    pdf.set_text_color(*INK)
    pdf.set_font("Helvetica", "", 8.5)
    pdf.set_xy(left + 3, top + 10)
    details = f"Holder: {_latin1(card.holder)}     Issued: {card.issued.isoformat()}"
    if card.expires is not None:
        details += f"     Valid until: {card.expires.isoformat()}"
    pdf.cell(CARD_WIDTH - 6, 5, details)


def _grid(
    pdf: FPDF, card: PrintableCard, grid: CardGrid, left: float, top: float, row_height: float
) -> None:
    cell_width = CARD_WIDTH / grid.columns
    value_size = min(11.5, row_height * 2.0)
    pdf.set_line_width(0.15)
    pdf.set_draw_color(*MUTED)
    for r, row in enumerate(grid.rows):
        y = top + r * row_height
        if r % 2 == 1:
            pdf.set_fill_color(*SHADE)
            pdf.rect(left, y, CARD_WIDTH, row_height, style="F")
        for c, position in enumerate(row):
            if position is None:
                continue
            x = left + c * cell_width
            pdf.set_xy(x, y)
            pdf.set_font("Helvetica", "", value_size * 0.68)
            pdf.set_text_color(*MUTED)
            pdf.cell(cell_width * 0.42, row_height, str(position), align="R")
            pdf.set_font("Courier", "B", value_size)
            pdf.set_text_color(*INK)
            pdf.cell(cell_width * 0.58, row_height, card.values[position], align="C")
    bottom = top + grid.row_count * row_height
    for c in range(1, grid.columns):
        x = left + c * cell_width
        pdf.line(x, top, x, bottom)
    pdf.line(left, top, left + CARD_WIDTH, top)
    pdf.line(left, bottom, left + CARD_WIDTH, bottom)


def _card_footer(pdf: FPDF, card: PrintableCard, left: float, y: float) -> None:
    pdf.set_font("Helvetica", "B", 8)
    pdf.set_text_color(*INK)
    pdf.set_xy(left + 3, y + 1.5)
    pdf.cell(CARD_WIDTH - 6, 4.2, HOW_TO_USE, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 7.5)
    pdf.set_text_color(*MUTED)
    pdf.set_x(left + 3)
    pdf.cell(CARD_WIDTH - 6, 4.2, card.example)


def _warning(pdf: FPDF, left: float, y: float, height: float) -> None:
    pdf.set_fill_color(253, 243, 224)
    pdf.set_draw_color(196, 120, 20)
    pdf.set_line_width(0.4)
    pdf.rect(left, y, CARD_WIDTH, height, style="DF")
    pdf.set_xy(left + 4, y + 3)
    pdf.set_font("Helvetica", "B", 10)
    pdf.set_text_color(120, 60, 0)
    pdf.cell(CARD_WIDTH - 8, 5, "Keep this card safe", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(left + 4)
    pdf.set_font("Helvetica", "", 8.5)
    pdf.set_text_color(*INK)
    pdf.multi_cell(CARD_WIDTH - 8, 4.2, KEEP_SAFE)


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("securelogin.adapters.printing", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_card_html(card: PrintableCard) -> str:
    """The same card as a standalone HTML page with a print stylesheet (autoescaped)."""
    return (
        _templates()
        .get_template("code_card.html")
        .render(card=card, grid=card.grid, how_to_use=HOW_TO_USE, keep_safe=KEEP_SAFE)
    )


@dataclass(frozen=True)
class CardRenderer:
    """The ``CardPrinter`` port (service.ports): PDF on A4 or Letter, and HTML."""

    paper: str = "A4"

    def pdf(self, card: PrintableCard) -> bytes:
        return render_card_pdf(card, paper=self.paper)

    def html(self, card: PrintableCard) -> str:
        return render_card_html(card)
