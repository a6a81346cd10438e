"""`personae user`: what the operator does for an account."""

from __future__ import annotations

from typing import Annotated

import typer

from personae.cli.common import DataDir, Sessions, as_app, one_line_errors, settings_for
from personae.errors import ConfigurationError

users_app = typer.Typer(help="Accounts of users.", no_args_is_help=True)


@users_app.command("reset-password")
@one_line_errors
def reset_password(
    email: Annotated[str, typer.Argument(help="The account's email.")],
    data_dir: DataDir = None,
) -> None:
    """Give the account a new one-time password (printed once) and end all its sign-ins."""
    from personae.db.database import open_database
    from personae.errors import PersonaeError
    from personae.identity import credentials

    settings = settings_for(data_dir)

    async def run(sessions: Sessions) -> str:
        return await credentials.reset_password(sessions, email)

    with open_database(settings) as urls:
        try:
            password = as_app(settings, urls, run)
        except PersonaeError as exc:
            raise ConfigurationError(exc.detail) from None
    typer.echo(f"password: {password}")
    typer.echo("(shown once: sign in and change it with POST /v1/me/password)")
