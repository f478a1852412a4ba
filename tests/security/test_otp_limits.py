"""One-time signature codes are limited per signer, not per address: two co-buyers signing at one sales
stand (one public IP) each get their own codes; a looser ceiling still holds per address."""
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.personalize.services import buyers, contracts
from tests.factories import make_user
from tests.personalize.conftest import frozen, world  # noqa: F401  (fixtures)
from tests.personalize.test_esign_builtin import _base, _send, as_user, contract  # noqa: F401  (fixtures)

CODES_PER_SIGNER = 5  # ESIGN_OTP_RATE_LIMIT's default


@pytest.fixture
def co_buyer(world, contract, run_jobs):
    co = make_user("customer", name="Carlos Cocomprador")
    buyers.link_unit(co, world["units"][0])
    db.session.commit()
    contracts.request_contract(contract.selection)  # the co-buyer goes into a new contract
    db.session.commit()
    run_jobs()
    return co, contracts.current_contract(contract.selection_id)


def _ask(client, base):
    return client.post(base + "/assinar/codigo", data={"channel": "email"}).status_code


def test_two_signers_behind_one_address_each_get_their_codes(app, world, co_buyer, as_user, frozen):
    assert app.config["ESIGN_OTP_RATE_LIMIT"] == f"{CODES_PER_SIGNER} per 10 minutes"
    co_buyer, contract = co_buyer
    _send(world, contract, as_user)
    base = _base(world)
    for n in range(CODES_PER_SIGNER):  # interleaved, as at a sales stand; a minute apart (resend wait)
        assert _ask(as_user(world["a"]), base) == 302, n
        if n < CODES_PER_SIGNER - 1:
            assert _ask(as_user(co_buyer), base) == 302, n
        frozen.shift(timedelta(seconds=61))
    assert _ask(as_user(world["a"]), base) == 429  # the 6th for this signer
    assert _ask(as_user(co_buyer), base) == 302    # the other signer's 5th still goes out


def test_the_address_ceiling_still_holds(app, world, co_buyer, as_user, frozen):
    app.config["ESIGN_OTP_IP_RATE_LIMIT"] = "3 per 10 minutes"
    co_buyer, contract = co_buyer
    try:
        _send(world, contract, as_user)
        base = _base(world)
        assert [_ask(as_user(world["a"]), base), _ask(as_user(co_buyer), base)] == [302, 302]
        frozen.shift(timedelta(seconds=61))
        assert _ask(as_user(world["a"]), base) == 302
        frozen.shift(timedelta(seconds=61))
        assert _ask(as_user(co_buyer), base) == 429
    finally:
        app.config["ESIGN_OTP_IP_RATE_LIMIT"] = "30 per 10 minutes"
