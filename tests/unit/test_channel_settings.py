"""The notification channels are chosen by settings, read once in ``bootstrap``
(SPEC §8 "Channels", STYLE.md rule 11)."""

from __future__ import annotations

import base64

import pytest

from securelogin.adapters.channels.mail import DevOutboxMail, SmtpMail
from securelogin.adapters.channels.sms import DevOutboxSms, HttpSmsGateway, TwilioSms
from securelogin.bootstrap import load_settings, mail_gateway, policy_from, sms_gateway
from securelogin.errors import ConfigurationError

KEY = base64.b64encode(b"k" * 32).decode()


def test_the_development_outboxes_are_the_default_and_allowed_in_production_on_request() -> None:
    settings = load_settings(env="production", master_key=KEY, allow_dev_outbox=True)
    assert isinstance(sms_gateway(settings), DevOutboxSms)
    assert isinstance(mail_gateway(settings), DevOutboxMail)
    assert policy_from(settings).outbox_max_attempts == 8


def test_the_http_gateway_is_wired_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURELOGIN_SMS_GATEWAY", "http")
    monkeypatch.setenv("SECURELOGIN_SMS_HTTP_URL", "https://sms.example.test/send")
    monkeypatch.setenv("SECURELOGIN_SMS_HTTP_TOKEN", "t0ken")
    gateway = sms_gateway(load_settings())
    assert isinstance(gateway, HttpSmsGateway)
    assert (gateway.url, gateway.token) == ("https://sms.example.test/send", "t0ken")
    gateway.client.close()


def test_twilio_is_wired_from_its_three_settings() -> None:
    settings = load_settings(
        sms_gateway="twilio",
        twilio_account_sid="AC1",
        twilio_auth_token="tok",
        twilio_from="+15550001",
        channel_timeout_seconds=3,
    )
    gateway = sms_gateway(settings)
    assert isinstance(gateway, TwilioSms)
    assert gateway.url.endswith("/Accounts/AC1/Messages.json")
    assert (gateway.auth_token, gateway.from_number, gateway.timeout) == ("tok", "+15550001", 3)
    gateway.client.close()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"sms_gateway": "http"}, "sms_gateway=http needs SECURELOGIN_SMS_HTTP_URL"),
        (
            {"sms_gateway": "twilio", "twilio_account_sid": "AC1"},
            "sms_gateway=twilio needs SECURELOGIN_TWILIO_AUTH_TOKEN, SECURELOGIN_TWILIO_FROM",
        ),
        ({"sms_gateway": "carrier-pigeon"}, "sms_gateway:"),
        ({"outbox_max_attempts": 0}, "outbox_max_attempts:"),
    ],
)
def test_an_incomplete_channel_setting_is_one_clear_line(
    given: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        load_settings(**given)
    assert "\n" not in caught.value.message


def test_an_smtp_host_selects_smtp_mail() -> None:
    settings = load_settings(
        smtp_host="mail.example.test",
        smtp_port=587,
        smtp_from="no-reply@broker.test",
        smtp_starttls=True,
        smtp_username="relay",
        smtp_password="pw",
    )
    mail = mail_gateway(settings)
    assert isinstance(mail, SmtpMail)
    assert (mail.host, mail.port, mail.sender, mail.starttls) == (
        "mail.example.test",
        587,
        "no-reply@broker.test",
        True,
    )
    assert (mail.username, mail.password) == ("relay", "pw")
