"""The contract signature in a real Chromium (375 px and desktop): the buyer submits, chooses the payment,
opens the contract, receives the one-time code (read from the real SMTP server) and signs; staff send the
contract and countersign last; the buyer downloads the sealed PDF."""
import re

from playwright.sync_api import expect

from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize import signing
from portal.personalize.services import contracts
from tests.browser.conftest import ARTIFACTS, BROWSER, VIEWPORTS
from tests.browser.test_journeys import log_in
from tests.browser.test_personalize import radio
from tests.personalize.world import build_world

pytestmark = BROWSER


def _code(smtp, run_jobs, to) -> str:
    run_jobs()
    mails = [m for m in smtp.messages if to in m["to"] and "Código de assinatura" in m["message"]["Subject"]]
    assert mails
    return re.search(r"\b(\d{6})\b", mails[-1]["message"].get_content()).group(1)


def _sign_with_code(page, smtp, run_jobs, email, shot):
    page.get_by_label("E-mail").check()
    page.get_by_role("button", name="Enviar código").click()
    expect(page.locator(".flash-success")).to_contain_text("Enviamos um código de 6 dígitos")
    code = _code(smtp, run_jobs, email)
    page.get_by_label("Li o contrato e concordo").check()
    page.get_by_label("Código recebido").fill(code)
    page.shot(shot)
    page.get_by_role("button", name="Assinar contrato").click()
    expect(page.locator(".flash-success")).to_contain_text("Contrato assinado!")


def test_buyer_signs_staff_countersigns_and_the_buyer_downloads_the_signed_pdf(page, browser, live_url, run_jobs,
                                                                                smtp_server):
    w = build_world(utcnow())
    contracts.save_template(w["dev"], contracts.DEFAULT_TEMPLATE, w["staff"])
    db.session.commit()
    unit = w["units"][0]

    # the buyer chooses and submits
    log_in(page, w["a"].email)
    expect(page).to_have_url(re.compile(r"/personalizacao/portal$"), timeout=15_000)
    radio(page, w["items"]["torneira"], w["options"]["gourmet"]).check()
    expect(page.locator("#pz-total")).to_have_text("R$ 689,00")
    page.get_by_role("button", name="Revisar e enviar").click()
    page.get_by_role("button", name="Confirmar e enviar").click()
    expect(page.locator(".flash-success")).to_contain_text("Personalização enviada!")

    # ... picks the payment method; the worker renders the contract with it
    page.get_by_role("link", name="Contrato e forma de pagamento").click()
    page.get_by_label("PIX").check()
    page.get_by_role("button", name="Confirmar forma de pagamento").click()
    expect(page.locator(".flash-success")).to_contain_text("Forma de pagamento registrada")
    run_jobs()
    page.reload()
    expect(page.get_by_role("link", name="Abrir o contrato (PDF)")).to_be_visible()
    expect(page.locator("#assinatura")).to_contain_text("Quando a equipe enviar o contrato")

    # staff send it for signature (their own browser)
    staff_ctx = browser.new_context(base_url=live_url, viewport=VIEWPORTS[page.viewport_name], locale="pt-BR",
                                    timezone_id="America/Sao_Paulo", is_mobile=page.viewport_name == "phone")
    staff = staff_ctx.new_page()
    staff.shot = lambda name: staff.screenshot(path=str(ARTIFACTS / f"{name}-{page.viewport_name}.png"),
                                               full_page=True)
    log_in(staff, w["staff"].email)
    expect(staff).not_to_have_url(re.compile(r"/login"))
    staff.goto(f"/personalizacao/unidades/{unit.id}/contrato")
    staff.get_by_role("button", name="Enviar para assinatura").click()
    expect(staff.locator(".flash-success")).to_contain_text("Contrato enviado para assinatura")
    expect(staff.locator("#assinatura")).to_contain_text("Enviado para assinatura")

    # the buyer opens the contract and signs with the code from the e-mail
    page.reload()
    page.shot("sign-contract-page")
    page.get_by_role("link", name="Assinar contrato").click()
    expect(page.get_by_role("heading", name="Assinar contrato")).to_be_visible()
    with page.expect_popup() as popup:
        page.get_by_role("link", name="Abrir o contrato (PDF)").click()
    pdf_url = popup.value.url
    popup.value.close()
    assert page.request.get(pdf_url).body().startswith(b"%PDF")
    page.shot("sign-page")
    _sign_with_code(page, smtp_server, run_jobs, w["a"].email, "sign-code")
    expect(page.locator("#assinatura")).to_contain_text("Você já assinou")
    page.shot("sign-buyer-signed")

    # staff countersign last
    staff.reload()
    staff.get_by_role("link", name="Assinar pela empresa").click()
    _sign_with_code(staff, smtp_server, run_jobs, w["staff"].email, "sign-staff-code")
    run_jobs()  # the worker seals the final PDF
    staff.reload()
    expect(staff.locator("#assinatura .pill").first).to_have_text("Assinado")
    staff.shot("sign-staff-signed")
    staff_ctx.close()

    # the buyer downloads the signed PDF
    page.reload()
    with page.expect_download() as download:
        page.get_by_role("link", name="Baixar contrato assinado (PDF)").click()
    with open(download.value.path(), "rb") as fh:
        data = fh.read()
    assert signing.verify_pdf(data)["valid"] is True
    page.shot("sign-done")
