"""The GraphQL documents that the API source sends, made from the column map (spec/api.py).

Every document here is validated against `schema.graphql` by the tests, so a field that the
map asks for and the schema does not have fails there, not against Stigg.
"""

from __future__ import annotations

from pathlib import Path

from orchestration.spec.api import (
    API_MODELS_BY_MODEL,
    NESTED,
    ApiModel,
    Field,
    FromParent,
    JsonList,
)

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")

# A selection as a tree: each field -> the fields selected in it (none for a leaf).
Tree = dict[str, "Tree"]


def _add(tree: Tree, parts: list[str]) -> None:
    """Add a path (its fields, outermost first) to the tree."""
    for part in parts:
        tree = tree.setdefault(part, {})


def _render(tree: Tree) -> str:
    parts = []
    for name, children in tree.items():
        parts.append(f"{name} {{ {_render(children)} }}" if children else name)
    return " ".join(parts)


def _node_fields(api_model: ApiModel) -> Tree:
    """The fields of the node that the model's columns read; the parent's, the customer's and
    the rules' columns read none."""
    tree: Tree = {}
    for source in api_model.sources.values():
        match source:
            case Field(path=path, union_member=member):
                parts = path.split(".")
                if member is not None:  # the last field through a fragment on its member type
                    parts.insert(-1, f"... on {member}")
                _add(tree, parts)
            case JsonList(field=name, items=items):
                for item_path in items.values():
                    _add(tree, [name, *item_path.split(".")])
    return tree


def selection(model: str) -> str:
    """The node selection of a model, with the models nested in it and the fields that their
    parent references read."""
    api_model = API_MODELS_BY_MODEL[model]
    tree = _node_fields(api_model)
    for field_name, arguments, child in NESTED.get(model, ()):
        for source in API_MODELS_BY_MODEL[child].sources.values():
            if isinstance(source, FromParent):
                tree.setdefault(source.field, {})
        tree[f"{field_name}{arguments} {{ {selection(child)} }}"] = {}
    return _render(tree)


def list_query(model: str) -> str:
    """One page of a list: `$filter`, `$paging` and `$sorting` are the request's variables, of
    the types that the map names for the list (spec/api.py)."""
    api_model = API_MODELS_BY_MODEL[model]
    return (
        f"query {api_model.operation}($filter: {api_model.filter_type}!, $paging: CursorPaging!, "
        f"$sorting: [{api_model.sort_type}!]!) {{ {api_model.query}(filter: $filter, "
        f"paging: $paging, sorting: $sorting) {{ edges {{ node {{ {selection(model)} }} }} "
        "pageInfo { hasNextPage endCursor } } }"
    )


# A key's environment, when STIGG_API_KEYS does not say it: every listed node carries it.
ENVIRONMENT_PROBE_QUERY = (
    "query EnvironmentProbe { features(paging: {first: 1}) { edges { node { environmentId } } } "
    "customers(paging: {first: 1}) { edges { node { environmentId } } } "
    "products(paging: {first: 1}) { edges { node { environmentId } } } }"
)

# The customers whose entitlements are asked for, in full: a light list beside CUSTOMERS.
ENTITLEMENT_CUSTOMERS_QUERY = (
    "query EntitlementCustomers($paging: CursorPaging!, "
    f"$sorting: [{API_MODELS_BY_MODEL['customers'].sort_type}!]!) {{ "
    "customers(paging: $paging, sorting: $sorting) { edges { node { id customerId environmentId } } "
    "pageInfo { hasNextPage endCursor } } }"
)


def entitlements_query() -> str:
    return (
        "query Entitlements($query: FetchEntitlementsQuery!) { entitlements(query: $query) { "
        f"{selection('entitlements')} }} }}"
    )


def all_documents() -> dict[str, str]:
    """Every document the source sends, by operation name (for the schema test)."""
    documents = {
        api_model.operation: list_query(m)
        for m, api_model in API_MODELS_BY_MODEL.items()
        if api_model.query is not None
    }
    documents["EnvironmentProbe"] = ENVIRONMENT_PROBE_QUERY
    documents["EntitlementCustomers"] = ENTITLEMENT_CUSTOMERS_QUERY
    documents["Entitlements"] = entitlements_query()
    return documents
