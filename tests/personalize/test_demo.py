"""The personalization demo step (portal/personalize/demo.py) runs on top of the base demo, twice alike."""
from sqlalchemy import func, select

from portal.accounts import services as accounts
from portal.automation.models import Rule
from portal.extensions import db
from portal.personalize.demo import load_demo
from portal.personalize.models import Option, OptionPhoto, PersonalizationWindow, Selection, SelectionLine
from portal.web import demo as base


def snapshot():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in
                 (Option, OptionPhoto, PersonalizationWindow, Selection, SelectionLine, Rule))


def test_demo_is_idempotent_and_shows_every_status(app):
    base.load_demo()
    users = {email: accounts.find_user_by_email(email) for _, email, *_ in base.PEOPLE}
    load_demo(users)
    db.session.commit()
    first = snapshot()
    load_demo(users)
    db.session.commit()
    assert snapshot() == first
    assert first[0] == 40 and first[1] == 40  # 20 options, each with a photo, in each of the 2 developments
    statuses = set(db.session.execute(select(Selection.status)).scalars())
    assert statuses == {"not_started", "draft", "submitted", "reopened"}
    photo = db.session.execute(select(OptionPhoto)).scalars().first()
    assert photo.status == "ready"
