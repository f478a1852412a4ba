"""Jobs registered with after_commit run only when the outermost transaction commits."""
from sqlalchemy import text

from portal import jobs
from portal.extensions import db


def _register(ran, name):
    jobs.after_commit(db.session, lambda: ran.append(name))


def test_released_savepoint_waits_for_the_real_commit(app):
    ran = []
    db.session.execute(text("SELECT 1"))
    _register(ran, "outer")
    with db.session.begin_nested():
        _register(ran, "inside-savepoint")
    assert ran == []  # releasing the savepoint is not a commit
    db.session.commit()
    assert ran == ["outer", "inside-savepoint"]


def test_rolled_back_savepoint_drops_only_its_own(app):
    ran = []
    db.session.execute(text("SELECT 1"))
    _register(ran, "kept")
    try:
        with db.session.begin_nested():
            _register(ran, "dropped")
            with db.session.begin_nested():
                _register(ran, "dropped-deeper")
            raise RuntimeError("undo the savepoint")
    except RuntimeError:
        pass
    with db.session.begin_nested():
        _register(ran, "later")
    db.session.commit()
    assert ran == ["kept", "later"]


def test_rollback_drops_everything(app):
    ran = []
    db.session.execute(text("SELECT 1"))
    _register(ran, "outer")
    with db.session.begin_nested():
        _register(ran, "inner")
    db.session.rollback()
    db.session.execute(text("SELECT 1"))
    db.session.commit()
    assert ran == []


def test_a_failing_callback_does_not_undo_the_commit_nor_stop_the_others(app, caplog):
    ran = []
    db.session.execute(text("SELECT 1"))

    def broken():
        raise ConnectionError("redis is down")
    jobs.after_commit(db.session, broken)
    _register(ran, "next")
    db.session.commit()
    assert ran == ["next"]
    assert "after-commit callback failed" in caplog.text
