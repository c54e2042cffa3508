"""The use cases: the only place that combines the Maelis client and the store.

Plain Python, no Qt: load with fallback (reading.py), pay (payments.py),
sync; `Desk` (desk.py) holds them together for the CLI and the UI.
"""

from .desk import Desk
from .health import MaelisHealth, State
from .reading import FamilyView, NotInCache, Offline, Reader

__all__ = ["Desk", "FamilyView", "MaelisHealth", "NotInCache", "Offline", "Reader", "State"]
