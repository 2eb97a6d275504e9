"""The catalog against the live databases and content stores: `offboard catalog check <stack>`,
the check `offboard runbook render` runs before it writes a module, and the first machine step
of both workflows (runbooks/modules/catalog.check.py.j2), so that a catalog that is wrong about
a database stops the run before anything is exported, provisioned or imported.

It reads, and writes nothing anywhere. Every finding is one line naming the side, the database,
the table and the column, with a severity: `blocks` (the move would lose or refuse data) or
`note` (worth knowing, nothing is lost). What blocks, and why:

- A table of a catalogued schema that the catalog neither moves nor excludes, in the source:
  its rows would be left behind (in a target it is the MSP product's own table: a note). The
  table named by a database's `release` is known too.
- A catalogued table or column missing on any side: the export or the import would fail.
- A type that differs in kind (VARCHAR against CLOB, CHAR FOR BIT DATA against CHAR, ...).
  A length (or precision) that differs: narrower in a target than the catalog blocks (the
  source's values would not fit), wider is a note; in the source it is the other way round:
  wider than the catalog blocks (values the catalog's length refuses may exist there, and the
  import refuses them mid-way), narrower is a note.
- A live column the catalog leaves out. In a target: NOT NULL without a default blocks (every
  insert would fail), otherwise a note (it gets NULL or its default). In the source: it blocks
  when any of the org's rows holds a value in it (that data would not move), and is a note when
  all of them are NULL: nothing is lost now, and the check runs again before the delta export,
  when a value written since would block. Nullability alone says nothing about the org's data.
- A primary key other than the catalog's key, which may also hold the tenant column (a unique
  constraint or unique index on those columns serves as well): rows are matched by that key in
  the delta, the upsert and the deletes, and a key the database does not enforce duplicates or
  misses rows.
- Drift between the source and a target (when both are checked), per catalogued table: a
  moved column narrower or of another type in the target than in the source blocks, wider is a
  note; a column the catalog does not move that exists on one side only, or differs, is a
  note. The `release` values recorded on the two sides differ: blocks, or is a note while the
  catalog marks where the release is recorded as inferred (a guess cannot stop a move). A
  release kept in a name/value table is read from its row alone (`where`: column -> value), so
  the table's other rows (instance settings) never count as a release. A release table or
  column (or a `where` column) a side lacks is a note: the releases cannot be compared, and the
  columns of every moved table are compared anyway.
- Content: per content store, the org's binaries (the files its source rows point at, as
  offboard.db.content.org_content finds them: `content.path` columns, the store's layout applied
  to `content.id`, a `content.folder`) are counted under the source's store root; any missing
  one blocks, listed (the first 20, and how many). A folder the rows name that the store lacks
  holds no file to count: it is not seen here.
- A side the stack does not configure is a note; one that cannot be read is an error, except
  at `runbook render`, where it is a note and the workflow's check step reads it when it runs.

The modules, each using only those above it: `model` (findings and the result), `type_text`
(types as text, and how much a difference matters), `live` (what a database holds), `side` (one
side against the catalog), `drift` (the source against a target), `content` (the org's
binaries), `run` (the whole check and its entry points, re-exported here).
"""

from offboard.db.check.model import CatalogNote, CheckResult, ContentCount, Finding
from offboard.db.check.run import check_before_render, check_catalog, check_customer, run_check, stage

__all__ = ["CatalogNote", "CheckResult", "ContentCount", "Finding", "check_before_render", "check_catalog", "check_customer",
           "run_check", "stage"]
