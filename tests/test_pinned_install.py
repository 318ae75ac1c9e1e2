"""`make install` installs the pinned set (constraints.txt), so a new release
of a dependency never changes what CI runs."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "constraints.txt"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"constraints.txt: {line!r} is not pinned with =="
        pins[_norm(name)] = version
    return pins


def _requirement_names() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs.extend(extra)
    return [_norm(re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0]) for r in reqs]


def test_every_requirement_is_pinned() -> None:
    pins = _pins()
    missing = [n for n in _requirement_names() if n not in pins]
    assert not missing, f"not in constraints.txt (run make lock): {missing}"
    for tool in ("pip", "setuptools", "wheel"):
        assert tool in pins


def test_make_install_uses_the_lock() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "PIP_CONSTRAINT=$(CURDIR)/$(LOCK)" in makefile
    assert re.search(r"^\$\(STAMP\): pyproject.toml \$\(LOCK\)$", makefile, re.M)
    assert re.search(r"^lock:$", makefile, re.M)


@pytest.mark.skipif(
    not sys.prefix.endswith(".venv"), reason="only meaningful in the venv make install built"
)
def test_the_venv_holds_the_pinned_versions() -> None:
    pins = _pins()
    wrong = {}
    for dist in metadata.distributions():
        name = _norm(dist.metadata["Name"])
        if name in pins and pins[name] != dist.version:
            wrong[name] = (dist.version, pins[name])
    assert not wrong, f"installed vs pinned: {wrong}"


def test_private_api_users_have_upper_bounds() -> None:
    """http_protocol.py subclasses uvicorn's private HttpToolsProtocol."""
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    uvicorn = next(d for d in deps if d.startswith("uvicorn"))
    assert "<" in uvicorn
