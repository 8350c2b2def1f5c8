"""Activity statements and tax forms as PDF with fpdf2 (R-LOGIN-8, R-CLOSE-1).

A real, simple document: header, account, period, one line per ledger entry, the
closing balance.  Core fonts only (Helvetica); anything outside Latin-1 is replaced.
The creation date is the statement's date, so the same statement gives the same bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # fpdf costs ~0.25 s to import: only when a PDF is made
    pass

from datetime import UTC, datetime, time
from decimal import Decimal

from securelogin.service.lifecycle_ports import Statement


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _usd(cents: int) -> str:
    return f"{Decimal(cents) / 100:,.2f}"


class StatementRenderer:
    """The :class:`~securelogin.service.lifecycle_ports.StatementPrinter` of production."""

    def pdf(self, statement: Statement) -> bytes:
        from fpdf import FPDF

        pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        pdf.set_creation_date(datetime.combine(statement.generated, time(), tzinfo=UTC))
        pdf.set_title(_latin(statement.title))
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.cell(0, 10, _latin(statement.title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        for label, value in (
            ("Account", statement.account_number),
            ("Account holder", statement.holder),
            ("Period", statement.period),
            ("Generated", statement.generated.isoformat()),
        ):
            pdf.cell(40, 6, label)
            pdf.cell(0, 6, _latin(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 10)
        for width, head in ((40, "Date (UTC)"), (40, "Type"), (70, "Reference"), (30, "USD")):
            pdf.cell(width, 7, head, border="B", align="R" if head == "USD" else "L")
        pdf.ln()
        pdf.set_font("Helvetica", "", 9)
        for line in statement.lines:
            pdf.cell(40, 6, line.at.strftime("%Y-%m-%d %H:%M"))
            pdf.cell(40, 6, _latin(line.kind))
            pdf.cell(70, 6, _latin((line.reference or "")[:40]))
            pdf.cell(30, 6, _usd(line.amount_cents), align="R", new_x="LMARGIN", new_y="NEXT")
        if not statement.lines:
            pdf.cell(0, 6, "No activity in this period.", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(150, 7, "Closing cash balance", border="T")
        pdf.cell(30, 7, _usd(statement.closing_balance_cents), border="T", align="R")
        return bytes(pdf.output())
