"""The Dagster UI, for real: `stigg-warehouse ui`, driven by headless Chromium with Playwright."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from orchestration.settings import DEFAULT_DAGSTER_HOME, PROJECT_ROOT
from orchestration.spec.tables import TABLES
from tests.support.browser import CHROMIUM_ARGS, debian_chromium
from tests.support.machine import free_port
from tests.support.paths import SCREENSHOTS
from tests.support.runs import in_session

pytestmark = pytest.mark.slow


class UiProcess:
    """`stigg-warehouse ui` in a subprocess, stopped the way a user stops it: Ctrl-C (SIGINT)."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.dagster_home = Path(env["DAGSTER_HOME"])
        # Output to a file, not a pipe: nobody reads a pipe while the UI runs, and a full pipe
        # would block the UI's processes on their next log line.
        self.log = self.dagster_home / "ui.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "orchestration.cli", "ui", "--port", str(port)],
                env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while not self.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.first_line = self.log.read_text().splitlines()[0].strip()

    def wait_until_serving(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/server_info", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the UI did not start (exit code {self.process.poll()})")
            time.sleep(1)

    @property
    def dagster_session(self) -> int:
        """The session `ui` started `dagster dev` in: every process of the UI is in it."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return int(children.read_text().split()[0])

    def ctrl_c(self, timeout: float = 90) -> list[int]:
        """Stop it as a user does; the processes of its session still alive after 30 s."""
        session = self.dagster_session
        self.process.send_signal(signal.SIGINT)
        assert self.process.wait(timeout=timeout) == 0
        deadline = time.monotonic() + 30
        while in_session(session) and time.monotonic() < deadline:
            time.sleep(0.5)
        return in_session(session)


def _ui_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STIGG_", "DAGSTER_"))}
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(DEFAULT_DAGSTER_HOME / "dagster.yaml", home / "dagster.yaml")
    env.update(
        DAGSTER_HOME=str(home),
        STIGG_WAREHOUSE_PATH=str(tmp_path / "wh" / "stigg_warehouse.duckdb"),
    )
    return env


@pytest.fixture
def ui(tmp_path) -> Iterator[UiProcess]:
    server = UiProcess(_ui_env(tmp_path), free_port())
    try:
        server.wait_until_serving()
        yield server
    finally:
        if server.process.poll() is None:
            assert server.ctrl_c() == []


def test_the_ui_shows_the_graph_materializes_everything_and_the_checks_pass(ui, tmp_path):
    """`stigg-warehouse ui` prints its URL and runs dagster dev, the webserver, the daemon and
    the code server; the browser sees the graph, materializes everything, sees the checks pass;
    Ctrl-C then stops every process it started (the `ui` fixture's teardown)."""
    from playwright.sync_api import expect, sync_playwright

    assert ui.first_line.startswith(f"Dagster UI: {ui.url}")
    assert len(in_session(ui.dagster_session)) >= 3

    expect.set_options(timeout=90_000)  # the code location loads after the server answers
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    home = ui.dagster_home
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=debian_chromium(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(60_000)

            # The asset graph: every group, and the 17 documented tables in group `stigg`.
            page.goto(f"{ui.url}/asset-groups")
            _dismiss_welcome(page)
            sidebar_group = page.locator("div[class*='AssetSidebarNode_itemContainer']")
            for group in ("raw", "staging", "stigg", "rejects", "analytics", "meta", "publish"):
                expect(sidebar_group.filter(has=page.locator(f"[title='{group}']"))).to_be_visible()
            stigg_group = sidebar_group.filter(has=page.locator("[title='stigg']"))
            stigg_group.locator("[aria-label='arrow_drop_down']").click()
            for table in TABLES:
                expect(page.locator(f"[title='{table.name}']").first).to_be_attached()
            page.wait_for_timeout(1000)
            page.screenshot(path=SCREENSHOTS / "asset-graph.png")

            # Materialize everything from the UI, and wait for the run to succeed.
            page.goto(f"{ui.url}/asset-groups")
            _dismiss_welcome(page)
            page.get_by_role("button", name="Materialize all").click()
            toast = page.get_by_text(re.compile(r"Launched run [0-9a-f]{8}"))
            short_id = re.search(r"[0-9a-f]{8}", toast.inner_text()).group(0)
            run = _wait_for_run(home, short_id, timeout=600)
            assert run.status == dg.DagsterRunStatus.SUCCESS
            page.goto(f"{ui.url}/runs/{run.run_id}")
            expect(page.get_by_text("Success").first).to_be_visible()
            page.wait_for_timeout(2000)
            page.screenshot(path=SCREENSHOTS / "finished-run.png")

            # One table's checks: all passed.
            page.goto(f"{ui.url}/assets/stigg/CUSTOMERS?view=checks")
            expect(page.get_by_text("Succeeded").first).to_be_visible()
            body = page.inner_text("body")
            assert body.count("Succeeded") >= _check_count(["stigg", "CUSTOMERS"]) >= 6
            assert "Failed" not in body
            page.screenshot(path=SCREENSHOTS / "customers-checks.png")
        finally:
            browser.close()


def _check_count(asset_key: list[str]) -> int:
    """How many checks the definitions give the asset (its tests, each a check)."""
    from orchestration.definitions import defs

    graph = defs().resolve_asset_graph()
    return sum(1 for key in graph.asset_check_keys if key.asset_key == dg.AssetKey(asset_key))


def _dismiss_welcome(page) -> None:
    """Dagster greets a new browser with a newsletter dialog; skip it if it shows."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=5000)
        skip.click()
    except Exception:
        pass


def _wait_for_run(home: Path, short_id: str, timeout: float) -> dg.DagsterRun:
    deadline = time.monotonic() + timeout
    while True:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            runs = [r for r in instance.get_runs(limit=20) if r.run_id.startswith(short_id)]
        if runs and runs[0].is_finished:
            return runs[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"run {short_id} did not finish: {runs}")
        time.sleep(2)
