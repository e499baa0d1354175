#!/usr/bin/env python3
"""A fake implementation that answers every file with an empty, valid §6 document.

It reads nothing, so nearly every case must fail against it: it shows what the runner prints
when listeners are missing, when the exit status is wrong and when expected errors are absent.
"""

import json
import sys

print(json.dumps({"listeners": [], "diagnostics": []}))
sys.exit(0)
