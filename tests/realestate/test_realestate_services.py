from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.accounts.models import AuditLog
from portal.errors import ServiceError
from portal.extensions import db
from portal.realestate import services
from portal.realestate.models import Development, Tower, Typology, Unit
from tests.factories import give_unit, make_development, make_user


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_development_slug_comes_from_the_name_and_must_be_unique():
    dev = services.save_development({"name": "Residencial Águas Claras", "city": "Campinas", "state": "sp"})
    db.session.commit()
    assert (dev.slug, dev.state, dev.status) == ("residencial-aguas-claras", "SP", "launch")
    with pytest.raises(ServiceError) as exc:
        services.save_development({"name": "Residencial Aguas Claras", "state": "XX", "status": "demolished"})
    assert exc.value.errors == {"slug": "Já existe um empreendimento com este código.", "state": "UF inválida.",
                                "status": "Escolha uma situação válida."}
    assert count(Development) == 1
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "development.created")).scalar_one()
    assert entry.object_id == str(dev.id)


def test_development_staff_must_be_personalization_people():
    broker = make_user("broker")
    staff = make_user("personalization")
    dev = make_development()
    with pytest.raises(ServiceError) as exc:
        services.save_development({"name": dev.name, "slug": dev.slug, "staff_ids": [str(broker.id)]}, dev)
    assert "staff_ids" in exc.value.errors
    services.save_development({"name": dev.name, "slug": dev.slug, "staff_ids": [str(staff.id)]}, dev)
    db.session.commit()
    assert [u.id for u in dev.staff] == [staff.id]


def test_tower_and_typology_names_are_unique_per_development_ignoring_case_and_accents():
    dev = make_development(towers=("Torre Única",))
    other = make_development()
    with pytest.raises(ServiceError) as exc:
        services.save_tower(dev, {"name": "torre unica"})
    assert exc.value.errors == {"name": "Já existe uma torre com este nome."}
    assert services.save_tower(other, {"name": "Torre Única"}).development_id == other.id
    with pytest.raises(ServiceError) as exc:
        services.save_typology(dev, {"name": "2 Dormitórios", "bedrooms": "dois", "private_area_m2": "-1"})
    assert exc.value.errors == {"name": "Já existe uma tipologia com este nome.",
                                "bedrooms": "Informe um número inteiro.",
                                "private_area_m2": "A área não pode ser negativa."}


def test_unit_rules_number_unique_per_tower_status_known_area_decimal():
    dev = make_development(towers=("Torre A", "Torre B"))
    tower_a, tower_b = dev.towers
    taken = tower_a.units[0].number
    before = count(Unit)
    with pytest.raises(ServiceError) as exc:
        services.save_unit(dev, {"tower_id": tower_a.id, "number": taken, "floor": "x",
                                 "private_area_m2": "58,405", "status": "vendido"})
    assert exc.value.errors == {
        "number": f"Já existe a unidade {taken} na Torre A.",
        "floor": "Informe um número inteiro.",
        "private_area_m2": "Use no máximo duas casas decimais.",
        "status": "Situação inválida: use Disponível, Reservada, Vendida.",
    }
    assert count(Unit) == before
    unit = services.save_unit(dev, {"tower_id": tower_b.id, "number": "1501", "floor": "3",
                                    "typology_id": dev.typologies[0].id, "private_area_m2": "1.234,50",
                                    "status": "Vendida"})
    db.session.commit()
    assert (unit.private_area_m2, unit.status, unit.floor) == (Decimal("1234.50"), "sold", 3)


def test_unit_area_defaults_to_the_typology_and_tower_must_belong_to_the_development():
    dev = make_development()
    other = make_development()
    with pytest.raises(ServiceError) as exc:
        services.save_unit(dev, {"tower_id": other.towers[0].id, "number": "901",
                                 "typology_id": other.typologies[0].id})
    assert set(exc.value.errors) == {"tower_id", "typology_id"}
    unit = services.save_unit(dev, {"tower_id": dev.towers[0].id, "number": "901",
                                    "typology_id": dev.typologies[0].id})
    assert (unit.private_area_m2, unit.status) == (Decimal("58.40"), "available")


def test_status_change_is_audited_with_before_and_after():
    dev = make_development()
    unit = dev.towers[0].units[0]
    services.save_unit(dev, {"tower_id": unit.tower_id, "number": unit.number, "floor": unit.floor,
                             "typology_id": unit.typology_id, "private_area_m2": "58,40", "status": "reserved"}, unit)
    db.session.commit()
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "unit.updated")).scalar_one()
    assert entry.details == {"fields": ["status"], "status": ["available", "reserved"]}


def test_deletes_refuse_when_something_depends_on_the_record():
    dev = make_development(units_per_tower=1)
    unit, tower, typology = dev.towers[0].units[0], dev.towers[0], dev.typologies[0]
    give_unit(make_user("customer"), unit)
    for delete, obj in ((services.delete_unit, unit), (services.delete_tower, tower),
                        (services.delete_typology, typology), (services.delete_development, dev)):
        with pytest.raises(ServiceError):
            delete(obj)
    assert (count(Unit), count(Tower), count(Typology), count(Development)) == (1, 1, 1, 1)


def test_delete_an_empty_tower():
    dev = make_development(towers=("Torre A", "Torre B"), units_per_tower=0)
    services.delete_tower(dev.towers[1])
    db.session.commit()
    assert [t.name for t in db.session.execute(select(Tower)).scalars()] == ["Torre A"]
    assert db.session.execute(select(AuditLog.action)).scalars().all() == ["tower.deleted"]


def test_the_same_unit_number_may_repeat_in_another_tower():
    dev = make_development(towers=("Torre A", "Torre B"), units_per_tower=0)
    for tower in dev.towers:
        services.save_unit(dev, {"tower_id": tower.id, "number": "101"})
    db.session.commit()
    assert sorted((u.tower.name, u.number) for u in db.session.execute(select(Unit)).scalars()) == [
        ("Torre A", "101"), ("Torre B", "101")]


def test_a_status_change_publishes_an_event_and_other_edits_do_not():
    from portal.automation.models import Event
    dev = make_development()
    unit = dev.towers[0].units[0]
    data = {"tower_id": unit.tower_id, "number": unit.number, "typology_id": unit.typology_id, "floor": "7"}
    services.save_unit(dev, data, unit)
    services.save_unit(dev, {**data, "status": "Vendida"}, unit, audited=False)
    db.session.commit()
    events = db.session.execute(select(Event)).scalars().all()
    assert [(e.type, e.subject_id, e.payload) for e in events] == [
        ("unit.status_changed", unit.id, {"from_status": "available", "to_status": "sold"})]
