"""Domain errors. No HTTP here: the web layer maps each ``code`` to a status in one place."""

from __future__ import annotations


class KbError(Exception):
    """Base of every error Kennisbank reports to a person; the message says what to do."""

    code = "error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ConfigError(KbError):
    code = "bad_setting"


class InvalidInput(KbError):
    """A request or a value from a person that cannot be used as given."""

    code = "invalid_input"


class NotFound(KbError):
    code = "not_found"


class ContentError(KbError):
    """A content file that cannot be turned into a document (reported and skipped)."""

    code = "bad_content"


class AudienceError(ContentError):
    """A content file whose audience cannot be told: skipped, and its last version withdrawn too,
    since keeping it could show it to readers it is no longer for."""


class IndexMismatch(KbError):
    """The saved index was built with other settings than the current ones."""

    code = "index_mismatch"


class IndexMissing(KbError):
    code = "index_missing"


class ModelUnavailable(KbError):
    code = "model_unavailable"


class Busy(KbError):
    """Another writer holds the lock."""

    code = "busy"


class Forbidden(KbError):
    code = "forbidden"


class StoreUnavailable(KbError):
    """The shared database cannot be reached (now); the message names the setting or says to retry."""

    code = "store_unavailable"
