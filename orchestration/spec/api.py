"""How each documented column comes from Stigg's GraphQL API (STIGG_SOURCE=api), in one place.

Source: `shared/stigg-api.md`. A column takes the GraphQL field of its name in camelCase
(BILLING_CURRENCY -> billingCurrency) unless `API_MODELS` says otherwise:
- a dotted path into the node (`coupon.refId`);
- `PARENT`: the parent record's column that the reference holds (FOREIGN_KEYS_HOLD), for the
  models that come nested in another (a subscription's prices);
- `PARENT_ENVIRONMENT`: the parent's environmentId;
- one of the `DERIVED` rules, for a column with no API field that the doc makes mandatory;
- `ABSENT`: no API field, and the column may be NULL: it is NULL, never made up.
The runtime (runtime/sources/api/) reads these; codegen adds `API_RULE_NOTES` to the column
descriptions in the dbt docs; the end-to-end test excepts `columns_the_api_lacks()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestration.spec.tables import TABLES_BY_MODEL, Table, reference_target

PARENT = "$parent"
PARENT_ENVIRONMENT = "$parent.environmentId"
ABSENT = "$absent"
# The rules for mandatory columns that the API has no field for. The times are the pull's own:
# the API cannot say when a record changed, only the pull can say when it first saw it.
FIRST_SEEN = "$first_seen"  # when a pull first listed the record
STATE_SEEN = "$state_seen"  # when a pull first listed the record in this state (content)
NOT_DELETED = "$not_deleted"  # false: the API lists only live entitlements
ENTITLEMENT_KEY = (
    "$entitlement_key"  # 'api-ent-' + sha256 of environment, customer, resource, feature
)
# IS_CUSTOM_PRICE_SUBSCRIPTION: the API's subscriptions have no such field, but their pricingType
# says it (FREE, PAID or CUSTOM): true for CUSTOM, false otherwise.
CUSTOM_PRICING = "$custom_pricing"
TIERS = "$tiers"  # the price's tiers, written in the doc's shape (below)
AMOUNTS_OFF = "$amounts_off"  # a coupon's amounts off, a list of { amount currency } as text
DERIVED = (FIRST_SEEN, STATE_SEEN, NOT_DELETED, ENTITLEMENT_KEY, CUSTOM_PRICING)
OR_ELSE = " or else "  # `field or else rule`: the rule when the API gives the field no value

API_RULE_NOTES = {
    FIRST_SEEN: "From Stigg's API (STIGG_SOURCE=api), which has no such field: the time the "
    "pull that first listed this record ran.",
    STATE_SEEN: "From Stigg's API (STIGG_SOURCE=api), which has no such field: the time the "
    "pull that first saw the record in this state ran (a pull writes a record again only when "
    "its content changed).",
    NOT_DELETED: "From Stigg's API (STIGG_SOURCE=api): false, since the API lists only live "
    "entitlements; an entitlement that stops being listed keeps its last row.",
    ENTITLEMENT_KEY: "From Stigg's API (STIGG_SOURCE=api), which gives entitlements no id: "
    "'api-ent-' followed by the first 32 hex digits of the SHA-256 of ENVIRONMENT_ID, "
    "CUSTOMER_ID, RESOURCE_ID (empty when none) and FEATURE_ID joined by '|'.",
    CUSTOM_PRICING: "From Stigg's API (STIGG_SOURCE=api), which has no such field: true when "
    "the subscription's pricingType is CUSTOM, false otherwise.",
    ABSENT: "Stigg's API has no field for it: NULL from STIGG_SOURCE=api.",
}

# The JSON text columns that the API gives as lists of objects: their selections. TIERS is
# documented as a list of { upTo, unitPriceAmount, unitPriceCurrency }; the API gives
# { upTo unitPrice { amount currency } }, and its flatPrice has no place in the doc's shape.
JSON_LIST_SELECTIONS = {
    TIERS: "tiers { upTo unitPrice { amount currency } }",
    AMOUNTS_OFF: "amountsOff { amount currency }",
}
# The fields of a union's member types, each selected with an inline fragment on its type: an
# entitlement's resetPeriodConfiguration is one of three configurations, one per reset period.
UNION_MEMBER_FIELDS = {
    "resetPeriodConfiguration.monthlyAccordingTo": "MonthlyResetPeriodConfig",
    "resetPeriodConfiguration.weeklyAccordingTo": "WeeklyResetPeriodConfig",
}


@dataclass(frozen=True)
class ApiModel:
    """One documented table as the API gives it."""

    model: str  # the export's folder name (customers)
    query: str | None  # the list query (customers); None for a model nested in another
    # The list's node type and its argument types, as the query's reference page names them.
    node_type: str | None = None
    filter_type: str | None = None
    sort_type: str | None = None
    # The field that an incremental pull filters on (and sorts on first, unless `sorted_on`
    # says otherwise); None: pulled in full each time.
    incremental_field: str | None = None
    # The field the list sorts on first, where the list cannot sort on the incremental field.
    sorted_on: str | None = None
    # For a nested model: the parent model whose records hold it (NESTED says in which field).
    parent: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # the exceptions to camelCase
    # A field that the list accepts as a sort and that, after the first, makes each record's
    # place unique: the order, and so the cursors, stay stable. None: the list has none.
    tie_break: str | None = "id"

    @property
    def table(self) -> Table:
        return TABLES_BY_MODEL[self.model]

    @property
    def operation(self) -> str:
        """The GraphQL operation name of the list's page: its query's name (Customers)."""
        return self.query[0].upper() + self.query[1:]

    @property
    def sort_fields(self) -> tuple[str, ...]:
        """The list's sort: `sorted_on`, else the incremental field (createdAt for a full pull),
        then the tie-break. The watermark is the largest incremental value pulled, whatever the
        order (sources/api/pull.py)."""
        first = self.sorted_on or self.incremental_field or "createdAt"
        return tuple(f for f in (first, self.tie_break) if f)

    @property
    def pulled_in_full(self) -> bool:
        """Every record each pull, so a record that stops being listed is known to be gone: the
        full lists, the models nested in them, and the entitlements (every customer's)."""
        if self.query is None:
            return self.parent is None or API_MODELS_BY_MODEL[self.parent].pulled_in_full
        return self.incremental_field is None

    def source_of(self, column: str) -> str:
        """The column's GraphQL path, or one of the rules above."""
        source = self.columns.get(column)
        if source is None:
            return camel_case(column)
        if source == PARENT:
            parent_table = TABLES_BY_MODEL[self.parent]
            _, parent_column = reference_target(self.table, column)
            assert reference_target(self.table, column)[0] is parent_table, (self.model, column)
            return f"{PARENT}.{camel_case(parent_column)}"
        return source


def camel_case(column: str) -> str:
    head, *rest = column.lower().split("_")
    return head + "".join(part.capitalize() for part in rest)


# What a subscription's prices, add-ons and coupons take from the subscription they come in.
_OF_THE_SUBSCRIPTION = {"SUBSCRIPTION_ID": PARENT, "ENVIRONMENT_ID": PARENT_ENVIRONMENT}

API_MODELS: tuple[ApiModel, ...] = (
    ApiModel(
        "customers",
        "customers",
        "Customer",
        "CustomerFilter",
        "CustomerSort",
        incremental_field="updatedAt",
        columns={"COUPON_ID": "coupon.refId"},
    ),
    ApiModel(
        "customer_resources",
        "customerResources",
        "CustomerResource",
        "CustomerResourceFilter",
        "CustomerResourceSort",
        columns={"CUSTOMER_ID": "customer.customerId", "UPDATED_AT": STATE_SEEN},
        tie_break=None,  # a customer resource has no id of its own
    ),
    ApiModel(
        "subscriptions",
        "subscriptions",
        "SubscriptionQuery",
        "SubscriptionQueryFilter",
        "SubscriptionQuerySort",
        columns={
            # The node's own customerId is the customer's internal id (the reference page's
            # filter says so); its customer's customerId is the public one (FOREIGN_KEYS_HOLD).
            "CUSTOMER_ID": "customer.customerId",
            "PLAN_ID": "plan.refId",
            "COUPON_ID": "coupon.refId",
            "UPDATED_AT": STATE_SEEN,
            "IS_CUSTOM_PRICE_SUBSCRIPTION": CUSTOM_PRICING,
        },
        tie_break="subscriptionId",  # the list refuses a sort on id
    ),
    ApiModel(
        "subscription_prices",
        None,
        parent="subscriptions",
        columns={**_OF_THE_SUBSCRIPTION, "PRICE_ID": "price.id"},
    ),
    ApiModel(
        "subscription_addons",
        None,
        parent="subscriptions",
        columns={**_OF_THE_SUBSCRIPTION, "PRICE_ID": "price.id"},
    ),
    ApiModel(
        "subscription_applied_coupons",
        None,
        parent="subscriptions",
        columns={
            **_OF_THE_SUBSCRIPTION,
            "COUPON_ID": "refId",  # the applied coupon's public id
            "CREATED_AT": FIRST_SEEN,
            "UPDATED_AT": STATE_SEEN,
            "DELETED_AT": ABSENT,
        },
    ),
    ApiModel(
        "products",
        "products",
        "Product",
        "ProductFilter",
        "ProductSort",
        incremental_field="updatedAt",
        columns={"PRODUCT_ID": "refId"},
    ),
    ApiModel(
        "plans",
        "plans",
        "Plan",
        "PlanFilter",
        "PlanSort",
        incremental_field="updatedAt",
        # The plans list sorts on createdAt, displayName, refId and status only (its reference
        # page); a plan's versions share a refId and not a createdAt.
        sorted_on="createdAt",
        tie_break="refId",
        columns={"PLAN_ID": "refId", "BASE_PLAN_ID": "basePlan.refId"},
    ),
    ApiModel(
        "addons",
        "addons",
        "Addon",
        "AddonFilter",
        "AddonSort",
        incremental_field="updatedAt",
        columns={"ADDON_ID": "refId"},
    ),
    ApiModel(
        "prices",
        None,
        parent="plans",
        columns={
            "PRICE_AMOUNT": "price.amount",
            "PRICE_CURRENCY": "price.currency",
            "TIERS": TIERS,
            "ENVIRONMENT_ID": PARENT_ENVIRONMENT,
            "UPDATED_AT": STATE_SEEN,
        },
    ),
    ApiModel(
        "package_entitlements",
        "packageEntitlements",
        "PackageEntitlement",
        "PackageEntitlementFilter",
        "PackageEntitlementSort",
        incremental_field="updatedAt",
    ),
    ApiModel(
        "promotional_entitlements",
        "promotionalEntitlements",
        "PromotionalEntitlement",
        "PromotionalEntitlementFilter",
        "PromotionalEntitlementSort",
        incremental_field="updatedAt",
        columns={"CUSTOMER_ID": "customer.customerId"},
    ),
    ApiModel(
        "features",
        "features",
        "Feature",
        "FeatureFilter",
        "FeatureSort",
        incremental_field="updatedAt",
        columns={"FEATURE_ID": "refId"},
    ),
    ApiModel(
        "entitlements",
        None,
        columns={
            "ID": ENTITLEMENT_KEY,
            "CREATED_AT": FIRST_SEEN,
            "UPDATED_AT": f"entitlementUpdatedAt{OR_ELSE}{STATE_SEEN}",
            "ENVIRONMENT_ID": "$customer.environmentId",
            "CUSTOMER_UUID": "$customer.id",
            "CUSTOMER_ID": "$customer.customerId",
            "RESOURCE_UUID": ABSENT,
            "RESOURCE_ID": "$customer.resourceId",
            "FEATURE_UUID": "feature.id",
            "FEATURE_ID": "feature.refId",
            "IS_DELETED": NOT_DELETED,
            "RESET_PERIOD_MONTHLY_ACCORDING_TO": "resetPeriodConfiguration.monthlyAccordingTo",
            "RESET_PERIOD_WEEKLY_ACCORDING_TO": "resetPeriodConfiguration.weeklyAccordingTo",
        },
    ),
    ApiModel(
        "usage_measurements",
        "usageMeasurements",
        "UsageMeasurement",
        "UsageMeasurementFilter",
        "UsageMeasurementSort",
        incremental_field="createdAt",
        columns={
            "CUSTOMER_ID": "customer.customerId",
            "FEATURE_ID": "feature.refId",
            "RESOURCE_ID": ABSENT,
            "UPDATED_AT": STATE_SEEN,
            "RESET_PERIOD": ABSENT,
            "PERIOD_START": ABSENT,
            "PERIOD_END": ABSENT,
        },
    ),
    ApiModel(
        "coupons",
        "coupons",
        "Coupon",
        "CouponFilter",
        "CouponSort",
        incremental_field="updatedAt",
        columns={"COUPON_ID": "refId", "AMOUNTS_OFF": AMOUNTS_OFF},
    ),
)
API_MODELS_BY_MODEL = {m.model: m for m in API_MODELS}
# The models that come inside another's records: parent model -> (field, arguments, model).
# A subscription's prices take `filter: {}`, since the default filter drops minimum spends; the
# addons' prices are PRICES too.
NESTED: dict[str, tuple[tuple[str, str, str], ...]] = {
    "subscriptions": (
        ("prices", "(filter: {})", "subscription_prices"),
        ("addons", "", "subscription_addons"),
        ("coupons", "", "subscription_applied_coupons"),
    ),
    "plans": (("prices", "", "prices"), ("overagePrices", "", "prices")),
    "addons": (("prices", "", "prices"),),
}
# The doc's raw usage events cannot be listed through the API (a preview only, no paging).
NOT_FROM_THE_API = ("usage_events",)


def columns_the_api_lacks(model: str) -> tuple[str, ...]:
    """The columns that the API does not give as a field: derived by a rule, or NULL."""
    api_model = API_MODELS_BY_MODEL[model]
    return tuple(
        c
        for c in api_model.table.column_names
        if api_model.source_of(c).split(OR_ELSE)[0] in (*DERIVED, ABSENT)
    )


def api_rule_note(model: str, column: str) -> str | None:
    """The sentence that a column's description adds about how the API source fills it."""
    api_model = API_MODELS_BY_MODEL.get(model)
    if api_model is None:
        return None
    source = api_model.source_of(column)
    if OR_ELSE in source:
        given, rule = source.split(OR_ELSE)
        return (
            f"From Stigg's API (STIGG_SOURCE=api): {given}; when the API gives none, "
            + (API_RULE_NOTES[rule].split("which has no such field: ", 1)[1])
        )
    return API_RULE_NOTES.get(source)
