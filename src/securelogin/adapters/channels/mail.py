"""E-mail (SPEC §8 "Channels"): SMTP, and the development outbox.

``SmtpMail`` raises ``DeliveryFailed`` like the SMS gateways (R-OPS-5): a 4xx SMTP reply,
a timeout or a refused connection is retryable; a 5xx reply (unknown mailbox, rejected
sender) or a server that does not offer the STARTTLS we require is not.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from securelogin.errors import DeliveryFailed

DEFAULT_TIMEOUT = 10.0


class DevOutboxMail:
    """The development mailer: the outbox row is the delivery; its text is kept."""

    keeps_text = True

    def send(self, *, to: str, subject: str, text: str) -> None:
        """Nothing leaves the machine."""


class SmtpMail:
    """One SMTP connection per message (notifications are few; no idle connections)."""

    keeps_text = False

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.starttls = starttls
        self.username = username
        self.password = password
        self.timeout = timeout
        self.tls_context = tls_context

    def send(self, *, to: str, subject: str, text: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(text)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.tls_context or ssl.create_default_context())
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPNotSupportedError:
            raise DeliveryFailed(
                "mail server does not offer STARTTLS; refusing to send in the clear",
                retryable=False,
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            code = min(code for code, _ in exc.recipients.values())
            raise _reply_failure("recipient refused", code) from None
        except smtplib.SMTPResponseException as exc:
            raise _reply_failure(_reply_text(exc.smtp_error), exc.smtp_code) from None
        except (smtplib.SMTPException, OSError) as exc:  # timeouts, refused, disconnected
            raise DeliveryFailed(
                f"mail server {self.host}:{self.port}: {type(exc).__name__}: {exc}",
                retryable=True,
            ) from None


def _reply_failure(what: str, code: int) -> DeliveryFailed:
    return DeliveryFailed(f"mail server answered {code}: {what}", retryable=code < 500)


def _reply_text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return text.strip()[:200] or "no reason given"
