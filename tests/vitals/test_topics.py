import pytest
from hypothesis import given
from hypothesis import strategies as st

from vitals import topics
from vitals.topics import TopicError, TopicKind

gateway_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", fullmatch=True)


@given(gateway_ids, st.sampled_from(list(TopicKind)))
def test_build_then_parse(gateway: str, kind: TopicKind) -> None:
    parsed = topics.parse(topics.topic(gateway, kind))
    assert (parsed.gateway, parsed.kind) == (gateway, kind)


def test_topic_layout() -> None:
    assert topics.topic("gw-1", TopicKind.READINGS) == "homerpm/v1/gw-1/up/readings"
    assert topics.topic("gw-1", TopicKind.CONFIG) == "homerpm/v1/gw-1/down/config"
    assert topics.subscription(TopicKind.ALERTS) == "homerpm/v1/+/up/alerts"
    assert topics.shared("ingest", "a/b") == "$share/ingest/a/b"


@pytest.mark.parametrize("bad", ["", "a/b", "+", "#", "x" * 65, "-lead", "sp ace"])
def test_gateway_ids_are_single_safe_levels(bad: str) -> None:
    with pytest.raises(TopicError):
        topics.topic(bad, TopicKind.STATUS)


@pytest.mark.parametrize(
    "name",
    [
        "other/v1/gw/up/readings",
        "homerpm/v2/gw/up/readings",
        "homerpm/v1/gw/up/unknown",
        "homerpm/v1/gw",
        "homerpm/v1//status",
    ],
)
def test_parse_rejects_foreign_topics(name: str) -> None:
    with pytest.raises(TopicError):
        topics.parse(name)
