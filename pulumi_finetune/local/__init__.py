"""A local OpenAI-compatible fine-tuning endpoint, the default target of quickstart and tests.

Start it with ``pulumi-finetune-local`` (or ``python -m pulumi_finetune.local``), in-process with
:class:`pulumi_finetune.local.server.LocalEndpoint`, or as a separate process with
:func:`pulumi_finetune.local.server.start_subprocess`.

Surface under ``/v1``: Files, Uploads, fine-tuning jobs (create, list, retrieve, cancel, pause,
resume, events, checkpoints) and Models (list, retrieve, delete), in OpenAI's shapes and error
body. Choices where OpenAI documents nothing:

* Cancelling a job that already finished (succeeded, failed or cancelled) answers 400
  ``invalid_request_error`` with ``param`` and ``code`` null and leaves the job unchanged.
* Pause works only on a running job, resume only on a paused one (400 otherwise); a resumed
  job is ``queued`` for 2 simulated seconds, then runs from where it stopped.
* An unknown ``after`` cursor is a 400 with ``param: "after"`` on every list; an empty one
  (``after=``) counts as absent.
* Bodies over ``--max-upload-bytes`` are a 413 with code ``file_too_large``; JSON bodies over
  8 MiB a 413 with code ``request_too_large``; a body declared far larger than either is refused
  by the HTTP server (plain-text 413) before it is read.
* JSON bodies must be strict JSON: ``NaN``/``Infinity`` literals and nesting too deep for the
  parser are a 400.
* One endpoint per data directory: a second one refuses to start (``<data-dir>/lock``).

``--flavor azure`` or ``--flavor nebius`` plays that host instead (``flavors.py``: its path, such
as ``/openai/v1``, its credentials, fields, ids, errors, request-id header and limits; a
reinforcement job on ``azure`` pauses itself at ``--cost-cap-usd``).

Control API for tests under ``/_local`` (same bearer key, not counted, never faulted):
``POST /_local/faults``, ``GET /_local/faults``, ``DELETE /_local/faults``, ``GET /_local/stats``,
``POST /_local/stats/reset``, ``POST /_local/clock``, ``GET /_local/jobs/<id>/request`` (a job's
create body as received and its credential kind), ``POST /_local/cost_cap``. Stats count
requests for no route in one bucket per method (``"GET (no such route)"``), never per path.
"""
