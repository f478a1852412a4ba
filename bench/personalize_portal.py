"""Benchmark: the buyer's one-page portal on a development with 2,000 units × 40 items × 5 options.

Data: 4 towers × 500 units, 2 typologies, 8 categories × 5 items (every item applies to both
typologies), 5 options per item (one standard) with a photo each, one buyer per unit, every unit with a
selection and half of them a 12-line draft (12,000 lines), one open window for the development.

Figures (p50 / p95 over RUNS requests through the WSGI app in-process, like the other benches):
  * GET /personalizacao/portal for a buyer (the whole page: 40 items, 200 options);
  * the htmx option change (POST /personalizacao/unidades/<id>/itens/<id>: write the line, recompute the
    total, answer the item fragment and the out-of-band total), alternating between two options;
  * GET /healthz in the same run: the baseline of a trivial page of the same app.

    .venv/bin/python bench/personalize_portal.py                # SQLite in a temp dir
    DATABASE_URL=postgresql+psycopg://.../empty_db REDIS_URL=redis://... .venv/bin/python bench/personalize_portal.py
    UNITS=500 RUNS=30 .venv/bin/python bench/personalize_portal.py
"""
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal

os.environ.setdefault("PORTAL_INSTANCE_DIR", tempfile.mkdtemp(prefix="portal-bench-"))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import func, insert, select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.accounts.models import User  # noqa: E402
from portal.dbtypes import utcnow  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.personalize.models import (Category, Item, ItemTypology, Option, OptionPhoto, OptionPrice,  # noqa: E402
                                       PersonalizationWindow, Selection, SelectionLine)
from portal.realestate.models import Development, Tower, Typology, Unit, UnitBuyer  # noqa: E402

UNITS = int(os.environ.get("UNITS", "2000"))
RUNS = int(os.environ.get("RUNS", "60"))
TOWERS = 4
CATEGORIES = ["Piso", "Revestimento", "Pintura", "Metais", "Louças", "Bancadas", "Iluminação", "Esquadrias"]
ITEMS_PER_CATEGORY = 5
OPTIONS_PER_ITEM = 5
DRAFT_LINES = 12
PASSWORD = "segredo123"


def populate():
    now = utcnow()
    dev = Development(name="Residencial Benchmark", slug="bench", city="São Paulo", state="SP")
    db.session.add(dev)
    db.session.flush()
    typologies = [Typology(development_id=dev.id, name=n, bedrooms=b, private_area_m2=Decimal(a))
                  for n, b, a in (("2 dormitórios", 2, "58.40"), ("3 dormitórios", 3, "74.90"))]
    towers = [Tower(development_id=dev.id, name=f"Torre {chr(65 + i)}") for i in range(TOWERS)]
    db.session.add_all(typologies + towers)
    db.session.flush()
    per_tower = UNITS // TOWERS
    units = []
    for t, tower in enumerate(towers):
        for n in range(per_tower):
            typ = typologies[n % 2]
            units.append({"development_id": dev.id, "tower_id": tower.id, "typology_id": typ.id,
                          "number": f"{n // 8 + 1}{n % 8 + 1:02d}", "floor": n // 8 + 1,
                          "private_area_m2": typ.private_area_m2, "status": "sold", "created_at": now,
                          "updated_at": now})
    db.session.execute(insert(Unit), units)
    unit_ids = db.session.execute(select(Unit.id).where(Unit.development_id == dev.id).order_by(Unit.id)).scalars().all()

    probe = User(name="x", email="x@x", role="customer")
    probe.set_password(PASSWORD)
    users = [{"name": f"Comprador {i:05d}", "email": f"comprador{i}@bench.com.br", "role": "customer",
              "password_hash": probe.password_hash, "active": True, "created_at": now, "updated_at": now}
             for i in range(len(unit_ids))]
    db.session.execute(insert(User), users)
    user_ids = db.session.execute(select(User.id).where(User.role == "customer").order_by(User.id)).scalars().all()
    db.session.execute(insert(UnitBuyer), [{"unit_id": u, "user_id": b} for u, b in zip(unit_ids, user_ids)])

    window = PersonalizationWindow(development_id=dev.id, name="Janela", opens_at=now - timedelta(days=1),
                                   closes_at=now + timedelta(days=30), opened_event_at=now)
    db.session.add(window)
    items, options = [], {}
    for c, name in enumerate(CATEGORIES):
        category = Category(development_id=dev.id, name=name, position=c)
        db.session.add(category)
        db.session.flush()
        for i in range(ITEMS_PER_CATEGORY):
            basis = ("area", "unit", "fixed")[i % 3]
            item = Item(development_id=dev.id, category_id=category.id, name=f"{name} — ambiente {i + 1}",
                        basis=basis, position=i, description="Descrição do item para o comprador.")
            db.session.add(item)
            db.session.flush()
            for typ in typologies:
                db.session.add(ItemTypology(item_id=item.id, typology_id=typ.id,
                                            quantity=Decimal("12.50") if basis == "area" else Decimal("1")))
            items.append(item)
            for k in range(OPTIONS_PER_ITEM):
                option = Option(development_id=dev.id, item_id=item.id, name=f"Opção {k + 1} de {item.name}",
                                description="Acabamento de linha, com garantia do fabricante.",
                                manufacturer_url="https://fabricante.example/produto", is_standard=k == 0,
                                position=k, price_cents=0 if k == 0 else 5_000 * k, price_version=1)
                db.session.add(option)
                db.session.flush()
                price = OptionPrice(option_id=option.id, version=1, price_cents=option.price_cents)
                db.session.add(price)
                db.session.add(OptionPhoto(option_id=option.id, development_id=dev.id, stored_name=f"b{option.id:030d}",
                                           content_type="image/jpeg", status="ready"))
                db.session.flush()
                options.setdefault(item.id, []).append((option, price))
    db.session.flush()
    db.session.execute(insert(Selection), [
        {"unit_id": u, "development_id": dev.id, "window_id": window.id,
         "status": "draft" if i % 2 == 0 else "not_started", "revision": 0, "total_cents": 0, "created_at": now,
         "updated_at": now} for i, u in enumerate(unit_ids)])
    selection_ids = dict(db.session.execute(select(Selection.unit_id, Selection.id)).all())
    lines = []
    for i, unit_id in enumerate(unit_ids):
        if i % 2:
            continue
        for item in items[:DRAFT_LINES]:
            option, price = options[item.id][1 + i % (OPTIONS_PER_ITEM - 1)]
            lines.append({"selection_id": selection_ids[unit_id], "item_id": item.id, "option_id": option.id,
                          "option_price_id": price.id, "quantity": Decimal("1"), "unit_price_cents": price.price_cents,
                          "total_cents": price.price_cents, "chosen_at": now, "on_behalf": False})
    for start in range(0, len(lines), 5000):
        db.session.execute(insert(SelectionLine), lines[start:start + 5000])
    db.session.commit()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return unit_ids[0], items, options


def timings(fn, runs=RUNS):
    fn()  # warm: template compile, connection pool
    times = []
    for i in range(runs):
        start = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(round(0.95 * len(times))) - 1)]


def main():
    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
                      or f"sqlite:///{os.environ['PORTAL_INSTANCE_DIR']}/bench.db",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        if db.session.execute(select(Development.id).where(Development.slug == "bench")).first():
            sys.exit("This database already holds a bench run: point DATABASE_URL at a fresh, empty database.")
        print(f"populating {UNITS:,} units × {len(CATEGORIES) * ITEMS_PER_CATEGORY} items × {OPTIONS_PER_ITEM} "
              "options …", flush=True)
        start = time.perf_counter()
        unit_id, items, options = populate()
        counts = {m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
                  for m in (Unit, Selection, SelectionLine, Option)}
        print(f"  loaded in {time.perf_counter() - start:.0f} s: {counts}", flush=True)
        buyer = db.session.execute(select(User).join(UnitBuyer, UnitBuyer.user_id == User.id)
                                   .where(UnitBuyer.unit_id == unit_id)).scalar_one()
        client = app.test_client()
        assert client.post("/login", data={"email": buyer.email, "password": PASSWORD}).status_code == 302

        def portal(_=0):
            r = client.get("/personalizacao/portal")
            assert r.status_code == 200 and r.data.count(b'type="radio"') == len(items) * OPTIONS_PER_ITEM

        item = items[0]
        url = f"/personalizacao/unidades/{unit_id}/itens/{item.id}"
        choices = [options[item.id][2][0].id, options[item.id][3][0].id]

        def change(i=0):
            r = client.post(url, data={f"item-{item.id}": choices[i % 2]}, headers={"HX-Request": "true"})
            assert r.status_code == 200 and b'hx-swap-oob="true"' in r.data

        def healthz(_=0):
            assert client.get("/healthz").status_code == 200

        page = timings(portal)
        htmx = timings(change)
        base = timings(healthz)
        size = len(client.get("/personalizacao/portal").data)
        dialect = db.engine.dialect.name
    print()
    print(f"database: {dialect}; {counts['units']:,} units, {counts['selection_lines']:,} lines, "
          f"{len(items)} items × {OPTIONS_PER_ITEM} options; {RUNS} requests each")
    print(f"{'':34}{'p50':>9}{'p95':>9}")
    print(f"{'buyer portal page (' + str(size // 1024) + ' KiB)':34}{page[0]:8.1f}ms{page[1]:7.1f}ms")
    print(f"{'htmx option change round trip':34}{htmx[0]:8.1f}ms{htmx[1]:7.1f}ms")
    print(f"{'/healthz (baseline)':34}{base[0]:8.1f}ms{base[1]:7.1f}ms")


if __name__ == "__main__":
    main()
