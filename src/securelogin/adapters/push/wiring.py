"""Which push providers a server offers, from files named in the settings (bootstrap
reads the settings; this module only opens the key files)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from securelogin.adapters.push.apns import APNS_API, ApnsProvider
from securelogin.adapters.push.fcm import FCM_API, FcmProvider
from securelogin.adapters.push.webpush import WebPushProvider
from securelogin.service.mobile_key_ports import PushProvider


def push_providers(
    *,
    vapid_key_file: Path | None,
    vapid_subject: str,
    fcm_credentials_file: Path | None,
    fcm_api: str = FCM_API,
    apns_key_file: Path | None = None,
    apns_key_id: str | None = None,
    apns_team_id: str | None = None,
    apns_topic: str | None = None,
    apns_api: str = APNS_API,
    timeout: float = 10.0,
) -> dict[str, PushProvider]:
    """Only the providers whose credentials are configured; the pull channel needs none."""
    found: dict[str, PushProvider] = {}
    if vapid_key_file is not None:
        found["webpush"] = WebPushProvider(
            vapid_private_key=vapid_key_file.read_text(), subject=vapid_subject, timeout=timeout
        )
    if fcm_credentials_file is not None:
        credentials = json.loads(fcm_credentials_file.read_text())
        found["fcm"] = FcmProvider(
            httpx.Client(), credentials=credentials, api=fcm_api, timeout=timeout
        )
    if apns_key_file is not None and apns_key_id and apns_team_id and apns_topic:
        found["apns"] = ApnsProvider(
            httpx.Client(http2=True),
            key_pem=apns_key_file.read_bytes(),
            key_id=apns_key_id,
            team_id=apns_team_id,
            topic=apns_topic,
            api=apns_api,
            timeout=timeout,
        )
    return found
