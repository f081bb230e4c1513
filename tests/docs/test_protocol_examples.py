"""Every JSON example in docs/protocol.md must decode with the real wire models."""

import json
import re
from pathlib import Path

import pytest

from vitals import wire

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
EXAMPLES = re.findall(r"```json\n(.*?)\n```", DOC.read_text(), flags=re.S)


def test_the_doc_has_an_example_per_message_type() -> None:
    types = {json.loads(example)["type"] for example in EXAMPLES}
    assert types == {"readings", "alerts", "events", "status", "ack", "config"}


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_decodes_and_reencodes_identically(example: str) -> None:
    message = wire.decode(example)
    assert json.loads(wire.encode(message)) == json.loads(example)
