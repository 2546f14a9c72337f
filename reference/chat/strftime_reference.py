"""Reference outputs of Python's datetime.strftime (C locale, CPython on glibc) for PythonStrftimeTest.

Writes models/src/test/resources/golden/chat/strftime.json: for each datetime and format, the string Python gives.
The dates cover week-number edges (1 January on each weekday, 31 December, leap days), midnight and noon.

Run: python3 reference/chat/strftime_reference.py
"""
import datetime
import json
import locale
import os

locale.setlocale(locale.LC_TIME, "C")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "models/src/test/resources/golden/chat/strftime.json")

FORMATS = ["%d %b %Y", "%a %A %w", "%d %e %b %B %m %y %Y", "%H %I %p %M %S %f", "%j %U %W", "%c", "%x %X",
           "100%% sure, %Y-%m-%dT%H:%M:%S", "plain text"]
DATES = [datetime.datetime(2024, 7, 26, 9, 5, 3, 120),
         datetime.datetime(2026, 12, 6, 0, 0, 0),
         datetime.datetime(2026, 12, 6, 12, 30, 59, 999999),
         datetime.datetime(2024, 2, 29, 23, 59, 59)]
for year in range(2017, 2024):   # 1 January falls on each weekday once
    DATES.append(datetime.datetime(year, 1, 1, 7, 0, 0))
    DATES.append(datetime.datetime(year, 1, 8, 7, 0, 0))
    DATES.append(datetime.datetime(year, 12, 31, 18, 0, 0))
DATES.append(datetime.datetime(987, 3, 4, 5, 6, 7))   # a year below 1000: %Y without padding on glibc

cases = []
for d in DATES:
    for f in FORMATS:
        cases.append({"datetime": d.isoformat(), "format": f, "expected": d.strftime(f)})
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as fh:
    json.dump({"generator": "reference/chat/strftime_reference.py", "cases": cases}, fh, indent=1)
print(len(cases), "cases ->", OUT)
