"""The Spark engine: raw tables and build slots on a Spark Connect server, published as views.
`ENGINE` is imported when first asked for, so that the CLI's `spark-server` command (command.py)
loads nothing else."""


def __getattr__(name: str):
    if name == "ENGINE":
        from orchestration.runtime.engines.spark.engine import SparkEngine

        return SparkEngine
    raise AttributeError(name)
