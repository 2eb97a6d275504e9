"""The databases of one org: catalog, export, import (staging/production), fix-up, verify.

catalog    the Connections databases and tables (runbooks/catalog/connections.yaml)
connect    engines from URLs (SQLite embedded, DB2 through ibm_db_sa), compiled statements
statements the SQL issued, as SQLAlchemy constructs (MERGE for DB2, ON CONFLICT for SQLite)
delfile    gzip'd, chunked DB2 DEL files
digest     row digests and the order-independent checksum
scan       streaming one org's rows out of a table
manifest   the delivery manifest, written last
export     org rows -> delivery folder (initial, delta-N)
load       delivery folder -> target databases
fixup      rewriting external references (hosts, org id, user ids)
verify     target vs manifest (or fix-up report)
content    the org's binaries in the shared content stores
"""
