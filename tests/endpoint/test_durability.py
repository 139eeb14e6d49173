"""A separate endpoint process killed with SIGKILL mid-run and restarted on the same data dir."""

from __future__ import annotations

import collections
import concurrent.futures
from pathlib import Path

from pulumi_finetune.local.server import start_subprocess

from .conftest import Api, wait_for


def test_kill_9_mid_run_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    key = "sk-durability"
    with start_subprocess(data, key=key, clock_speed=20) as first:
        api = Api(first.url, key)
        file_id = api.upload()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            jobs = list(
                pool.map(
                    lambda i: api.create_job(training_file=file_id, metadata={"i": str(i)})["id"],
                    range(20),
                )
            )
        wait_for(lambda: any(api.job(j)["status"] == "running" for j in jobs), timeout=10)
        api.post(f"/fine_tuning/jobs/{jobs[0]}/cancel")
        before = {j: api.job(j)["status"] for j in jobs}
        first.kill()
        assert first.process.returncode == -9

    order = ["validating_files", "queued", "running", "succeeded"]
    with start_subprocess(data, key=key, clock_speed=20) as second:
        api = Api(second.url, key)
        page = api.get("/fine_tuning/jobs", params={"limit": 100}).json()
        listed = [j["id"] for j in page["data"]]
        assert sorted(listed) == sorted(jobs) and not page["has_more"]
        after = {j: api.job(j)["status"] for j in jobs}
        assert after[jobs[0]] == "cancelled"
        for job_id in jobs[1:]:
            assert order.index(after[job_id]) >= order.index(before[job_id])
        final = {}
        for job_id in jobs[1:]:
            final[job_id] = wait_for(
                lambda j=job_id: (x := api.job(j))["status"] == "succeeded" and x, timeout=15
            )
        for job_id in jobs:
            events = api.get(f"/fine_tuning/jobs/{job_id}/events", params={"limit": 1000}).json()
            ids = [e["id"] for e in events["data"]]
            assert len(ids) == len(set(ids))
            messages = collections.Counter(e["message"] for e in events["data"])
            assert all(n == 1 for n in messages.values()), messages
            checkpoints = api.get(f"/fine_tuning/jobs/{job_id}/checkpoints").json()["data"]
            steps = [c["step_number"] for c in checkpoints]
            assert len(steps) == len(set(steps))
        assert len(checkpoints) == 3
        models = {m["fine_tuned_model"] for m in final.values()}
        assert len(models) == 19
        assert api.get("/_local/stats").json()["jobs_created"] == 0  # counters are per process


def test_cli_needs_a_key_and_never_prints_it(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PULUMI_FINETUNE_LOCAL_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_finetune.local", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2 and "key is required" in result.stderr
    help_text = subprocess.run(
        [sys.executable, "-m", "pulumi_finetune.local", "--help"],
        capture_output=True, text=True, timeout=30,
    ).stdout  # fmt: skip
    for option in ("--host", "--port", "--data-dir", "--key", "--clock-speed", "--org",
                   "--max-upload-bytes", "--fault-rate", "--fault-seed"):  # fmt: skip
        assert option in help_text
    with start_subprocess(tmp_path / "d", key="sk-secret-value") as proc:
        assert proc.url.startswith("http://127.0.0.1:")
        Api(proc.url, "sk-secret-value").get("/nowhere")
        proc.terminate()
    log = (tmp_path / "d" / "server.log").read_text()
    assert "sk-secret-value" not in log
