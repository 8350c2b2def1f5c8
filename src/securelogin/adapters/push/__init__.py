"""Push providers that wake a mobile key app (R-KEY-4, SPEC §8 "Channels"): Web Push
(RFC 8030/8291/8292, VAPID), Firebase Cloud Messaging HTTP v1 and Apple Push
Notification service (HTTP/2, ES256 token).  The message carries only the push id; the
app fetches the signed request over its pull channel.  Each raises ``DeliveryFailed``
with ``retryable`` like the SMS gateways (2xx sent; 408/429/5xx/transport: retry)."""
