"""The project's SDL against Stigg's published API reference: every part of
orchestration/runtime/sources/api/schema.graphql names, in schema_checked.toml, the reference page
that confirmed it, or says "unverified". A part added to the SDL without an entry fails here."""

from __future__ import annotations

import tomllib

import graphql

from orchestration.runtime.sources.api import queries

CHECKED_PATH = queries.SCHEMA_PATH.with_name("schema_checked.toml")
UNVERIFIED = "unverified"
BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


def sdl_parts(schema: graphql.GraphQLSchema) -> dict[str, set[str]]:
    """Each type of the SDL and its parts: fields and their arguments (`field(argument)`), enum
    values, union members; a scalar is the one part `(scalar)`."""
    parts: dict[str, set[str]] = {}
    for name, kind in schema.type_map.items():
        if name.startswith("__") or name in BUILT_IN_SCALARS:
            continue
        if isinstance(kind, graphql.GraphQLObjectType | graphql.GraphQLInputObjectType):
            parts[name] = set()
            for field_name, field in kind.fields.items():
                parts[name].add(field_name)
                parts[name] |= {f"{field_name}({a})" for a in getattr(field, "args", {})}
        elif isinstance(kind, graphql.GraphQLEnumType):
            parts[name] = set(kind.values)
        elif isinstance(kind, graphql.GraphQLUnionType):
            parts[name] = {member.name for member in kind.types}
        else:
            parts[name] = {"(scalar)"}
    return parts


def _record() -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    record = tomllib.loads(CHECKED_PATH.read_text(encoding="utf-8"))
    return record.pop("pages"), record


def test_every_part_of_the_sdl_names_its_reference_page_or_says_unverified():
    pages, record = _record()
    schema = graphql.build_schema(queries.SCHEMA_PATH.read_text(encoding="utf-8"))
    parts = sdl_parts(schema)
    assert sorted(set(parts) - set(record)) == [], "types of the SDL with no entry"
    assert sorted(set(record) - set(parts)) == [], "entries for types the SDL does not have"
    for type_name, type_parts in parts.items():
        assert sorted(type_parts - set(record[type_name])) == [], f"{type_name}: no entry"
        assert sorted(set(record[type_name]) - type_parts) == [], f"{type_name}: not in the SDL"
        for part, source in record[type_name].items():
            assert source == UNVERIFIED or source in pages, (type_name, part, source)
    assert all(url.startswith("https://") for url in pages.values())


def test_a_field_added_to_the_sdl_without_an_entry_is_caught():
    _, record = _record()
    sdl = queries.SCHEMA_PATH.read_text(encoding="utf-8").replace(
        "type Customer {", "type Customer { loyaltyTier: String", 1
    )
    parts = sdl_parts(graphql.build_schema(sdl))
    assert parts["Customer"] - set(record["Customer"]) == {"loyaltyTier"}
