"""The PySide6 work-around (ui/compat.py) and the pin that keeps it valid."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import PySide6

from maelis_desk.ui import compat

ROOT = Path(__file__).resolve().parents[2]


def _upper_bound(package: str) -> tuple[int, ...]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(rf'"{package}>=[\d.]+,<([\d.]+)"', text)
    assert match, f"{package} has no upper bound in pyproject.toml"
    return tuple(int(part) for part in match.group(1).split("."))


def test_pyside6_is_pinned_and_the_installed_version_is_inside_the_pin():
    installed = tuple(PySide6.__version_info__[:2])
    for package in ("PySide6-Essentials", "PySide6-Pdf"):
        assert installed < _upper_bound(package)


def test_singletons_are_pinned_where_the_binding_drops_their_references():
    import maelis_desk.ui  # noqa: F401  (applies the work-around)

    if compat.binding_drops_singleton_refs():
        assert sys.getrefcount(None) > 1 << 40
        assert sys.getrefcount(True) > 1 << 40
    assert compat.make_singletons_immortal() is compat.binding_drops_singleton_refs()


def test_many_signals_and_slots_do_not_abort_the_interpreter():
    script = textwrap.dedent("""
        import maelis_desk.ui
        from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

        class Source(QObject):
            fired = Signal(int)

        app = QCoreApplication([])
        source, seen = Source(), []
        source.fired.connect(lambda n: seen.append(n))
        for n in range(300_000):
            source.fired.emit(n)
        QTimer.singleShot(0, app.quit)
        app.exec()
        print(len(seen))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "300000"
