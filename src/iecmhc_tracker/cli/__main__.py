"""``python -m iecmhc_tracker.cli``: the same as the ``iecmhc`` command."""

from . import app

app(prog_name="iecmhc")
