"""The journal: SQLite in WAL mode holding every order, order event, fill and risk event."""

from host.journal.errors import (
                                 JournalClosed,
                                 JournalCorrupt,
                                 JournalError,
                                 JournalLocked,
                                 NotAJournal,
                                 NotStarted,
                                 SchemaMismatch,
                                 SchemaTooNew,
)
from host.journal.journal import Journal
from host.journal.recover import Recovered
