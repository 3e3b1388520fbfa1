"""How each documented column comes from Stigg's GraphQL API (STIGG_SOURCE=api), in one place.

Source: `shared/stigg-api.md`. A column takes the GraphQL field of its name in camelCase
(BILLING_CURRENCY -> billingCurrency) unless `API_MODELS` says otherwise, with one of:
- `Field`: a dotted path into the node (`coupon.refId`), and what fills it when the API gives
  no value (`or_else`);
- `JsonList`: a list of objects, written as JSON text in the doc's shape;
- `FromParent`: a field of the record that the node comes nested in (a subscription's prices);
- `FromCustomer`: a field of the customer (or resource) that an entitlement was asked for;
- `Derived`: one of the `Rule`s, for a column with no API field that the doc makes mandatory;
- `Absent`: no API field, and the column may be NULL: it is NULL, never made up.
The runtime (runtime/sources/api/) reads these; codegen adds `api_rule_note` to the column
descriptions in the dbt docs; the end-to-end test excepts `columns_the_api_lacks()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

from orchestration.spec.tables import TABLES_BY_MODEL, Table, reference_target


class Rule(Enum):
    """How a column that the API has no field for is filled. The times are the pull's own: the
    API cannot say when a record changed, only the pull can say when it first saw it."""

    FIRST_SEEN = "first_seen"  # when a pull first listed the record
    STATE_SEEN = "state_seen"  # when a pull first listed the record in this state (content)
    NOT_DELETED = "not_deleted"  # false: the API lists only live entitlements
    # 'api-ent-' + sha256 of environment, customer, resource, feature
    ENTITLEMENT_KEY = "entitlement_key"
    # IS_CUSTOM_PRICE_SUBSCRIPTION: the API's subscriptions have no such field, but their
    # pricingType says it (FREE, PAID or CUSTOM): true for CUSTOM, false otherwise.
    CUSTOM_PRICING = "custom_pricing"


@dataclass(frozen=True)
class Field:
    """The node's field at a dotted GraphQL path (`coupon.refId`)."""

    path: str
    # The rule that fills the column when the API gives the field no value.
    or_else: Rule | None = None
    # Where the field's parent is a union: the member type that has the field, selected with an
    # inline fragment on it (an entitlement's resetPeriodConfiguration is one of three
    # configurations, one per reset period).
    union_member: str | None = None


@dataclass(frozen=True)
class JsonList:
    """A field that is a list of objects, written as JSON text: each object with the doc's keys,
    `items` mapping each key to its dotted path in the API's object (the selection asks for
    those paths, and only those)."""

    field: str
    items: dict[str, str]


@dataclass(frozen=True)
class FromParent:
    """A field of the record that the node comes nested in (NESTED): `field`, or, when None, the
    parent's column that the reference holds (FOREIGN_KEYS_HOLD), resolved by `source_of`."""

    field: str | None = None


@dataclass(frozen=True)
class FromCustomer:
    """A field of the customer that an entitlement was asked for: id, customerId, environmentId,
    or resourceId (the customer resource asked for; None for the customer's own)."""

    field: str


@dataclass(frozen=True)
class Derived:
    """No API field of its own: the rule fills the column."""

    rule: Rule


@dataclass(frozen=True)
class Absent:
    """No API field, and the column may be NULL: it is NULL from the API."""


ColumnSource = Field | JsonList | FromParent | FromCustomer | Derived | Absent

_FROM_THE_API = "From Stigg's API (STIGG_SOURCE=api)"
# What the rules that stand in for a missing field give; also what fills a field that the API
# leaves empty (Field.or_else).
_WHAT_THE_RULE_GIVES = {
    Rule.FIRST_SEEN: "the time the pull that first listed this record ran.",
    Rule.STATE_SEEN: "the time the pull that first saw the record in this state ran (a pull "
    "writes a record again only when its content changed).",
    Rule.CUSTOM_PRICING: "true when the subscription's pricingType is CUSTOM, false otherwise.",
}
API_RULE_NOTES: dict[Rule, str] = {
    **{
        rule: f"{_FROM_THE_API}, which has no such field: {gives}"
        for rule, gives in _WHAT_THE_RULE_GIVES.items()
    },
    Rule.NOT_DELETED: f"{_FROM_THE_API}: false, since the API lists only live entitlements; an "
    "entitlement that stops being listed keeps its last row.",
    Rule.ENTITLEMENT_KEY: f"{_FROM_THE_API}, which gives entitlements no id: 'api-ent-' followed "
    "by the first 32 hex digits of the SHA-256 of ENVIRONMENT_ID, CUSTOMER_ID, RESOURCE_ID "
    "(empty when none) and FEATURE_ID joined by '|'.",
}
ABSENT_NOTE = "Stigg's API has no field for it: NULL from STIGG_SOURCE=api."


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
    columns: dict[str, ColumnSource] = field(default_factory=dict)  # the exceptions to camelCase
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

    @cached_property
    def sources(self) -> dict[str, ColumnSource]:
        """Every column of the table -> `source_of` it, in the table's order."""
        return {c: self.source_of(c) for c in self.table.column_names}

    def source_of(self, column: str) -> ColumnSource:
        """Where the column comes from: `columns`, else the field of its name in camelCase. A
        `FromParent` names its field: the parent's column that the reference holds."""
        source = self.columns.get(column)
        if source is None:
            return Field(camel_case(column))
        if source == FromParent():
            parent_table = TABLES_BY_MODEL[self.parent]
            _, parent_column = reference_target(self.table, column)
            assert reference_target(self.table, column)[0] is parent_table, (self.model, column)
            return FromParent(camel_case(parent_column))
        return source


def camel_case(column: str) -> str:
    head, *rest = column.lower().split("_")
    return head + "".join(part.capitalize() for part in rest)


# What a subscription's prices, add-ons and coupons take from the subscription they come in.
_OF_THE_SUBSCRIPTION = {
    "SUBSCRIPTION_ID": FromParent(),
    "ENVIRONMENT_ID": FromParent("environmentId"),
}

API_MODELS: tuple[ApiModel, ...] = (
    ApiModel(
        "customers",
        "customers",
        "Customer",
        "CustomerFilter",
        "CustomerSort",
        incremental_field="updatedAt",
        columns={"COUPON_ID": Field("coupon.refId")},
    ),
    ApiModel(
        "customer_resources",
        "customerResources",
        "CustomerResource",
        "CustomerResourceFilter",
        "CustomerResourceSort",
        columns={
            "CUSTOMER_ID": Field("customer.customerId"),
            "UPDATED_AT": Derived(Rule.STATE_SEEN),
        },
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
            "CUSTOMER_ID": Field("customer.customerId"),
            "PLAN_ID": Field("plan.refId"),
            "COUPON_ID": Field("coupon.refId"),
            "UPDATED_AT": Derived(Rule.STATE_SEEN),
            "IS_CUSTOM_PRICE_SUBSCRIPTION": Derived(Rule.CUSTOM_PRICING),
        },
        tie_break="subscriptionId",  # the list refuses a sort on id
    ),
    ApiModel(
        "subscription_prices",
        None,
        parent="subscriptions",
        columns={**_OF_THE_SUBSCRIPTION, "PRICE_ID": Field("price.id")},
    ),
    ApiModel(
        "subscription_addons",
        None,
        parent="subscriptions",
        columns={**_OF_THE_SUBSCRIPTION, "PRICE_ID": Field("price.id")},
    ),
    ApiModel(
        "subscription_applied_coupons",
        None,
        parent="subscriptions",
        columns={
            **_OF_THE_SUBSCRIPTION,
            "COUPON_ID": Field("refId"),  # the applied coupon's public id
            "CREATED_AT": Derived(Rule.FIRST_SEEN),
            "UPDATED_AT": Derived(Rule.STATE_SEEN),
            "DELETED_AT": Absent(),
        },
    ),
    ApiModel(
        "products",
        "products",
        "Product",
        "ProductFilter",
        "ProductSort",
        incremental_field="updatedAt",
        columns={"PRODUCT_ID": Field("refId")},
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
        columns={"PLAN_ID": Field("refId"), "BASE_PLAN_ID": Field("basePlan.refId")},
    ),
    ApiModel(
        "addons",
        "addons",
        "Addon",
        "AddonFilter",
        "AddonSort",
        incremental_field="updatedAt",
        columns={"ADDON_ID": Field("refId")},
    ),
    ApiModel(
        "prices",
        None,
        parent="plans",
        columns={
            "PRICE_AMOUNT": Field("price.amount"),
            "PRICE_CURRENCY": Field("price.currency"),
            # The doc's shape: a list of { upTo, unitPriceAmount, unitPriceCurrency }; the API
            # gives { upTo unitPrice { amount currency } }, and its flatPrice has no place in it.
            "TIERS": JsonList(
                "tiers",
                {
                    "upTo": "upTo",
                    "unitPriceAmount": "unitPrice.amount",
                    "unitPriceCurrency": "unitPrice.currency",
                },
            ),
            "ENVIRONMENT_ID": FromParent("environmentId"),
            "UPDATED_AT": Derived(Rule.STATE_SEEN),
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
        columns={"CUSTOMER_ID": Field("customer.customerId")},
    ),
    ApiModel(
        "features",
        "features",
        "Feature",
        "FeatureFilter",
        "FeatureSort",
        incremental_field="updatedAt",
        columns={"FEATURE_ID": Field("refId")},
    ),
    ApiModel(
        "entitlements",
        None,
        columns={
            "ID": Derived(Rule.ENTITLEMENT_KEY),
            "CREATED_AT": Derived(Rule.FIRST_SEEN),
            "UPDATED_AT": Field("entitlementUpdatedAt", or_else=Rule.STATE_SEEN),
            "ENVIRONMENT_ID": FromCustomer("environmentId"),
            "CUSTOMER_UUID": FromCustomer("id"),
            "CUSTOMER_ID": FromCustomer("customerId"),
            "RESOURCE_UUID": Absent(),
            "RESOURCE_ID": FromCustomer("resourceId"),
            "FEATURE_UUID": Field("feature.id"),
            "FEATURE_ID": Field("feature.refId"),
            "IS_DELETED": Derived(Rule.NOT_DELETED),
            "RESET_PERIOD_MONTHLY_ACCORDING_TO": Field(
                "resetPeriodConfiguration.monthlyAccordingTo",
                union_member="MonthlyResetPeriodConfig",
            ),
            "RESET_PERIOD_WEEKLY_ACCORDING_TO": Field(
                "resetPeriodConfiguration.weeklyAccordingTo",
                union_member="WeeklyResetPeriodConfig",
            ),
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
            "CUSTOMER_ID": Field("customer.customerId"),
            "FEATURE_ID": Field("feature.refId"),
            "RESOURCE_ID": Absent(),
            "UPDATED_AT": Derived(Rule.STATE_SEEN),
            "RESET_PERIOD": Absent(),
            "PERIOD_START": Absent(),
            "PERIOD_END": Absent(),
        },
    ),
    ApiModel(
        "coupons",
        "coupons",
        "Coupon",
        "CouponFilter",
        "CouponSort",
        incremental_field="updatedAt",
        columns={
            "COUPON_ID": Field("refId"),
            "AMOUNTS_OFF": JsonList("amountsOff", {"amount": "amount", "currency": "currency"}),
        },
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
        if isinstance(api_model.source_of(c), Derived | Absent)
    )


def api_rule_note(model: str, column: str) -> str | None:
    """The sentence that a column's description adds about how the API source fills it."""
    api_model = API_MODELS_BY_MODEL.get(model)
    if api_model is None:
        return None
    source = api_model.source_of(column)
    if isinstance(source, Field) and source.or_else is not None:
        return (
            f"{_FROM_THE_API}: {source.path}; when the API gives none, "
            f"{_WHAT_THE_RULE_GIVES[source.or_else]}"
        )
    if isinstance(source, Derived):
        return API_RULE_NOTES[source.rule]
    if isinstance(source, Absent):
        return ABSENT_NOTE
    return None
