"""Fetch failures, classified the way ``message_fetch_errors`` records them."""

from __future__ import annotations

from dataclasses import dataclass

# error_type values; permanent ones are not retried on later runs.
AUTH_ERROR = "AUTH_ERROR"              # 401: token rejected (credentials wrong or revoked)
PERMISSION_DENIED = "PERMISSION_DENIED"  # 403: the principal lost access to the space (permanent)
NOT_FOUND = "NOT_FOUND"                # 404: message, conversation or space deleted (permanent)
RATE_LIMITED = "RATE_LIMITED"          # 429 after every retry
SERVER_ERROR = "SERVER_ERROR"          # 5xx after every retry
TIMEOUT = "TIMEOUT"                    # no answer within the request timeout, after every retry
MALFORMED_RESPONSE = "MALFORMED_RESPONSE"  # body is not the JSON shape the API documents
BAD_REQUEST = "BAD_REQUEST"            # 400: our request was wrong (a bug; permanent until fixed)
NO_TOKEN = "NO_TOKEN"                  # OAuth token could not be obtained for the workspace

PERMANENT = frozenset({PERMISSION_DENIED, NOT_FOUND, BAD_REQUEST})


@dataclass
class GenieApiError(Exception):
    """A call that failed for good (after retries where retrying makes sense)."""

    error_type: str
    message: str
    http_status: int | None = None
    error_code: str | None = None
    attempts: int = 1
    retry_after_s: float | None = None  # what the server asked for (429), while the call is retried

    def __str__(self) -> str:
        status = f" HTTP {self.http_status}" if self.http_status else ""
        code = f" {self.error_code}" if self.error_code else ""
        return f"{self.error_type}{status}{code}: {self.message}"

    @property
    def permanent(self) -> bool:
        return self.error_type in PERMANENT


def classify_status(status: int) -> str:
    if status == 401:
        return AUTH_ERROR
    if status == 403:
        return PERMISSION_DENIED
    if status == 404:
        return NOT_FOUND
    if status == 429:
        return RATE_LIMITED
    if status >= 500:
        return SERVER_ERROR
    return BAD_REQUEST


# Retried within the same call. A body that is broken on the wire (cut off, not JSON, not UTF-8) may come
# out right next time; a well-formed body of the wrong shape (see ``rows.shape``) is not asked again within
# the call. Either way MALFORMED_RESPONSE is not PERMANENT: later runs retry the message with the sensor's
# back-off, up to its max attempts. A token endpoint failing transiently is retried too (``CredentialError``).
RETRYABLE = frozenset({RATE_LIMITED, SERVER_ERROR, TIMEOUT, MALFORMED_RESPONSE})
