"""THE accept/refuse decision both servers share: credentials, tokens, users, throttle.

Pure and injectable: a ``Policy`` is handed its token issuer, users, throttle, revoked-token
store and hashing gate; nothing is made at import time.
"""

from shared.policy.decision import (
    MAX_CREDENTIAL_LENGTH,
    REFUSALS,
    Identity,
    Policy,
    Presented,
    Refusal,
    RevocationUnavailable,
    RevokedTokens,
    credentials_in,
    is_ip_address,
)

__all__ = ["MAX_CREDENTIAL_LENGTH", "REFUSALS", "Identity", "Policy", "Presented", "Refusal",
           "RevocationUnavailable", "RevokedTokens", "credentials_in", "is_ip_address"]
