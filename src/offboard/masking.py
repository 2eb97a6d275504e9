"""The one place secrets are taken out of what this process shows: URLs, driver messages, errors.

A stack file's database URL holds `${VARIABLE}` where a password goes; `customer.database_urls`
fills it in from the environment at the moment of use and registers the value here, as a
customer's stack outputs register the secret of its key. Every
message that can name a database or carry an exception's text goes through `scrub` before it
reaches a person, a log, the journal or the bucket: each registered value becomes `***`, and
each URL in the text is masked by `mask_url`, which also covers a URL a driver names itself.
"""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus

MASK = "***"


def _spelled(text: str, times: int) -> str:
    """`text` percent-encoded `times` times, as a pattern."""
    for _ in range(times):
        text = quote(text, safe="")
    return re.escape(text)


def _any_spelling(char: str) -> str:
    """`char` as written, percent-encoded once (inside a parameter such as `odbc_connect=`) or twice."""
    return "(?:" + "|".join(_spelled(char, times) for times in range(3)) + ")"


def _user_part(times: int) -> re.Pattern[str]:
    """`scheme://user:PASSWORD@` with its separators percent-encoded `times` times, as SQLAlchemy
    reads it: the user up to the first `:`, the password up to the first `@`."""
    scheme, colon, slash, at = (_spelled(text, times) for text in ("://", ":", "/", "@"))
    return re.compile(rf"({scheme}(?:(?!{colon}|{slash}|{at}).)*{colon})(?:(?!{at}).)*(?={at})", re.IGNORECASE)


USER_PARTS = [_user_part(times) for times in range(3)]
SEPARATOR = f"(?:{_any_spelling(';')}|{_any_spelling('&')})"
# A query parameter or a DB2 connection-string part, the name also within a longer one
# (`sslpassword=`) as the stack file's validation reads it; its value runs to the next separator.
SETTING = re.compile(rf"((?:pwd|passwd|password)\s*{_any_spelling('=')}\s*)(?:(?!{SEPARATOR}).)*", re.IGNORECASE)
# A URL in a message, without the punctuation that may close the sentence around it.
URL = re.compile(r"""[a-z][\w+.-]*://\S*?(?=[.,:;!?)\]}'"]*(?:\s|$))""", re.IGNORECASE)

_filled_in: set[str] = set()


def mask_url(url: str) -> str:
    """`url` with `***` for its password wherever a URL can carry one: the user part, a `pwd`,
    `passwd` or `password` parameter, a DB2 connection-string part (`;PWD=...;`), each also
    percent-encoded once or twice. Read as text, never parsed: an unparsable URL is masked too."""
    for user_part in USER_PARTS:
        url = user_part.sub(rf"\g<1>{MASK}", url)
    return SETTING.sub(rf"\g<1>{MASK}", url)


def register_secret(value: str) -> None:
    """Remember a value filled into a URL, as written and as a URL may quote it: as
    `database_urls` fills it in, as a query value, and as SQLAlchemy renders a password and a
    database name (spaces, `+` and `/` kept)."""
    if value:
        _filled_in.update({value, quote(value, safe=""), quote_plus(value, safe=""),
                           quote(value, safe=" +"), quote(value, safe=" +/")})


def scrub(text: str) -> str:
    """`text` with `***` for every registered value (the longest first, so that none leaves a
    part of another; in any case: a library may lower-case what it quotes) and every URL in it
    masked."""
    if _filled_in:
        values = re.compile("|".join(map(re.escape, sorted(_filled_in, key=len, reverse=True))), re.IGNORECASE)
        text = values.sub(MASK, text)
    return URL.sub(lambda found: mask_url(found[0]), text)
