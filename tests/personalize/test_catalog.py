"""Catalog rules: quantities per typology, the standard option, versioned prices, retire and replace, photos."""
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import select

from portal.errors import ServiceError
from portal.extensions import db
from portal.personalize.models import OptionPhoto, OptionPrice
from portal.personalize.services import catalog, selections
from portal.personalize.services.common import line_total, parse_money
from portal.personalize.services.photos import version_path


def test_money_is_parsed_to_integer_centavos_and_lines_round_half_up():
    assert parse_money("1.234,56") == 123456 and parse_money("R$ 89") == 8900 and parse_money("") == 0
    assert parse_money("1234.5") == 123450
    for bad in ("-1", "1,234", "abc"):
        with pytest.raises(ValueError):
            parse_money(bad)
    assert line_total(Decimal("12.35"), 3333) == 41163  # R$ 411,6255 → R$ 411,63


def test_item_quantities_per_typology_are_required_for_area_items(world):
    dev, cat = world["dev"], world["categories"]["piso"]
    with pytest.raises(ServiceError) as exc:
        catalog.save_item(dev, {"category_id": cat.id, "name": "Piso do quarto", "basis": "area",
                                "typologies": {str(world["typology"].id): ""}})
    assert "Informe a área (m²) do ambiente" in exc.value.errors[f"qty_{world['typology'].id}"]
    with pytest.raises(ServiceError) as exc:
        catalog.save_item(dev, {"category_id": cat.id, "name": "Piso do quarto", "basis": "area", "typologies": {}})
    assert "Marque ao menos uma tipologia" in exc.value.errors["typologies"]


def test_the_standard_option_costs_nothing_and_is_unique_per_item(world):
    sala, o = world["items"]["sala"], world["options"]
    with pytest.raises(ServiceError) as exc:
        catalog.save_option(sala, {"name": "Padrão caro", "price": "10,00", "is_standard": True, "available": True})
    assert "não tem custo" in exc.value.errors["price"]
    catalog.save_option(sala, {"name": "Porcelanato 90x90", "price": "", "is_standard": True, "available": True},
                        o["porcelanato"])
    db.session.commit()
    db.session.refresh(o["ceramica"])
    assert o["porcelanato"].is_standard and not o["ceramica"].is_standard
    with pytest.raises(ServiceError):
        catalog.retire_option(o["porcelanato"])  # the standard one cannot just disappear


def test_every_price_change_is_a_new_version_with_who_and_when(world, frozen):
    option = world["options"]["gourmet"]
    frozen.shift(timedelta(hours=1))
    catalog.save_option(option.item, {"name": option.name, "price": "720,00", "available": True}, option,
                        user=world["staff"])
    catalog.save_option(option.item, {"name": "Torneira gourmet inox", "price": "720,00", "available": True}, option,
                        user=world["staff"])  # a rename alone adds no version
    db.session.commit()
    prices = db.session.execute(select(OptionPrice).where(OptionPrice.option_id == option.id)
                                .order_by(OptionPrice.version)).scalars().all()
    assert [(p.version, p.price_cents, p.created_by_id) for p in prices] == [(1, 68900, None),
                                                                              (2, 72000, world["staff"].id)]
    assert option.price_cents == 72000 and option.price_version == 2


def test_replacing_an_option_retires_it_and_keeps_it_on_lines(world):
    unit, sala, o, a = world["units"][0], world["items"]["sala"], world["options"], world["a"]
    sel = selections.ensure_selection(unit)
    selections.choose(sel, sala.id, o["vinilico"].id, a)
    new = catalog.replace_option(o["vinilico"], {"name": "Vinílico espinha de peixe", "price": "85,00",
                                                 "available": True}, user=world["staff"])
    db.session.commit()
    assert o["vinilico"].retired_at is not None and o["vinilico"].replaced_by_id == new.id
    page = selections.unit_page(unit, a)
    view = page.view_for(sala.id)
    assert [opt.name for opt in view.options] == ["Cerâmica 45x45", "Porcelanato 90x90", "Vinílico amadeirado",
                                                  "Vinílico espinha de peixe"]
    assert view.chosen_id == o["vinilico"].id
    with pytest.raises(ServiceError):
        catalog.delete_option(o["vinilico"])  # used: retire, never delete


def test_staff_catalog_pages_work_end_to_end(world, client, login_as):
    login_as(world["staff"])
    dev = world["dev"]
    r = client.post(f"/personalizacao/empreendimentos/{dev.id}/catalogo/categorias",
                    data={"new-name": "Louças", "new-position": "4"})
    assert r.status_code == 302
    html = client.get(f"/personalizacao/empreendimentos/{dev.id}/catalogo").get_data(as_text=True)
    assert "Louças" in html and "Piso da sala" in html and "20 m²" in html
    r = client.post(f"/personalizacao/empreendimentos/{dev.id}/catalogo/itens/novo",
                    data={"category_id": world["categories"]["bancadas"].id, "name": "Bancada do banheiro",
                          "basis": "area", f"typology_{world['typology'].id}": "1",
                          f"qty_{world['typology'].id}": ""})
    assert r.status_code == 422 and "Informe a área (m²)" in r.get_data(as_text=True)
    r = client.post(f"/personalizacao/empreendimentos/{dev.id}/catalogo/itens/novo",
                    data={"category_id": world["categories"]["bancadas"].id, "name": "Bancada do banheiro",
                          "basis": "area", f"typology_{world['typology'].id}": "1",
                          f"qty_{world['typology'].id}": "1,2"})
    assert r.status_code == 302
    item_url = r.headers["Location"]
    r = client.post(item_url + "/opcoes",
                    data={"opt-name": "Mármore travertino", "opt-price": "1.450,00", "opt-available": "y"})
    assert r.status_code == 302
    html = client.get(item_url).get_data(as_text=True)
    assert "Mármore travertino" in html and "R$ 1.450,00" in html and "v1" in html


def png_bytes(size=(900, 600), color=(200, 120, 40)):
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def test_photos_are_checked_by_content_and_resized_by_the_worker(world, client, login_as, run_jobs):
    option = world["options"]["porcelanato"]
    login_as(world["staff"])
    url = f"/personalizacao/catalogo/opcoes/{option.id}/fotos"
    r = client.post(url, data={"photo": (io.BytesIO(b"<svg onload=alert(1)>"), "foto.jpg")},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and "não é uma imagem JPEG, PNG ou WebP" in r.get_data(as_text=True)
    client.application.config["PHOTO_MAX_MB"] = 1
    try:
        big = b"\x89PNG\r\n\x1a\n" + b"0" * (1024 * 1024)
        r = client.post(url, data={"photo": (io.BytesIO(big), "grande.png")}, content_type="multipart/form-data")
        assert r.status_code == 422 and "passa de 1 MB" in r.get_data(as_text=True)
    finally:
        client.application.config.pop("PHOTO_MAX_MB")
    assert db.session.execute(select(OptionPhoto)).first() is None

    r = client.post(url, data={"photo": (io.BytesIO(png_bytes()), "porcelanato.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    photo = db.session.execute(select(OptionPhoto)).scalar_one()
    assert photo.status == "pending" and photo.content_type == "image/png"
    run_jobs()
    db.session.refresh(photo)
    assert photo.status == "ready"
    with Image.open(version_path(photo, "thumb")) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == 480
    client.post("/logout")
    login_as(world["a"])
    html = client.get("/personalizacao/portal").get_data(as_text=True)
    assert f"/personalizacao/fotos/{photo.id}/thumb" in html
    r = client.get(f"/personalizacao/fotos/{photo.id}/thumb")
    assert r.status_code == 200 and r.mimetype == "image/jpeg" and "private" in r.headers["Cache-Control"]
    assert client.get(f"/personalizacao/fotos/{photo.id}/original").status_code == 404  # staff only


def test_a_file_pillow_cannot_read_is_refused_at_upload(world, client, login_as):
    """Decoded on upload (portal.uploads); a stored file the worker cannot read: tests/security/test_uploads.py."""
    option = world["options"]["porcelanato"]
    login_as(world["staff"])
    fake = b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10
    r = client.post(f"/personalizacao/catalogo/opcoes/{option.id}/fotos",
                    data={"photo": (io.BytesIO(fake), "x.jpg")}, content_type="multipart/form-data")
    assert r.status_code == 422 and "não é uma imagem JPEG válida" in r.get_data(as_text=True)
    assert db.session.execute(select(OptionPhoto)).first() is None
