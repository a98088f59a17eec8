"""``planwatch serve``: the read-only web view, JSON API and Atom feeds."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer

from monitor.cli import DbOption, app, default_db, out

DEFAULT_PORT = 8080


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on. The default answers this machine only; "
            "put a reverse proxy in front to publish the view."
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="TCP port (0: any free one).")
    ] = DEFAULT_PORT,
    root_path: Annotated[
        str,
        typer.Option(
            help="The path prefix a reverse proxy serves the view under, e.g. "
            "/planwatch (links and feed addresses include it)."
        ),
    ] = "",
) -> None:
    """Serve the history read-only: pages, Atom feeds and a JSON API."""
    import uvicorn

    from monitor.web.app import create_app, open_read_only

    # A path from the root, whatever slashes were typed: "watch" taken as it is
    # made every link relative and every absolute address "http://host:8080watch/".
    root_path = "/" + root_path.strip("/") if root_path.strip("/") else ""
    database = open_read_only(db or default_db())
    try:
        if not _is_loopback(host):
            out.print(
                f"note: listening on {host}: anyone who can reach it can read the "
                "history (planwatch has no login); a reverse proxy can add one"
            )
        # The server answers at its root; only its links carry the prefix, which
        # the proxy strips: "http://127.0.0.1:8080/planwatch/" answered 404.
        behind = f", its links under {root_path}/ for a proxy" if root_path else ""
        out.print(
            f"serving read-only on http://{_bracketed(host)}:{port}/{behind} "
            "(Ctrl-C stops)",
            highlight=False,
        )
        uvicorn.run(
            create_app(database),
            host=host,
            port=port,
            root_path=root_path,
            # X-Forwarded-Proto/-For are believed from a proxy on this machine only.
            proxy_headers=True,
            forwarded_allow_ips="127.0.0.1,::1",
            server_header=False,
            ws="none",
            log_level="info",
        )
    finally:
        database.close()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host
