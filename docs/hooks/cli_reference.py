"""MkDocs hook: replace ``<!-- cli-reference -->`` with a reference of every ``iecmhc``
command, generated from the command line's own definitions so it cannot go stale."""

from __future__ import annotations

from typing import Any

import typer.main

MARKER = "<!-- cli-reference -->"
SKIP = {"help", "install_completion", "show_completion"}


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _command(path: str, cmd: Any) -> list[str]:
    out = [f"### `{path}`", ""]
    if cmd.help:
        out += [cmd.help.strip(), ""]
    # typer may bring its own click classes: tell arguments from options by their kind
    params = [p for p in cmd.params if p.name not in SKIP]
    args = " ".join(p.name.upper() for p in params if p.param_type_name == "argument")
    out += [f"    {path} [OPTIONS]{' ' + args if args else ''}", ""]
    if params:
        out += ["| argument or option | meaning | default |", "| --- | --- | --- |"]
        for p in params:
            if p.param_type_name == "argument":
                name = f"`{p.name.upper()}`"
            else:
                name = ", ".join(f"`{o}`" for o in p.opts)
            helptext = getattr(p, "help", None) or ""
            envvar = getattr(p, "envvar", None)
            if envvar:
                helptext += f" (env `{envvar}`)"
            default = p.default
            shown = "" if default in (None, False, ()) or callable(default) else f"`{default}`"
            if p.required:
                shown = "required"
            out.append(f"| {name} | {_escape(helptext)} | {_escape(shown)} |")
        out.append("")
    return out


def _walk(path: str, cmd: Any) -> list[str]:
    if hasattr(cmd, "commands"):
        lines: list[str] = []
        for name, sub in cmd.commands.items():
            lines += _walk(f"{path} {name}", sub)
        return lines
    return _command(path, cmd)


def reference() -> str:
    from iecmhc_tracker.cli import app

    return "\n".join(_walk("iecmhc", typer.main.get_command(app)))


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, reference())
    return markdown
