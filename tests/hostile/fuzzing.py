"""How long the fuzzers run: ``SPREADGATE_FUZZ_EXAMPLES`` inputs each (default 200), no deadline."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("SPREADGATE_FUZZ_EXAMPLES", "200"))
# A fuzzer that talks to a real gateway sends one request per input: a quarter as many.
GATEWAY_EXAMPLES = max(EXAMPLES // 4, 10)

fuzz = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
fuzz_gateway = settings(max_examples=GATEWAY_EXAMPLES, deadline=None,
                        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
