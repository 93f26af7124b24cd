"""The accessibility checks open every page in the world the security tests build."""

from tests.security.conftest import (  # noqa: F401  (fixtures)
    analyst,
    build_world,
    dana,
    people,
)
