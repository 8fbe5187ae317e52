"""The public API: exactly the names in __all__, each importable from mockscim."""

from __future__ import annotations

import mockscim


def test_all_names_import() -> None:
    """Every name in __all__ resolves, and unknown names raise AttributeError."""
    for name in mockscim.__all__:
        assert getattr(mockscim, name) is not None
    try:
        mockscim.nothing_here  # noqa: B018
    except AttributeError:
        pass
    else:
        raise AssertionError("unknown attribute did not raise")


def test_create_app_and_mockscim_are_the_real_objects() -> None:
    """`from mockscim import create_app, MockScim` gives the app factory and the server class (docs/behaviour.md
    §14)."""
    from mockscim import MockScim, create_app
    from mockscim.app import create_app as real_create_app
    from mockscim.testing.server import MockScim as RealMockScim

    assert create_app is real_create_app and MockScim is RealMockScim
