"""The stand-alone desk (issue 13 point 4): built by scripts/build-desk.sh, then run
as a counter PC would — unpacked from its archive into a folder of its own, with a
fresh MAELIS_DESK_HOME, offscreen, on the demo Maelis it carries.

One build per run: the module's fixture builds once (about 45 s on 2 cores, the
script prints the time), and reuses dist/ when it was built from exactly these
sources and installed packages (the digest in build/bundle-sources.sha256), so a
rerun on a developer's machine does not build again; a fresh CI clone always builds.

Every run of the built executable must exit 0 with nothing on standard error
(no traceback, no Qt warning; the self-check's one offscreen-only Qt message is
counted, not printed: maelis_desk/ui/self_check.py).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
STAMP = ROOT / "build" / "bundle-sources.sha256"
BUILD_TIMEOUT = 1800  # seconds: PyInstaller's install and the build, on a slow CI machine

pytestmark = pytest.mark.slow


def sources_digest() -> str:
    """What the bundle is made of: the package's files, the build's files, the installed distributions."""
    digest = hashlib.sha256()
    files = [p for p in (ROOT / "maelis_desk").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files += [ROOT / "build_spec.py", ROOT / "pyproject.toml", ROOT / "scripts" / "build-desk.sh"]
    for path in sorted(files):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    installed = sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions())
    digest.update("\n".join(installed).encode())
    return digest.hexdigest()


def archives() -> list[Path]:
    return sorted(DIST.glob("maelis-desk-*.tar.gz"))


@pytest.fixture(scope="module")
def archive() -> Path:
    """The archive scripts/build-desk.sh made (built now unless up to date)."""
    digest = sources_digest()
    built = (DIST / "maelis-desk" / "maelis-desk").exists() and len(archives()) == 1
    if not (built and STAMP.exists() and STAMP.read_text().strip() == digest):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        result = subprocess.run([str(ROOT / "scripts" / "build-desk.sh")], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=BUILD_TIMEOUT)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-6000:]
        # the script's last lines: both sizes and the time taken (shown with pytest -rA / -s)
        summary = [line for line in result.stdout.splitlines() if line.startswith(("Poste autonome", "Archive", "Construit"))]
        assert len(summary) == 3, output[-3000:]
        print("\n".join(summary))
        STAMP.parent.mkdir(parents=True, exist_ok=True)
        STAMP.write_text(sources_digest() + "\n")  # after the build, which may have installed PyInstaller
    found = archives()
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def desk(archive, tmp_path_factory) -> Path:
    """The executable, unpacked from the archive far from the checkout (as on a counter PC)."""
    folder = tmp_path_factory.mktemp("counter-pc")
    subprocess.run(["tar", "-C", str(folder), "-xzf", str(archive)], check=True, timeout=300)  # as the README says
    executable = folder / "maelis-desk" / "maelis-desk"
    assert os.access(executable, os.X_OK)
    return executable


def run(desk: Path, *args: str, home: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAELIS_DESK_") and k != "PYTHONPATH"}
    env.update(MAELIS_DESK_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    env.setdefault("MAELIS_DESK_TZ", "Europe/Paris")
    result = subprocess.run([str(desk), *args], cwd=desk.parent.parent, env=env, capture_output=True,
                            text=True, timeout=timeout)
    output = f"exit {result.returncode}\n--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
    assert result.returncode == 0, output
    assert result.stderr == "", output
    assert "Traceback" not in result.stdout, output
    return result


def test_the_built_desk_answers_commands_on_the_demo(desk, tmp_path):
    home = tmp_path / "home"
    found = run(desk, "families", "Dupont", home=home).stdout
    assert "DUPONT" in found and len(found.splitlines()) >= 3, found
    family = run(desk, "family", "1312", home=home).stdout
    assert family.startswith("Famille n° 1312") and "LEFÈVRE Anaïs" in family, family
    # the demo Maelis served the bundle's WSDL (a copy per demo run: each has its own port)
    copies = {p.name.split("-")[0] for p in (home / "data" / "demo" / "wsdl").glob("*.wsdl")}
    assert copies == {"FamilyService"}, copies


def test_the_built_desk_saves_an_invoice_pdf(desk, tmp_path):
    home = tmp_path / "home"
    invoices = json.loads(run(desk, "invoices", "1312", "--json", home=home).stdout)["invoices"]
    first = invoices[0]
    target = tmp_path / "facture.pdf"
    saved = run(desk, "pdf", str(first["regie"]), str(first["number"]), "-o", str(target), home=home).stdout
    assert saved.startswith("PDF enregistré"), saved
    data = target.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF") and len(data) > 1000


def test_the_built_window_opens_a_family_and_quits(desk, tmp_path):
    """The window offscreen: French Qt, icon, style, family 1312 from Maelis, an invoice drawn by QtPdf."""
    result = run(desk, "--self-check", "1312", home=tmp_path / "home")
    out = result.stdout
    internal = desk.parent / "_internal"
    assert f"ok  Qt en français (traductions : {internal}" in out, out  # the bundle's, not the checkout's
    assert f"ok  icône dessinée ({internal}" in out, out
    assert f"ok  feuille de style appliquée ({internal}" in out, out
    assert "ok  famille n° 1312 ouverte, lue à l'instant depuis Maelis (9 régies" in out, out
    assert "affiché par QtPdf (1 page(s)" in out, out
    assert out.rstrip().endswith("Poste vérifié : tout fonctionne."), out
    # the log file went to MAELIS_DESK_HOME, nothing was written next to the program
    assert (tmp_path / "home" / "data" / "logs" / "maelis-desk.log").exists()
    assert sorted(p.name for p in desk.parent.iterdir()) == ["_internal", "maelis-desk"]
