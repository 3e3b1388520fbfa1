"""The 17 tables of Stigg's warehouse schema, as one machine-readable spec.

Source: Stigg's schema doc (`shared/stigg-docs/warehouse-schema.txt`); a test proves this module
agrees with that text. `stigg-warehouse codegen` renders it into the dbt project
(orchestration/spec/dbt_files.py): each documented table's yml (`models/stigg/<TABLE>.yml`, its
contract, tests and `meta.stigg` block), which the dbt macros read, and the one-line models and
docs of the layers around it. Landing, the synthetic exports and the tests read it here.

Decisions the doc leaves open, each made once, here:
- NUMBER is a decimal, except the columns in WHOLE_NUMBER_COLUMNS, which are whole by
  definition (months, years, versions, add-on quantities) and are stored as whole numbers.
  What each type is on each engine is written once, in `dbt_project/dbt_project.yml`
  (vars.stigg_column_types).
- FOREIGN_KEYS_HOLD: a reference such as SUBSCRIPTIONS.CUSTOMER_ID holds the parent's public
  identifier (CUSTOMERS.CUSTOMER_ID), because the doc describes both with the same words
  ("Customer identifier") and keeps "internal identifier" for ID. Columns named *_UUID are the
  doc's "internal identifier" and always point at the parent's ID.
- The doc lost one column's name: the CUSTOMERS row "VARCHAR | Email address" is EMAIL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Literal

import yaml

from orchestration.settings import DBT_PROJECT_DIR

VARCHAR = "VARCHAR"
NUMBER = "NUMBER"
TIMESTAMP_TZ = "TIMESTAMP_TZ"
BOOLEAN = "BOOLEAN"
# Not one of the doc's types: a NUMBER column in WHOLE_NUMBER_COLUMNS is stored as this.
WHOLE_NUMBER = "WHOLE_NUMBER"

WHOLE_NUMBER_COLUMNS = frozenset(
    {
        ("CUSTOMERS", "DEFAULT_PAYMENT_EXPIRATION_MONTH"),
        ("CUSTOMERS", "DEFAULT_PAYMENT_EXPIRATION_YEAR"),
        ("PLANS", "VERSION_NUMBER"),
        ("ADDONS", "VERSION_NUMBER"),
        ("SUBSCRIPTION_ADDONS", "QUANTITY"),
    }
)

# "identifier": references hold the parent's public identifier (CUSTOMER_ID, PLAN_ID, ...).
# "internal": references hold the parent's ID. Change it here and the relationship tests follow.
FOREIGN_KEYS_HOLD: Literal["identifier", "internal"] = "identifier"


@cache
def column_types(engine: str = "duckdb") -> dict[str, str]:
    """The stored type of each of the doc's types on `engine`, as the dbt project writes it."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return project["vars"]["stigg_column_types"][engine]


@dataclass(frozen=True)
class Column:
    name: str
    doc_type: str
    mandatory: bool
    description: str
    enum: tuple[str, ...] | None = None


@dataclass(frozen=True, eq=False)
class Table:
    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    # The columns that name one record. Current state keeps one row per key.
    key: tuple[str, ...] = ("ID",)
    # The column that holds this table's public identifier, if it has one (PLANS.PLAN_ID).
    identifier: str | None = None
    # Column -> parent table, as the doc's wording implies.
    references: dict[str, str] = field(default_factory=dict)
    # Built incrementally: each run re-ranks only the keys that new raw rows touch. For the
    # tables that grow with usage; the others rebuild in less time than the merge costs.
    incremental: bool = False
    # The column by which the doc splits this table into one table per value, named
    # <TABLE>_<value> (USAGE_EVENTS_<ENVIRONMENT_ID>). Exports carry it in one `<model>` folder
    # or in one `<model>_<value>` folder per value (model_for_folder).
    split_by: str | None = None

    @property
    def model(self) -> str:
        """The export's folder name: the table's name in lower case."""
        return self.name.lower()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def type_key(self, column: Column) -> str:
        """The column's type as vars.stigg_column_types names it: the doc's, or WHOLE_NUMBER."""
        if column.doc_type == NUMBER and (self.name, column.name) in WHOLE_NUMBER_COLUMNS:
            return WHOLE_NUMBER
        return column.doc_type

    def warehouse_type(self, column: Column, engine: str = "duckdb") -> str:
        return column_types(engine)[self.type_key(column)]


CUSTOMERS = Table(
    name="CUSTOMERS",
    title="Customer",
    description=(
        "Represents a customer of your application, which can be either an individual or an organization. Each customer can have a subscription to a product, a set of entitlements, and usage records."
    ),
    identifier="CUSTOMER_ID",
    references={"COUPON_ID": "COUPONS"},
    columns=(
        Column("CUSTOMER_ID", VARCHAR, True, "Customer identifier"),
        Column("EMAIL", VARCHAR, False, "Email address"),
        Column("NAME", VARCHAR, False, "Customer name"),
        Column("BILLING_CURRENCY", VARCHAR, False, "Preferred billing currency e.g USD"),
        Column(
            "BILLING_ID",
            VARCHAR,
            False,
            "Identifier of the customer in the billing solution that's integrated with Stigg, i.e. Stripe ID",
        ),
        Column(
            "BILLING_LINK_URL",
            VARCHAR,
            False,
            "URL for the customer entity in the billing solution that's integrated with Stigg",
        ),
        Column(
            "DEFAULT_PAYMENT_EXPIRATION_MONTH",
            NUMBER,
            False,
            "Expiration month of the customer's default payment method",
        ),
        Column(
            "DEFAULT_PAYMENT_EXPIRATION_YEAR",
            NUMBER,
            False,
            "Expiration year of the customer's default payment method",
        ),
        Column(
            "DEFAULT_PAYMENT_METHOD_ID",
            VARCHAR,
            False,
            "ID of the customer's default payment method in the billing solution (Stripe ID)",
        ),
        Column(
            "DEFAULT_PAYMENT_METHOD_LAST4_DIGITS",
            VARCHAR,
            False,
            "Last 4 digits of customer's default payment method",
        ),
        Column(
            "DEFAULT_PAYMENT_METHOD_TYPE",
            VARCHAR,
            False,
            "Enum. Type of default payment method. One of: CARD, BANK",
            enum=("CARD", "BANK"),
        ),
        Column(
            "DELETED_AT",
            TIMESTAMP_TZ,
            False,
            "Date and time of when the customer was archived",
        ),
        Column("ENVIRONMENT_ID", VARCHAR, True, "Environment identifier"),
        Column("HAS_ACTIVE_SUBSCRIPTION", BOOLEAN, True, "Has an active subscription"),
        Column("ID", VARCHAR, True, "Customer internal identifier in Stigg"),
        Column("UPDATED_AT", TIMESTAMP_TZ, True, "Last update date and time"),
        Column("CREATED_AT", TIMESTAMP_TZ, True, "Creation date and time"),
        Column(
            "ADDITIONAL_META_DATA",
            VARCHAR,
            False,
            "Additional metadata JSON in a text format",
        ),
        Column("COUPON_ID", VARCHAR, False, "Coupon ID of an applied coupon"),
    ),
)

CUSTOMER_RESOURCES = Table(
    name="CUSTOMER_RESOURCES",
    title="Customer Resource",
    description=(
        "Represents a resource associated with a customer, such as a site or an app. Each resource can have its own subscription to a product, as well as a distinct set of entitlements and usage records."
    ),
    key=("ENVIRONMENT_ID", "CUSTOMER_ID", "RESOURCE_ID"),
    identifier="RESOURCE_ID",
    references={"CUSTOMER_ID": "CUSTOMERS"},
    columns=(
        Column("ENVIRONMENT_ID", VARCHAR, True, "Environment identifier"),
        Column("RESOURCE_ID", VARCHAR, True, "Resource identifier"),
        Column("CUSTOMER_ID", VARCHAR, True, "Customer identifier"),
        Column("CREATED_AT", TIMESTAMP_TZ, True, "Creation date and time"),
        Column("UPDATED_AT", TIMESTAMP_TZ, True, "Last update date and time"),
    ),
)

SUBSCRIPTIONS = Table(
    name="SUBSCRIPTIONS",
    title="Subscription",
    description=(
        "Represents the combination of functionalities to which a specific customer has access, including their limitations, the duration of access, and the associated cost. Subscriptions encompass both plans and add-ons."
    ),
    identifier="SUBSCRIPTION_ID",
    references={
        "CUSTOMER_ID": "CUSTOMERS",
        "PLAN_ID": "PLANS",
        "RESOURCE_ID": "CUSTOMER_RESOURCES",
        "COUPON_ID": "COUPONS",
    },
    columns=(
        Column("SUBSCRIPTION_ID", VARCHAR, True, "Subscription Identifier"),
        Column("ENVIRONMENT_ID", VARCHAR, True, "Environment identifier"),
        Column("ID", VARCHAR, True, "Subscription internal identifier"),
        Column("CREATED_AT", TIMESTAMP_TZ, True, "Creation date and time"),
        Column("UPDATED_AT", TIMESTAMP_TZ, True, "Last update date and time"),
        Column("START_DATE", TIMESTAMP_TZ, True, "Subscription start date"),
        Column("END_DATE", TIMESTAMP_TZ, False, "Subscription end date"),
        Column(
            "CANCELLATION_DATE",
            TIMESTAMP_TZ,
            False,
            "Date of subscription cancellation",
        ),
        Column("TRIAL_END_DATE", TIMESTAMP_TZ, False, "End date of trial period"),
        Column(
            "BILLING_ID",
            VARCHAR,
            False,
            "Billing identifier (Stripe ID) of the subscription",
        ),
        Column(
            "OLD_BILLING_ID",
            VARCHAR,
            False,
            "Previous billing identifier (Stripe ID), is set only for canceled or expired subscriptions.",
        ),
        Column(
            "BILLING_LINK_URL",
            VARCHAR,
            False,
            "URL for the subscription entity in the billing solution (Stripe ID)",
        ),
        Column(
            "STATUS",
            VARCHAR,
            True,
            "Enum. Subscription status. Can be one of: PAYMENT_PENDING, ACTIVE, EXPIRED, IN_TRIAL, CANCELED, NOT_STARTED.",
            enum=(
                "PAYMENT_PENDING",
                "ACTIVE",
                "EXPIRED",
                "IN_TRIAL",
                "CANCELED",
                "NOT_STARTED",
            ),
        ),
        Column("RESOURCE_ID", VARCHAR, False, "Resource identifier"),
        Column(
            "IS_CUSTOM_PRICE_SUBSCRIPTION",
            BOOLEAN,
            False,
            "Indicates if subscription has custom pricing (i.e. not self-served)",
        ),
        Column(
            "CURRENT_BILLING_PERIOD_START",
            TIMESTAMP_TZ,
            False,
            "Start of the current billing period",
        ),
        Column(
            "CURRENT_BILLING_PERIOD_END",
            TIMESTAMP_TZ,
            False,
            "End of the current billing period",
        ),
        Column(
            "PRICING_TYPE",
            VARCHAR,
            True,
            "Enum. Type of pricing applied. Can be one of: FREE, PAID,CUSTOM.",
            enum=("FREE", "PAID", "CUSTOM"),
        ),
        Column("ADDITIONAL_META_DATA", VARCHAR, False, "Additional metadata"),
        Column(
            "PAYMENT_COLLECTION",
            VARCHAR,
            True,
            "Enum. Payment collection status. Can be one of: NOT_REQUIRED, PROCESSING, FAILED, ACTION_REQUIRED (= 3DS).",
            enum=("NOT_REQUIRED", "PROCESSING", "FAILED", "ACTION_REQUIRED"),
        ),
        Column("CUSTOMER_ID", VARCHAR, True, "Associated customer identifier"),
        Column("PLAN_ID", VARCHAR, True, "Subscription plan identifier"),
        Column(
            "COUPON_ID",
            VARCHAR,
            False,
            "This field is deprecated, use the SUBSCRIPTION_APPLIED_COUPONS relation table instead",
        ),
    ),
)

SUBSCRIPTION_PRICES = Table(
    name="SUBSCRIPTION_PRICES",
    title="Subscription Price",
    description=(
        "Represents the price of the subscription. Multiple prices can be associated with a single subscription to support a pricing model based on multiple billable metrics"
    ),
    references={
        "FEATURE_ID": "FEATURES",
        "SUBSCRIPTION_ID": "SUBSCRIPTIONS",
        "PRICE_ID": "PRICES",
    },
    columns=(
        Column("ID", VARCHAR, True, "Price internal identifier"),
        Column("CREATED_AT", TIMESTAMP_TZ, True, "Creation date and time"),
        Column("UPDATED_AT", TIMESTAMP_TZ, True, "Last update date and time"),
        Column("USAGE_LIMIT", NUMBER, False, "Usage limit associated with the price"),
        Column(
            "FEATURE_ID",
            VARCHAR,
            False,
            "Identifier for the associated feature, if this price represents a billable metric",
        ),
        Column(
            "BILLING_MODEL",
            VARCHAR,
            False,
            "Enum. Billing model used. Can be one of: FLAT_FEE, PER_UNIT, USAGE_BASED.",
            enum=("FLAT_FEE", "PER_UNIT", "USAGE_BASED"),
        ),
        Column("SUBSCRIPTION_ID", VARCHAR, True, "Associated subscription identifier"),
        Column("PRICE_ID", VARCHAR, False, "Associated plan or add-on price identifier"),
        Column("ENVIRONMENT_ID", VARCHAR, True, "Environment identifier"),
    ),
)

SUBSCRIPTION_ADDONS = Table(
    name="SUBSCRIPTION_ADDONS",
    title="Subscription Add-on",
    description=("Represents the quantity of an add-on that is included in the subscription."),
    references={
        "SUBSCRIPTION_ID": "SUBSCRIPTIONS",
        "ADDON_ID": "ADDONS",
        "PRICE_ID": "PRICES",
    },
    columns=(
        Column("ID", VARCHAR, True, "SubscriptionAddon internal identifier"),
        Column("QUANTITY", NUMBER, True, "Quantity of the add-on"),
        Column("CREATED_AT", TIMESTAMP_TZ, True, "Creation date and time"),
        Column("UPDATED_AT", TIMESTAMP_TZ, True, "Last update date and time"),
        Column("SUBSCRIPTION_ID", VARCHAR, True, "Associated subscription identifier"),
        Column("ADDON_ID", VARCHAR, True, "Associated add-on identifier"),
        Column("PRICE_ID", VARCHAR, False, "Associated plan or add-on price identifier"),
        Column("ENVIRONMENT_ID", VARCHAR, True, "Environment identifier"),
    ),
)

SUBSCRIPTION_APPLIED_COUPONS = Table(
    name="SUBSCRIPTION_APPLIED_COUPONS",
    title="Subscription Applied Coupons",
    description=("Represents a coupon entity attached to a subscription."),
    references={"SUBSCRIPTION_ID": "SUBSCRIPTIONS", "COUPON_ID": "COUPONS"},
    columns=(
        Column("ID", VARCHAR, True, "Internal identifier"),
        Column("ENVIRONMENT_ID", VARCHAR, True, "Environment identifier"),
        Column("CREATED_AT", TIMESTAMP_TZ, True, "Creation date and time"),
        Column("UPDATED_AT", TIMESTAMP_TZ, True, "Last update date and time"),
        Column(
            "DELETED_AT",
            VARCHAR,
            False,
            "Date and time the coupon was removed from the subscription",
        ),
        Column("SUBSCRIPTION_ID", VARCHAR, True, "Associated subscription identifier"),
        Column("COUPON_ID", VARCHAR, True, "Associated coupon identifier"),
        Column(
            "STATUS",
            VARCHAR,
            True,
            "Enum - SubscriptionCouponStatus. Can be one of: ACTIVE , EXPIRED or REMOVED",
            enum=("ACTIVE", "EXPIRED", "REMOVED"),
        ),
    ),
)

PRODUCTS = Table(
    name="PRODUCTS",
    title="Product",
    description=(
        "Represents a product or product line. Typically, products group together plans and add-ons."
    ),
    identifier="PRODUCT_ID",
    columns=(
        Column("ID", VARCHAR, True, "Product internal identifier"),
        Column("DISPLAY_NAME", VARCHAR, False, "Display name of the product"),
        Column("PRODUCT_ID", VARCHAR, True, "Product identifier"),
        Column("DESCRIPTION", VARCHAR, False, "Description of the product"),
        Column("CREATED_AT", TIMESTAMP_TZ, True, "Creation date and time of the product"),
        Column("UPDATED_AT", TIMESTAMP_TZ, True, "Last update date and time"),
        Column("ENVIRONMENT_ID", VARCHAR, True, "Identifier for the associated environment"),
        Column(
            "MULTIPLE_SUBSCRIPTIONS",
            BOOLEAN,
            True,
            "Supports multiple subscriptions, each resource can have a separate subscription",
        ),
        Column(
            "ADDITIONAL_META_DATA",
            VARCHAR,
            False,
            "Additional metadata for the product",
        ),
    ),
)

PLANS = Table(
    name="PLANS",
    title="Plan",
    description=(
        "Represents a package of a product for which customers are charged during a subscription period. The features included in each plan are defined by entitlements associated with the plan. Plans can inherit features from one another."
    ),
    identifier="PLAN_ID",
    references={"PRODUCT_ID": "PRODUCTS", "BASE_PLAN_ID": "PLANS"},
    columns=(
        Column("ID", VARCHAR, True, "Plan internal identifier"),
        Column("CREATED_AT", TIMESTAMP_TZ, True, "Creation date and time of the plan"),
        Column("UPDATED_AT", TIMESTAMP_TZ, True, "Last update date and time of the plan"),
        Column("PLAN_ID", VARCHAR, True, "Plan identifier"),
        Column("BILLING_ID", VARCHAR, False, "Billing identifier (Stripe ID)"),
        Column("BILLING_LINK_URL", VARCHAR, False, "URL for billing information"),
        Column("DISPLAY_NAME", VARCHAR, True, "Display name of the plan"),
        Column(
            "PRICING_TYPE",
            VARCHAR,
            False,
            "Enum. Type of pricing used for the plan. Can be one of: FREE, PAID, CUSTOM.",
            enum=("FREE", "PAID", "CUSTOM"),
        ),
        Column("DESCRIPTION", VARCHAR, False, "Description of the plan"),
        Column("ENVIRONMENT_ID", VARCHAR, True, "Identifier for the associated environment"),
        Column(
            "IS_LATEST",
            BOOLEAN,
            False,
            "Indicates if this is the latest version of the plan",
        ),
        Column("VERSION_NUMBER", NUMBER, False, "Version number of the plan"),
        Column("ADDITIONAL_META_DATA", VARCHAR, False, "Additional metadata for the plan"),
        Column("PRODUCT_ID", VARCHAR, True, "Associated product identifier"),
        Column(
            "BASE_PLAN_ID",
            VARCHAR,
            False,
            "Parent plan identifier if this is a child plan",
        ),
    ),
)

ADDONS = Table(
    name="ADDONS",
    title="Add-on",
    description=(
        "Represents a package that extends specific plans. Add-ons are dependent on the lifecycle of the plan they extend; meaning, when a subscription expires, customers also lose access to the plan's add-ons. The features included in each add-on are defined by entitlements associated with the add-on."
    ),
    identifier="ADDON_ID",
    references={"PRODUCT_ID": "PRODUCTS"},
    columns=(
        Column("ID", VARCHAR, True, "Add-on internal identifier"),
        Column("CREATED_AT", TIMESTAMP_TZ, True, "Creation date and time"),
        Column("UPDATED_AT", TIMESTAMP_TZ, True, "Last update date and time"),
        Column("ADDON_ID", VARCHAR, True, "Add-on identifier"),
        Column("BILLING_ID", VARCHAR, False, "Billing identifier (Stripe ID)"),
        Column(
            "BILLING_LINK_URL",
            VARCHAR,
            False,
            "URL for billing information of the add-on",
        ),
        Column("DISPLAY_NAME", VARCHAR, True, "Display name of the add-on"),
        Column(
            "PRICING_TYPE",
            VARCHAR,
            False,
            "Enum. Pricing type used for the add-on. Can be one of: FREE, PAID, CUSTOM. For add-ons, the value is always PAID.",
            enum=("FREE", "PAID", "CUSTOM"),
        ),
        Column("DESCRIPTION", VARCHAR, False, "Description of the add-on"),
        Column(
            "ENVIRONMENT_ID",
            VARCHAR,
            False,
            "Identifier for the associated environment",
        ),
        Column("PRODUCT_ID", VARCHAR, False, "Identifier for the associated product"),
        Column(
            "IS_LATEST",
            BOOLEAN,
            False,
            "Indicates if this is the latest version of the add-on",
        ),
        Column("VERSION_NUMBER", NUMBER, True, "Version number of the add-on"),
        Column("ADDITIONAL_META_DATA", VARCHAR, False, "Additional metadata for the add-on"),
    ),
)

PRICES = Table(
    name="PRICES",
    title="Price",
    description=("Represents the price of a package and its settings."),
    references={"FEATURE_ID": "FEATURES"},
    columns=(
        Column("ID", VARCHAR, True, "Price internal identifier"),
        Column("CREATED_AT", TIMESTAMP_TZ, True, "Creation date and time of the price"),
        Column("UPDATED_AT", TIMESTAMP_TZ, True, "Last update date and time"),
        Column(
            "BILLING_PERIOD",
            VARCHAR,
            True,
            "Enum. Billing period associated with the price. Can be one of: MONTHLY, ANNUALLY.",
            enum=("MONTHLY", "ANNUALLY"),
        ),
        Column(
            "BILLING_MODEL",
            VARCHAR,
            True,
            "Enum. Billing model used for this price. Can be one of: FLAT_FEE, PER_UNIT, USAGE_BASED.",
            enum=("FLAT_FEE", "PER_UNIT", "USAGE_BASED"),
        ),
        Column("BILLING_ID", VARCHAR, False, "Billing identifier associated with the price"),
        Column("PRICE_AMOUNT", NUMBER, False, "Monetary value of the price"),
        Column("PRICE_CURRENCY", VARCHAR, False, "Currency of the price"),
        Column("BILLING_COUNTRY_CODE", VARCHAR, False, "Country code for billing"),
        Column("FEATURE_ID", VARCHAR, False, "Identifier for the associated feature"),
        Column(
            "MIN_UNIT_QUANTITY",
            NUMBER,
            False,
            "Minimum unit quantity for applying this price",
        ),
        Column(
            "PACKAGE_ID",
            VARCHAR,
            False,
            "Identifier for the associated package, can belong to a plan or an add-on",
        ),
        Column(
            "MAX_UNIT_QUANTITY",
            NUMBER,
            False,
            "Maximum unit quantity for applying this price",
        ),
        Column("ENVIRONMENT_ID", VARCHAR, True, "Environment identifier"),
        Column(
            "TIERS_MODE",
            VARCHAR,
            False,
            "Enum. Mode of tiers for the price, if pricing is tiered. Can be one of: VOLUME, VOLUME_PER_UNIT, GRADUATED.",
            enum=("VOLUME", "VOLUME_PER_UNIT", "GRADUATED"),
        ),
        Column(
            "TIERS",
            VARCHAR,
            False,
            "Tiers associated with the price. List of JSON objects with the following structure: { upTo: Float!; unitPriceAmount: Float!; unitPriceCurrency: String!; }",
        ),
    ),
)

PACKAGE_ENTITLEMENTS = Table(
    name="PACKAGE_ENTITLEMENTS",
    title="Package Entitlement",
    description=("Represents a feature entitlement associated with a plan or add-on."),
    references={"FEATURE_ID": "FEATURES"},
    columns=(
        Column("ID", VARCHAR, True, "Unique identifier for the package entitlement"),
        Column("DESCRIPTION", VARCHAR, False, "Description of the package entitlement"),
        Column("FEATURE_ID", VARCHAR, True, "Identifier for the associated feature"),
        Column("PACKAGE_ID", VARCHAR, True, "Identifier for the associated package"),
        Column(
            "CREATED_AT",
            TIMESTAMP_TZ,
            False,
            "Creation date and time of the package entitlement",
        ),
        Column(
            "UPDATED_AT",
            TIMESTAMP_TZ,
            False,
            "Last update date and time of the package entitlement",
        ),
        Column("USAGE_LIMIT", NUMBER, False, "Usage limit for the entitlement"),
        Column(
            "HAS_UNLIMITED_USAGE",
            BOOLEAN,
            False,
            "Indicates if the entitlement has unlimited usage",
        ),
        Column("IS_CUSTOM", BOOLEAN, False, "Indicates if the entitlement is custom"),
        Column("ENVIRONMENT_ID", VARCHAR, True, "Identifier for the associated environment"),
        Column(
            "RESET_PERIOD",
            VARCHAR,
            False,
            "Enum. Reset period for the entitlement. Can be one of: MONTH, WEEK, DAY, HOUR.",
            enum=("MONTH", "WEEK", "DAY", "HOUR"),
        ),
    ),
)

PROMOTIONAL_ENTITLEMENTS = Table(
    name="PROMOTIONAL_ENTITLEMENTS",
    title="Promotional Entitlement",
    description=(
        "Represents ad-hoc entitlements that are given to a specific customer. Promotional entitlements can be granted to customers for a limited time period or throughout their entire lifetime."
    ),
    references={"CUSTOMER_ID": "CUSTOMERS", "FEATURE_ID": "FEATURES"},
    columns=(
        Column("ID", VARCHAR, True, "Unique identifier for the promotional entitlement"),
        Column("DESCRIPTION", VARCHAR, False, "Description of the promotional entitlement"),
        Column("CUSTOMER_ID", VARCHAR, True, "Associated customer identifier"),
        Column("FEATURE_ID", VARCHAR, True, "Identifier for the associated feature"),
        Column(
            "CREATED_AT",
            TIMESTAMP_TZ,
            True,
            "Creation date and time of the entitlement",
        ),
        Column(
            "UPDATED_AT",
            TIMESTAMP_TZ,
            True,
            "Last update date and time of the entitlement",
        ),
        Column(
            "START_DATE",
            TIMESTAMP_TZ,
            True,
            "Start date of the promotional entitlement",
        ),
        Column("END_DATE", TIMESTAMP_TZ, False, "End date of the promotional entitlement"),
        Column("USAGE_LIMIT", NUMBER, False, "Usage limit for the entitlement"),
        Column(
            "HAS_UNLIMITED_USAGE",
            BOOLEAN,
            False,
            "Indicates if the entitlement has unlimited usage",
        ),
        Column(
            "STATUS",
            VARCHAR,
            True,
            "Enum. Status of the promotional entitlement. Can be one of: Active, Expired, Paused.",
            enum=("Active", "Expired", "Paused"),
        ),
        Column(
            "PERIOD",
            VARCHAR,
            True,
            "Enum. Period of the promotional entitlement. Can be one of: ONE_WEEK, ONE_MONTH, SIX_MONTH, ONE_YEAR, LIFETIME, CUSTOM.",
            enum=(
                "ONE_WEEK",
                "ONE_MONTH",
                "SIX_MONTH",
                "ONE_YEAR",
                "LIFETIME",
                "CUSTOM",
            ),
        ),
        Column(
            "RESET_PERIOD",
            VARCHAR,
            False,
            "Enum. Reset period for the entitlement. Can be one of: MONTH, WEEK, DAY, HOUR.",
            enum=("MONTH", "WEEK", "DAY", "HOUR"),
        ),
        Column(
            "ENVIRONMENT_ID",
            VARCHAR,
            False,
            "Identifier for the associated environment",
        ),
    ),
)

FEATURES = Table(
    name="FEATURES",
    title="Feature",
    description=("Represents a configurable functionality in the product that can be monetized."),
    identifier="FEATURE_ID",
    columns=(
        Column("ID", VARCHAR, True, "Feature internal identifier"),
        Column("DISPLAY_NAME", VARCHAR, True, "Display name of the feature"),
        Column("FEATURE_ID", VARCHAR, True, "Feature identifier"),
        Column("CREATED_AT", TIMESTAMP_TZ, True, "Creation date and time of the feature"),
        Column("UPDATED_AT", TIMESTAMP_TZ, True, "Last update date and time of the feature"),
        Column("FEATURE_UNITS", VARCHAR, False, "Units in which the feature is measured"),
        Column("FEATURE_UNITS_PLURAL", VARCHAR, False, "Plural form of the feature units"),
        Column("DESCRIPTION", VARCHAR, False, "Description of the feature"),
        Column(
            "FEATURE_TYPE",
            VARCHAR,
            True,
            "Enum. Type of the feature. Can be one of: BOOLEAN, NUMBER.",
            enum=("BOOLEAN", "NUMBER"),
        ),
        Column(
            "METER_TYPE",
            VARCHAR,
            False,
            "Enum. Meter type of the feature. Can be one of: None, Fluctuating, Incremental.",
            enum=("None", "Fluctuating", "Incremental"),
        ),
        Column("ENVIRONMENT_ID", VARCHAR, True, "Identifier for the associated environment"),
        Column(
            "ADDITIONAL_META_DATA",
            VARCHAR,
            False,
            "Additional metadata for the feature",
        ),
    ),
)

ENTITLEMENTS = Table(
    name="ENTITLEMENTS",
    title="Represents the right to use an application feature, and to what extent. In Stigg, customer entitlements can be granted from multiple sources: plans, add-ons, overlapping trial subscriptions, promotional entitlements, and additional products.",
    description=(
        "Entitlements are typically computed and cached. If one of the entitlement sources changes, the entitlements need to be refreshed. You can read about how entitlements are calculated here."
    ),
    references={
        "CUSTOMER_UUID": "CUSTOMERS",
        "CUSTOMER_ID": "CUSTOMERS",
        "RESOURCE_ID": "CUSTOMER_RESOURCES",
        "FEATURE_UUID": "FEATURES",
        "FEATURE_ID": "FEATURES",
    },
    incremental=True,
    columns=(
        Column("ID", VARCHAR, True, "Entitlement internal identifier"),
        Column(
            "CREATED_AT",
            TIMESTAMP_TZ,
            True,
            "Creation date and time of the entitlement",
        ),
        Column(
            "UPDATED_AT",
            TIMESTAMP_TZ,
            True,
            "Last update date and time of the entitlement",
        ),
        Column("ENVIRONMENT_ID", VARCHAR, True, "Identifier for the associated environment"),
        Column("CUSTOMER_UUID", VARCHAR, True, "Customer internal identifier"),
        Column("CUSTOMER_ID", VARCHAR, True, "Customer identifier"),
        Column("RESOURCE_UUID", VARCHAR, False, "Resource internal identifier"),
        Column("RESOURCE_ID", VARCHAR, False, "Resource identifier"),
        Column("FEATURE_UUID", VARCHAR, True, "Feature internal identifier"),
        Column("FEATURE_ID", VARCHAR, True, "Feature identifier"),
        Column(
            "IS_DELETED",
            BOOLEAN,
            True,
            "Indicates whether the entitlement was deleted and is no longer applicable",
        ),
        Column("CURRENT_USAGE", NUMBER, False, "Current usage of the entitlement"),
        Column("USAGE_LIMIT", NUMBER, False, "Usage limit for the entitlement"),
        Column(
            "HAS_UNLIMITED_USAGE",
            BOOLEAN,
            False,
            "Indicates if the entitlement has unlimited usage",
        ),
        Column(
            "USAGE_PERIOD_ANCHOR",
            TIMESTAMP_TZ,
            False,
            "The anchor for calculating the usage period for metered entitlements with a reset period configured",
        ),
        Column(
            "USAGE_PERIOD_START",
            TIMESTAMP_TZ,
            False,
            "The start date of the usage period for metered entitlements with a reset period configured",
        ),
        Column(
            "USAGE_PERIOD_END",
            TIMESTAMP_TZ,
            False,
            "The end date of the usage period for metered entitlements with a reset period configured",
        ),
        Column(
            "RESET_PERIOD",
            VARCHAR,
            False,
            "Enum. Reset period for the entitlement. Can be one of: MONTH, WEEK, DAY, HOUR.",
            enum=("MONTH", "WEEK", "DAY", "HOUR"),
        ),
        Column(
            "RESET_PERIOD_MONTHLY_ACCORDING_TO",
            VARCHAR,
            False,
            "Enum. Configuration for the monthly reset period. Can be one of: SubscriptionStart, StartOfTheMonth.",
            enum=("SubscriptionStart", "StartOfTheMonth"),
        ),
        Column(
            "RESET_PERIOD_WEEKLY_ACCORDING_TO",
            VARCHAR,
            False,
            "Enum. Configuration for the weekly reset period. Can be one of: SubscriptionStart, EverySunday, EveryMonday, EveryTuesday, EveryWednesday, EveryThursday, EveryFriday, EverySaturday.",
            enum=(
                "SubscriptionStart",
                "EverySunday",
                "EveryMonday",
                "EveryTuesday",
                "EveryWednesday",
                "EveryThursday",
                "EveryFriday",
                "EverySaturday",
            ),
        ),
    ),
)

USAGE_MEASUREMENTS = Table(
    name="USAGE_MEASUREMENTS",
    title="Usage Measurement",
    description=(
        "Represents calculated usage reports associated with a customer for a metered feature."
    ),
    references={
        "CUSTOMER_ID": "CUSTOMERS",
        "RESOURCE_ID": "CUSTOMER_RESOURCES",
        "FEATURE_ID": "FEATURES",
    },
    incremental=True,
    columns=(
        Column("ID", VARCHAR, True, "Usage measurement internal identifier"),
        Column("CUSTOMER_ID", VARCHAR, True, "Customer identifier"),
        Column("RESOURCE_ID", VARCHAR, False, "Resource identifier"),
        Column("FEATURE_ID", VARCHAR, True, "Feature identifier"),
        Column(
            "CREATED_AT",
            TIMESTAMP_TZ,
            True,
            "Creation date and time of the usage measurement",
        ),
        Column(
            "UPDATED_AT",
            TIMESTAMP_TZ,
            True,
            "Last update date and time of the usage measurement",
        ),
        Column(
            "VALUE",
            NUMBER,
            True,
            "Reported usage value reflects a change in usage, i.e., the delta, at the time of the report",
        ),
        Column(
            "RESET_PERIOD",
            VARCHAR,
            False,
            "Enum. Reset period for the entitlement of the measurement. Can be one of: MONTH, WEEK, DAY, HOUR.",
            enum=("MONTH", "WEEK", "DAY", "HOUR"),
        ),
        Column("PERIOD_START", TIMESTAMP_TZ, False, "Reset period window start time"),
        Column("PERIOD_END", TIMESTAMP_TZ, False, "Reset period window end time"),
        Column("ENVIRONMENT_ID", VARCHAR, True, "Identifier for the associated environment"),
    ),
)

USAGE_EVENTS = Table(
    name="USAGE_EVENTS",
    title="Represents the raw usage events associated with a customer.",
    description=("To enable reporting of raw usage events, please contact Stigg support."),
    references={"CUSTOMER_ID": "CUSTOMERS", "RESOURCE_ID": "CUSTOMER_RESOURCES"},
    incremental=True,
    split_by="ENVIRONMENT_ID",
    columns=(
        Column("ID", VARCHAR, True, "Usage event internal identifier"),
        Column("CUSTOMER_ID", VARCHAR, True, "Customer identifier"),
        Column("RESOURCE_ID", VARCHAR, False, "Resource identifier"),
        Column("EVENT_NAME", VARCHAR, True, "The name of the event"),
        Column("CREATED_AT", TIMESTAMP_TZ, True, "Creation time injested of the event"),
        Column(
            "TIMESTAMP",
            TIMESTAMP_TZ,
            True,
            "The timestamp of the event (What is passed to the request)",
        ),
        Column(
            "DIMENSIONS",
            VARCHAR,
            True,
            "Additional dimensions of the event which are used for the filtering and aggregation",
        ),
        Column("IDEMPOTENCY_KEY", VARCHAR, True, "The events unique key."),
        Column("ENVIRONMENT_ID", VARCHAR, True, "Identifier for the associated environment"),
    ),
)

COUPONS = Table(
    name="COUPONS",
    title="Coupon",
    description=("Represents a discount coupon that can be applied to a customer."),
    identifier="COUPON_ID",
    columns=(
        Column("ID", VARCHAR, True, "Coupon internal identifier"),
        Column("COUPON_ID", VARCHAR, True, "Coupon identifier"),
        Column("NAME", VARCHAR, True, "Coupon name"),
        Column("DESCRIPTION", VARCHAR, False, "Coupon description"),
        Column(
            "BILLING_ID",
            VARCHAR,
            False,
            "Identifier of the coupon in the billing solution that's integrated with Stigg, i.e. Stripe ID",
        ),
        Column(
            "BILLING_LINK_URL",
            VARCHAR,
            False,
            "URL for the coupon entity in the billing solution that's integrated with Stigg",
        ),
        Column("CREATED_AT", TIMESTAMP_TZ, True, "Creation date and time of the coupon"),
        Column("UPDATED_AT", TIMESTAMP_TZ, True, "Last update date and time of the coupon"),
        Column(
            "TYPE",
            VARCHAR,
            True,
            "Enum. Coupon discount type. Can be one of: FIXED, PERCENTAGE.",
            enum=("FIXED", "PERCENTAGE"),
        ),
        Column(
            "DISCOUNT_VALUE",
            NUMBER,
            True,
            "Represents the discount value either a fixed or percentage amount. Note: this field is deprecated, please use PERCENT_OFF and AMOUNTS_OFF instead.",
        ),
        Column(
            "AMOUNTS_OFF",
            VARCHAR,
            False,
            "Fixed price discounts in multiple-currency. List of JSON objects with the following structure: { amount: Float!; currency: String!; }",
        ),
        Column("PERCENT_OFF", NUMBER, False, "Percentage off discount"),
        Column(
            "STATUS",
            VARCHAR,
            True,
            "Enum. Coupon status. Can be one of: ACTIVE , ARCHIVED .",
            enum=("ACTIVE", "ARCHIVED"),
        ),
        Column("ADDITIONAL_META_DATA", VARCHAR, False, "Additional metadata"),
        Column("ENVIRONMENT_ID", VARCHAR, True, "Identifier for the associated environment"),
    ),
)

TABLES: tuple[Table, ...] = (
    CUSTOMERS,
    CUSTOMER_RESOURCES,
    SUBSCRIPTIONS,
    SUBSCRIPTION_PRICES,
    SUBSCRIPTION_ADDONS,
    SUBSCRIPTION_APPLIED_COUPONS,
    PRODUCTS,
    PLANS,
    ADDONS,
    PRICES,
    PACKAGE_ENTITLEMENTS,
    PROMOTIONAL_ENTITLEMENTS,
    FEATURES,
    ENTITLEMENTS,
    USAGE_MEASUREMENTS,
    USAGE_EVENTS,
    COUPONS,
)
TABLES_BY_NAME = {t.name: t for t in TABLES}
TABLES_BY_MODEL = {t.model: t for t in TABLES}


def model_for_folder(folder: str) -> str | None:
    """The spec model that an export folder holds, or None for a folder the doc does not know."""
    name = folder.lower()
    if name in TABLES_BY_MODEL:
        return name
    split = _split_table_of_folder(name)
    return split.model if split is not None else None


def file_environment(path: str) -> str | None:
    """The environment id that an export file's folder names (`usage_events_<id>/...`, in any
    case; the id as written), or None. Landing records it with each row (spec/raw_layer.py), and
    staging takes it where a row leaves ENVIRONMENT_ID out."""
    folder = path.split("/", 1)[0]
    if folder.lower() in TABLES_BY_MODEL:
        return None
    split = _split_table_of_folder(folder.lower())
    return folder[len(split.model) + 1 :] if split is not None else None


def _split_table_of_folder(name: str) -> Table | None:
    """The split table (Table.split_by) whose one-value folder `<model>_<value>` is `name`."""
    for table in TABLES:
        value = name.removeprefix(table.model + "_")
        if table.split_by and value and value != name:
            return table
    return None


# Stigg's two APIs spell some enum values differently; the doc's spelling wins. Staging compares
# a value's normalised form (upper case, each run of other characters one "_": the macro
# stigg_normalised_spelling) with each documented value's, and with these, already normalised.
ENUM_ALIASES: dict[str, str] = {
    "1_WEEK": "ONE_WEEK",
    "1_MONTH": "ONE_MONTH",
    "6_MONTH": "SIX_MONTH",
    "6_MONTHS": "SIX_MONTH",
    "SIX_MONTHS": "SIX_MONTH",
    "1_YEAR": "ONE_YEAR",
    "12_MONTHS": "ONE_YEAR",
}


def reference_target(table: Table, column: str) -> tuple[Table, str]:
    """The parent table and column that `table.column` refers to, under FOREIGN_KEYS_HOLD."""
    parent = TABLES_BY_NAME[table.references[column]]
    if column.endswith("_UUID") or FOREIGN_KEYS_HOLD == "internal" or parent.identifier is None:
        return parent, "ID"
    return parent, parent.identifier
