"""The one check for `next` redirects: only paths on this site."""
import pytest

from portal.web.urls import local_path


@pytest.mark.parametrize("target, expected", [
    ("/pre-vendas/funil?x=1", "/pre-vendas/funil?x=1"),
    ("/", "/"),
    ("", None), (None, None),
    ("https://evil.example/", None),
    ("//evil.example", None),
    ("/\t/evil.example", None),      # browsers drop the tab: //evil.example
    ("/\n/evil.example", None),
    ("/\\evil.example", None),       # read as //evil.example
    ("evil.example", None),
    ("javascript:alert(1)", None),
])
def test_local_path(target, expected):
    assert local_path(target) == expected


def test_login_next_stays_on_the_site(client):
    from tests.factories import make_user
    user = make_user("admin")
    r = client.post("/login?next=/%09/evil.example", data={"email": user.email, "password": "segredo123"})
    assert r.status_code == 302 and "evil" not in r.headers["Location"]
