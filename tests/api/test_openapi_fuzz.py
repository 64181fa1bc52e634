"""Schemathesis against the service's own OpenAPI: generated requests never get a 5xx.

Bounded: MAX_EXAMPLES per operation, derandomised, so the run takes well under a minute.
The operations are driven with Hypothesis directly, because schemathesis' lazy pytest
fixture loader does not work with pytest 9. The same check by hand against a running
service::

    schemathesis run http://127.0.0.1:3000/docs.json \
        -H "Authorization: Bearer $CXCHURN_API_KEY" --checks not_a_server_error \
        --max-examples 50
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 15


def test_no_operation_answers_generated_requests_with_a_server_error(service):
    schema = schemathesis.openapi.from_url(service.url + "/docs.json")
    failures: dict[str, str] = {}
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=service.url, headers=service.headers(),
                                   checks=[not_a_server_error])

        try:
            check()
        except Exception as err:  # collect every failing operation, then report them all
            failures[label] = str(err)[:800]
        tested.append(label)
    assert {"POST /score", "POST /explain", "GET /metadata"} <= set(tested)
    assert not failures, failures
