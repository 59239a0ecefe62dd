"""The ``iecmhc`` command line (typer + rich): one module per command group.

``common`` holds what every command shares (options, consoles, exit codes, one-line errors);
``answers`` reads typed dates and codes; ``importing``, ``admin``, ``demo``, ``record``,
``correct`` (amend, delete, restore), ``report`` and ``research`` hold the commands, and this
module puts them together into the one ``app``.
"""

from __future__ import annotations

import typer

from . import admin, correct, demo, importing, record, report, research

app = typer.Typer(
    help="Track IECMHC activity and publish privacy-safe statewide numbers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(admin.profile_app, name="profile")
app.add_typer(report.report_app, name="report")
app.command()(record.record)
app.command()(correct.amend)
app.command()(correct.delete)
app.command()(correct.restore)
app.command()(research.query)
app.command()(research.budget)
app.command(name="import")(importing.import_)
app.command()(admin.init)
app.command()(demo.demo)


def main() -> None:
    app()


__all__ = ["app", "main"]
