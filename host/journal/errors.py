"""The journal's typed errors; `reason` is the machine-readable code."""

from __future__ import annotations


class JournalError(Exception):
    reason = "journal_error"


class JournalLocked(JournalError):
    """Another process has this journal open."""

    reason = "journal_locked"


class NotAJournal(JournalError):
    """The file is an SQLite database, but not one this code wrote."""

    reason = "not_a_journal"


class JournalCorrupt(JournalError):
    """The file is not a readable SQLite database."""

    reason = "journal_corrupt"


class SchemaTooNew(JournalError):
    """Written by a newer tickwire: refusing to touch it rather than guess."""

    reason = "schema_too_new"

    def __init__(self, found: int, supported: int):
        super().__init__(f"journal schema {found} is newer than the {supported} this "
                         "version reads; upgrade tickwire")
        self.found = found
        self.supported = supported


class SchemaMismatch(JournalError):
    """An older or malformed schema version."""

    reason = "schema_mismatch"


class JournalClosed(JournalError):
    """Used after close()."""

    reason = "journal_closed"


class NotStarted(JournalError):
    """Orders can only be journaled after `start()` gave this run its boot number."""

    reason = "not_started"
