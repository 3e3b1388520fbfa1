"""Group `raw`: land every new export file into raw.<model> of the working copy."""

import warnings
from collections.abc import Iterator, Sequence
from datetime import timedelta

import dagster as dg

from orchestration.defs.resources import StiggWarehouse
from orchestration.registry import ENGINES, source_class
from orchestration.runtime import disk_space, landing
from orchestration.runtime.sources.base import Prepared, SourceFailed
from orchestration.settings import AutomationSettings
from orchestration.spec.raw_layer import LINEAGE_COLUMNS, MANIFEST_TABLE, RAW_SCHEMA
from orchestration.spec.tables import TABLES

# Any engine writes these assets (STIGG_ENGINE, a resource setting).
ENGINE_KINDS = set(ENGINES)
FILES_READABLE_CHECK = "files_readable"
FILES_UNCHANGED_CHECK = "files_unchanged"
RECORDS_LISTED_CHECK = "records_still_listed"


def raw_asset_key(model: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", model])


# meta.landed_files, which landing writes and the incremental dbt models read (a dbt source).
MANIFEST_KEY = dg.AssetKey(["meta", "landed_files"])


def _raw_specs() -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            key=raw_asset_key(t.model),
            group_name="raw",
            kinds=ENGINE_KINDS,
            description=(
                f"Every row of the export's `{t.model}` files, as landed, with lineage columns "
                f"({', '.join(c.name for c in LINEAGE_COLUMNS)}). {t.description}"
            ),
            skippable=True,
            metadata={
                "dagster/table_name": f"{RAW_SCHEMA}.{t.model}",
                "dagster/column_schema": dg.TableSchema(
                    columns=[
                        *(
                            dg.TableColumn(
                                c.name.lower(),
                                "as exported",
                                description=f"{c.description} (documented as {c.doc_type})",
                            )
                            for c in t.columns
                        ),
                        *(
                            dg.TableColumn(c.name, c.type, description=f"lineage: {c.description}")
                            for c in LINEAGE_COLUMNS
                        ),
                    ]
                ),
            },
        )
        for t in TABLES
    ]


# The manifest, as the graph names it: raw_export writes it in the same transactions as the
# files' rows (so it is not an output of its own that a run could skip), and the incremental
# dbt models read it as a source.
manifest = dg.AssetSpec(
    key=MANIFEST_KEY,
    group_name="meta",
    kinds=ENGINE_KINDS,
    description=(
        "The manifest: one row per export file landed (path, model, dt, transfer time, format, "
        "size, fingerprint, rows, load id), and one per failed or changed file, with the reason. "
        "Landing (raw_export) writes it in the same transaction as the file's rows."
    ),
    metadata={"dagster/table_name": MANIFEST_TABLE},
)


def _raw_check_specs() -> list[dg.AssetCheckSpec]:
    return [
        spec
        for t in TABLES
        for spec in (
            dg.AssetCheckSpec(
                FILES_READABLE_CHECK,
                asset=raw_asset_key(t.model),
                description="Every new file of this model was read and landed. A failed file is named with the reason and retried on the next run.",
            ),
            dg.AssetCheckSpec(
                FILES_UNCHANGED_CHECK,
                asset=raw_asset_key(t.model),
                description="No file that was landed before has changed since. A changed file is reported, never loaded twice.",
            ),
            dg.AssetCheckSpec(
                RECORDS_LISTED_CHECK,
                asset=raw_asset_key(t.model),
                description=(
                    "Every record that the source listed before is still listed (with "
                    "STIGG_SOURCE=api, by a full pull of this model). One that is not (deleted or "
                    "archived in Stigg) keeps its rows as last seen, and is counted here. The "
                    "file export is insert-only: it always passes."
                ),
            ),
        )
    ]


RAW_ASSET_KEYS = [raw_asset_key(t.model) for t in TABLES]


def raw_freshness_checks(config: AutomationSettings) -> Sequence[dg.AssetChecksDefinition]:
    """Per raw model: WARN when its newest transfer is older than STIGG_FRESHNESS_MAX_AGE_HOURS.

    Stigg writes a model only in transfers where it changed, so a quiet model warns too (with the
    API, a model's newest transfer is the last pull that changed one of its records). A model that
    the source does not provide (the API cannot list raw usage events) has no freshness check.
    """
    with warnings.catch_warnings():
        # Superseded by FreshnessPolicy, which cannot express this check: in the pinned Dagster its
        # evaluators (dagster/_core/definitions/freshness_evaluator.py) compare the time with the
        # last materialization's own timestamp, never with `dagster/last_updated_timestamp`, so
        # an hourly run of week-old transfers would look fresh; and it runs only in the daemon,
        # not as a check of the run (docs/operations.md). This factory reads the transfer time.
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        not_provided = source_class(config.source).models_not_provided
        return dg.build_last_update_freshness_checks(
            assets=[key for key in RAW_ASSET_KEYS if key.path[-1] not in not_provided],
            lower_bound_delta=timedelta(hours=config.freshness_max_age_hours),
            severity=dg.AssetCheckSeverity.WARN,
        )


# Built once, when the definitions load: the checks, and the sensor that evaluates them.
RAW_FRESHNESS_CHECKS = raw_freshness_checks(AutomationSettings.from_env())


@dg.multi_asset(
    name="raw_export",
    specs=_raw_specs(),
    check_specs=_raw_check_specs(),
    can_subset=True,
)
def raw_export(context: dg.AssetExecutionContext, warehouse: StiggWarehouse) -> Iterator:
    source = warehouse.run_source()
    try:
        prepared = source.prepare(context.run.run_id, log=context.log.info)
    except SourceFailed as exc:
        raise dg.Failure(str(exc)) from None
    files, skipped = prepared.files.scan()
    for path in skipped:
        context.log.warning(f"Skipped {path.path}: {path.reason}")

    try:
        yield from _land(context, warehouse, source.name, prepared, files)
        source.after_landing(warehouse.run_engine(), prepared)
    except Exception as exc:
        if disk_space.is_disk_full(exc):
            raise warehouse.disk_full(exc, "landing") from None
        raise


def _land(
    context, warehouse: StiggWarehouse, source_name: str, prepared: Prepared, files
) -> Iterator:
    source = prepared.files
    selected = [t.model for t in TABLES if raw_asset_key(t.model) in context.selected_asset_keys]
    with warehouse.run_engine().raw_layer(source) as raw:
        raw.ensure_schema([t.model for t in TABLES])
        if files:
            raw.check_visible(files[0])
        unlisted = {f.model: f for f in source.listing_failures if f.model}
        for model in selected:
            if model in unlisted:
                # Nothing of a listing that failed lands: a part of it is not the whole.
                landed = landing.ModelLanding(model)
                context.log.error(
                    f"Could not list {unlisted[model].folder}/ after the retries: "
                    f"{unlisted[model].reason}. Nothing new of {model} landed."
                )
            else:
                landed = landing.land_model(
                    raw,
                    model,
                    [f for f in files if f.model == model],
                    load_id=context.run.run_id,
                    open_file=source.open,
                )
            listing = unlisted.get(model)
            row_count, newest_transfer = raw.table_summary(model)
            for failure in landed.failed:
                context.log.error(f"Could not land {failure.path}: {failure.reason}")
            for path in landed.changed:
                context.log.warning(f"{path} changed after it was landed; not loaded again")
            key = raw_asset_key(model)
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    **prepared.metadata(model),
                    "files_landed": len(landed.files_landed),
                    "rows_landed": landed.rows_landed,
                    "files_failed": len(landed.failed),
                    "files_already_landed": landed.already_landed,
                    "dagster/row_count": row_count,
                    # What the freshness check reads: the newest transfer, not the landing time.
                    # 1 s after the epoch stands for "never" (0 would count as unset).
                    "dagster/last_updated_timestamp": dg.MetadataValue.timestamp(
                        newest_transfer.timestamp() if newest_transfer else 1.0
                    ),
                },
            )
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=FILES_READABLE_CHECK,
                passed=not landed.failed and listing is None,
                severity=dg.AssetCheckSeverity.ERROR,
                description=(
                    f"the listing of {listing.folder}/ failed: {listing.reason}"
                    if listing is not None
                    else "; ".join(f"{f.path}: {f.reason}" for f in landed.failed)
                    or "every new file landed"
                ),
                metadata={
                    "failed_files": [f.path for f in landed.failed],
                    "reasons": [f.reason for f in landed.failed],
                    "listing_failure": listing.reason if listing is not None else "",
                },
            )
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=FILES_UNCHANGED_CHECK,
                passed=not landed.changed,
                severity=dg.AssetCheckSeverity.WARN,
                description="; ".join(landed.changed) or "no landed file has changed",
                metadata={"changed_files": landed.changed},
            )
            listed = prepared.records_listed(model)
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=RECORDS_LISTED_CHECK,
                passed=listed.passed,
                severity=dg.AssetCheckSeverity.WARN,
                description=listed.description,
                metadata={"records_gone": listed.gone, "source": source_name},
            )


@dg.definitions
def raw_layer() -> dg.Definitions:
    return dg.Definitions(assets=[raw_export, manifest], asset_checks=RAW_FRESHNESS_CHECKS)
