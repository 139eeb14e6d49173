"""The ``pulumi-finetune-local`` command: parse options, build the app, serve until stopped."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sqlite3
import sys
import threading
from pathlib import Path
from types import FrameType

from . import flavors
from .app import create_app
from .config import DEFAULT_MAX_UPLOAD_BYTES, EndpointConfig
from .datacheck import warm_up
from .errors import DataDirInUse
from .http import make_server
from .winddown import add_arguments as _winddown_arguments

KEY_ENV = "PULUMI_FINETUNE_LOCAL_KEY"
TOKEN_ENV = "PULUMI_FINETUNE_LOCAL_ENTRA_TOKEN"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "pulumi-finetune" / "local"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pulumi-finetune-local",
        description="A local OpenAI-compatible fine-tuning endpoint (Files, Uploads, "
        "fine-tuning jobs, Models) backed by SQLite. Serves under /v1; a test control API "
        "lives under /_local.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback only)"
    )
    parser.add_argument(
        "--port", type=int, default=8089, help="port to bind; 0 picks a free one (default: 8089)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=_default_data_dir(),
        help="where state.sqlite3 and file bytes live (default: %(default)s)",
    )
    parser.add_argument(
        "--key",
        default=None,
        help=f"bearer key clients must send; defaults to ${KEY_ENV} "
        "(prefer the environment: command lines are visible to other users)",
    )
    parser.add_argument(
        "--clock-speed",
        type=float,
        default=1.0,
        help="how many times faster than real time jobs progress (default: 1.0; "
        "a default job takes ~34 s at 1.0)",
    )
    _winddown_arguments(parser)
    parser.add_argument(
        "--org",
        default="personal",
        help="organisation name used in fine-tuned model names (default: personal)",
    )
    parser.add_argument(
        "--max-upload-bytes",
        type=int,
        default=DEFAULT_MAX_UPLOAD_BYTES,
        help="largest accepted POST /files body or upload part (default: 512 MiB)",
    )
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        help="probability of a random 429/500/503 on any /v1 request (default: 0)",
    )
    parser.add_argument(
        "--fault-seed",
        type=int,
        default=None,
        help="seed for random faults, for reproducible soak runs",
    )
    parser.add_argument(
        "--log-requests", action="store_true", help="log every request to stderr (never the key)"
    )
    parser.add_argument(
        "--flavor",
        choices=sorted(flavors.FLAVORS),
        default="openai",
        help="the host to play: its paths, auth, fields, ids, errors and limits (default: "
        f"openai; azure also takes ${TOKEN_ENV} as an Entra ID bearer token)",
    )
    parser.add_argument(
        "--cost-cap-usd",
        type=float,
        default=None,
        help="where the host pauses a job of a capped method by itself (azure: reinforcement, "
        f"default ${flavors.AZURE.host.cost_caps.get('reinforcement', 0):,.0f}; a job bills "
        f"${flavors.REINFORCEMENT_USD_PER_SECOND:g} per simulated second)",
    )
    parser.add_argument(
        "--token-lifetime",
        type=float,
        default=None,
        metavar="SECONDS",
        help="issue identity tokens that live SECONDS (wall time) at /_identity/token, the "
        "managed-identity route azure-identity calls (IDENTITY_ENDPOINT, with the key as "
        "IDENTITY_HEADER); a flavor that takes identity tokens accepts them until they expire",
    )
    return parser


def _fail(message: str, status: int = 1) -> int:
    print(f"pulumi-finetune-local: {message}", file=sys.stderr)
    return status


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or Ctrl-C. A start-up problem is one line on stderr and exit 1 or 2."""
    args = build_parser().parse_args(argv)
    key = args.key or os.environ.get(KEY_ENV)
    if not key:
        return _fail(f"a key is required (--key or ${KEY_ENV})", 2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("pulumi_finetune.local.http").setLevel(
        logging.INFO if args.log_requests else logging.WARNING
    )
    logging.getLogger("waitress").setLevel(logging.WARNING)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # queueing is normal under load
    try:
        config = EndpointConfig(
            data_dir=args.data_dir,
            key=key,
            clock_speed=args.clock_speed,
            jobs_end=args.jobs_end,
            retired_models=tuple(args.retire_model),
            org=args.org,
            max_upload_bytes=args.max_upload_bytes,
            fault_rate=args.fault_rate,
            fault_seed=args.fault_seed,
            flavor=args.flavor,
            entra_token=os.environ.get(TOKEN_ENV) or None,
            cost_cap_usd=args.cost_cap_usd,
            token_lifetime=args.token_lifetime,
        )
    except ValueError as exc:
        return _fail(str(exc), 2)
    try:
        app = create_app(config)
    except DataDirInUse as exc:
        return _fail(str(exc))
    except (OSError, sqlite3.Error) as exc:
        return _fail(f"cannot use data directory {args.data_dir}: {exc}")
    try:
        server = make_server(
            args.host,
            args.port,
            app,
            max_body_bytes=app.max_body_bytes,
            log_requests=args.log_requests,
        )
    except OSError as exc:
        app.store.close()
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    warm_up()  # before serving (connections wait in the backlog): no request waits for it

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, name="shutdown", daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    api_path = app.flavor.host.api_path
    print(f"listening on http://{args.host}:{server.port}{api_path}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        app.store.close()
    return 0
