"""The one rule for an export's CSV and NDJSON files (sources/text_files.py), on bytes worked out
by hand: the layout both engines are given, or the reason the file fails on both."""

from __future__ import annotations

import gzip
import io

import pytest

from orchestration.runtime.sources.text_files import (
    TextLayout,
    UnreadableFile,
    duckdb_csv_options,
    inspect,
    spark_csv_options,
)


def csv_layout(data: bytes) -> TextLayout:
    return inspect(io.BytesIO(data), "csv", gzipped=False)


def ndjson_layout(data: bytes, *, gzipped: bool = False) -> TextLayout:
    return inspect(io.BytesIO(data), "json", gzipped=gzipped)


def reason(data: bytes, fmt: str = "csv", *, gzipped: bool = False) -> str:
    with pytest.raises(UnreadableFile) as failed:
        inspect(io.BytesIO(data), fmt, gzipped=gzipped)
    return str(failed.value)


# --- CSV --------------------------------------------------------------------------------------


def test_an_rfc_4180_file_with_doubled_quotes_and_json_text_is_comma_delimited():
    data = (
        b'"ID","COUPON_ID","AMOUNTS_OFF"\n'
        b'"c1","coupon-partner","[{""amount"": 15.0, ""currency"": ""USD""}]"\n'
    )
    assert csv_layout(data) == TextLayout(("ID", "COUPON_ID", "AMOUNTS_OFF"), ",")


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [
        (b"ID;ADDON_ID;DESCRIPTION", ";"),
        (b"ID\tNAME", "\t"),
        (b"ID|NAME", "|"),
        (b'"A,B";C;D', ";"),  # the comma is inside quotes: two semicolons win
        (b"A,B;C", ","),  # one each: the first candidate wins
        (b"ID", ","),  # one column
    ],
)
def test_the_delimiter_is_the_candidate_found_most_often_outside_quotes_in_the_header(
    header, delimiter
):
    assert csv_layout(header + b"\n").delimiter == delimiter


def test_quoted_newlines_crlf_and_a_byte_order_mark_are_read():
    data = b'\xef\xbb\xbfID;NOTE\r\na1;"two\r\nlines; ""quoted"""\r\na2;plain\r\n'
    assert csv_layout(data) == TextLayout(("ID", "NOTE"), ";")


def test_an_empty_file_has_no_columns_and_a_header_alone_has_them():
    assert csv_layout(b"").is_empty
    assert csv_layout(b"ID,COUPON_ID\n") == TextLayout(("ID", "COUPON_ID"), ",")


def test_a_byte_that_is_not_utf8_fails_naming_its_line():
    assert reason(b"ID,NAME\np1,ok\np2,caf\xe9\n") == "not UTF-8: byte 0xe9 on line 3"


def test_a_record_with_more_or_fewer_fields_than_the_header_fails():
    assert reason(b"ID,NAME\ne1,a\ne2,b,c\n") == (
        "the record ending on line 3 has 3 fields, the header 2"
    )
    assert reason(b"ID,NAME,X\nm1,a,x\nm2,b\n") == (
        "the record ending on line 3 has 2 fields, the header 3"
    )


def test_a_quote_left_open_fails_rather_than_swallowing_the_rest_of_the_file():
    assert reason(b'ID,NAME\nq1,"open\nq2,b\n').startswith("not RFC 4180 CSV on line 3:")


def test_a_blank_line_in_a_one_column_file_fails_and_elsewhere_is_no_record():
    assert reason(b"ID\ns1\n\ns2\n").startswith("line 3 is blank in a one-column file")
    assert csv_layout(b"ID,NAME\nb1,a\n\nb2,b\n") == TextLayout(("ID", "NAME"), ",")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"ID,id\n", "column 'id' named twice in the header (raw's column names are lower case)"),
        (b"ID,,NAME\n", "an empty column name in the header"),
    ],
)
def test_column_names_are_unique_without_regard_to_case_and_not_empty(header, expected):
    assert reason(header) == expected


# --- NDJSON -----------------------------------------------------------------------------------


def test_ndjson_columns_are_the_keys_in_order_of_first_appearance():
    data = b'{"ID": "m1", "VALUE": 1}\n\n{"ID": "m2", "NESTED": {"a": [1]}, "VALUE": 2}\n'
    assert ndjson_layout(data) == TextLayout(("ID", "VALUE", "NESTED"))
    assert ndjson_layout(gzip.compress(data), gzipped=True) == TextLayout(("ID", "VALUE", "NESTED"))


def test_a_line_that_is_not_a_json_object_fails_naming_the_line():
    broken = b'{"ID": "pr1"}\n{"ID": "pr2", "BILLING_MODEL": oops}\n'
    assert reason(broken, "json") == "Malformed JSON on line 2, column 32: Expecting value"
    assert reason(b'{"ID": "a"}\n[1, 2]\n', "json") == "line 2 is JSON but not an object"


def test_keys_that_differ_only_in_case_fail():
    data = b'{"ID": "a"}\n{"id": "b"}\n'
    assert reason(data, "json") == "keys 'ID' and 'id' differ only in case (line 2)"


def test_a_gzip_stream_cut_short_fails():
    whole = gzip.compress(b"".join(b'{"ID": "m%d"}\n' % i for i in range(5000)))
    assert reason(whole[: len(whole) // 2], "json", gzipped=True).startswith(
        "not a whole gzip stream"
    )


def test_an_ndjson_file_of_blank_lines_has_no_columns():
    assert ndjson_layout(b"\n  \n").is_empty


# --- the engines' options ---------------------------------------------------------------------


def test_both_engines_are_given_the_same_dialect_and_nothing_is_sniffed():
    layout = TextLayout(("ID", "NOTE"), ";")
    duckdb, spark = duckdb_csv_options(layout), spark_csv_options(layout)
    assert duckdb["auto_detect"] is False and duckdb["strict_mode"] is True
    assert (duckdb["delim"], duckdb["quote"], duckdb["escape"]) == (";", '"', '"')
    assert (spark["sep"], spark["quote"], spark["escape"]) == (";", '"', '"')
    assert spark["mode"] == "FAILFAST" and spark["multiLine"] == "true"
    assert duckdb["columns"] == {"ID": "VARCHAR", "NOTE": "VARCHAR"}
