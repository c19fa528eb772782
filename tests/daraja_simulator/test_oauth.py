import base64
import re

from daraja_simulator.testing import KEY, OAUTH, PUSH, SECRET, Sim, SimFactory, assert_daraja_error


class TestGenerate:
    async def test_issues_a_token_with_expires_in_as_the_string_3599(self, sim: Sim) -> None:
        response = await sim.client.get(OAUTH, auth=(KEY, SECRET))

        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"access_token", "expires_in"}
        assert body["expires_in"] == "3599"
        assert re.fullmatch(r"[A-Za-z0-9]{28}", body["access_token"])

    async def test_expires_in_can_be_a_number(self, make_sim: SimFactory) -> None:
        async with make_sim(TOKEN_EXPIRES_IN_AS_NUMBER=True, TOKEN_TTL_S=120) as sim:
            response = await sim.client.get(OAUTH, auth=(KEY, SECRET))

        assert response.json()["expires_in"] == 120

    async def test_wrong_grant_type(self, sim: Sim) -> None:
        response = await sim.client.get(
            "/oauth/v1/generate?grant_type=password", auth=(KEY, SECRET)
        )

        assert_daraja_error(
            response, status=400, code="400.008.02", message="Invalid grant type passed"
        )

    async def test_missing_grant_type(self, sim: Sim) -> None:
        response = await sim.client.get("/oauth/v1/generate", auth=(KEY, SECRET))

        assert_daraja_error(
            response, status=400, code="400.008.02", message="Invalid grant type passed"
        )

    async def test_missing_authorization(self, sim: Sim) -> None:
        response = await sim.client.get(OAUTH)

        assert_daraja_error(
            response, status=400, code="400.008.01", message="Invalid Authentication passed"
        )

    async def test_not_basic_authorization(self, sim: Sim) -> None:
        encoded = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
        response = await sim.client.get(OAUTH, headers={"Authorization": f"Baerer {encoded}"})

        assert_daraja_error(
            response, status=400, code="400.008.01", message="Invalid Authentication passed"
        )

    async def test_garbage_basic_credentials(self, sim: Sim) -> None:
        response = await sim.client.get(OAUTH, headers={"Authorization": "Basic !!not-base64"})

        assert_daraja_error(
            response, status=400, code="400.008.01", message="Invalid Authentication passed"
        )

    async def test_wrong_secret(self, sim: Sim) -> None:
        response = await sim.client.get(OAUTH, auth=(KEY, "wrong-secret"))

        assert_daraja_error(
            response, status=400, code="400.008.01", message="Invalid Authentication passed"
        )

    async def test_wrong_secret_can_answer_a_bare_400(self, make_sim: SimFactory) -> None:
        async with make_sim(OAUTH_BAD_CREDENTIALS_EMPTY_BODY=True) as sim:
            response = await sim.client.get(OAUTH, auth=(KEY, "wrong-secret"))

        assert response.status_code == 400
        assert response.content == b""

    async def test_post_is_not_allowed(self, sim: Sim) -> None:
        response = await sim.client.post(OAUTH, auth=(KEY, SECRET))

        assert_daraja_error(response, status=405, code="405.001", message="Method Not Allowed")

    async def test_more_apps_through_settings(self, make_sim: SimFactory) -> None:
        apps = [
            {"consumer_key": "a-key", "consumer_secret": "a-secret"},
            {"consumer_key": "b-key", "consumer_secret": "b-secret"},
        ]
        async with make_sim(APPS=apps) as sim:
            assert (await sim.client.get(OAUTH, auth=("b-key", "b-secret"))).status_code == 200
            refused = await sim.client.get(OAUTH, auth=(KEY, SECRET))

        assert refused.status_code == 400


class TestBearer:
    async def test_a_new_token_invalidates_the_apps_previous_one(self, sim: Sim) -> None:
        first = await sim.token()
        second = await sim.token()

        refused = await sim.push(token=first)
        accepted = await sim.push(token=second, PhoneNumber="254711000100")

        assert_daraja_error(refused, status=404, code="404.001.03", message="Invalid Access Token")
        assert accepted.status_code == 200

    async def test_previous_tokens_survive_when_invalidation_is_off(
        self, make_sim: SimFactory
    ) -> None:
        async with make_sim(INVALIDATE_PREVIOUS_TOKEN=False) as sim:
            first = await sim.token()
            await sim.token()
            response = await sim.push(token=first)

        assert response.status_code == 200

    async def test_another_apps_token_is_not_invalidated(self, make_sim: SimFactory) -> None:
        apps = [
            {"consumer_key": "a-key", "consumer_secret": "a-secret"},
            {"consumer_key": "b-key", "consumer_secret": "b-secret"},
        ]
        async with make_sim(APPS=apps) as sim:
            token_a = await sim.token("a-key", "a-secret")
            await sim.token("b-key", "b-secret")
            response = await sim.push(token=token_a)

        assert response.status_code == 200

    async def test_a_token_expires_after_its_lifetime(self, sim: Sim) -> None:
        token = await sim.token()
        await sim.client.post("/simulator/clock/advance", json={"seconds": 3599})

        response = await sim.push(token=token)

        assert_daraja_error(response, status=404, code="404.001.03", message="Invalid Access Token")

    async def test_a_token_works_until_just_before_expiry(self, sim: Sim) -> None:
        token = await sim.token()
        await sim.client.post("/simulator/clock/advance", json={"seconds": 3598})

        response = await sim.push(token=token)

        assert response.status_code == 200

    async def test_control_api_invalidates_every_token(self, sim: Sim) -> None:
        token = await sim.token()

        invalidated = await sim.client.post("/simulator/tokens/invalidate")
        refused = await sim.push(token=token)
        accepted = await sim.push(PhoneNumber="254711000101")

        assert invalidated.json() == {"invalidated": 1}
        assert_daraja_error(refused, status=404, code="404.001.03", message="Invalid Access Token")
        assert accepted.status_code == 200

    async def test_missing_bearer_header(self, sim: Sim) -> None:
        response = await sim.client.post(PUSH, json=sim.push_body())

        assert_daraja_error(
            response, status=404, code="404.001.04", message="Invalid Authentication Header"
        )

    async def test_unknown_token(self, sim: Sim) -> None:
        response = await sim.push(token="c9SQxWWhmdVRlyh0zh8gZDTkubVF")

        assert_daraja_error(response, status=404, code="404.001.03", message="Invalid Access Token")
