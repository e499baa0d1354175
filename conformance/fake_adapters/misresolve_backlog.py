#!/usr/bin/env python3
"""A fake implementation with one deliberate bug: it skips the server-wide value of
`socket.backlog` (SPEC §3 step 2), so a listener gets the built-in 1024 instead.

Everything else is the sketch beside it; the few cases that exercise `server.socket.backlog`
must fail with a one-line diff, every other case must pass.
"""

import sys

import spec_sketch

spec_sketch.IGNORE_SERVER_WIDE.add("socketBacklog")
sys.exit(spec_sketch.main(sys.argv))
