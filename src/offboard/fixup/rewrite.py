"""The rules applied to single values."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping

from offboard.fixup.rules import Rules


class Rewriter:
    """The rules applied to single values, counting what it changed and which users it lacked."""

    def __init__(self, rules: Rules, users: Mapping[str, str]) -> None:
        self.rules = rules
        self.users = dict(users)
        self.known_targets = set(users.values())
        hosts = "|".join(re.escape(host) for host in sorted(rules.hosts, key=len, reverse=True))
        # A whole host name: not part of a longer name on either side (a trailing dot may end a sentence).
        self.host_pattern = re.compile(rf"(?<![\w.-])(?:{hosts})(?![\w-]|\.[\w-])", re.IGNORECASE)
        self.org_patterns = [re.compile(p) for p in rules.org.in_text]
        self.user_patterns = [re.compile(p) for p in rules.users.in_text]
        self.unmapped: dict[str, set[str]] = {}

    def text(self, value: str, tally: Counter, where: str) -> str:
        value, count = self.host_pattern.subn(lambda m: self.rules.hosts[m[0].lower()], value)
        tally["hosts"] += count
        for pattern in self.org_patterns:
            value = pattern.sub(lambda m: _replace_id(m, self.org(m["id"], tally, where)), value)
        for pattern in self.user_patterns:
            value = pattern.sub(lambda m: _replace_id(m, self.user(m["id"], tally, where)), value)
        return value

    def user(self, value: str, tally: Counter, where: str) -> str:
        if value in self.users:
            tally["users"] += 1
            return self.users[value]
        if value not in self.known_targets:
            self.unmapped.setdefault(value, set()).add(where)
        return value

    def org(self, value: str, tally: Counter, where: str) -> str:
        if value == self.rules.org.cloud:
            tally["orgs"] += 1
            return self.rules.org.target
        return value


def _replace_id(match: re.Match, new: str) -> str:
    start, end = match.span("id")
    whole = match[0]
    return whole[: start - match.start()] + new + whole[end - match.start():]


