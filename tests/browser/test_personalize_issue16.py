"""Buyer screens of issue 16 in a real Chromium at 375 px and 1280 px: option photos in a lightbox beside the
option's tap target, installments that follow the payment method, the appointment day picker, and the CSV
import preview whose error reasons are in sight. Saves screenshots."""
import io
import re
from datetime import datetime, timedelta

from PIL import Image
from playwright.sync_api import expect

from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize.services import appointments as appointment_service
from portal.personalize.services import contracts, photos
from portal.personalize.services.common import local_tz
from tests.browser.conftest import BROWSER
from tests.browser.test_journeys import log_in
from tests.personalize.test_contracts import _submitted
from tests.personalize.world import build_world

pytestmark = BROWSER


def _png(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (480, 360), colour).save(out, "PNG")
    return out.getvalue()


def _no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page scrolls sideways: {width}px"


def test_option_photos_open_in_a_lightbox_and_never_pick_the_option(page, run_jobs):
    w = build_world(utcnow())
    option = w["options"]["porcelanato"]
    for colour in ("#b45309", "#1d4ed8", "#15803d"):
        photos.add_photo(option, _png(colour), "foto.png")
    db.session.commit()
    run_jobs()
    log_in(page, w["a"].email)
    expect(page).to_have_url(re.compile(r"/personalizacao/portal$"), timeout=15_000)
    item = page.locator(f"#item-{w['items']['sala'].id}")
    radio = item.get_by_role("radio", name=re.compile(option.name))
    expect(radio).not_to_be_checked()
    thumb = item.get_by_role("link", name=f"Ver as 3 fotos de {option.name}")
    expect(item.get_by_text("Ampliar foto")).to_have_count(0)
    thumb.click()

    box = page.locator("#pz-lightbox")
    expect(box).to_be_visible()
    expect(page.locator("#pz-lightbox-count")).to_have_text("· 1 de 3")
    expect(page.locator("#pz-lightbox-img")).to_have_attribute("alt", f"{option.name} — foto 1 de 3")
    page.locator("#pz-lightbox-img").evaluate("img => img.decode()")  # the photo really loads
    page.shot("pz-lightbox")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#pz-lightbox-count")).to_have_text("· 2 de 3")
    page.get_by_role("button", name="Próxima foto").click()
    expect(page.locator("#pz-lightbox-count")).to_have_text("· 3 de 3")
    page.keyboard.press("ArrowRight")  # wraps around
    expect(page.locator("#pz-lightbox-count")).to_have_text("· 1 de 3")
    shown = page.locator("#pz-lightbox-img").bounding_box()
    y = shown["y"] + shown["height"] / 2
    page.mouse.move(shown["x"] + shown["width"] * .8, y)  # a swipe to the left: the next photo
    page.mouse.down()
    page.mouse.move(shown["x"] + shown["width"] * .2, y, steps=5)
    page.mouse.up()
    expect(page.locator("#pz-lightbox-count")).to_have_text("· 2 de 3")
    expect(box).to_be_visible()  # the swipe's click is not a tap outside
    page.get_by_role("button", name="Fechar").click()
    expect(box).to_be_hidden()
    expect(thumb).to_be_focused()  # back where the buyer was
    thumb.click()
    page.keyboard.press("Escape")
    expect(box).to_be_hidden()
    expect(radio).not_to_be_checked()  # looking at photos never chose the option

    item.locator(".pz-option-name", has_text=option.name).click()  # the text is the tap target
    expect(radio).to_be_checked()
    expect(page.locator("#pz-saved")).to_have_text("Escolha salva")
    _no_sideways_scroll(page)


def test_installments_follow_the_payment_method(page, run_jobs):
    w = build_world(utcnow())
    contracts.save_payment_options(w["dev"], {"accept-pix": "1", "installments-pix": "1", "accept-boleto": "1",
                                              "installments-boleto": "6", "accept-financiado": "1",
                                              "installments-financiado": "60"})
    contracts.save_template(w["dev"], contracts.DEFAULT_TEMPLATE, w["staff"])
    db.session.commit()
    sel = _submitted(w)
    run_jobs()
    log_in(page, w["a"].email)
    expect(page).to_have_url(re.compile(r"/personalizacao/portal$"), timeout=15_000)
    page.goto(f"/personalizacao/unidades/{w['units'][0].id}/contrato")
    installments = page.get_by_label("Parcelas")
    options = installments.locator("option")
    expect(options).to_have_count(1)
    expect(options).to_have_text("Escolha a forma primeiro")
    page.get_by_label("Financiado").check()
    expect(options).to_have_count(60)
    installments.select_option("12")
    page.get_by_label("Boleto").check()
    expect(options).to_have_count(6)  # 12x is not a boleto choice
    expect(installments).to_have_value("1")
    page.get_by_label("PIX").check()
    expect(options).to_have_count(1)
    page.get_by_label("Boleto").check()
    installments.select_option("3")
    page.shot("pz-payment")
    _no_sideways_scroll(page)
    page.get_by_role("button", name="Confirmar forma de pagamento").click()
    expect(page.locator(".flash-success")).to_contain_text("Forma de pagamento registrada")
    expect(page.get_by_label("Boleto")).to_be_checked()
    expect(installments).to_have_value("3")
    db.session.expire_all()
    from portal.personalize.contracts import PaymentChoice
    choice = db.session.get(PaymentChoice, sel.id)
    assert (choice.method, choice.installments) == ("boleto", 3)


def test_booking_shows_a_day_picker_and_that_days_slots(page):
    w = build_world(utcnow())
    start = datetime.now(local_tz()).date() + timedelta(days=2)
    appointment_service.create_slots(w["dev"], {
        "date_from": start.isoformat(), "date_to": (start + timedelta(days=13)).isoformat(),
        "weekdays": [str(d) for d in range(6)], "times": "09:00, 10:30, 14:00, 15:30", "duration": "60",
        "capacity": "2", "place": "Stand de vendas — Rua das Flores, 10", "video_url": ""})
    db.session.commit()
    log_in(page, w["a"].email)
    expect(page).to_have_url(re.compile(r"/personalizacao/portal$"), timeout=15_000)
    page.goto(f"/personalizacao/unidades/{w['units'][0].id}/atendimento")
    chips = page.locator(".ap-daychip")
    assert chips.count() >= 10
    expect(page.locator(".ap-time")).to_have_count(4)  # one day's slots, not 40+
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 1600, f"booking page is {height}px tall"
    _no_sideways_scroll(page)
    page.shot("ap-daypicker")
    third = chips.nth(2)
    day_text = third.locator("strong").inner_text()
    third.click()
    expect(third).to_have_attribute("aria-current", "date")
    expect(page.locator(".ap-day legend")).to_contain_text(day_text)
    page.locator(".ap-time").nth(2).click()
    page.get_by_role("button", name="Agendar atendimento").click()
    expect(page.locator(".ap-when")).to_contain_text(f"{day_text} · 14:00–15:00")


def test_csv_preview_shows_each_rows_reason_in_sight(page):
    w = build_world(utcnow())
    log_in(page, w["staff"].email)
    page.goto("/personalizacao/compradores/importar")
    data = ("nome;email;telefone;cpf;empreendimento;torre;unidade\n"
            f"Mariana Albuquerque Siqueira;mariana.albuquerque.siqueira@exemplo.com.br;(11) 98765-4321;;"
            f"{w['dev'].name};Torre Z;999\n").encode()
    page.locator("input[type=file]").set_input_files({"name": "compradores.csv", "mimeType": "text/csv",
                                                      "buffer": data})
    page.get_by_role("button", name="Ver prévia").click()
    reason = page.locator(".csv-preview .csv-notes .error").first
    expect(reason).to_contain_text("Unidade:")
    box, view = reason.bounding_box(), page.viewport_size
    wrap = page.locator(".csv-preview").bounding_box()
    assert box["x"] >= wrap["x"] and box["x"] + box["width"] <= min(wrap["x"] + wrap["width"], view["width"]), \
        "the reason is out of sight without scrolling"
    assert page.locator(".csv-preview").evaluate("e => e.scrollWidth <= e.clientWidth"), "the table scrolls sideways"
    _no_sideways_scroll(page)
    page.shot("pz-csv-preview")
