"""The package installs offline with pip (the in-tree build backend needs
nothing from an index) and what it installs imports and works."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent


def _have_pip() -> bool:
    return subprocess.run([sys.executable, "-m", "pip", "--version"],
                          capture_output=True).returncode == 0


needs_pip = pytest.mark.skipif(not _have_pip(), reason="pip is not installed")


def _offline_env() -> dict[str, str]:
    """pip with no index to reach and no user configuration."""
    env = dict(os.environ)
    env.update({"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                "PIP_CONFIG_FILE": os.devnull, "PYTHONDONTWRITEBYTECODE": "1"})
    env.pop("PYTHONPATH", None)
    return env


@needs_pip
def test_pip_install_target_offline(tmp_path: Path) -> None:
    target = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-index", "--target", str(target),
         str(PROJECT)],
        capture_output=True, text=True, env=_offline_env(), cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (target / "sfu_host" / "py.typed").is_file()
    assert (target / "sfu_host-0.1.0.dist-info" / "METADATA").is_file()

    # Imported from the target, not from the source tree.
    env = _offline_env()
    env["PYTHONPATH"] = str(target)
    probe = ("import sfu_host; print(sfu_host.__file__); print(sfu_host.__version__); "
             "print(sorted(sfu_host.get_supported_rtp_capabilities())[0])")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    path, version, first_key = result.stdout.split()
    assert Path(path).resolve().is_relative_to(target.resolve())
    assert version == "0.1.0"
    assert first_key == "codecs"


def _backend():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(PROJECT / "_backend"))
    try:
        import sfu_build
    finally:
        sys.path.pop(0)
    return sfu_build


def test_wheel_record_matches_contents(tmp_path: Path) -> None:
    backend = _backend()
    name = backend.build_wheel(str(tmp_path))
    assert name == "sfu_host-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(tmp_path / name) as wheel:
        names = set(wheel.namelist())
        record = list(csv.reader(io.StringIO(
            wheel.read("sfu_host-0.1.0.dist-info/RECORD").decode())))
        listed = {row[0] for row in record}
        assert listed == names
        for path, digest, size in record:
            if path.endswith("RECORD"):
                assert digest == "" and size == ""
                continue
            data = wheel.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == "sha256=" + expected.decode()
            assert int(size) == len(data)
        metadata = wheel.read("sfu_host-0.1.0.dist-info/METADATA").decode()
        wheel_file = wheel.read("sfu_host-0.1.0.dist-info/WHEEL").decode()
    sources = {f"sfu_host/{p.name}" for p in (PROJECT / "sfu_host").iterdir()
               if p.suffix == ".py" or p.name == "py.typed"}
    assert sources <= names
    assert not any("__pycache__" in n for n in names)
    assert "Name: sfu-host\n" in metadata and "Version: 0.1.0\n" in metadata
    assert "Requires-Python: >=3.9\n" in metadata
    assert 'Requires-Dist: pytest; extra == "test"' in metadata
    assert "Root-Is-Purelib: true" in wheel_file and "Tag: py3-none-any" in wheel_file


def test_sdist_and_editable(tmp_path: Path) -> None:
    backend = _backend()
    sdist = backend.build_sdist(str(tmp_path))
    with tarfile.open(tmp_path / sdist) as tar:
        members = set(tar.getnames())
    for needed in ("PKG-INFO", "pyproject.toml", "README.md", "_backend/sfu_build.py",
                   "sfu_host/__init__.py", "sfu_host/py.typed", "tests/test_install.py"):
        assert f"sfu_host-0.1.0/{needed}" in members
    (tmp_path / "editable").mkdir()
    editable = backend.build_editable(str(tmp_path / "editable"))
    with zipfile.ZipFile(tmp_path / "editable" / editable) as wheel:
        pth = wheel.read("__editable__.sfu_host.pth").decode().strip()
    assert Path(pth) == PROJECT
    assert backend.get_requires_for_build_wheel() == []
