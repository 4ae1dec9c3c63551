"""Constants from the metric catalogue (§12, §14, §15) that shape the demo hospital.

Everything here is data, not code: indices, mixes and dates the generator multiplies together.
Numbers quote the catalogue; where it gives a range we take a value inside it.

>>> round(sum(DOW_OUTPATIENT) / 7, 2)
1.0
>>> SPRING_FESTIVAL_EVE[2026]
datetime.date(2026, 2, 16)
"""
from __future__ import annotations

from datetime import date, timedelta

# §15.1 day-of-week indices, Monday first (mean of the 7 days = 1.00)
DOW_OUTPATIENT = (1.38, 1.25, 1.18, 1.15, 1.10, 0.58, 0.36)
DOW_EMERGENCY = (1.00, 0.97, 0.96, 0.96, 0.98, 1.05, 1.08)
DOW_ADMISSIONS = (1.25, 1.20, 1.10, 1.05, 0.95, 0.60, 0.85)
DOW_DISCHARGES = (0.90, 1.05, 1.10, 1.15, 1.30, 1.00, 0.50)
DOW_ELECTIVE_SURGERY = (1.30, 1.35, 1.35, 1.35, 1.25, 0.30, 0.10)
DOW_ONLINE = (1.10, 1.05, 1.05, 1.00, 0.95, 0.90, 0.95)

# §15.2 month baselines WITHOUT the Spring Festival: the catalogue advises applying the moving
# 春节 window instead of a depressed February, so Jan/Feb here are the neighbouring months' level.
MONTH_OUTPATIENT = (1.00, 1.00, 1.08, 1.03, 1.00, 1.02, 1.06, 1.05, 1.00, 0.96, 1.04, 1.06)
MONTH_EMERGENCY = (1.05, 1.00, 0.97, 0.95, 0.97, 1.00, 1.04, 1.03, 0.96, 0.98, 1.00, 1.07)
MONTH_ADMISSIONS = (1.00, 1.00, 1.06, 1.03, 1.01, 1.02, 1.05, 1.05, 1.01, 0.97, 1.03, 1.03)
MONTH_RESPIRATORY = (1.35, 1.10, 1.00, 0.90, 0.85, 0.85, 0.85, 0.85, 0.85, 0.90, 1.10, 1.40)
MONTH_DEATHS = (1.15, 1.08, 1.00, 0.95, 0.93, 0.92, 0.93, 0.94, 0.95, 0.97, 1.03, 1.15)

# §15.3: 春节 (first day of the lunar year); 除夕 (day 0 of the window) is the day before.
_SPRING_FESTIVAL = (
    "2008-02-07", "2009-01-26", "2010-02-14", "2011-02-03", "2012-01-23", "2013-02-10",
    "2014-01-31", "2015-02-19", "2016-02-08", "2017-01-28", "2018-02-16", "2019-02-05",
    "2020-01-25", "2021-02-12", "2022-02-01", "2023-01-22", "2024-02-10", "2025-01-29",
    "2026-02-17", "2027-02-06", "2028-01-26", "2029-02-13", "2030-02-03",
)
SPRING_FESTIVAL_EVE: dict[int, date] = {
    date.fromisoformat(d).year: date.fromisoformat(d) - timedelta(days=1) for d in _SPRING_FESTIVAL
}

# §15.3 Spring Festival window multipliers by offset from 除夕, per series:
# (first offset, last offset, outpatient, emergency, admissions, elective surgery).
# Discharges are shaped by moving discharge dates (wards cleared before 除夕), not by a factor.
SF_WINDOW = (
    (-14, -8, 0.97, 1.00, 0.85, 0.90),
    (-7, -1, None, 1.00, 0.45, 0.55),   # outpatient falls 80 % -> 50 % (interpolated)
    (0, 6, 0.28, 1.00, 0.35, 0.15),
    (7, 14, 1.18, 1.02, 1.22, 1.15),
)
# 国庆 Golden Week (Oct 1-7) and the week after, same columns
GOLDEN_WEEK = (0.38, 1.00, 0.45, 0.25)
GOLDEN_WEEK_REBOUND = (1.12, 1.00, 1.12, 1.12)

# §15.5 intra-day profiles: share of the day per hour 0..23
OUTPATIENT_HOURS = (0, 0, 0, 0, 0, 0, 0, 8, 16, 17, 13, 7, 2, 8, 12, 10, 5, 2, 1.5, 1.5, 1, 0, 0, 0)
EMERGENCY_HOURS = (3, 2.5, 2, 2, 2, 2, 3, 4, 5, 6.5, 6.5, 5.5, 4.5, 4.5, 4.5, 4.5, 4.5, 4.5, 5,
                   6.5, 6.5, 6, 5, 4)
ONLINE_HOURS = (0.4, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 7, 11, 11, 8, 5.5, 6, 7, 7, 6.5, 5.5, 3,
                3.5, 5, 5, 2.5, 1)
ELECTIVE_ADMIT_HOURS = (0, 0, 0, 0, 0, 0, 0, 2, 8, 22, 20, 18, 6, 5, 6, 6, 4, 2, 1, 0, 0, 0, 0, 0)
DISCHARGE_HOURS = (0, 0, 0, 0, 0, 0, 0, 1, 5, 15, 16, 14, 10, 9, 7, 7, 6, 5, 3, 1, 1, 0, 0, 0)

# §14.2 registration channel mix (wechat + mini program; app + alipay folded into app)
BOOKING_CHANNELS = {"wechat": 0.50, "app": 0.18, "kiosk": 0.11, "clinic": 0.11, "window": 0.05,
                    "phone": 0.02, "alliance": 0.03}
ADMISSION_SOURCE = {"outpatient": 0.75, "emergency": 0.20, "referral_in": 0.02, "transfer": 0.01,
                    "other": 0.02}
# §14.2 discharge disposition; "death" is drawn from the DRG's risk tier instead
DISPOSITION = {"home": 0.935, "transfer_hospital": 0.015, "transfer_primary": 0.01,
               "against_advice": 0.025, "other": 0.007}
# in-hospital mortality by risk tier (§11: L 0.01-0.05 %, ML 0.1-0.5 %, MH 0.5-2 %, H 2-15 %)
MORTALITY = {"zero": 0.0, "low": 0.0003, "mid_low": 0.003, "mid_high": 0.012, "high": 0.06}
SELF_PAY_SHARE = 0.15

# §14.2 surgery grade mix (院内口径) - shifted by the group's weight in surgery.py
GRADE_MIX = (0.12, 0.23, 0.32, 0.33)

# §12.1 outpatient charge mix per visit (drug 40-50 %, exam+lab 28-35 %, ...):
# weights of each category when present (charges.PRESENT says how often); with registration
# this lands near drug 45 %, exam + lab 33 %, treatment 7 %, consumables 5 %
OUTPATIENT_CHARGE_MIX = {"registration": 0.02, "consultation": 0.04, "drug": 0.26, "exam": 0.24,
                         "lab": 0.16, "treatment": 0.18, "material": 0.16, "surgery": 0.06,
                         "other": 0.03}
OUTPATIENT_MEAN_COST = 450.0     # §14.1 门急诊次均费用
EMERGENCY_MEAN_COST = 650.0

# §11.3 cost structure of an inpatient stay by group type: shares of the 11 charge categories.
# Keys: drug, material, exam, lab, treatment, surgery, nursing, bed, consultation, other.
COST_STRUCTURE = {
    "implant":  dict(drug=.11, material=.50, exam=.07, lab=.06, treatment=.07, surgery=.09,
                     nursing=.03, bed=.03, consultation=.01, other=.03),
    "major":    dict(drug=.23, material=.25, exam=.10, lab=.10, treatment=.08, surgery=.11,
                     nursing=.04, bed=.04, consultation=.015, other=.035),
    "minor":    dict(drug=.10, material=.30, exam=.07, lab=.07, treatment=.12, surgery=.20,
                     nursing=.04, bed=.04, consultation=.02, other=.04),
    "medical":  dict(drug=.35, material=.08, exam=.16, lab=.15, treatment=.10, surgery=.0,
                     nursing=.05, bed=.05, consultation=.02, other=.04),
    "chemo":    dict(drug=.65, material=.035, exam=.075, lab=.10, treatment=.07, surgery=.0,
                     nursing=.02, bed=.02, consultation=.01, other=.02),
    "icu":      dict(drug=.35, material=.16, exam=.08, lab=.125, treatment=.13, surgery=.03,
                     nursing=.05, bed=.04, consultation=.01, other=.025),
}
# hospital cost index vs the regional benchmark (§11: 1.0-1.2)
COST_INDEX = 1.05
BASE_RATE = 18_000.0             # §11: benchmark cost = RW x 18,000 元; payment = RW x rate
PAYMENT_COEFFICIENT = 1.02       # hospital-level coefficient on the base rate

GROWTH_PER_YEAR = 0.05           # ~4-6 %/yr
TARGET_OCCUPANCY = 0.98          # §14.1
EMERGENCY_SHARE = 0.03           # of all visits at the main/branch campuses (brief)
APPOINTMENT_SHARE = 0.80         # of outpatient visits
ONLINE_SHARE = 0.06              # internet consults per outpatient visit
