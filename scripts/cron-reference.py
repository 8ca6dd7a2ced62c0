"""Expected cron fire times from an implementation nobody here wrote: PyPI's cronsim (pinned in
scripts/python-tools.sh), which follows Debian cron's DST rules, over the system's tzdata
(Python's zoneinfo). Prints JSON: a list of {expression, zone, after, times} with eight times each,
for Tests/APITests/ScheduleRoutesTests.swift (through POST /schedules/preview). Deterministic: same combinations every run."""
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from cronsim import CronSim

EXPRESSIONS = [
    "30 2 * * *", "*/30 * * * *", "0 1-3 * * *", "0 2 * * *", "15,45 1,2,3 * * *", "* 2 * * *", "0 */2 * * *",
    "5/20 * * * *", "0 9 * * MON-FRI", "0 0 L * *", "0 9 * * 5L", "0 9 * * MON#2", "0 9 * * MON#5", "0 0 29 2 *",
    "0 0 13 * FRI", "0 0 */13 * FRI", "0 12 1,15 * MON", "59 23 31 DEC *", "0 3 * MAR,OCT SUN", "30 1-4/2 * * *",
    "0 0 * * 7", "10-20/5 2 * * *", "0 22 * * 1-5", "0 0 1 JAN-MAR *",
]
ZONES = [
    "UTC", "Europe/Prague", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Kolkata",
    "Europe/Dublin", "America/Sao_Paulo", "Africa/Casablanca", "Asia/Tehran",
]
# Starts around each zone's changes of 2026 and some ordinary days.
ANCHORS = ["2026-03-07", "2026-03-27", "2026-04-03", "2026-09-25", "2026-10-02", "2026-10-24", "2026-10-31", "2026-06-15"]


def is_ambiguous(local: datetime) -> bool:
    return local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset()


def main() -> None:
    rng = random.Random(20261202)
    cases = []
    for expression in EXPRESSIONS:
        for zone_name, _ in [(zone, start) for zone in ZONES for start in range(2)]:
            zone = ZoneInfo(zone_name)
            anchor = datetime.fromisoformat(rng.choice(ANCHORS)).replace(tzinfo=timezone.utc)
            after = anchor + timedelta(minutes=rng.randrange(0, 3 * 24 * 60))
            local = after.astimezone(zone)
            # cronsim reads a start inside a repeated hour by its wall clock alone; Kairos's
            # times are strictly after the instant. Such starts are left out, not bent to fit.
            if is_ambiguous(local):
                continue
            iterator = CronSim(expression, local)
            times = [next(iterator).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") for _ in range(8)]
            cases.append({"expression": expression, "zone": zone_name, "after": after.strftime("%Y-%m-%dT%H:%M:%SZ"), "times": times})
    json.dump(cases, sys.stdout, indent=0)
    print(f"{len(cases)} cron cases from cronsim", file=sys.stderr)


if __name__ == "__main__":
    main()
