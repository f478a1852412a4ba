"""The users list offers only what the routes allow: a manager sees a peer manager of their subtree without the
name link and without "Desativar" (both answer 403), and keeps both for the brokers they manage."""
import re

from tests.factories import sales_tree


def _row(html: str, user_id: int) -> str:
    return re.search(rf'<tr id="user-{user_id}">.*?</tr>', html, re.S).group(0)


def test_manager_sees_no_action_on_a_peer_manager_and_the_routes_still_refuse(client, login_as):
    t = sales_tree()
    login_as(t["head"])
    html = client.get("/admin/usuarios").get_data(as_text=True)

    peer = _row(html, t["south_mgr"].id)
    assert "Paula Gestora" in peer
    assert "/admin/usuarios/%d" % t["south_mgr"].id not in peer and "Desativar" not in peer
    broker = _row(html, t["south_broker"].id)
    assert f'href="/admin/usuarios/{t["south_broker"].id}"' in broker and "Desativar" in broker
    own = _row(html, t["head"].id)
    assert f'href="/admin/usuarios/{t["head"].id}"' in own and "Desativar" not in own

    # The same check guards the routes: what is not shown is still refused.
    assert client.get(f"/admin/usuarios/{t['south_mgr'].id}").status_code == 403
    assert client.post(f"/admin/usuarios/{t['south_mgr'].id}/ativo").status_code == 403
    assert client.post(f"/admin/usuarios/{t['south_mgr'].id}/sessoes/encerrar").status_code == 403
    assert client.get(f"/admin/usuarios/{t['south_broker'].id}").status_code == 200


def test_admin_sees_every_action_but_not_on_themselves(client, login_as):
    t = sales_tree()
    from tests.factories import make_user
    admin = make_user("admin")
    login_as(admin)
    html = client.get("/admin/usuarios").get_data(as_text=True)
    assert "Desativar" in _row(html, t["south_mgr"].id)
    assert "Desativar" not in _row(html, admin.id)
