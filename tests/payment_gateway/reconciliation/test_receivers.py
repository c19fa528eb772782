"""What Daraja posts for reconciliation (Transaction Status results, C2B confirmations) is checked
like an STK callback before anything is stored: the source allow-list and the size limit."""

from __future__ import annotations

import pytest

from tests.payment_gateway.stack import StackFactory

PATHS = [
    "/v1/callbacks/result/some-token",
    "/v1/callbacks/result/some-token/timeout",
    "/v1/callbacks/c2b/some-token/confirmation",
    "/v1/callbacks/c2b/some-token/validation",
]


@pytest.mark.parametrize("path", PATHS)
async def test_a_post_from_outside_the_allow_list_is_refused_and_stores_nothing(
    make_stack: StackFactory, path: str
) -> None:
    async with make_stack(gateway={"CALLBACK_ALLOWED_CIDRS": ["196.201.214.0/24"]}) as stack:
        async with stack.client_from("41.90.1.2") as client:
            refused = await client.post(path, json={"Result": {"ResultCode": 0}})
        assert refused.status_code == 403
        assert refused.json()["error"] == "CallbackSourceRefused"
        assert await stack.scalar("SELECT count(*) FROM gateway.result_inbox") == 0
        assert await stack.scalar("SELECT count(*) FROM gateway.mpesa_record") == 0
        # From Safaricom's range the same post gets as far as the token check.
        async with stack.client_from("196.201.214.207") as client:
            unknown = await client.post(path, json={"Result": {"ResultCode": 0}})
        assert unknown.status_code == 404


async def test_a_body_over_the_limit_is_refused(make_stack: StackFactory) -> None:
    async with make_stack(gateway={"CALLBACK_MAX_BYTES": 1024}) as stack:
        async with stack.client_from("127.0.0.1") as client:
            response = await client.post("/v1/callbacks/result/some-token", content=b"x" * 2048)
        assert response.status_code == 413
        assert response.json()["error"] == "CallbackTooLarge"
