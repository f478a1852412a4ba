import pytest

from portal.extensions import db
from portal.presales.demo import ensure_defaults
from portal.presales.models import Queue, QueueMember
from tests.factories import make_development, make_user, sales_tree


@pytest.fixture
def funnel(app):
    pipeline = ensure_defaults()
    db.session.commit()
    return pipeline


@pytest.fixture
def sales(funnel):
    """A sales tree, a development, an offline broker queue with the two brokers and an SDR queue."""
    t = sales_tree()
    dev = make_development("Residencial Jardim Europa", slug="jardim-europa")
    brokers = [t["south_broker"], t["north_broker"]]
    q = Queue(name="Roleta", kind="broker", mode="offline")
    q.members = [QueueMember(user_id=u.id, position=i) for i, u in enumerate(brokers)]
    sdr_q = Queue(name="SDR", kind="sdr", mode="offline")
    sdr_q.members = [QueueMember(user_id=t["sdr"].id)]
    db.session.add_all([q, sdr_q])
    db.session.commit()
    return {**t, "dev": dev, "queue": q, "sdr_queue": sdr_q, "brokers": brokers, "pipeline": funnel,
            "admin": make_user("admin", name="Ana Admin")}
