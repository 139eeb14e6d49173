"""`pulumi-finetune watch`: follow fine-tuning jobs (status, progress, training-loss curve) live on
a terminal, as plain lines when piped, and as a PNG on request.

The jobs are given by id or read from a stack's state (`stacks`). On a terminal the view is a
progress bar per job and the loss curves drawn in the terminal, redrawn in place (the `watch`
extra: rich, plotext); piped, it is one line per job each time the line changes, with no escape
codes (no extra needed). `--png` writes the curves with matplotlib (the `plot` extra).

Each poll costs, per job not yet ended, one retrieve and one page of events (more only when more
than a page is new): events are read newest first and only down to the newest one already seen,
so a long job's curve is read in full once (following `after` across pages), then grows by what
is new. An ended job costs nothing more.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from .errors import FinetuneError, SettingsError, StackError
from .providers.waiting import TERMINAL_STATUSES, describe, latest_metrics
from .settings import resolve
from .stacks import stack_config, stack_jobs

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from rich.console import Console, RenderableType

    from .client import Client

__all__ = ["Follow", "add_parser", "loss_figure", "run", "terminal_chart", "write_png"]

PROG = "pulumi-finetune watch"
EVENTS_PAGE_SIZE = 100
WATCH_EXTRA = "the live view needs the `watch` extra: pip install 'pulumi-finetune[watch]'"
PLOT_EXTRA = "--png needs the `plot` extra: pip install 'pulumi-finetune[plot]'"

Curves = Mapping[str, Mapping[int, float]]
"""Training loss by step, per label (a job id or a resource name)."""


class Follow:
    """One job as watched: the job object as last read, its newest metrics, its loss curve."""

    def __init__(self, job_id: str, label: str | None = None) -> None:
        self.job_id = job_id
        self.label = label or job_id
        self.job: dict[str, Any] = {"id": job_id, "status": "unknown"}
        self.metrics: dict[str, Any] = {}
        self.curve: dict[int, float] = {}
        self._newest_event: str | None = None
        self._complete = False

    @property
    def finished(self) -> bool:
        return self.job.get("status") in TERMINAL_STATUSES

    def refresh(self, client: Client, page_size: int = EVENTS_PAGE_SIZE) -> None:
        """Read the job and its new events; nothing once it ended and its events were read."""
        if self._complete:
            return
        self.job = client.retrieve_job(self.job_id)
        new = self._new_events(client, page_size)
        for event in new:
            data = event.get("data")
            if event.get("type") == "metrics" and isinstance(data, Mapping):
                step, loss = data.get("step"), data.get("train_loss")
                if isinstance(step, int | float) and isinstance(loss, int | float):
                    self.curve[int(step)] = float(loss)
        self.metrics = latest_metrics(new) or self.metrics
        self._complete = self.finished  # an ended job adds no events after this read

    def _new_events(self, client: Client, page_size: int) -> list[dict[str, Any]]:
        """Events newer than the newest seen, newest first (all of them the first time)."""
        new: list[dict[str, Any]] = []
        for event in client.events(self.job_id, page_size):
            if event.get("id") == self._newest_event:
                break
            new.append(event)
        if new:
            self._newest_event = str(new[0].get("id"))
        return new

    def line(self) -> str:
        """`describe`'s line, after the resource name when the job has one."""
        text = describe(self.job, self.metrics)
        return text if self.label == self.job_id else f"{self.label}: {text}"


def curves_of(follows: Sequence[Follow]) -> dict[str, dict[int, float]]:
    return {f.label: f.curve for f in follows}


def _points(curve: Mapping[int, float]) -> tuple[list[int], list[float]]:
    steps = sorted(curve)
    return steps, [curve[s] for s in steps]


# -- the PNG (matplotlib, `plot` extra) ---------------------------------------------------------


def loss_figure(curves: Curves) -> Figure:
    """A figure with one line per job that has loss points (step vs training loss), labelled.

    Built on `matplotlib.figure.Figure`, not pyplot: no GUI backend and no global state, so it
    works headless and in threads.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5), layout="constrained")
    axes = figure.add_subplot()
    for label, curve in curves.items():
        if curve:
            axes.plot(*_points(curve), label=label, linewidth=1.5)
    axes.set_title("Training loss")
    axes.set_xlabel("step")
    axes.set_ylabel("train loss")
    axes.grid(alpha=0.3)
    if axes.get_lines():
        axes.legend()
    return figure


def write_png(path: str | Path, curves: Curves) -> Figure:
    """Write `loss_figure(curves)` to `path` as a PNG; returns the figure."""
    figure = loss_figure(curves)
    figure.savefig(path, format="png", dpi=120)
    return figure


# -- the terminal view (rich for the bars, plotext for the curve; `watch` extra) ----------------


# 256-colour indices, readable on dark and light backgrounds; a job's bar and curve share one.
PALETTE = (12, 208, 10, 13, 14, 11, 9, 141)


def colour(index: int) -> int:
    return PALETTE[index % len(PALETTE)]


def terminal_chart(curves: Curves, width: int, height: int) -> str:
    """The loss curves drawn with plotext, as text with ANSI colours; "" when no job has points.

    The n-th curve is drawn in `colour(n)`. The legend is left out when it would not fit.
    """
    import plotext

    drawn = {i: (label, curve) for i, (label, curve) in enumerate(curves.items()) if curve}
    if not drawn:
        return ""
    figure = plotext.figure
    figure.clear()
    figure.theme("simple")  # no background, frame in the terminal's own colour
    figure.plot_size(width, height)
    figure.title("training loss")
    figure.label("step")
    for i, (label, curve) in drawn.items():
        marker = plotext.marker(pixel=colour(i))
        figure.draw(figure.signal(*_points(curve), marker=marker).label(label).lines())
    if 2 * len(drawn) + 1 <= height - 6:
        # Loss falls from the top left: the top right corner is where the legend hides nothing.
        right = max(max(curve) for _, curve in drawn.values())
        top = max(max(curve.values()) for _, curve in drawn.values())
        figure.legend(x=right, y=top, relative=True, ha="right", va="top")
    else:
        figure.legend(active=False)
    return str(figure.build().string())


def _bar_position(follow: Follow) -> tuple[float, float]:
    step, total = follow.metrics.get("step"), follow.metrics.get("total_steps")
    if isinstance(step, int | float) and isinstance(total, int | float) and total > 0:
        return float(step), float(total)
    return (1.0, 1.0) if follow.job.get("status") == "succeeded" else (0.0, 1.0)


def render(follows: Sequence[Follow], width: int, height: int) -> RenderableType:
    """A progress bar and a status line per job, then the loss curves (each job's bar in the
    colour of its curve)."""
    from rich.console import Group
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    table = Table.grid(padding=(0, 1))
    named = any(f.label != f.job_id for f in follows)
    if named:
        table.add_column(style="bold", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column()
    for i, follow in enumerate(follows):
        completed, total = _bar_position(follow)
        style = f"color({colour(i)})"
        bar = ProgressBar(
            total=total, completed=completed, width=30, complete_style=style, finished_style=style
        )
        failed = follow.job.get("status") in ("failed", "cancelled")
        status = Text(describe(follow.job, follow.metrics), style="bold red" if failed else "")
        cells: list[RenderableType] = [bar, status]
        table.add_row(*([follow.label, *cells] if named else cells))
    chart_height = max(8, min(20, height - len(follows) - 2))
    chart = terminal_chart(curves_of(follows), max(40, width - 1), chart_height)
    return Group(table, Text.from_ansi(chart) if chart else Text("no training loss yet"))


# -- following ----------------------------------------------------------------------------------


class View(Protocol):
    def show(self, follows: Sequence[Follow]) -> None: ...
    def close(self) -> None: ...


class PlainView:
    """One line per job whenever its line changes: for pipes, logs and CI."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._shown: dict[str, str] = {}

    def show(self, follows: Sequence[Follow]) -> None:
        for follow in follows:
            line = follow.line()
            if self._shown.get(follow.job_id) != line:
                print(line, file=self.out, flush=True)
                self._shown[follow.job_id] = line

    def close(self) -> None:
        pass


class LiveView:
    """Bars and curves redrawn in place on a terminal; the last frame stays on screen."""

    def __init__(self, console: Console) -> None:
        from rich.live import Live

        self.console = console
        self._live = Live(console=console, auto_refresh=False)
        self._live.start()

    def show(self, follows: Sequence[Follow]) -> None:
        frame = render(follows, self.console.width, self.console.height)
        self._live.update(frame, refresh=True)

    def close(self) -> None:
        self._live.stop()


def follow_jobs(
    client: Client,
    follows: Sequence[Follow],
    view: View,
    *,
    once: bool,
    interval: float,
    sleep: Callable[[float], Any] = time.sleep,
) -> None:
    """Poll every job and show them, until all have ended (or once)."""
    while True:
        for follow in follows:
            follow.refresh(client)
        view.show(follows)
        if once or all(f.finished for f in follows):
            return
        sleep(interval)


def _view(out: TextIO) -> View:
    if not (out.isatty() and os.environ.get("TERM") != "dumb"):
        return PlainView(out)
    try:
        import plotext  # noqa: F401
        from rich.console import Console
    except ImportError:
        print(f"{PROG}: {WATCH_EXTRA}; printing plain lines", file=sys.stderr)
        return PlainView(out)
    return LiveView(Console(file=out))


# -- the command --------------------------------------------------------------------------------


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return seconds


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `watch` on the `pulumi-finetune` parser's subcommands."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "watch",
        help="follow fine-tuning jobs: status, progress and the training-loss curve",
        description="Follow fine-tuning jobs, given by id or read from a stack's state, until "
        "they end: a progress bar per job and the training-loss curves on a terminal, a line "
        "per change when piped. Exit 0 when none failed or was cancelled, 1 otherwise, 2 when "
        "the jobs or the settings could not be read.",
    )
    p.add_argument("job_ids", nargs="*", metavar="JOB_ID", help="fine-tuning job ids (ftjob-...)")
    p.add_argument(
        "--stack",
        metavar="NAME",
        help="follow the FineTuningJobs of this stack (read with `pulumi stack export`; base URL "
        "and key from its config finetune:baseUrl and finetune:apiKey, else the environment)",
    )
    p.add_argument("--cwd", metavar="DIR", help="the Pulumi project directory of --stack")
    p.add_argument(
        "--base-url",
        metavar="URL",
        help="the endpoint (default: the stack's finetune:baseUrl, else OPENAI_BASE_URL, "
        "else OpenAI)",
    )
    p.add_argument("--png", metavar="FILE", help="write the training-loss curves to FILE (PNG)")
    p.add_argument("--once", action="store_true", help="show the jobs once and exit")
    p.add_argument(
        "--interval",
        type=_positive_seconds,
        default=5.0,
        metavar="S",
        help="seconds between polls (default 5)",
    )
    return p


def _targets(args: argparse.Namespace) -> tuple[list[Follow], dict[str, str]]:
    """The jobs to follow (ids first, then the stack's) and the stack's config."""
    follows = [Follow(job_id) for job_id in dict.fromkeys(args.job_ids)]
    config: dict[str, str] = {}
    if args.stack:
        config = stack_config(args.stack, args.cwd)
        given = {f.job_id for f in follows}
        follows += [
            Follow(job.job_id, job.name)
            for job in stack_jobs(args.stack, args.cwd)
            if job.job_id not in given
        ]
        if not follows:
            raise StackError(f"stack {args.stack!r} has no FineTuningJob in its state")
    return follows, config


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run `watch` with parsed arguments; the exit code."""
    out = out or sys.stdout
    if not args.job_ids and not args.stack:
        print(f"{PROG}: error: give job ids or --stack NAME", file=sys.stderr)
        return 2
    if args.png:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print(f"{PROG}: error: {PLOT_EXTRA}", file=sys.stderr)
            return 2
    from .client import Client  # requests: imported by this command only

    try:
        follows, config = _targets(args)
        client = Client(resolve({"base_url": args.base_url}, config, os.environ))
    except (StackError, SettingsError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    view = _view(out)
    code: int | None = None
    try:
        follow_jobs(client, follows, view, once=args.once, interval=args.interval)
    except KeyboardInterrupt:
        code = 130
    except FinetuneError as exc:
        code = 1
        error = exc
    finally:
        view.close()
        client.close()
    if code == 1:
        print(f"{PROG}: error: {error}", file=sys.stderr)
    if args.png:  # also after Ctrl-C or an error: the curves read so far
        write_png(args.png, curves_of(follows))
        print(f"{PROG}: wrote the training-loss curves to {args.png}", file=sys.stderr)
    if code is not None:
        return code
    return 1 if any(f.job.get("status") in ("failed", "cancelled") for f in follows) else 0
