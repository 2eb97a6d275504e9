"""A files manifest is refused unless its ids and names are the ones the layout writes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from offboard.files.manifest import FORMAT, Manifest, now

GOOD = {"format": FORMAT, "orgId": "20011111", "delivery": "delta-1", "created": now(),
        "archives": {"00001.tar": {"size": 1, "sha256": "0" * 64, "files": 0}}, "files": {}}


@pytest.mark.parametrize("change", [
    {"orgId": "٢٠٠١١١١١"},  # Arabic-Indic digits: Python's \d and int() take them
    {"delivery": "delta-1٠"},  # an Arabic-Indic zero after an ASCII one
    {"archives": {"٠٠٠٠١.tar": {"size": 1, "sha256": "0" * 64, "files": 0}}},
], ids=["org", "delivery", "archive"])
def test_a_manifest_counts_in_ascii_digits_only(change):
    Manifest.model_validate(GOOD)
    with pytest.raises(ValidationError, match="should match pattern|is not an archive name"):
        Manifest.model_validate({**GOOD, **change})
