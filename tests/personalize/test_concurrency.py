"""Real threads against PostgreSQL: two tabs on one selection never lose or duplicate a line, and a
submit racing a change ends in one consistent state."""
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from portal.accounts.models import User
from portal.extensions import db
from portal.personalize.models import Selection, SelectionLine
from portal.personalize.services import selections
from portal.errors import ServiceError
from tests.conftest import USING_POSTGRES

pytestmark = pytest.mark.skipif(not USING_POSTGRES, reason="SQLite has one writer at a time: the race needs "
                                                           "PostgreSQL (set DATABASE_URL)")


def run_threads(app, works):
    errors, outcomes, barrier = [], {}, threading.Barrier(len(works))

    def target(i, work):
        with app.app_context():
            try:
                barrier.wait()
                outcomes[i] = work()
            except Exception as exc:  # collected and asserted by the caller
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=target, args=(i, w)) for i, w in enumerate(works)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors, outcomes


def _load(unit_id, user_id):
    selection = db.session.execute(select(Selection).where(Selection.unit_id == unit_id)).scalar_one()
    return selection, db.session.get(User, user_id)


def test_eight_tabs_choosing_at_once_keep_one_line_per_item_and_a_true_total(app, world):
    unit, items, o = world["units"][0], world["items"], world["options"]
    selections.ensure_selection(unit)
    db.session.commit()
    unit_id, user_id = unit.id, world["a"].id
    plan = [(items["sala"].id, o["porcelanato"].id), (items["sala"].id, o["vinilico"].id),
            (items["torneira"].id, o["gourmet"].id), (items["torneira"].id, o["torneira_std"].id),
            (items["bancada"].id, o["quartzo"].id)]

    def tab(n):
        def work():
            done = 0
            for i in range(15):
                item_id, option_id = plan[(n + i) % len(plan)]
                for _ in range(5):
                    try:
                        selection, user = _load(unit_id, user_id)
                        if selections.choose(selection, item_id, option_id, user) is not None:
                            done += 1
                        db.session.commit()
                        break
                    except OperationalError:  # deadlock victim: retry the transaction
                        db.session.rollback()
            return done
        return work

    errors, _ = run_threads(app, [tab(n) for n in range(8)])
    assert errors == []
    db.session.expire_all()
    selection = db.session.execute(select(Selection).where(Selection.unit_id == unit_id)).scalar_one()
    lines = db.session.execute(select(SelectionLine).where(SelectionLine.selection_id == selection.id)).scalars().all()
    assert sorted(line.item_id for line in lines) == sorted({items["sala"].id, items["torneira"].id,
                                                             items["bancada"].id})
    assert selection.total_cents == sum(line.total_cents for line in lines)


def test_a_submit_racing_a_change_ends_consistent(app, world):
    unit, sala, o = world["units"][0], world["items"]["sala"], world["options"]
    unit_id, user_id = unit.id, world["a"].id
    for _ in range(10):
        selection = selections.ensure_selection(unit)
        db.session.execute(Selection.__table__.update().where(Selection.id == selection.id)
                           .values(status="draft"))
        db.session.commit()
        selection, user = _load(unit_id, user_id)
        selections.choose(selection, sala.id, o["porcelanato"].id, user)
        db.session.commit()
        revision = selection.revision

        def submit():
            s, u = _load(unit_id, user_id)
            try:
                selections.submit(s, revision, u)
                db.session.commit()
                return "submitted"
            except ServiceError:
                db.session.rollback()
                return "refused"

        def change():
            s, u = _load(unit_id, user_id)
            try:
                selections.choose(s, sala.id, o["vinilico"].id, u)
                db.session.commit()
                return "changed"
            except ServiceError:
                db.session.rollback()
                return "refused"

        errors, outcomes = run_threads(app, [submit, change])
        assert errors == []
        db.session.expire_all()
        selection, _ = _load(unit_id, user_id)
        line = db.session.execute(select(SelectionLine).where(SelectionLine.selection_id == selection.id,
                                                              SelectionLine.item_id == sala.id)).scalar_one()
        state = (selection.status, line.option_id)
        assert state in {("submitted", o["porcelanato"].id), ("draft", o["vinilico"].id)}, state
        assert sorted(outcomes.values()) == (["refused", "submitted"] if state[0] == "submitted"
                                            else ["changed", "refused"])
        # reset for the next round: back to porcelanato, not submitted
        db.session.execute(SelectionLine.__table__.delete().where(SelectionLine.selection_id == selection.id))
        db.session.execute(Selection.__table__.update().where(Selection.id == selection.id)
                           .values(status="draft", total_cents=0))
        db.session.commit()
    assert db.session.scalar(select(func.count(Selection.id))) == 2
