"""Preflight: what a delivery needs from outside the stack file, checked before anything runs, so
that a wrong folder, URL, variable or mapping shows at once instead of when its step comes, after
a dozen people's steps. `offboard check <stack>`, the first machine step of each delivery
(runbooks/modules/preflight.check.py.j2, right before the catalog check's step) and, for what
needs no connection, `offboard runbook render`.

It reads and writes nothing but a connection opened and closed, folder permissions and one listing
of the bucket with the customer's key. Each problem is one line: what is wrong, where (the stack
file's setting, side, database or store), what to do; no value of a `${VARIABLE}` and no key is
ever shown. A finding blocks or warns:

- A `${VARIABLE}` of a database URL not set here; staging or production not given (the source may
  be: IBM's side then runs the exports); a database that does not answer (a short connect timeout
  on PostgreSQL; DB2 keeps its driver's); a content store root missing, not a folder or not
  readable, or, in a target, not writable: blocks.
- The user mapping (`offboard:fixup.userMapping`) not sane: blocks, except for the initial
  delivery, which does not read it (a warning); not given at all: blocks the delta only.
- Coverage, where the source answers: the org's people the mapping lacks warn, since the fix-up
  lists them and a person decides (`offboard db accept-unmapped`, offboard.fixup.unmapped).
- The backend: the embedded endpoint not running or the Pulumi CLI missing blocks, except in the
  initial delivery, whose provision step follows at once and says the same (a warning); the stack
  not provisioned warns (that step makes it) and blocks the delta; the customer's key refused on
  its bucket blocks.
- The catalog check's blocking findings (offboard.db.check), in `offboard check` only: render and
  the workflows' next step run that check themselves.

At render only what is read without connecting is checked, and only a user mapping the delta
cannot use refuses it (its fix-up module would fail); the rest is a warning line, since rendering
is for review and may happen where the stores and databases are not at hand (the README renders
the example stack): a variable can be set, a folder made, after rendering, and the step checks it
all when it runs.

Modules: `model` (findings and the report), `checks` (each check), `run` (the whole, and its
entry points, re-exported here).
"""

from offboard.preflight.model import BLOCKS, WARNS, Finding, PreflightNote, Report
from offboard.preflight.run import before_render, check_stack, preflight, stage

__all__ = ["BLOCKS", "WARNS", "Finding", "PreflightNote", "Report", "before_render", "check_stack", "preflight", "stage"]
