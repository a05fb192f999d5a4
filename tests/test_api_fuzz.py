"""Property-based API testing with Schemathesis: requests generated from our own OpenAPI
document, valid and invalid, against the real app over HTTP. No operation may answer 5xx, and
every answer must match the document (status code, content type, body schema)."""
from __future__ import annotations

import schemathesis
from schemathesis.core.parameters import ParameterLocation
from hypothesis import HealthCheck, settings

from bot.config import load_settings
from bot.openapi import document
from tests.helpers import EXAMPLE_CONFIG

KEY = {"Authorization": "Bearer demo-api-key-change-me-0123456789"}
# the document the app serves for this configuration (it names the products and the limits)
schema = schemathesis.openapi.from_dict(document(load_settings(EXAMPLE_CONFIG, env={})))


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_without_a_server_error(case, live_api):
    # A case whose headers were made invalid on purpose (no Authorization) is sent as it is: our
    # key added back made a request Schemathesis holds invalid succeed (ST201, a false alarm).
    negative_headers = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
    response = case.call(base_url=live_api, headers=None if negative_headers else KEY)
    case.validate_response(response)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_without_a_key_every_operation_is_refused(case, live_api):
    response = case.call(base_url=live_api, headers={"Authorization": "Bearer wrong-key-wrong-key-0000"})
    declared = case.method.upper() == case.operation.method.upper()
    # refused either way: for want of a key, or (for a method the operation lacks) before that
    assert response.status_code in ((401,) if declared else (401, 405)) and response.json()["error"]
