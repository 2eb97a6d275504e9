"""What must never leave through a text, a note or an error: the customer's key and bucket."""

from __future__ import annotations

from dataclasses import dataclass, field

from offboard.errors import OffboardError
from offboard.infra.outputs import StackOutputs

REDACTED = "[redacted]"


@dataclass(frozen=True)
class Sensitive:
    values: dict[str, str] = field(default_factory=dict)  # what it is -> its value

    @classmethod
    def of(cls, outputs: StackOutputs | None, *, bucket: bool = False) -> Sensitive:
        """The key id and secret; with `bucket`, the bucket name too (support cases and tickets)."""
        if outputs is None:
            return cls()
        values = {
            "access key id": outputs.access_key_id,
            "secret access key": outputs.secret_access_key.get_secret_value(),
        }
        if bucket:
            values["bucket name"] = outputs.bucket
        return cls({label: value for label, value in values.items() if value})

    def found_in(self, text: str) -> list[str]:
        return [label for label, value in self.values.items() if value in text]

    def refuse(self, text: str, what: str) -> None:
        """Raise, naming what leaked but never its value, when `text` carries any of the values."""
        found = self.found_in(text)
        if found:
            raise OffboardError(f"{what} contains the {' and the '.join(found)}: refused, nothing written")

    def redact(self, text: str) -> str:
        for value in self.values.values():
            text = text.replace(value, REDACTED)
        return text
