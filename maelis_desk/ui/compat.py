"""Work-arounds for bugs of the Qt binding, applied when `maelis_desk.ui` is imported.

PySide6 6.12.0 on CPython 3.11 drops references it does not own: every
`Signal.emit()` and `disconnect()` called from Python releases one reference
to `True`, and every Python slot Qt calls (timers, queued signals) releases one
to `None`. From Python 3.12 these objects are immortal and nothing happens;
on 3.11 their reference counts fall to zero after a few thousand events and
the interpreter aborts ("Fatal Python error: none_dealloc / bool_dealloc").
PySide6 6.11.3 does not have the bug (checked with the same scripts).

Until the dependency is pinned or Python 3.12 is required, the desk makes
these three singletons immortal by hand: it adds 2**40 to their reference
counts, once. They are never freed by design, so this changes nothing else.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

_EXTRA = 1 << 40


def binding_drops_singleton_refs() -> bool:
    """True where the PySide6 bug above can abort the interpreter."""
    try:
        import PySide6
    except ImportError:  # pragma: no cover
        return False
    version = tuple(getattr(PySide6, "__version_info__", (0, 0, 0))[:2])
    return (
        sys.implementation.name == "cpython"
        and sys.version_info < (3, 12)
        and version >= (6, 12)
        and not hasattr(sys, "gettotalrefcount")  # a debug build has another object header
    )


_applied = False


def make_singletons_immortal() -> bool:
    """Pin None, True and False (idempotent). True when it was needed and done."""
    global _applied
    if _applied or not binding_drops_singleton_refs():
        return _applied
    for obj in (None, True, False):
        refcount = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt heads every CPython object
        refcount.value += _EXTRA
    _applied = True
    log.info("PySide6 %s on Python %s: None/True/False pinned (binding reference bug)",
             __import__("PySide6").__version__, sys.version.split()[0])
    return True
