"""The fix-up: the org's people, org ids and links rewritten for their new home, in its rows
and in the binaries that hold links."""
