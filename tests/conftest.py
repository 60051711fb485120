"""Shared test settings."""

import logging

import pytest

# Mesa logs every step at INFO; keep test output readable.
logging.getLogger("MESA").setLevel(logging.WARNING)


def _first(item) -> int:
    """0 for the browser tests, 1 for the statistical validation, 2 for the rest."""
    if item.get_closest_marker("browser"):
        return 0
    return 1 if item.get_closest_marker("validation") else 2


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Prepare the suite for running in parallel (``make test``, pytest-xdist ``--dist loadgroup``).

    The browser tests share one workshop server and one Chromium (module fixtures), so they form
    one group that a single worker runs. That group and the long statistical checks go first, and
    the many short tests fill the workers in at the end, so that neither worker is left with a long
    tail while the other waits. The order is the same in every process, as xdist requires.
    """
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))
    items.sort(key=_first)  # stable: each kind keeps its files' order
