"""The order management system: order states, client ids, positions, reconciliation."""

from host.oms.events import (
                             CancelRejected,
                             OmsEvent,
                             OrderAdopted,
                             OrderFilled,
                             OrderStateChanged,
                             PositionReset,
                             UnknownOrderEvent,
)
from host.oms.ids import ClientIds
from host.oms.oms import AlreadyKnown, BadOrder, FillMismatch, NotLive, Oms, OmsNotEmpty
from host.oms.order import Order
from host.oms.position import Position
from host.oms.reconcile import Reconciliation, reconcile
from host.oms.states import IllegalTransition, OmsError, OrderInput, OrderState
