"""PEP 517 build backend of the sfu-host package, standard library only.

pip builds a project in an isolated environment and first installs what
``[build-system] requires`` lists; with ``requires = []`` and this backend
(``backend-path = ["_backend"]``) there is nothing to fetch, so
``pip install ./python`` works offline with any pip that knows PEP 517.

It builds what the package is: one pure-Python import package
(``sfu_host/``, its ``.py`` files and ``py.typed``) with the metadata of
pyproject.toml's ``[project]`` table. Hooks: build_wheel, build_sdist,
build_editable (a ``.pth`` file pointing at the source tree),
prepare_metadata_for_build_wheel / _editable, and the get_requires_for_*
hooks (nothing).
"""

from __future__ import annotations

import base64
import calendar
import csv
import gzip
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile
from typing import Any, Dict, Iterator, List, Optional, Tuple

try:
    import tomllib as _toml  # Python 3.11+
except ImportError:  # pragma: no cover - older interpreters
    try:
        import tomli as _toml  # type: ignore[no-redef]
    except ImportError:
        from pip._vendor import tomli as _toml  # type: ignore[no-redef]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "sfu_host"
# Files of the source distribution besides the package itself.
SDIST_EXTRA = ["pyproject.toml", "README.md", "_backend/sfu_build.py"]
SDIST_DIRS = ["tests"]
WHEEL_TAG = "py3-none-any"
GENERATOR = "sfu_build 1.0"


# ----- project metadata -------------------------------------------------------

def _project() -> Dict[str, Any]:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project: Dict[str, Any] = _toml.load(f)["project"]
    return project


def _normalized_name(name: str) -> str:
    """The distribution name as file names spell it (PEP 427, PEP 625)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _dist_info_name(project: Dict[str, Any]) -> str:
    return f"{_normalized_name(project['name'])}-{project['version']}.dist-info"


def _metadata(project: Dict[str, Any]) -> str:
    """Core metadata 2.1 (the METADATA / PKG-INFO file)."""
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}",
             f"Version: {project['version']}"]
    if "description" in project:
        lines.append(f"Summary: {project['description']}")
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    license_ = project.get("license", {})
    if "text" in license_:
        lines.append(f"License: {license_['text']}")
    for classifier in project.get("classifiers", []):
        lines.append(f"Classifier: {classifier}")
    for requirement in project.get("dependencies", []):
        lines.append(f"Requires-Dist: {requirement}")
    for extra, requirements in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        for requirement in requirements:
            lines.append(f'Requires-Dist: {requirement}; extra == "{extra}"')
    body = ""
    readme = project.get("readme")
    if isinstance(readme, str):
        lines.append("Description-Content-Type: text/markdown"
                     if readme.endswith(".md") else "Description-Content-Type: text/plain")
        with open(os.path.join(ROOT, readme), encoding="utf-8") as f:
            body = f.read()
    return "\n".join(lines) + "\n\n" + body


def _wheel_file() -> str:
    return (f"Wheel-Version: 1.0\nGenerator: {GENERATOR}\nRoot-Is-Purelib: true\n"
            f"Tag: {WHEEL_TAG}\n")


# ----- archives ----------------------------------------------------------------

def _package_files() -> Iterator[Tuple[str, str]]:
    """(archive name, path on disk) of every file the package installs."""
    top = os.path.join(ROOT, PACKAGE)
    for directory, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py") or name == "py.typed":
                path = os.path.join(directory, name)
                yield os.path.relpath(path, ROOT).replace(os.sep, "/"), path


def _timestamp() -> Tuple[int, int, int, int, int, int]:
    """Reproducible archives: SOURCE_DATE_EPOCH if set, else 1980-01-01."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return (1980, 1, 1, 0, 0, 0)
    return time.gmtime(max(int(epoch), 315532800))[:6]


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


class _WheelWriter:
    """Writes a wheel: the files given, then the dist-info files with a
    RECORD listing each one with its hash and size."""

    def __init__(self, path: str, dist_info: str) -> None:
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self._dist_info = dist_info
        self._records: List[Tuple[str, str, str]] = []

    def add(self, name: str, data: bytes) -> None:
        info = zipfile.ZipInfo(name, date_time=_timestamp())
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self._zip.writestr(info, data)
        self._records.append((name, _record_hash(data), str(len(data))))

    def close(self, metadata: str) -> None:
        self.add(f"{self._dist_info}/METADATA", metadata.encode("utf-8"))
        self.add(f"{self._dist_info}/WHEEL", _wheel_file().encode("utf-8"))
        record_name = f"{self._dist_info}/RECORD"
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerows(self._records)
        writer.writerow((record_name, "", ""))
        info = zipfile.ZipInfo(record_name, date_time=_timestamp())
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self._zip.writestr(info, out.getvalue().encode("utf-8"))
        self._zip.close()


def _wheel_name(project: Dict[str, Any]) -> str:
    return f"{_normalized_name(project['name'])}-{project['version']}-{WHEEL_TAG}.whl"


# ----- PEP 517 / PEP 660 hooks -------------------------------------------------

def get_requires_for_build_wheel(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_editable(
        config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str,
                                     config_settings: Optional[Dict[str, Any]] = None) -> str:
    project = _project()
    dist_info = _dist_info_name(project)
    target = os.path.join(metadata_directory, dist_info)
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(target, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata(project))
    with open(os.path.join(target, "WHEEL"), "w", encoding="utf-8") as f:
        f.write(_wheel_file())
    return dist_info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None,
                metadata_directory: Optional[str] = None) -> str:
    project = _project()
    name = _wheel_name(project)
    wheel = _WheelWriter(os.path.join(wheel_directory, name), _dist_info_name(project))
    for archive_name, path in _package_files():
        with open(path, "rb") as f:
            wheel.add(archive_name, f.read())
    wheel.close(_metadata(project))
    return name


def build_editable(wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None,
                   metadata_directory: Optional[str] = None) -> str:
    """A wheel whose only file is a ``.pth`` that puts this source tree on
    sys.path: edits to sfu_host/ take effect without reinstalling."""
    project = _project()
    name = _wheel_name(project)
    wheel = _WheelWriter(os.path.join(wheel_directory, name), _dist_info_name(project))
    wheel.add(f"__editable__.{_normalized_name(project['name'])}.pth",
              (ROOT + "\n").encode("utf-8"))
    wheel.close(_metadata(project))
    return name


def build_sdist(sdist_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    project = _project()
    base = f"{_normalized_name(project['name'])}-{project['version']}"
    files = [(name, path) for name, path in _package_files()]
    for extra in SDIST_EXTRA:
        files.append((extra, os.path.join(ROOT, extra)))
    for directory in SDIST_DIRS:
        for parent, dirs, names in os.walk(os.path.join(ROOT, directory)):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
            for file_name in sorted(names):
                if not file_name.endswith((".pyc", ".pyo")):
                    path = os.path.join(parent, file_name)
                    files.append((os.path.relpath(path, ROOT).replace(os.sep, "/"), path))
    mtime = calendar.timegm(_timestamp() + (0, 0, 0))
    name = base + ".tar.gz"
    with open(os.path.join(sdist_directory, name), "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=mtime) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:

        def add(arcname: str, data: bytes) -> None:
            info = tarfile.TarInfo(f"{base}/{arcname}")
            info.size = len(data)
            info.mtime = mtime
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))

        add("PKG-INFO", _metadata(project).encode("utf-8"))
        for arcname, path in files:
            with open(path, "rb") as f:
                add(arcname, f.read())
    return name
