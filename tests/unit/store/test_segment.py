"""The schema-2 snapshot layout: encode, read the header, parse the prefix, parse one group."""

from __future__ import annotations

import json

import orjson
import pytest

from incident_tui.domain.errors import IncidentTuiError
from incident_tui.store import segment as seg

HOSTILE = [
    'quote " and backslash \\ and "events":{"1":{}} inside text',
    "line\u2028separator\u2029paragraph",
    "emoji 🧯 and combining é and RTL \u202e and NUL \x00 and ESC \x1b[31m",
    "}},{\"_meta\":",
    "",
]


def _events() -> dict[str, dict]:
    docs: dict[str, dict] = {}
    n = 0
    for inc in ["INC-1", "INC-2", "INC-ü\u2028", "INC-1"]:  # INC-1 again later: still one group
        for text in HOSTILE:
            n += 1
            docs[str(n)] = {"incident_id": inc, "text": text, "n": n}
    n += 1
    docs[str(n)] = {"text": "no incident"}
    n += 1
    docs[str(n)] = {"incident_id": 7, "text": "not a string"}
    return docs


def _snapshot(events: dict[str, dict], **tables: dict) -> bytes:
    meta = {"1": {"app": "incident-tui", "schema": 2, "gen": 3}}
    bodies = seg.group_bodies(events, "incident_id")
    high = max((int(k) for k in events if k.isdigit()), default=None)
    raw, segment = seg.encode_snapshot(meta, tables, "events", "incident_id", bodies, count=len(events), high=high)
    header = seg.read_header(raw[: seg.HEADER_LEN])
    assert header is not None
    assert seg.decode_prefix(lambda s, e: raw[s:e], header, len(raw))[1] == segment
    return raw


def _open(raw: bytes) -> tuple[dict, seg.Segment]:
    header = seg.read_header(raw[: seg.HEADER_LEN])
    assert header is not None
    return seg.decode_prefix(lambda s, e: raw[s:e], header, len(raw))


def test_snapshot_is_plain_json_with_the_table_last_and_everything_in_it():
    events = _events()
    incidents = {"1": {"id": "INC-1", "title": "a \u2028 b"}}
    raw = _snapshot(events, incidents=incidents, samples={})
    whole = json.loads(raw)  # the standard library (TinyDB's own parser) reads it
    assert list(whole) == ["_meta", "incidents", "samples", "events"]
    assert whole["events"] == events
    assert whole["incidents"] == incidents
    assert list(whole["_meta"]["1"])[0] == seg.SEGMENT_FIELD


def test_prefix_gives_every_other_table_and_the_index():
    events = _events()
    raw = _snapshot(events, incidents={"1": {"id": "INC-1"}})
    data, segment = _open(raw)
    assert data["incidents"] == {"1": {"id": "INC-1"}}
    assert data["events"] == {}
    assert data["_meta"]["1"] == {"app": "incident-tui", "schema": 2, "gen": 3}
    assert segment.count == len(events) and segment.high == len(events)
    assert set(segment.groups) == {"INC-1", "INC-2", "INC-ü\u2028", None}


@pytest.mark.parametrize("group", ["INC-1", "INC-2", "INC-ü\u2028", None])
def test_one_group_parses_from_its_slice_alone(group):
    events = _events()
    raw = _snapshot(events)
    _, segment = _open(raw)
    span = segment.span(group)
    assert span is not None
    got = seg.decode_group(raw[span[0]:span[1]], "incident_id", group)
    want = {k: v for k, v in events.items() if seg.group_key(v, "incident_id") == group}
    assert got == want
    assert list(got) == sorted(got, key=int)  # id order inside the group


def test_decode_all_gives_the_table_in_id_order():
    events = _events()
    raw = _snapshot(events)
    _, segment = _open(raw)
    got = seg.decode_all(raw[segment.start:segment.end], segment)
    assert got == events and list(got) == list(events)


def test_missing_group_and_empty_table():
    raw = _snapshot({})
    data, segment = _open(raw)
    assert segment.groups == {} and segment.count == 0 and segment.high is None
    assert segment.span("INC-1") is None
    assert json.loads(raw)["events"] == {}
    assert seg.decode_all(raw[segment.start:segment.end], segment) == {}


def test_huge_documents():
    big = "x" * 3_000_000 + "\u2028" + "é" * 500_000
    events = {"1": {"incident_id": "A", "text": big}, "2": {"incident_id": "B", "text": "small"}}
    raw = _snapshot(events)
    _, segment = _open(raw)
    a, b = segment.span("A"), segment.span("B")
    assert seg.decode_group(raw[a[0]:a[1]], "incident_id", "A")["1"]["text"] == big
    assert seg.decode_group(raw[b[0]:b[1]], "incident_id", "B") == {"2": events["2"]}


def test_a_file_without_header_is_left_to_the_full_parser():
    old = orjson.dumps({"_meta": {"1": {"app": "incident-tui", "schema": 1}}, "events": {}})
    assert seg.read_header(old[: seg.HEADER_LEN]) is None
    assert seg.read_header(b"") is None
    assert seg.read_header(b"[1, 2]") is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda raw: raw[:-1],  # truncated by one byte
        lambda raw: raw[: len(raw) // 2],
        lambda raw: raw + b" ",  # longer than the header says
        lambda raw: raw.replace(b'"segment":"0000', b'"segment":"00x0', 1),
        lambda raw: raw.replace(b'"segment":"0000', b'"segment":"9999', 1),
        lambda raw: raw.replace(b'"groups":[[', b'"groups":[[1,', 1),
        lambda raw: raw.replace(b'"count":', b'"count":-', 1),
    ],
    ids=["cut1", "half", "longer", "letters", "offset-past-end", "bad-group", "bad-count"],
)
def test_inconsistent_files_are_refused(mangle):
    raw = mangle(_snapshot(_events(), incidents={"1": {"id": "x"}}))
    with pytest.raises((seg.SegmentError, orjson.JSONDecodeError)):
        header = seg.read_header(raw[: seg.HEADER_LEN])
        assert header is not None
        seg.decode_prefix(lambda s, e: raw[s:e], header, len(raw))


def test_a_slice_that_is_not_its_group_is_refused():
    events = _events()
    raw = _snapshot(events)
    _, segment = _open(raw)
    a = segment.span("INC-1")
    b = segment.span("INC-2")
    with pytest.raises(seg.SegmentError):
        seg.decode_group(raw[b[0]:b[1]], "incident_id", "INC-1")  # someone else's documents
    with pytest.raises(seg.SegmentError):
        seg.decode_group(raw[a[0] + 1:a[1]], "incident_id", "INC-1")  # off by one
    with pytest.raises(seg.SegmentError, match="checksum"):
        segment.check("INC-1", raw[a[0]:a[1] - 1] + b" ")  # same length, one byte changed
    assert segment.check("INC-1", raw[a[0]:a[1]]) == raw[a[0]:a[1]]
    assert issubclass(seg.SegmentError, IncidentTuiError)


def test_wrong_count_in_the_index_is_refused_when_everything_is_read():
    events = _events()
    raw = _snapshot(events)
    _, segment = _open(raw)
    lying = seg.Segment(segment.table, segment.key, segment.start, segment.end, segment.groups, segment.ranges,
                        segment.crcs, 3, segment.high)
    with pytest.raises(seg.SegmentError, match="index says 3"):
        seg.decode_all(raw[segment.start:segment.end], lying)


def test_id_ranges_name_the_groups_that_may_hold_a_document():
    events = _events()
    raw = _snapshot(events)
    _, segment = _open(raw)
    for doc_id, doc in events.items():
        group = seg.group_key(doc, "incident_id")
        assert group in segment.groups_holding(int(doc_id))
    assert segment.groups_holding(10_000) == []
    assert segment.ranges["INC-2"] == (6, 10)
