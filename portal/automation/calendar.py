"""Business hours and quiet hours, with Brazil's national holidays (the `holidays` package) plus the
company's own. Used by SLA deadlines and by rules that count business time or respect quiet hours."""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays as holidays_lib
from flask import current_app
from sqlalchemy import select

from portal.extensions import db


def _hm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


@dataclass
class BusinessCalendar:
    tz: ZoneInfo
    workdays: set[int] = field(default_factory=lambda: {0, 1, 2, 3, 4})
    day_start: time = time(8, 0)
    day_end: time = time(18, 0)
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    national: bool = True
    state: str | None = None
    custom: dict[date, str] = field(default_factory=dict)

    def holiday_name(self, day: date) -> str | None:
        if day in self.custom:
            return self.custom[day]
        if self.national:
            official = holidays_lib.BR(years=day.year, subdiv=self.state or None, language="pt_BR")
            return official.get(day)
        return None

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.workdays and self.holiday_name(day) is None

    def is_business_time(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        return self.is_business_day(local.date()) and self.day_start <= local.time() < self.day_end

    def add_business_minutes(self, start: datetime, minutes: int) -> datetime:
        """`minutes` of business time after `start` (UTC in, UTC out)."""
        if minutes < 0:
            raise ValueError("business time only counts forward")
        local = start.astimezone(self.tz)
        remaining = timedelta(minutes=minutes)
        for _ in range(3700):  # ten years of days: a calendar with no business days must not spin forever
            day = local.date()
            if self.is_business_day(day):
                opens = datetime.combine(day, self.day_start, self.tz)
                closes = datetime.combine(day, self.day_end, self.tz)
                local = max(local, opens)
                if local < closes:
                    available = closes - local
                    if remaining <= available:
                        return (local + remaining).astimezone(timezone.utc)
                    remaining -= available
            local = datetime.combine(day + timedelta(days=1), time(0, 0), self.tz)
        raise ValueError("calendar has no business hours")

    def business_minutes_between(self, start: datetime, end: datetime) -> int:
        if end <= start:
            return 0
        total = timedelta()
        local, stop = start.astimezone(self.tz), end.astimezone(self.tz)
        while local < stop:
            day = local.date()
            if self.is_business_day(day):
                opens = datetime.combine(day, self.day_start, self.tz)
                closes = datetime.combine(day, self.day_end, self.tz)
                lo, hi = max(local, opens), min(stop, closes)
                if hi > lo:
                    total += hi - lo
            local = datetime.combine(day + timedelta(days=1), time(0, 0), self.tz)
        return int(total.total_seconds() // 60)

    def in_quiet_hours(self, moment: datetime) -> bool:
        now = moment.astimezone(self.tz).time()
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= now < self.quiet_end
        return now >= self.quiet_start or now < self.quiet_end

    def after_quiet_hours(self, moment: datetime) -> datetime:
        """`moment` itself, or the end of the quiet period it falls in (UTC)."""
        if not self.in_quiet_hours(moment):
            return moment
        local = moment.astimezone(self.tz)
        end = datetime.combine(local.date(), self.quiet_end, self.tz)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.quiet_end, self.tz)
        return end.astimezone(timezone.utc)


def get_calendar() -> BusinessCalendar:
    from portal.automation.models import CalendarSettings, Holiday

    tz = ZoneInfo(current_app.config["PORTAL_TIMEZONE"])
    row = db.session.execute(select(CalendarSettings).limit(1)).scalar_one_or_none()
    custom = {h.day: h.name for h in db.session.execute(select(Holiday)).scalars()}
    if row is None:
        return BusinessCalendar(tz=tz, custom=custom)
    return BusinessCalendar(
        tz=tz, workdays={int(d) for d in row.workdays.split(",") if d.strip()},
        day_start=_hm(row.day_start), day_end=_hm(row.day_end), quiet_start=_hm(row.quiet_start),
        quiet_end=_hm(row.quiet_end), national=row.national_holidays, state=row.state, custom=custom)
