#!/usr/bin/env python3
"""Parses Prometheus text exposition with the reference Python client's parser.

Usage: prometheus_parse.py < metrics.txt
Prints a JSON array of metric families: {"name", "type", "samples": [{"name", "labels",
"value"}]}. Exits 1 when the text does not parse (the parser's error on stderr), 2 when the
`prometheus_client` library is missing (scripts/test installs it).
"""

import json
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError as e:
    print(f"prometheus_client is missing ({e}); run scripts/test", file=sys.stderr)
    sys.exit(2)

try:
    families = [
        {
            "name": f.name,
            "type": f.type,
            "samples": [
                {"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples
            ],
        }
        for f in text_string_to_metric_families(sys.stdin.read())
    ]
except Exception as e:  # the parser raises ValueError and others on malformed text
    print(f"not Prometheus text format: {e!r}", file=sys.stderr)
    sys.exit(1)
print(json.dumps(families))
