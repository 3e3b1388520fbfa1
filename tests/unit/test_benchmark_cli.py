"""The benchmark's command line (benchmarks/cli.py): its runs and options as the documented
invocations give them, and no work, and no reading of the arguments, when its modules load."""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmarks import cli
from orchestration.settings import PROJECT_ROOT

MODULES = sorted(p.stem for p in (PROJECT_ROOT / "benchmarks").glob("*.py"))


def test_the_documented_invocations_parse():
    assert cli.parse([]).runs == cli.DEFAULT_RUNS
    assert cli.parse(["M:versions"]).runs == ["M:versions"]
    assert cli.parse(["m:Versions", "sample", "l"]).runs == ["M:versions", "sample", "L:default"]
    golden = cli.parse(["M", "--write-golden"])
    assert (golden.runs, golden.write_golden) == (["M:default"], True)
    spark = cli.parse(["S", "M", "--engine", "spark"])
    assert (spark.runs, spark.engine) == (["S:default", "M:default"], "spark")
    assert cli.parse(["--engine", "duckdb", "S"]).engine == "duckdb"
    haul = cli.parse(["--long-haul"])
    assert (haul.runs, haul.long_haul) == (cli.LONG_HAUL_DEFAULT_RUNS, True)
    assert cli.parse(["S", "--write-golden", "M"]).runs == ["S:default", "M:default"]


@pytest.mark.parametrize("argv", [["X"], ["S:tall"], ["--engine", "flink"], ["--engine"]])
def test_a_mistyped_argument_is_refused(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.parse(argv)
    assert exit_.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_its_modules_do_nothing_when_imported():
    """With arguments that would start a benchmark, importing every module prints nothing and
    writes nothing: only main() reads them."""
    code = (
        "import sys, importlib\n"
        "sys.argv = ['run.py', 'S', '--long-haul', '--engine', 'spark', '--write-golden']\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module('benchmarks' if name == '__init__' else 'benchmarks.' + name)\n"
    )
    before = _listing()
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert _listing() == before


def _listing() -> list[str]:
    return sorted(
        p.name for p in (PROJECT_ROOT / "benchmarks").iterdir() if p.name != "__pycache__"
    )


def test_the_script_and_the_module_answer_help():
    for command in (["benchmarks/run.py"], ["-m", "benchmarks"]):
        done = subprocess.run(
            [sys.executable, *command, "--help"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "--long-haul" in done.stdout and "--write-golden" in done.stdout
