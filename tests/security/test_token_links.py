"""Links answered without login (CS NPS, satisfaction survey after signature): no account id, survey id or
e-mail readable in any part of the URL, they expire (SURVEY_LINK_MAX_AGE_DAYS, "link expirado", 410),
a changed character is 404, and they stay single-use."""
import base64
import binascii
import json
import re
from datetime import timedelta
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import select

from portal.cs.nps_models import NpsSurvey
from portal.cs.services import accounts as account_services
from portal.extensions import db
from portal.personalize.services import surveys
from portal.personalize.surveys import SatisfactionSurvey
from tests.cs.conftest import cs_team, make_account  # noqa: F401  (fixture)
from tests.personalize.conftest import NOW, frozen, world  # noqa: F401  (fixtures)
from tests.personalize.test_survey import signed_envelope

CONTACT = "marina.segredo@alfa.com.br"


def _decoded_parts(url: str) -> list[str]:
    """Every path segment and query value, split at the separators a token may use, base64-decoded where it
    decodes (with or without padding), plus the raw text: what anyone holding the link can read."""
    parts = urlsplit(url)
    pieces = [unquote(p) for p in parts.path.split("/") + re.split(r"[&=]", parts.query) if p]
    out = []
    for piece in pieces:
        for chunk in [piece, *re.split(r"[.:~]", piece)]:
            out.append(chunk)
            for decode in (base64.urlsafe_b64decode, base64.b64decode):
                try:
                    out.append(decode(chunk + "=" * (-len(chunk) % 4)).decode("utf-8", "replace"))
                except (binascii.Error, ValueError):
                    pass
    return out


def _json_numbers(text: str) -> set[int]:
    try:
        value = json.loads(text)
    except ValueError:
        return set()
    found, stack = set(), [value]
    while stack:
        item = stack.pop()
        if isinstance(item, bool):
            continue
        if isinstance(item, int):
            found.add(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return found


def _assert_opaque(url: str, email: str, ids: set[int]) -> None:
    decoded = _decoded_parts(url)
    assert not [d for d in decoded if email.lower() in d.lower() or email.split("@")[0] in d], url
    assert not [d for d in decoded if _json_numbers(d) & ids], url


def _tampered(path: str) -> str:
    """One character of the token changed (the payload's first one)."""
    head, token = path.rsplit("/", 1)
    return f"{head}/{('A' if token[0] != 'A' else 'B')}{token[1:]}"


@pytest.fixture
def nps_account(app, cs_team):  # noqa: F811
    account = make_account(cs_team["caio"], name="Alfa Engenharia")
    account_services.save_contact(account, {"name": "Marina Alfa", "email": CONTACT, "phone": "",
                                            "role": "decision"})
    db.session.commit()
    return account


def test_nps_link_is_opaque_expires_and_refuses_tampering(app, client, nps_account, frozen):  # noqa: F811
    url = str(nps_account.nps_link)  # what the rule prints into the e-mail and the SMS
    db.session.commit()
    survey = db.session.execute(select(NpsSurvey)).scalar_one()
    assert survey.email == CONTACT  # the survey still knows who it went to; the link does not say
    _assert_opaque(url, CONTACT, {nps_account.id, survey.id})
    path = urlsplit(url).path

    assert client.get(path).status_code == 200
    assert client.get(_tampered(path)).status_code == 404
    frozen.shift(timedelta(days=app.config["SURVEY_LINK_MAX_AGE_DAYS"], minutes=1))
    page = client.get(path)
    assert page.status_code == 410 and "Link expirado" in page.get_data(as_text=True)
    refused = client.post(path, data={"score": "9"})
    assert refused.status_code == 410
    db.session.expire_all()
    assert db.session.get(NpsSurvey, survey.id).answered_at is None  # nothing written


def test_nps_link_max_age_is_configurable_and_a_resend_counts_from_the_resend(app, client, nps_account, frozen):  # noqa: F811
    first = urlsplit(str(nps_account.nps_link)).path
    db.session.commit()
    frozen.shift(timedelta(days=20))
    db.session.expire_all()
    resent = urlsplit(str(db.session.get(type(nps_account), nps_account.id).nps_link)).path  # same survey
    db.session.commit()
    frozen.shift(timedelta(days=15))  # 35 days after the first send, 15 after the resend
    assert client.get(first).status_code == 410
    assert client.get(resent).status_code == 200
    app.config["SURVEY_LINK_MAX_AGE_DAYS"] = 10
    try:
        assert client.get(resent).status_code == 410
    finally:
        app.config["SURVEY_LINK_MAX_AGE_DAYS"] = 30
    assert client.post(resent, data={"score": "10"}).status_code == 200
    assert client.post(resent, data={"score": "0"}).status_code == 409  # still single-use


def test_satisfaction_link_is_opaque_expires_and_refuses_tampering(app, client, world, frozen):  # noqa: F811
    ana = world["a"]
    envelope = signed_envelope(world["units"][0], ana, world["staff"])
    url = surveys.link_for_envelope(envelope)
    db.session.commit()
    survey = db.session.execute(select(SatisfactionSurvey)).scalar_one()
    _assert_opaque(url, ana.email, {survey.id, ana.id, envelope.id, envelope.development_id})
    path = urlsplit(url).path

    assert client.get(_tampered(path)).status_code == 404
    frozen.shift(timedelta(days=app.config["SURVEY_LINK_MAX_AGE_DAYS"], minutes=1))
    page = client.get(path)
    assert page.status_code == 410 and "Link expirado" in page.get_data(as_text=True)
    assert client.post(path, data={"score": "5"}).status_code == 410
    db.session.expire_all()
    assert db.session.get(SatisfactionSurvey, survey.id).answered_at is None  # nothing written
    frozen.move_to(NOW + timedelta(days=2))  # within its days: answers once
    assert client.post(path, data={"score": "5"}).status_code == 200
    again = client.post(path, data={"score": "1"})
    db.session.expire_all()
    assert again.status_code == 200 and db.session.get(SatisfactionSurvey, survey.id).score == 5
