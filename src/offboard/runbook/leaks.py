"""What must never leave through a text, a note or an error: the customer's key and bucket, and
(through `offboard.masking`) the database passwords this process filled in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from offboard.errors import OffboardError
from offboard.infra.outputs import StackOutputs
from offboard.masking import scrub

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
        """`text` without these values, and scrubbed of every password filled in and every URL's."""
        for value in self.values.values():
            text = text.replace(value, REDACTED)
        return scrub(text)

    def redact_figures(self, figures: Any) -> Any:
        """A step's figures as the journal keeps them: JSON values, each string (a key too) redacted,
        one by one: in the JSON text a value may be escaped, and a replacement may break the document."""
        if isinstance(figures, dict):
            return {self.redact(str(key)): self.redact_figures(value) for key, value in figures.items()}
        if isinstance(figures, (list, tuple)):
            return [self.redact_figures(value) for value in figures]
        if figures is None or isinstance(figures, (bool, int, float)):
            return figures
        return self.redact(str(figures))
