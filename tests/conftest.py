"""Shared test settings."""

import logging

# Mesa logs every step at INFO; keep test output readable.
logging.getLogger("MESA").setLevel(logging.WARNING)
