"""The SMS gateways speak their HTTP contracts and map answers to ``DeliveryFailed``
(SPEC §8 "Channels", R-OPS-5); tested with ``httpx.MockTransport``, never the network."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs

import httpx
import pytest

from securelogin.adapters.channels.mail import DevOutboxMail
from securelogin.adapters.channels.sms import DevOutboxSms, HttpSmsGateway, TwilioSms
from securelogin.errors import DeliveryFailed
from securelogin.service.notifications import email_parts, retry_delay

CODE_TEXT = "Your securelogin code is 482913"
BEARER = "s3cret"
Handler = Callable[[httpx.Request], httpx.Response]
MakeGateway = Callable[[httpx.Client], "HttpSmsGateway | TwilioSms"]


class Recorder:
    """A MockTransport handler that keeps every request and answers as told."""

    def __init__(self, answer: Handler) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)


ClientFor = Callable[[Handler], tuple[httpx.Client, Recorder]]


@pytest.fixture
def client_for() -> Iterator[ClientFor]:
    clients: list[httpx.Client] = []

    def make(answer: Handler) -> tuple[httpx.Client, Recorder]:
        recorder = Recorder(answer)
        client = httpx.Client(transport=httpx.MockTransport(recorder))
        clients.append(client)
        return client, recorder

    yield make
    for client in clients:
        client.close()


def status(http_status: int, /, **body: object) -> Handler:
    return lambda _request: httpx.Response(http_status, json=body or None)


def raises(exc: Exception) -> Handler:
    def handler(_request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


def http_gateway(client: httpx.Client, token: str | None = BEARER) -> HttpSmsGateway:
    return HttpSmsGateway(client, url="https://sms.example.test/v1/send", token=token)


def twilio(client: httpx.Client) -> TwilioSms:
    return TwilioSms(client, account_sid="AC123", auth_token="tw-token", from_number="+15550001")


def test_the_http_gateway_posts_json_with_a_bearer_token(client_for: ClientFor) -> None:
    client, recorder = client_for(status(202))
    http_gateway(client).send(to="+15551230001", text=CODE_TEXT)
    [request] = recorder.requests
    assert request.method == "POST"
    assert str(request.url) == "https://sms.example.test/v1/send"
    assert request.headers["Authorization"] == "Bearer s3cret"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {"to": "+15551230001", "text": CODE_TEXT}


def test_the_http_gateway_sends_no_authorization_without_a_token(client_for: ClientFor) -> None:
    client, recorder = client_for(status(200))
    http_gateway(client, token=None).send(to="+15551230001", text="hi")
    assert "Authorization" not in recorder.requests[0].headers


def test_twilio_posts_the_form_to_the_account_messages_url_with_basic_auth(
    client_for: ClientFor,
) -> None:
    client, recorder = client_for(status(201, sid="SM1", status="queued"))
    twilio(client).send(to="+15551230001", text=CODE_TEXT)
    [request] = recorder.requests
    assert request.method == "POST"
    assert str(request.url) == "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"
    expected = "Basic " + base64.b64encode(b"AC123:tw-token").decode()
    assert request.headers["Authorization"] == expected
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {
        "To": ["+15551230001"],
        "From": ["+15550001"],
        "Body": [CODE_TEXT],
    }


GATEWAYS = [pytest.param(http_gateway, id="http"), pytest.param(twilio, id="twilio")]


@pytest.mark.parametrize("make", GATEWAYS)
@pytest.mark.parametrize("code", [200, 201, 202, 204])
def test_R_OPS_5_a_2xx_answer_is_a_delivery(
    client_for: ClientFor, make: MakeGateway, code: int
) -> None:
    client, _ = client_for(status(code))
    make(client).send(to="+15551230001", text=CODE_TEXT)


@pytest.mark.parametrize("make", GATEWAYS)
@pytest.mark.parametrize(
    ("answer", "retryable"),
    [
        (status(400, message="The 'To' number is not valid"), False),
        (status(401), False),
        (status(404), False),
        (status(301), False),
        (status(408), True),
        (status(429, message="Too Many Requests"), True),
        (status(500), True),
        (status(503), True),
        (raises(httpx.ReadTimeout("slow")), True),
        (raises(httpx.ConnectTimeout("slow")), True),
        (raises(httpx.ConnectError("refused")), True),
    ],
    ids=[
        "400",
        "401",
        "404",
        "301",
        "408",
        "429",
        "500",
        "503",
        "read-timeout",
        "connect-timeout",
        "refused",
    ],
)
def test_R_OPS_5_failures_say_whether_a_retry_can_help(
    client_for: ClientFor, make: MakeGateway, answer: Handler, retryable: bool
) -> None:
    client, _ = client_for(answer)
    with pytest.raises(DeliveryFailed) as caught:
        make(client).send(to="+15551230001", text=CODE_TEXT)
    assert caught.value.retryable is retryable
    assert caught.value.code == "delivery_failed"
    assert "482913" not in caught.value.message  # the error is stored: never the code


def test_twilio_errors_carry_twilios_message(client_for: ClientFor) -> None:
    client, _ = client_for(status(400, code=21211, message="The 'To' number 12 is not valid."))
    with pytest.raises(DeliveryFailed, match=r"Twilio answered 400: The 'To' number 12 is not"):
        twilio(client).send(to="12", text=CODE_TEXT)


def test_an_error_body_that_is_not_json_still_gives_a_reason(client_for: ClientFor) -> None:
    client, _ = client_for(lambda _r: httpx.Response(502, text="<html>Bad Gateway</html>"))
    with pytest.raises(DeliveryFailed, match="SMS gateway answered 502: Bad Gateway"):
        http_gateway(client).send(to="+15551230001", text=CODE_TEXT)


def test_the_development_outboxes_send_nothing_and_keep_the_text() -> None:
    DevOutboxSms().send(to="+15551230001", text=CODE_TEXT)
    DevOutboxMail().send(to="a@example.test", subject="s", text=CODE_TEXT)
    assert DevOutboxSms.keeps_text and DevOutboxMail.keeps_text
    assert not HttpSmsGateway.keeps_text and not TwilioSms.keeps_text


def test_R_OPS_5_the_backoff_grows_30s_2min_10min_and_then_levels_off() -> None:
    seconds = [retry_delay(n).total_seconds() for n in range(1, 10)]
    assert seconds[:3] == [30, 120, 600]
    assert seconds == sorted(seconds)
    assert seconds[-1] == seconds[-2] == 4 * 3600


def test_an_email_in_the_outbox_is_a_subject_line_then_the_body() -> None:
    assert email_parts("Your code\n\nIt is 123456.\n") == ("Your code", "It is 123456.")
    assert email_parts("Just a line") == ("Just a line", "Just a line")
