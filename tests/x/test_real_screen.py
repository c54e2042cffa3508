"""The desk on a real X server (Xvfb, openbox, QT_QPA_PLATFORM=xcb), driven with
the keyboard through the X server: scripts/x-check.sh runs scripts/x_flow.py
(search, open, F9, pay in cash, confirm, print the receipt to a PDF file, an
invoice's PDF printed the same way, F1, Ctrl+Shift+T, Ctrl+Q) and fails on any
Qt warning, logged error or traceback, or a step that does not happen.

The screenshots of every step are left in screenshots/x/ (the README says so):
look at them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cashier_flow_on_a_real_x_server():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAELIS_DESK_") and k != "QT_QPA_PLATFORM"}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
    result = subprocess.run([str(ROOT / "scripts" / "x-check.sh")], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "Parcours au clavier sur X réussi" in result.stdout, output[-6000:]
    shots = sorted((ROOT / "screenshots" / "x").glob("*.png"))
    assert len(shots) >= 14 and not [s for s in shots if s.name.startswith("ECHEC")], [s.name for s in shots]
