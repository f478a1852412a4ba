"""The buyer's booking page lists one day's slots under a day picker (a phone used to get every slot of the
coming weeks in one 3,366 px list)."""
import re

from tests.personalize.test_appointments import slots, url


def _listed(page: str) -> list[str]:
    return re.findall(r'name="slot_id" value="(\d+)"', page)


def _chips(page: str) -> list[str]:
    return re.findall(r'class="ap-daychip" href="[^"]*dia=([\d-]+)', page)


def test_the_page_lists_the_picked_days_slots_and_a_chip_per_day(world, client, login_as):
    unit, dev = world["units"][0], world["dev"]
    by_day = {day: slots(dev, day, times="09:00, 10:30, 14:00, 15:30") for day in (2, 3, 4, 7, 8)}
    login_as(world["a"])
    page = client.get(url(unit)).get_data(as_text=True)
    days = _chips(page)
    assert len(days) == 5 and days == sorted(days)
    assert _listed(page) == [str(s.id) for s in by_day[2]]  # the first day with free slots, not all 20
    assert 'aria-current="date"' in page[page.index(f"dia={days[0]}") - 80:page.index(f"dia={days[0]}") + 200]
    page = client.get(url(unit, f"?dia={days[3]}")).get_data(as_text=True)
    assert _listed(page) == [str(s.id) for s in by_day[7]]
    assert f'name="dia" value="{days[3]}"' in page  # a refused post comes back to the same day
    for odd in ("2026-13-01", "amanhã", "2020-01-01"):  # not a day with slots: the first one
        assert _listed(client.get(url(unit, f"?dia={odd}")).get_data(as_text=True)) == [str(s.id) for s in by_day[2]]


def test_a_refused_booking_shows_the_day_the_buyer_was_on(world, client, login_as):
    unit, dev = world["units"][0], world["dev"]
    slots(dev, 2, times="09:00")
    later = slots(dev, 5, times="09:00, 11:00", capacity=1)
    login_as(world["a"])
    day = _chips(client.get(url(unit)).get_data(as_text=True))[1]
    r = client.post(url(unit), data={"slot_id": "999999", "dia": day})
    assert r.status_code in (409, 422)
    assert _listed(r.get_data(as_text=True)) == [str(s.id) for s in later]
