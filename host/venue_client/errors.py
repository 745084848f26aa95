"""Typed errors of the venue client. Each has a stable `reason` code for logs and metrics."""

from __future__ import annotations


class ClientError(Exception):
    reason = "client_error"


class ProtocolError(ClientError):
    """A frame from the venue that cannot be understood. It is discarded; the session goes on.

    `reason` is one of: bad_json, not_object, unknown_type, missing_field, bad_field,
    unknown_market, off_grid, binary_frame. `field` names the field at fault, `kind` the
    message type when it could be read, `order_id` the order when it could be read.
    """

    def __init__(self, message: str, reason: str, *, kind: str | None = None,
                 field: str | None = None, order_id: str | None = None):
        super().__init__(message)
        self.reason = reason
        self.kind = kind
        self.field = field
        self.order_id = order_id


class EncodeError(ClientError):
    """An outgoing message we refuse to build: `reason` says why (nothing is sent)."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason
