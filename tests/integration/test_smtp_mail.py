"""``SmtpMail`` against a real SMTP server on loopback (aiosmtpd), SPEC §8 "Channels":
what it sends, and how SMTP answers map to ``DeliveryFailed`` (R-OPS-5)."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from securelogin.adapters.channels.mail import SmtpMail
from securelogin.errors import DeliveryFailed
from tests.e2e.cli import free_port


class Sink:
    """An aiosmtpd handler: keeps every message; refuses the recipients it is told to."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def mailer(port: int, **extra: Any) -> SmtpMail:
    return SmtpMail(host="127.0.0.1", port=port, sender="securelogin@broker.test", **extra)


def test_smtp_mail_sends_one_message_with_sender_subject_and_body(
    smtp_server: tuple[Sink, int],
) -> None:
    sink, port = smtp_server
    mailer(port).send(to="ann@example.test", subject="Your code", text="It is 482913.")
    [(mail_from, rcpt_tos, content)] = sink.messages
    assert (mail_from, rcpt_tos) == ("securelogin@broker.test", ["ann@example.test"])
    parsed = message_from_bytes(content, policy=policy.default)
    assert parsed["Subject"] == "Your code"
    assert parsed["From"] == "securelogin@broker.test"
    assert parsed["To"] == "ann@example.test"
    assert parsed.get_content().strip() == "It is 482913."  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("reply", "retryable"),
    [("550 5.1.1 No such user", False), ("451 4.3.0 Try again later", True)],
)
def test_R_OPS_5_a_refused_recipient_says_whether_a_retry_can_help(
    smtp_server: tuple[Sink, int], reply: str, retryable: bool
) -> None:
    sink, port = smtp_server
    sink.refuse["bob@example.test"] = reply
    with pytest.raises(DeliveryFailed, match=f"answered {reply[:3]}") as caught:
        mailer(port).send(to="bob@example.test", subject="s", text="t")
    assert caught.value.retryable is retryable
    assert sink.messages == []


def test_R_OPS_5_an_unreachable_mail_server_is_retryable() -> None:
    with pytest.raises(DeliveryFailed, match=r"mail server 127\.0\.0\.1") as caught:
        mailer(free_port(), timeout=5).send(to="ann@example.test", subject="s", text="t")
    assert caught.value.retryable is True


def test_required_starttls_is_never_skipped_when_the_server_lacks_it(
    smtp_server: tuple[Sink, int],
) -> None:
    sink, port = smtp_server
    with pytest.raises(DeliveryFailed, match="does not offer STARTTLS") as caught:
        mailer(port, starttls=True).send(to="ann@example.test", subject="s", text="code")
    assert caught.value.retryable is False
    assert sink.messages == []
