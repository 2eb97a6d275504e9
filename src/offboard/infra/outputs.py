"""A customer stack's outputs: where its bucket is and which key reaches it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr

from offboard.masking import register_secret
from offboard.project import write_private

SECRET_FILE = "secret_access_key"
OUTPUTS_FILE = "outputs.json"


class StackOutputs(BaseModel):
    model_config = ConfigDict(frozen=True)

    bucket: str
    region: str
    user: str
    group: str
    access_key_id: str
    access_key_created: str | None = None
    kms_key_arn: str | None = None
    # Only for the embedded backend: the endpoint's URL and the instance it was made on.
    endpoint_url: str | None = None
    endpoint_instance: str | None = None
    secret_access_key: SecretStr

    def model_post_init(self, context: Any) -> None:
        register_secret(self.secret_access_key.get_secret_value())  # no message of this process shows it

    def public(self) -> dict[str, Any]:
        """Everything but the secret, for files and logs."""
        return self.model_dump(exclude={"secret_access_key"})

    def shown(self, show_secrets: bool) -> dict[str, Any]:
        """What `stack outputs` prints: the secret only when asked for."""
        secret = self.secret_access_key.get_secret_value() if show_secrets else "[secret]"
        return {**self.public(), "secret_access_key": secret}

    def save(self, folder: Path, *, with_secret: bool = True) -> None:
        """The public outputs as JSON and the secret alone in a 0600 file (only where no backend
        keeps it: the embedded endpoint's; Pulumi keeps its own, encrypted)."""
        folder.mkdir(parents=True, exist_ok=True)
        if with_secret:
            write_private(folder / SECRET_FILE, self.secret_access_key.get_secret_value())
        (folder / OUTPUTS_FILE).write_text(json.dumps(self.public(), indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> StackOutputs | None:
        try:
            public = json.loads((folder / OUTPUTS_FILE).read_text(encoding="utf-8"))
            secret = (folder / SECRET_FILE).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return cls(**public, secret_access_key=secret)

    @classmethod
    def recorded(cls, folder: Path) -> StackOutputs | None:
        """The public outputs saved at `stack up`, with an empty secret: what a command that only
        shows the stack (plan, status) reads instead of asking its backend."""
        try:
            return cls(**json.loads((folder / OUTPUTS_FILE).read_text(encoding="utf-8")), secret_access_key="")
        except FileNotFoundError:
            return None

    @staticmethod
    def forget(folder: Path) -> None:
        for name in (OUTPUTS_FILE, SECRET_FILE):
            (folder / name).unlink(missing_ok=True)
