"""The public lead form (/f/<development>) and the customer portal's "Tenho interesse"."""
import re

import pytest
from sqlalchemy import func, select

from portal.automation.models import Event
from portal.extensions import db
from portal.presales.models import Lead, LeadContactKey, Narrative
from tests.factories import make_development, make_user


def counts():
    db.session.expire_all()
    found = {model.__name__: db.session.scalar(select(func.count()).select_from(model))
             for model in (Lead, Narrative, LeadContactKey)}
    found["Event"] = db.session.scalar(select(func.count(Event.id)).where(Event.type.like("lead.%")))
    return found


NOTHING = {"Lead": 0, "Narrative": 0, "LeadContactKey": 0, "Event": 0}


def form_token(client, slug="jardim-europa", query=""):
    page = client.get(f"/f/{slug}{query}").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def fill(client, slug="jardim-europa", token=None, **over):
    data = {"csrf_token": token or form_token(client, slug), "name": "Fernanda Rocha",
            "email": "fernanda.rocha@exemplo.com.br", "phone": "(11) 98765-4321", "message": "Quero visitar",
            "consent": "y", "website": "", **over}
    return client.post(f"/f/{slug}", data={k: v for k, v in data.items() if v is not None})


def test_form_page_is_embeddable_standalone_and_sets_no_cookie(client, sales):
    r = client.get("/f/jardim-europa")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "Residencial Jardim Europa" in page and 'name="consent"' in page and 'name="website"' in page
    assert 'class="hp-field"' in page and ".hp-field {" in page  # the honeypot is hidden by CSS
    assert "shell" not in page  # no staff layout
    assert "X-Frame-Options" not in r.headers
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp and "'none'" not in csp.split("frame-ancestors")[1]
    assert "default-src 'self'" in csp  # the rest of the policy stays
    assert "Set-Cookie" not in r.headers


def test_other_pages_still_refuse_framing(client, sales):
    r = client.get("/login")
    assert r.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


def test_unknown_development_is_404(client, sales):
    assert client.get("/f/nao-existe").status_code == 404
    assert client.post("/f/nao-existe", data={"name": "X"}).status_code == 404


def test_happy_path_creates_the_lead_with_consent_and_shows_thanks(client, sales):
    token = form_token(client, query="?utm_source=instagram&utm_campaign=lancamento")
    r = fill(client, token=token, utm_source="instagram", utm_campaign="lancamento")
    assert r.status_code == 302 and r.headers["Location"].endswith("/f/jardim-europa/obrigado")
    lead = db.session.execute(select(Lead)).scalar_one()
    assert lead.consent_at is not None
    assert (lead.channel.slug, lead.media.slug, lead.development_id) == ("site", "instagram", sales["dev"].id)
    assert (lead.email, lead.phone) == ("fernanda.rocha@exemplo.com.br", "+5511987654321")
    assert lead.extra == {"form": "public", "utm_source": "instagram", "utm_campaign": "lancamento"}
    assert lead.owner_id == sales["south_broker"].id
    thanks = client.get(r.headers["Location"])
    assert thanks.status_code == 200 and "Obrigado" in thanks.get_data(as_text=True)
    assert "X-Frame-Options" not in thanks.headers


def test_utm_source_prefills_the_hidden_field_and_unknown_media_is_ignored(client, sales):
    page = client.get("/f/jardim-europa?midia=radio-pirata").get_data(as_text=True)
    assert 'name="utm_source" type="hidden" value="radio-pirata"' in page
    assert fill(client, utm_source="radio-pirata").status_code == 302
    lead = db.session.execute(select(Lead)).scalar_one()
    assert lead.media_id is None and lead.extra["utm_source"] == "radio-pirata"


def test_duplicate_sees_the_same_thank_you_page(client, sales):
    first = fill(client)
    again = fill(client, name="Fernanda R.", email="", phone="11987654321")
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert counts()["Lead"] == 1
    assert db.session.scalar(select(func.count(Narrative.id)).where(Narrative.kind == "reentry")) == 1


def test_honeypot_filled_pretends_success_and_writes_nothing(client, sales):
    r = fill(client, website="http://spam.example")
    assert r.status_code == 302 and r.headers["Location"].endswith("/f/jardim-europa/obrigado")
    assert counts() == NOTHING


def test_consent_missing_is_a_field_error_and_writes_nothing(client, sales):
    r = fill(client, consent=None)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "precisamos do seu consentimento" in page and 'id="consent-error"' in page
    assert 'value="Fernanda Rocha"' in page  # what was typed stays
    assert counts() == NOTHING


@pytest.mark.parametrize("over, text", [
    ({"phone": "1234"}, 'id="phone-error"'),
    ({"email": "fernanda@", "phone": ""}, 'id="email-error"'),
    ({"email": "", "phone": ""}, "Informe um e-mail ou um telefone"),
    ({"name": ""}, 'id="name-error"'),
])
def test_bad_contact_is_shown_next_to_the_field_and_writes_nothing(client, sales, over, text):
    r = fill(client, **over)
    assert r.status_code == 422
    assert text in r.get_data(as_text=True)
    assert counts() == NOTHING


@pytest.mark.parametrize("token", ["", "forged", None])
def test_missing_or_forged_form_token_is_refused(client, sales, token):
    data = {"name": "Fernanda Rocha", "email": "fernanda@exemplo.com.br", "consent": "y"}
    if token is not None:
        data["csrf_token"] = token
    r = client.post("/f/jardim-europa", data=data)
    assert r.status_code == 400 and "O formulário expirou" in r.get_data(as_text=True)
    assert counts() == NOTHING


def test_a_token_from_another_developments_form_is_refused(client, sales):
    make_development("Edifício Aurora", slug="aurora")
    r = fill(client, token=form_token(client, "aurora"))
    assert r.status_code == 400 and counts() == NOTHING


def test_form_works_without_any_session_cookie(app, client, sales):
    """As inside a cross-site iframe, where the browser sends no cookie: the token alone suffices."""
    token = form_token(client)
    fresh = app.test_client(use_cookies=False)
    assert fill(fresh, token=token).status_code == 302
    assert counts()["Lead"] == 1


def test_rate_limit_per_ip_answers_429_inside_the_frame(app, client, sales, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_RATE_LIMIT", "2 per minute")
    token = form_token(client)
    assert fill(client, token=token).status_code == 302
    assert fill(client, token=token, email="outra@exemplo.com.br", phone="11987650002").status_code == 302
    r = fill(client, token=token, email="terceira@exemplo.com.br", phone="11987650003")
    assert r.status_code == 429
    assert "Muitas tentativas" in r.get_data(as_text=True) and "X-Frame-Options" not in r.headers
    assert counts()["Lead"] == 2
    assert client.get("/f/jardim-europa").status_code == 200  # reading the form is not limited


# --- customer portal: "Tenho interesse" ---------------------------------------------------------------

def test_customer_interest_creates_a_portal_lead(client, sales, login_as):
    customer = make_user("customer", name="Helena Costa", phone="+5511987659999")
    login_as(customer)
    r = client.post("/pre-vendas/tenho-interesse", data={"development": "jardim-europa",
                                                         "message": "Quero saber do lançamento"})
    assert r.status_code == 302 and r.headers["Location"] == "/personalizacao/portal"
    assert "Recebemos seu interesse em Residencial Jardim Europa" in client.get(r.headers["Location"]).get_data(
        as_text=True)
    lead = db.session.execute(select(Lead)).scalar_one()
    assert (lead.name, lead.email, lead.phone) == ("Helena Costa", customer.email, "+5511987659999")
    assert lead.channel.slug == "portal" and lead.development_id == sales["dev"].id
    assert lead.extra == {"customer_user_id": customer.id}


def test_interest_is_for_customers_only(client, sales, login_as):
    login_as(sales["south_broker"])
    assert client.post("/pre-vendas/tenho-interesse", data={"development": "jardim-europa"}).status_code == 403
    assert counts() == NOTHING


def test_overlong_name_is_a_field_error_in_portuguese(client, sales):
    r = fill(client, name="A" * 161)
    assert r.status_code == 422 and "Use no máximo 160 caracteres." in r.get_data(as_text=True)
    assert counts() == NOTHING


def test_every_problem_shows_at_once(client, sales):
    r = fill(client, consent=None, phone="1234", email="fernanda@")
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'id="consent-error"' in page and 'id="phone-error"' in page and 'id="email-error"' in page
    assert page.count("Telefone inválido.") == 1
    assert counts() == NOTHING
