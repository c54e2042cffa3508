"""Test configuration shared by every layer.

Each test session gets its own MAELIS_DESK_HOME, so nothing touches a real
desk's data; Qt runs offscreen. Qt warnings fail tests (pyproject's
qt_log_level_fail) and so do Python warnings (filterwarnings = error).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["MAELIS_DESK_TZ"] = "Europe/Paris"
for var in ("MAELIS_DESK_URL", "MAELIS_DESK_USER", "MAELIS_DESK_PASSWORD", "MAELIS_DESK_DATABASE",
            "MAELIS_DESK_TIMEOUT", "MAELIS_DESK_OFFLINE", "MAELIS_DESK_OPERATOR"):
    os.environ.pop(var, None)
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


@pytest.fixture(autouse=True)
def desk_home(tmp_path, monkeypatch):
    """Every test has its own desk folder (config, cache, demo data)."""
    home = tmp_path / "desk-home"
    monkeypatch.setenv("MAELIS_DESK_HOME", str(home))
    return home
