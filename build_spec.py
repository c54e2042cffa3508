"""Build the desk as a stand-alone folder with PyInstaller.

    scripts/build-desk.sh                     # → dist/maelis-desk/ and its .tar.gz
    (or, with PyInstaller in .venv: .venv/bin/python build_spec.py)

The bundle carries the demo Maelis' WSDLs and data (the client needs no
WSDL on disk: it fetches them from the configured Maelis and keeps a copy),
the resources (icons, styles) and Qt's French translations that PySide6
ships. PySide6's PyInstaller hooks collect the Qt plugins (platforms, PDF).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BUILD = ROOT / "build"  # PyInstaller's work folder, the spec file and the entry script
DIST = ROOT / "dist"

# maelis_desk/__main__.py imports `.cli`: run as a top-level script it has no package, so
# the bundle starts from this script, which imports the package like `python -m maelis_desk`.
ENTRY = """import sys

from maelis_desk.__main__ import main

sys.exit(main())
"""


def entry_script() -> Path:
    path = BUILD / "entry" / "maelis_desk_entry.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ENTRY, encoding="utf-8")
    return path


def pyinstaller_args() -> list[str]:
    sep = os.pathsep
    data = [
        (ROOT / "maelis_desk" / "simulator" / "wsdl", "maelis_desk/simulator/wsdl"),
        (ROOT / "maelis_desk" / "resources", "maelis_desk/resources"),
    ]
    args = [
        str(entry_script()),
        "--name", "maelis-desk",
        # this checkout's package, whatever else the environment has installed
        "--paths", str(ROOT),
        "--distpath", str(DIST),
        "--workpath", str(BUILD),
        "--specpath", str(BUILD),
        "--noconfirm",
        "--clean",
        "--windowed" if sys.platform in ("win32", "darwin") else "--console",
        # zeep and peewee import some modules dynamically
        "--collect-submodules", "zeep",
        "--hidden-import", "playhouse.db_url",
        "--hidden-import", "keyring.backends",
        "--collect-submodules", "keyring.backends",
        "--copy-metadata", "keyring",
        "--copy-metadata", "zeep",
    ]
    icon = ROOT / "maelis_desk" / "resources" / "icons" / "maelis-desk.ico"
    if icon.exists():
        args += ["--icon", str(icon)]
    for source, target in data:
        if source.exists():
            args += ["--add-data", f"{source}{sep}{target}"]
    return args


def main() -> int:
    try:
        import PyInstaller.__main__
    except ImportError:
        print("PyInstaller is not installed: .venv/bin/pip install pyinstaller", file=sys.stderr)
        return 1
    PyInstaller.__main__.run(pyinstaller_args())
    return 0


if __name__ == "__main__":
    sys.exit(main())
