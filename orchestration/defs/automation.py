"""The job, its daily schedule, and the sensor that starts a run when new export files appear."""

import hashlib
import warnings

import dagster as dg

from orchestration.defs.landing import RAW_FRESHNESS_CHECKS
from orchestration.registry import engine_class, open_source
from orchestration.runtime import writer
from orchestration.runtime.engines.base import EngineNotRunning
from orchestration.runtime.sources.export import ExportFile, ExportSource
from orchestration.settings import AutomationSettings, Settings

STIGG_ELT_JOB = "stigg_elt"
SCHEDULE_NAME = "stigg_elt_daily"
SENSOR_NAME = "stigg_export_new_files"
# A file the published manifest has recorded in any status is not new to the sensor: a failed
# file is retried by the next run that something else starts, not by a run of its own.
_SEEN_STATUSES = ("landed", "failed", "changed")


def _schedule_status(enabled: bool) -> dg.DefaultScheduleStatus:
    return dg.DefaultScheduleStatus.RUNNING if enabled else dg.DefaultScheduleStatus.STOPPED


def _sensor_status(enabled: bool) -> dg.DefaultSensorStatus:
    return dg.DefaultSensorStatus.RUNNING if enabled else dg.DefaultSensorStatus.STOPPED


def new_files_run_key(files: list[ExportFile]) -> str:
    """One key per set of new files: the same set never starts a second run."""
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.path):
        digest.update(f"{f.path}\0{f.version}\n".encode())
    return f"new-files-{digest.hexdigest()[:32]}"


def files_not_yet_published(source: ExportSource, settings: Settings) -> list[ExportFile]:
    """Export files that the published warehouse's manifest has not recorded in this version.
    An engine that reads through a server needs it running (the sensor never starts one)."""
    files, _ = source.scan()
    engine = engine_class(settings.engine).for_reading(settings)
    try:
        return engine.unpublished_files(files, _SEEN_STATUSES)
    finally:
        engine.close()


@dg.definitions
def automation() -> dg.Definitions:
    config = AutomationSettings.from_env()

    stigg_elt = dg.define_asset_job(
        STIGG_ELT_JOB,
        selection=dg.AssetSelection.all(),
        executor_def=dg.in_process_executor,
        description=(
            "Land new export files, build the dbt project with its tests, publish the warehouse."
        ),
    )

    daily = dg.ScheduleDefinition(
        name=SCHEDULE_NAME,
        job=stigg_elt,
        cron_schedule=config.schedule_cron,
        execution_timezone=config.schedule_timezone,
        default_status=_schedule_status(config.schedule_enabled),
        description=(
            f"Runs stigg_elt at `{config.schedule_cron}` ({config.schedule_timezone}). "
            "Set with STIGG_SCHEDULE_CRON and STIGG_SCHEDULE_TIMEZONE."
        ),
    )

    @dg.sensor(
        name=SENSOR_NAME,
        job=stigg_elt,
        minimum_interval_seconds=config.sensor_interval_seconds,
        default_status=_sensor_status(config.sensor_enabled),
        description=(
            "Requests a stigg_elt run when STIGG_EXPORT_URI holds files that the published "
            "warehouse has not recorded. It waits while a run is queued or in progress, so files "
            "that arrive during a run start the next one, and it never requests the same set twice. "
            "A source with no files to watch (STIGG_SOURCE=api) skips: the schedule pulls instead."
        ),
    )
    def new_export_files(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        settings = Settings.from_env()
        if (unwatched := open_source(settings).unwatched_reason) is not None:
            return dg.SkipReason(unwatched)
        busy = writer.busy_reason(context.instance, settings, found_by=f"sensor {SENSOR_NAME}")
        if busy:
            return dg.SkipReason(
                f"{busy}; files that arrive meanwhile are requested when it has published."
            )
        source = ExportSource.of(settings)
        if not source.exists():
            return dg.SkipReason(f"The export location does not exist: {settings.export_uri}")
        try:
            new_files = files_not_yet_published(source, settings)
        except EngineNotRunning as error:
            return dg.SkipReason(str(error))
        if not new_files:
            return dg.SkipReason("No new export files.")
        run_key = new_files_run_key(new_files)
        models = sorted({f.model for f in new_files})
        context.log.info(f"{len(new_files)} new files, in {', '.join(models)}: requesting a run")
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=run_key,
                    tags={"stigg/started_by": "sensor", "stigg/new_files": str(len(new_files))},
                )
            ],
            cursor=run_key,
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)  # see raw_freshness_checks
        freshness = dg.build_sensor_for_freshness_checks(
            freshness_checks=RAW_FRESHNESS_CHECKS,
            name="raw_freshness",
            minimum_interval_seconds=config.sensor_interval_seconds,
            default_status=_sensor_status(config.sensor_enabled),
        )

    return dg.Definitions(
        jobs=[stigg_elt], schedules=[daily], sensors=[new_export_files, freshness]
    )
