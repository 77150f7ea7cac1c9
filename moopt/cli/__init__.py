"""The ``moopt`` command line (click).

Subcommands live in their own modules and are imported only when invoked, so
``moopt --help`` stays fast.  Errors become one line on stderr: exit status 2
for usage errors (bad option, unknown preset, bad file), 1 for failures, 130 on
Ctrl-C (the run store keeps every finished evaluation; the same command resumes), and a
traceback only with ``--debug``.

To add a command, write a ``click.Command`` in a module of this package and
name it in ``_COMMANDS``.
"""

from __future__ import annotations

import importlib
import sys

import click

from .. import __version__

# command name -> "module:attribute" (module relative to moopt.cli)
_COMMANDS = {
    "demo": "run:demo",
    "run": "run:run",
    "show": "run:show",
    "plot": "run:plot",
    "hv": "run:hv",
    "bench": "bench:bench",
    "nas": "nas:nas",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(_COMMANDS)

    def get_command(self, ctx, name):
        target = _COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        try:
            mod = importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:  # command not built in this install
            if exc.name == f"{__name__}.{module}":
                return None
            raise
        return getattr(mod, attr)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="moopt")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """moopt: multi-objective optimization and device-aware NAS."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


#: printed on Ctrl-C (exit status 130, the shell's convention for SIGINT)
INTERRUPTED = ("Interrupted. The run store keeps every finished evaluation; re-run the same command to resume "
               "(finished runs of `moopt bench` are skipped).")


def main(argv=None) -> int:
    """Console entry point: runs the CLI and maps errors to exit codes."""
    from ..errors import ConfigError, MooptError

    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="moopt", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C (KeyboardInterrupt) into Abort; it is an interruption, not a failure
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            click.echo(INTERRUPTED, err=True)
            return 130
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as exc:  # usage errors: exit 2, one line on stderr
        if debug:
            raise
        click.echo(f"Error: {' '.join(exc.format_message().split())}", err=True)
        return exc.exit_code
    except (ConfigError, ValueError, TypeError, FileNotFoundError) as exc:
        if debug:
            raise
        click.echo(f"Error: {exc}", err=True)
        return 2
    except MooptError as exc:
        if debug:
            raise
        click.echo(f"Error: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo(INTERRUPTED, err=True)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def _entry() -> None:  # console_scripts target
    sys.exit(main())
