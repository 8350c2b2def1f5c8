"""The whole exception tree of securelogin (STYLE.md rule 6).

Every error a user, an operator or another program can cause carries a stable
``code`` (the RFC 9457 ``code`` field of the HTTP API, the one-line message of
the CLI).  Entry points translate these classes with one table each; nothing
else is allowed to reach a user.

    SecureLoginError                      code
    ├── ConfigurationError                configuration_error
    ├── StorageUnavailable                storage_unavailable
    ├── InvalidInput                      invalid_input   (field, entry)
    │   ├── ImportRejected                import_rejected (entry, field)
    │   ├── UnknownDevice                 unknown_device
    │   └── InvalidSoftPin                invalid_soft_pin          (R-LOST-3)
    ├── NotFound                          not_found
    │   ├── UnknownLogin                  login_not_found
    │   └── UnknownUser                   user_not_found
    ├── Conflict                          conflict
    │   ├── NotInStock                    not_in_stock
    │   ├── LoginExpired                  login_expired
    │   ├── LoginClosed                   login_closed
    │   ├── AlreadyUsed                   already_used              (R-LOGIN-6)
    │   ├── TemporaryCodeInARow           temporary_code_in_a_row   (R-LOST-1)
    │   ├── DeviceNotActive               device_not_active
    │   ├── NotLocked                     not_locked
    │   ├── CannotDisableSelf             cannot_disable_self       (issue 6)
    │   ├── WrongState                    wrong_state  (R-LOST-4, R-RETURN; double decisions)
    │   ├── DepositNotCovered             deposit_not_covered       (R-LOST-3)
    │   └── AccountClosed                 account_closed            (R-CLOSE-1)
    ├── AuthenticationFailed              (code per subclass)
    │   ├── InvalidCredentials            invalid_credentials
    │   ├── LoginFailed                   login_failed
    │   │   └── NoDeviceLeft              login_failed  (the portal adds how to get a device)
    │   ├── Locked                        locked          (retry_at)
    │   └── Unauthenticated               unauthenticated
    ├── Forbidden                         forbidden
    │   ├── AccessDenied                  access_denied
    │   └── IdentityNotVerified           identity_not_verified     (R-LOST-1)
    ├── TooManyCodes                      too_many_codes
    ├── mobile key (issue 4):
    │   KeySignatureInvalid(AuthenticationFailed) key_signature_invalid
    │   ActivationFailed(AuthenticationFailed)    activation_failed
    │   RecoveryPinRejected(InvalidInput)         recovery_pin_rejected
    │   NumberMismatch(InvalidInput)              number_mismatch
    │   PushClosed(Conflict)                      push_closed
    │   UnknownActivation(NotFound)               activation_not_found
    │   UnknownPush(NotFound)                     push_not_found
    │   AppPinWrong(AuthenticationFailed)         app_pin_wrong      (remaining)
    │   AppPinLocked(Locked)                      app_pin_locked
    │   AppPinNotSet(Conflict)                    app_pin_not_set
    │   PushSubscriptionRejected(InvalidInput)    push_subscription_rejected
    ├── security settings (issue 6, R-OPT, R-SHARE):
    │   NotPrimaryUser(Forbidden)                 not_primary_user   (primary_users)
    │   OptOutDisabled(Forbidden)                 opt_out_disabled
    │   AlreadyOptedOut(Conflict)                 already_opted_out
    │   NotOptedOut(Conflict)                     not_opted_out
    │   NoActiveDevice(Conflict)                  no_active_device
    │   WaiverNotSigned(InvalidInput)             waiver_not_signed
    │   ReauthenticationFailed(AuthFailed)        reauthentication_failed
    │   UnknownOptOut(NotFound)                   opt_out_not_found
    │   OptOutClosed(Conflict)                    opt_out_closed
    │   ShareRefused                              (code per R-SHARE-3 reason)
    │   UnknownShareRequest(NotFound)             share_request_not_found
    │   ShareRequestDecided(Conflict)             share_request_decided
    ├── withdrawals (issue 5, R-WD, R-LIMIT):
    │   WithdrawalRefused                         (code per rule: insufficient_funds,
    │                                              daily_limit_exceeded,
    │                                              five_day_limit_exceeded; remaining)
    │   UnknownAccount(NotFound)                  account_not_found
    │   NoWithdrawRight(Forbidden)                no_withdraw_right
    │   DeviceRequired(Forbidden)                 device_required
    │   UnknownWithdrawal(NotFound)               withdrawal_not_found
    │   IdempotencyKeyReused(Conflict)            idempotency_key_reused
    │   WithdrawalClosed(Conflict)                withdrawal_closed
    │   WithdrawalExpired(Conflict)               withdrawal_expired
    │   ConfirmationFailed(AuthFailed)            confirmation_failed
    ├── OpenID Connect (issue 16 §1; OAuth error bodies, ``error`` per RFC 6749/6750):
    │   OAuthError                                oauth_error        (error, status)
    │   ├── InvalidClient                         invalid_client
    │   ├── InvalidGrant                          invalid_grant
    │   ├── InvalidBearerToken                    invalid_token
    │   ├── AuthorizationNotRedirectable          invalid_authorization_request
    │   └── AuthorizationErrorRedirect            authorization_error (redirect_uri, state)
    │   InsufficientUserAuthentication(AuthFailed) insufficient_user_authentication
    │                                              (acr_values, RFC 9470)
    ├── passkeys and the app's biometric unlock (issue 16 §2, issue 15):
    │   PasskeyRejected(InvalidInput)             passkey_rejected
    │   PasskeyCeremonyClosed(Conflict)           passkey_ceremony_closed
    │   DeviceLoginRequired(Forbidden)            device_login_required
    │   UnknownPasskey(NotFound)                  passkey_not_found
    │   BiometricRejected(AuthenticationFailed)   biometric_rejected
    │   BiometricNotSet(Conflict)                 biometric_not_set
    ├── IntegrityViolation                integrity_violation (first_bad_id)
    └── DeliveryFailed                    delivery_failed (retryable)
"""

from __future__ import annotations

from datetime import datetime


class SecureLoginError(Exception):
    """Root of every error securelogin raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(SecureLoginError):
    """Settings are missing or unsafe (e.g. no master key in production)."""

    code = "configuration_error"


class StorageUnavailable(SecureLoginError):
    """The database cannot be opened or reached."""

    code = "storage_unavailable"


class StorageBusy(StorageUnavailable):
    """The database gave up on this transaction (a deadlock, a serialisation failure, a
    lock wait too long): nothing was written; the same request may be sent again."""

    code = "storage_busy"


class InvalidInput(SecureLoginError):
    """A request or a file carries a value that breaks a rule; nothing was written."""

    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None, entry: str | None = None):
        super().__init__(message)
        self.field = field
        self.entry = entry


class ImportRejected(InvalidInput):
    """An import file is refused whole (SPEC §10.3); names the entry and the field."""

    code = "import_rejected"

    def __init__(self, *, entry: str, field: str, problem: str) -> None:
        super().__init__(f"{entry}: {field}: {problem}", field=field, entry=entry)
        self.problem = problem


class NotFound(SecureLoginError):
    code = "not_found"


class Conflict(SecureLoginError):
    code = "conflict"


class NotInStock(Conflict):
    """The serial names no unassigned device of the inventory (R-OPS-3, R-LOST-4)."""

    code = "not_in_stock"


class Forbidden(SecureLoginError):
    code = "forbidden"


class AuthenticationFailed(SecureLoginError):
    """Base for failed logins; messages never say which factor was wrong (R-LOGIN-10)."""

    code = "authentication_failed"


class InvalidCredentials(AuthenticationFailed):
    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("Invalid username or password")


class LoginFailed(AuthenticationFailed):
    code = "login_failed"

    def __init__(self) -> None:
        super().__init__("Login failed")


class NoDeviceLeft(LoginFailed):
    """The password was right but the user, who has not opted out, has no usable device
    (a returned code card was the only one).  Reads as ``login_failed`` (SPEC §10); the
    portal adds how to get a device: a temporary code from Client Services, the mobile key."""


class Locked(AuthenticationFailed):
    """R-LOGIN-3: too many consecutive failures; ``retry_at`` is when the lock ends."""

    code = "locked"

    def __init__(self, *, retry_at: datetime | None) -> None:
        super().__init__("Login failed")
        self.retry_at = retry_at


class IntegrityViolation(SecureLoginError):
    """The audit chain (R-OPS-6) does not verify; ``first_bad_id`` names the broken link."""

    code = "integrity_violation"

    def __init__(self, message: str, *, first_bad_id: int) -> None:
        super().__init__(message)
        self.first_bad_id = first_bad_id


class DeliveryFailed(SecureLoginError):
    """A channel (SMS gateway, mail server) did not take a message (R-OPS-5).

    ``retryable`` says whether the outbox should try again later (timeouts, 5xx, 429)
    or give up at once (4xx: the gateway refused this message for good).  The message
    never contains the text being delivered: it is stored as the outbox row's error.
    """

    code = "delivery_failed"

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class UnknownLogin(NotFound):
    code = "login_not_found"

    def __init__(self) -> None:
        super().__init__("No such login")


class LoginExpired(Conflict):
    code = "login_expired"

    def __init__(self) -> None:
        super().__init__("This login has expired; start again")


class LoginClosed(Conflict):
    code = "login_closed"

    def __init__(self) -> None:
        super().__init__("This login is already finished")


class AlreadyUsed(Conflict):
    """R-LOGIN-3/6: the answer is right but was accepted before (a repeated code, or a
    twin of an answer that just finished this challenge): refused, and not a failure."""

    code = "already_used"

    def __init__(self) -> None:
        super().__init__("This code was already used; wait for a new one")


class UnknownDevice(InvalidInput):
    code = "unknown_device"

    def __init__(self) -> None:
        super().__init__("That device is not one of your active devices", field="device_id")


class TooManyCodes(SecureLoginError):
    """A code may be sent at most a few times per login (SMS cost and abuse)."""

    code = "too_many_codes"


class Unauthenticated(AuthenticationFailed):
    """No valid session token (missing, unknown, revoked, expired or idle)."""

    code = "unauthenticated"

    def __init__(self, message: str = "Authentication required") -> None:
        super().__init__(message)


class AccessDenied(Forbidden):
    """The session's access level does not allow this."""

    code = "access_denied"


class UnknownUser(NotFound):
    """An operator named a username that does not exist."""

    code = "user_not_found"

    def __init__(self) -> None:
        super().__init__("No such user")


class TemporaryCodeInARow(Conflict):
    """R-LOST-1: never two temporary codes in a row for the same user."""

    code = "temporary_code_in_a_row"

    def __init__(self) -> None:
        super().__init__(
            "A temporary code was already issued and no other device was used to log in since"
        )


class DeviceNotActive(Conflict):
    """The device is not active (already lost, stolen, damaged, revoked …)."""

    code = "device_not_active"

    def __init__(self) -> None:
        super().__init__("That device is not an active device of this user")


class NotLocked(Conflict):
    """The helpdesk asked to unlock a login that is not locked (R-LOGIN-3)."""

    code = "not_locked"

    def __init__(self) -> None:
        super().__init__("This login is not locked")


class CannotDisableSelf(Conflict):
    """An admin tried to disable their own operator (issue 6: the console keeps an admin)."""

    code = "cannot_disable_self"

    def __init__(self) -> None:
        super().__init__("An admin cannot disable their own operator")


class IdentityNotVerified(Forbidden):
    """R-LOST-1: the caller's identity must be verified and recorded first."""

    code = "identity_not_verified"

    def __init__(self) -> None:
        super().__init__("Verify and record the caller's identity first")


# --- the mobile key (issue 4, R-KEY) ---


class KeySignatureInvalid(AuthenticationFailed):
    """A signed app request failed: unknown or deactivated app, bad signature, stale time."""

    code = "key_signature_invalid"

    def __init__(self, message: str = "The request signature is not valid") -> None:
        super().__init__(message)


class ActivationFailed(AuthenticationFailed):
    """A wrong activation code (counted as a second-factor failure, R-LOGIN-3)."""

    code = "activation_failed"

    def __init__(self, message: str = "Activation failed") -> None:
        super().__init__(message)


class RecoveryPinRejected(InvalidInput):
    """R-KEY-2: 4-6 characters, not the birth date, phone number or ID number."""

    code = "recovery_pin_rejected"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="recovery_pin")


class NumberMismatch(InvalidInput):
    """An approval picked another number than the one on the login screen."""

    code = "number_mismatch"

    def __init__(self) -> None:
        super().__init__("The number does not match the one on the screen", field="number")


class PushClosed(Conflict):
    code = "push_closed"

    def __init__(self) -> None:
        super().__init__("This push was already answered, expired or withdrawn")


class UnknownActivation(NotFound):
    code = "activation_not_found"

    def __init__(self) -> None:
        super().__init__("No such activation, or it has ended")


class UnknownPush(NotFound):
    code = "push_not_found"

    def __init__(self) -> None:
        super().__init__("No such push")


class AppPinWrong(AuthenticationFailed):
    """The app PIN proof of a vault unlock is wrong (issue 12 §6); ``remaining`` tries."""

    code = "app_pin_wrong"

    def __init__(self, *, remaining: int) -> None:
        super().__init__(f"Wrong app PIN; {remaining} tries left")
        self.remaining = remaining


class AppPinLocked(Locked):
    """Ten wrong app PINs: the app's vault stays closed until the recovery PIN resets it."""

    code = "app_pin_locked"

    def __init__(self) -> None:
        super().__init__(retry_at=None)
        self.message = "Too many wrong app PINs; reset them with the recovery PIN"


class AppPinNotSet(Conflict):
    """The app never registered a PIN verifier (a vault of the first format)."""

    code = "app_pin_not_set"

    def __init__(self) -> None:
        super().__init__("This app has no server-assisted PIN; register one first")


class InvalidSoftPin(InvalidInput):
    """R-LOST-3: the soft PIN of a replacement device is exactly 4 digits."""

    code = "invalid_soft_pin"

    def __init__(self) -> None:
        super().__init__("The soft PIN must be exactly 4 digits", field="pin")


class WrongState(Conflict):
    """A lifecycle step does not fit where the request or device stands (shipping twice,
    returning a returned device, deciding a decided request)."""

    code = "wrong_state"


class DepositNotCovered(Conflict):
    """R-LOST-3: the account's available funds do not cover the device deposit hold."""

    code = "deposit_not_covered"


class AccountClosed(Conflict):
    """R-CLOSE-1: the account is closed already."""

    code = "account_closed"


# --- security settings (issue 6: R-OPT, R-SHARE) ---


class NotPrimaryUser(Forbidden):
    """R-OPT-1: only the primary user of an account may change its security settings;
    ``primary_users`` names, per account, the users who may."""

    code = "not_primary_user"

    def __init__(self, primary_users: tuple[tuple[str, str], ...]) -> None:
        names = "; ".join(f"{account}: {user}" for account, user in primary_users)
        super().__init__(
            "Your user is not allowed to change the security settings. "
            + (f"Please ask the user who has that right ({names})." if names else "")
        )
        self.primary_users = primary_users


class OptOutDisabled(Forbidden):
    """R-OPT-2: this installation does not offer the opt-out."""

    code = "opt_out_disabled"

    def __init__(self) -> None:
        super().__init__("Opting out of the Secure Login System is not offered")


class AlreadyOptedOut(Conflict):
    code = "already_opted_out"

    def __init__(self) -> None:
        super().__init__("You have already opted out of the Secure Login System")


class NotOptedOut(Conflict):
    """R-OPT-3: opting back in is allowed only after an opt-out."""

    code = "not_opted_out"

    def __init__(self) -> None:
        super().__init__("You take part in the Secure Login System already")


class NoActiveDevice(Conflict):
    """R-OPT-3: opting back in needs an active security device first."""

    code = "no_active_device"

    def __init__(self) -> None:
        super().__init__(
            "Activate the Mobile Key, an online security code card or a shared device first"
        )


class WaiverNotSigned(InvalidInput):
    """R-OPT-2: the waiver was not accepted, or the text changed since it was shown."""

    code = "waiver_not_signed"

    def __init__(self, message: str = "Please read and accept the waiver") -> None:
        super().__init__(message, field="accept")


class UnknownOptOut(NotFound):
    """R-OPT-2: no such opt-out confirmation among the caller's."""

    code = "opt_out_not_found"

    def __init__(self) -> None:
        super().__init__("No such opt-out confirmation")


class OptOutClosed(Conflict):
    """R-OPT-2: the opt-out's confirmation ended (expired, denied or answered 3 times
    wrong); sign the waiver again."""

    code = "opt_out_closed"

    def __init__(self) -> None:
        super().__init__("This opt-out confirmation has ended; sign the waiver again")


class ReauthenticationFailed(AuthenticationFailed):
    """The answer confirming an opt-out was wrong (the device's, or the password of a
    user with none; counted on the second-factor counter, R-LOGIN-3)."""

    code = "reauthentication_failed"

    def __init__(self) -> None:
        super().__init__("The answer is not correct")


#: R-SHARE-3: the stable codes of a refused share request and their helpful messages
SHARE_MESSAGES: dict[str, str] = {
    "less_secure_device": "Less secure device: you chose a less secure device to share. "
    "Identify the most secure device and share that one.",
    "identity_mismatch": "Identity mismatch: the two users belong to different entities "
    "whose identification data differ. Only users of the same person can share a device.",
    "temporary_device_assigned": "Temporary device assigned: one of the users holds a "
    "Temporary Code or an Online Security Code Card. Share a device once the permanent "
    "device is active.",
    "requester_is_owner": "Log in with the requesting user, not with the device owner, and "
    "enter the device owner's username.",
    "device_not_shareable": "This kind of device cannot be shared (SMS, temporary devices). "
    "Share a physical device or the Mobile Key.",
    "device_not_active": "The device to share is not active. Activate it first.",
    "already_shared": "This device already protects your user, or a request to share it is "
    "waiting for Compliance.",
    "owner_authentication_failed": "The device owner's username, password or the response "
    "from the device was not correct.",
}


class ShareRefused(SecureLoginError):
    """R-SHARE-3: a share request broke a rule; ``code`` is one of :data:`SHARE_MESSAGES`."""

    code = "share_refused"

    def __init__(self, reason: str) -> None:
        super().__init__(SHARE_MESSAGES[reason])
        self.code = reason


class UnknownShareRequest(NotFound):
    code = "share_request_not_found"

    def __init__(self) -> None:
        super().__init__("No such share request")


class ShareRequestDecided(Conflict):
    """R-SHARE-4: a request is decided once; a second decision changes nothing."""

    code = "share_request_decided"

    def __init__(self) -> None:
        super().__init__("This share request is not waiting for a decision")


# --- withdrawals (issue 5: R-WD, R-LIMIT) ---


class WithdrawalRefused(SecureLoginError):
    """R-WD-2/R-LIMIT-3/4: the amount cannot pass; ``code`` names the rule (R-WD-3) and
    ``remaining`` says what the limits still allow today and in the window (``None`` =
    unlimited), as decimal strings."""

    code = "withdrawal_refused"

    def __init__(
        self, message: str, *, rule: str, remaining: dict[str, str | None], available: str
    ) -> None:
        super().__init__(message)
        self.code = rule
        self.remaining = remaining
        self.available = available


class UnknownAccount(NotFound):
    """No such account among the caller's (unknown and foreign accounts look the same)."""

    code = "account_not_found"

    def __init__(self) -> None:
        super().__init__("No such account among yours")


class NoWithdrawRight(Forbidden):
    code = "no_withdraw_right"

    def __init__(self) -> None:
        super().__init__("You do not have the right to withdraw from this account")


class DeviceRequired(Forbidden):
    """R-WD-4: a withdrawal needs a second-factor confirmation; the user has no device."""

    code = "device_required"

    def __init__(self) -> None:
        super().__init__("A withdrawal must be confirmed with an active security device")


class UnknownWithdrawal(NotFound):
    code = "withdrawal_not_found"

    def __init__(self) -> None:
        super().__init__("No such withdrawal")


class IdempotencyKeyReused(Conflict):
    """R-WD-1: the same Idempotency-Key came with a different request body."""

    code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__("This Idempotency-Key was already used for a different withdrawal")


class WithdrawalClosed(Conflict):
    code = "withdrawal_closed"

    def __init__(self) -> None:
        super().__init__("This withdrawal was already decided")


class WithdrawalExpired(Conflict):
    code = "withdrawal_expired"

    def __init__(self) -> None:
        super().__init__("This withdrawal was not confirmed in time; request it again")


class ConfirmationFailed(AuthenticationFailed):
    """A wrong second-factor answer for a withdrawal (counted like a login's, R-LOGIN-3)."""

    code = "confirmation_failed"

    def __init__(self) -> None:
        super().__init__("Confirmation failed")


# OpenID Connect provider (issue 16 §1): OAuth 2.0 error codes (RFC 6749 §5.2, RFC 6750
# §3.1, OpenID Connect Core §3.1.2.6), answered as OAuth error bodies, not problems.


class OAuthError(SecureLoginError):
    """An OAuth/OpenID Connect error: ``error`` is the registered code, ``status`` the
    HTTP status of the token, userinfo, revocation and introspection endpoints."""

    code = "oauth_error"
    status = 400

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error


class InvalidClient(OAuthError):
    """RFC 6749 §5.2: client authentication failed (unknown, revoked, wrong secret)."""

    code = "invalid_client"
    status = 401

    def __init__(self) -> None:
        super().__init__("invalid_client", "Client authentication failed")


class InvalidGrant(OAuthError):
    """RFC 6749 §5.2: the code is unknown, expired, used, or not this client's, or the
    redirect URI or PKCE verifier does not match.  One message for all: the caller
    learns nothing about which."""

    code = "invalid_grant"

    def __init__(self) -> None:
        super().__init__("invalid_grant", "The authorization code is invalid")


class InvalidBearerToken(OAuthError):
    """RFC 6750 §3.1 ``invalid_token`` (userinfo)."""

    code = "invalid_token"
    status = 401

    def __init__(self) -> None:
        super().__init__("invalid_token", "The access token is invalid or has expired")


class AuthorizationNotRedirectable(OAuthError):
    """OpenID Connect Core §3.1.2.6: the client or redirect URI is not known, so the
    error is shown to the user and never sent anywhere."""

    code = "invalid_authorization_request"


class AuthorizationErrorRedirect(OAuthError):
    """An authorization error sent back to the (registered) redirect URI."""

    code = "authorization_error"

    def __init__(
        self, error: str, description: str, *, redirect_uri: str, state: str | None
    ) -> None:
        super().__init__(error, description)
        self.redirect_uri = redirect_uri
        self.state = state


class InsufficientUserAuthentication(AuthenticationFailed):
    """RFC 9470: the bearer token's ``acr`` is below what the request needs; the answer
    names the ``acr_values`` to ask for."""

    code = "insufficient_user_authentication"

    def __init__(self, *, acr_values: str) -> None:
        super().__init__(f"A stronger authentication is required ({acr_values})")
        self.acr_values = acr_values


class PasskeyRejected(InvalidInput):
    """A WebAuthn registration did not verify (origin, RP ID, challenge, user presence or
    verification, signature, algorithm); nothing was stored."""

    code = "passkey_rejected"

    def __init__(self, message: str = "The passkey could not be verified") -> None:
        super().__init__(message, field="credential")


class PasskeyCeremonyClosed(Conflict):
    """A WebAuthn registration or unlock challenge that is unknown, used or expired."""

    code = "passkey_ceremony_closed"

    def __init__(self) -> None:
        super().__init__("That WebAuthn challenge is used, expired or unknown; start again")


class DeviceLoginRequired(Forbidden):
    """Registering a passkey needs a session opened with one of the user's devices."""

    code = "device_login_required"

    def __init__(self) -> None:
        super().__init__("Log in with one of your devices before adding a passkey")


class UnknownPasskey(NotFound):
    code = "passkey_not_found"

    def __init__(self) -> None:
        super().__init__("No such passkey of yours")


class PushSubscriptionRejected(InvalidInput):
    """An app's push target that cannot be kept: a Web Push subscription whose endpoint
    is not https or whose keys are malformed, an unknown provider, a missing token
    (issue 15); nothing was changed."""

    code = "push_subscription_rejected"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="push")


class BiometricRejected(AuthenticationFailed):
    """The app's biometric assertion did not verify (issue 15): the vault stays closed."""

    code = "biometric_rejected"

    def __init__(self) -> None:
        super().__init__("The biometric check was not accepted; use the app PIN")


class BiometricNotSet(Conflict):
    """The app has no biometric credential registered with the server."""

    code = "biometric_not_set"

    def __init__(self) -> None:
        super().__init__("Biometric unlock is not turned on for this app")
