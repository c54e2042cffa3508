"""The use cases: the only place that combines the Maelis client and the store.

Plain Python, no Qt: load with fallback (reading.py), pay (payments.py),
sync; `Desk` (desk.py) holds them together for the CLI and the UI.
"""

from .desk import Desk
from .health import MaelisHealth, State
from .errors import DeskError, NotInCache, Offline, PaymentRefused
from .reading import FamilyView, Reader

__all__ = [
    "Desk", "DeskError", "FamilyView", "MaelisHealth", "NotInCache", "Offline", "PaymentRefused", "Reader", "State",
]
