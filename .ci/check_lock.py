"""Check that requirements.lock pins everything pyproject.toml asks for (runtime and the `dev`
extra) at a version it allows, and that the environment holds exactly the locked versions.

`make install` installs requirements.lock with --require-hashes, so every file installed is the
one whose hash was locked; this check makes sure the lock is the whole story (nothing installed
outside it, no requirement it misses). Exit status 1 with what to do when it is not.
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        match = PIN.match(line)
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def required() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + project["optional-dependencies"]["dev"]
    return [Requirement(line) for line in lines]


def main() -> int:
    pins = locked()
    problems = []
    for requirement in required():
        name = canonicalize_name(requirement.name)
        version = pins.get(name)
        if version is None:
            problems.append(f"pyproject.toml requires {requirement}, which the lock does not pin")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"the lock pins {name}=={version}, outside {requirement}")
    for name, version in sorted(pins.items()):
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name}=={version} is locked but not installed")
            continue
        if installed != version:
            problems.append(f"{name} {installed} is installed, the lock says {version}")
    if problems:
        print("requirements.lock is not in step:", *problems, sep="\n  ")
        print("Run `make lock` (and `make install`), review the diff and commit it.")
        return 1
    print(f"requirements.lock: {len(pins)} packages pinned with hashes, all installed as locked.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
