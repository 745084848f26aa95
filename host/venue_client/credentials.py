"""The venue API key: from the environment or from a file only its owner can read.

`load_api_key()` returns an `ApiKey`, whose `repr` and `str` are a fixed mask, so the key
cannot reach a log line, a traceback's locals or an f-string by accident; `.reveal()` is the
one way to the text, and only the codec's `encode_auth` and the REST client's header call it.
A key file must be a regular file with mode 0600 (or stricter): a key others can read is
refused with `InsecureKeyFile` before it is opened for reading.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DEFAULT_ENV = "TICKWIRE_API_KEY"
MAX_KEY_CHARS = 256  # the venue's own limit on `api_key`


class CredentialError(Exception):
    """No usable key. `reason` is the code; the message never contains the key."""

    reason = "credential_error"


class MissingKey(CredentialError):
    reason = "missing_key"


class InsecureKeyFile(CredentialError):
    reason = "insecure_key_file"


class BadKey(CredentialError):
    reason = "bad_key"


class ApiKey:
    """An API key that does not print itself."""

    __slots__ = ("_secret", "source")

    def __init__(self, secret: str, source: str = "argument"):
        if not isinstance(secret, str):
            raise BadKey(f"an API key is text, not {type(secret).__name__}")
        secret = secret.strip()
        if not secret or len(secret) > MAX_KEY_CHARS:
            raise BadKey(f"an API key is 1 to {MAX_KEY_CHARS} characters (from {source})")
        if not secret.isascii() or not secret.isprintable() or " " in secret:
            raise BadKey(f"an API key is printable ASCII without spaces (from {source})")
        self._secret = secret
        self.source = source  # where it came from, e.g. "env TICKWIRE_API_KEY"; safe to log

    def reveal(self) -> str:
        return self._secret

    def __repr__(self) -> str:
        return f"ApiKey(<hidden>, source={self.source!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._secret == self._secret

    def __hash__(self) -> int:
        return hash(("ApiKey", self._secret))

    def __reduce__(self):
        # Pickling would write the key somewhere the owner did not choose.
        raise TypeError("an ApiKey cannot be pickled")


def as_api_key(key: ApiKey | str) -> ApiKey:
    """Accept a plain string where a key is passed in code (tests, the local venue)."""
    return key if isinstance(key, ApiKey) else ApiKey(key)


def load_api_key(env: str | None = DEFAULT_ENV, path: str | os.PathLike | None = None) -> ApiKey:
    """The key from `path` when given, else from the environment variable `env`."""
    if path is not None:
        return _from_file(Path(path))
    if env:
        value = os.environ.get(env)
        if value is not None and value.strip():
            return ApiKey(value, source=f"env {env}")
    raise MissingKey(f"no API key: set {env or 'an environment variable'} or give a key file"
                     " (mode 0600)")


def _from_file(path: Path) -> ApiKey:
    # Open first and check the open file, so the file checked is the file read.
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise MissingKey(f"key file {path} does not exist") from None
    except OSError as exc:
        raise InsecureKeyFile(f"key file {path} cannot be opened safely: {exc.strerror}") \
            from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InsecureKeyFile(f"key file {path} is not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise InsecureKeyFile(f"key file {path} has mode {mode:04o}; it must be 0600 "
                                  f"(chmod 600 {path})")
        raw = os.read(fd, MAX_KEY_CHARS + 2)
    finally:
        os.close(fd)
    text = raw.decode("ascii", errors="replace")
    return ApiKey(text, source=f"file {path}")
