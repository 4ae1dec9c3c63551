"""The organisation: campuses, departments, teams, doctors and operating rooms.

Departments are instances of disciplines (学科): the same discipline exists at the main campus
and, for the larger ones, at the branch campus and at alliance members (医联体), so leaders can
compare one specialty across campuses. Sizes (teams, doctors, OR rooms) follow the expected
workload the scale implies, so a small demo has a small hospital with the same structure.

>>> d = disciplines()
>>> d.loc[d.discipline == "心血管内科", "name_en"].item()
'Cardiology'
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd

# discipline | English | type | surgical | ward | outpatient weight | respiratory season | branch | alliance
_DISCIPLINES = """\
心血管内科|Cardiology|clinical|0|1|4.0|0|1|1
呼吸与危重症医学科|Respiratory and Critical Care Medicine|clinical|0|1|3.5|1|1|1
消化内科|Gastroenterology|clinical|0|1|3.5|0|1|1
神经内科|Neurology|clinical|0|1|3.0|0|1|1
肾脏内科|Nephrology|clinical|0|1|1.8|0|0|0
内分泌代谢科|Endocrinology and Metabolism|clinical|0|1|3.0|0|1|1
血液内科|Hematology|clinical|0|1|1.2|0|0|0
风湿免疫科|Rheumatology and Immunology|clinical|0|1|1.5|0|0|0
感染性疾病科|Infectious Diseases|clinical|0|1|1.2|1|0|0
老年医学科|Geriatrics|clinical|0|1|1.5|1|1|0
全科医学科|General Practice|clinical|0|1|2.5|1|1|1
肿瘤科|Medical Oncology|clinical|0|1|2.0|0|1|0
放疗科|Radiation Oncology|clinical|0|1|0.6|0|0|0
重症医学科|Critical Care Medicine|clinical|0|1|0.0|0|1|0
急诊科|Emergency Medicine|clinical|0|1|0.0|1|1|0
普通外科|General Surgery|clinical|1|1|2.0|0|1|1
胃肠外科|Gastrointestinal Surgery|clinical|1|1|1.2|0|0|0
肝胆胰外科|Hepatobiliary and Pancreatic Surgery|clinical|1|1|1.2|0|1|0
甲状腺外科|Thyroid Surgery|clinical|1|1|1.0|0|0|0
乳腺外科|Breast Surgery|clinical|1|1|1.2|0|0|0
血管外科|Vascular Surgery|clinical|1|1|0.6|0|0|0
胸外科|Thoracic Surgery|clinical|1|1|1.2|0|0|0
心脏大血管外科|Cardiovascular Surgery|clinical|1|1|0.5|0|0|0
神经外科|Neurosurgery|clinical|1|1|1.0|0|0|0
骨科|Orthopaedics|clinical|1|1|4.0|0|1|1
泌尿外科|Urology|clinical|1|1|2.2|0|1|0
整形外科|Plastic Surgery|clinical|1|1|0.8|0|0|0
烧伤科|Burns|clinical|1|1|0.2|0|0|0
妇科|Gynaecology|clinical|1|1|3.0|0|1|1
产科|Obstetrics|clinical|1|1|2.0|0|1|0
生殖医学中心|Reproductive Medicine|clinical|0|0|1.5|0|0|0
儿科|Paediatrics|clinical|0|1|5.0|1|1|1
新生儿科|Neonatology|clinical|0|1|0.3|1|0|0
小儿外科|Paediatric Surgery|clinical|1|1|0.8|0|0|0
眼科|Ophthalmology|clinical|1|1|4.0|0|1|1
耳鼻咽喉头颈外科|Otorhinolaryngology Head and Neck Surgery|clinical|1|1|3.0|1|1|0
口腔科|Stomatology|clinical|1|1|4.5|0|1|1
皮肤科|Dermatology|clinical|0|0|4.5|0|1|1
精神心理科|Psychiatry and Psychology|clinical|0|1|3.0|0|0|0
中医科|Traditional Chinese Medicine|clinical|0|1|4.0|0|1|1
康复医学科|Rehabilitation Medicine|clinical|0|1|2.0|0|1|1
疼痛科|Pain Medicine|clinical|0|1|0.8|0|0|0
变态反应科|Allergy|clinical|0|0|0.8|1|0|0
肛肠外科|Anorectal Surgery|clinical|1|1|0.8|0|0|0
介入放射科|Interventional Radiology|clinical|1|1|0.3|0|0|0
检验科|Laboratory Medicine|medtech|0|0|0|0|1|0
放射科|Radiology|medtech|0|0|0|0|1|0
超声医学科|Ultrasound Medicine|medtech|0|0|0|0|1|0
病理科|Pathology|medtech|0|0|0|0|0|0
核医学科|Nuclear Medicine|medtech|0|0|0|0|0|0
药剂科|Pharmacy|medtech|0|0|0|0|1|0
输血科|Blood Transfusion|medtech|0|0|0|0|0|0
麻醉手术中心|Anaesthesia and Operating Theatres|medtech|0|0|0|0|1|0
内镜中心|Endoscopy Centre|medtech|0|0|0|0|0|0
心电诊断科|Electrocardiography|medtech|0|0|0|0|0|0
临床营养科|Clinical Nutrition|medtech|0|0|0|0|0|0
健康管理中心|Health Management Centre|other|0|0|0|0|1|0
"""

# main, branch, then alliance members in other provinces (and the home province)
_CAMPUSES = """\
C01|示范医院本部院区|main|四川省|成都市|30.6424|104.0633
C02|示范医院天府院区|branch|四川省|成都市|30.4120|104.0720
C03|重庆市示范医联体医院|alliance|重庆市|重庆市|29.5630|106.5516
C04|贵州省示范医联体医院|alliance|贵州省|贵阳市|26.6470|106.6302
C05|云南省示范医联体医院|alliance|云南省|昆明市|25.0389|102.7183
C06|西藏自治区示范医联体医院|alliance|西藏自治区|拉萨市|29.6500|91.1000
C07|甘肃省示范医联体医院|alliance|甘肃省|兰州市|36.0611|103.8343
C08|绵阳市示范医联体医院|alliance|四川省|绵阳市|31.4675|104.6796
C09|青海省示范医联体医院|alliance|青海省|西宁市|36.6171|101.7782
C10|宜宾市示范医联体医院|alliance|四川省|宜宾市|28.7513|104.6417
C11|新疆示范医联体医院|alliance|新疆维吾尔自治区|乌鲁木齐市|43.8256|87.6168
C12|南充市示范医联体医院|alliance|四川省|南充市|30.8373|106.1107
C13|宁夏示范医联体医院|alliance|宁夏回族自治区|银川市|38.4872|106.2309
C14|攀枝花市示范医联体医院|alliance|四川省|攀枝花市|26.5823|101.7185
"""

_SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任")
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建文辉力斌宇浩凯鹏")

TITLES = ("chief", "associate_chief", "attending", "resident")


def disciplines() -> pd.DataFrame:
    """The discipline catalogue (one row per 学科), with its flags and outpatient weight."""
    cols = ["discipline", "name_en", "dept_type", "is_surgical", "has_ward", "opd_weight",
            "respiratory", "at_branch", "at_alliance"]
    df = pd.read_csv(io.StringIO(_DISCIPLINES), sep="|", names=cols, header=None)
    for c in ("is_surgical", "has_ward", "respiratory", "at_branch", "at_alliance"):
        df[c] = df[c].astype(bool)
    return df


def campuses(n_alliance: int) -> pd.DataFrame:
    """dim_campus: the main campus, the branch and the first `n_alliance` alliance members."""
    cols = ["campus_id", "campus_name", "campus_type", "province", "city", "latitude", "longitude"]
    df = pd.read_csv(io.StringIO(_CAMPUSES), sep="|", names=cols, header=None)
    return df.iloc[: 2 + n_alliance].reset_index(drop=True)


def departments(campus: pd.DataFrame) -> pd.DataFrame:
    """dim_department plus working columns (opd_weight, respiratory) the generator uses.

    Alliance members only run outpatient clinics of their disciplines (no wards in the feed).
    """
    disc = disciplines()
    frames = []
    for i, c in enumerate(campus.itertuples()):
        if c.campus_type == "main":
            d = disc.copy()
        elif c.campus_type == "branch":
            d = disc[disc.at_branch].copy()
        else:
            d = disc[disc.at_alliance].copy()
            d["has_ward"] = False
            d["is_surgical"] = False
        d["campus_id"] = c.campus_id
        d["campus_type"] = c.campus_type
        d["dept_id"] = [f"D{i + 1:02d}{k + 1:02d}" for k in range(len(d))]
        frames.append(d)
    df = pd.concat(frames, ignore_index=True)
    df["dept_name"] = df["discipline"]
    df["dept_name_en"] = df["name_en"]
    return df


def team_counts(dept: pd.DataFrame, beds: pd.Series) -> np.ndarray:
    """Teams per department: about one 诊疗组 per 20 beds (§14.1), 1-9 per ward department."""
    n = np.clip(np.ceil(beds.to_numpy() / 20), 1, 9).astype(int)
    return np.where(dept.has_ward.to_numpy(), n, 0)


def teams(dept: pd.DataFrame, n_teams: np.ndarray) -> pd.DataFrame:
    """dim_team rows for each ward department: `<dept_id>T<k>` named 第k诊疗组 of the dept."""
    idx = np.repeat(np.arange(len(dept)), n_teams)
    k = np.concatenate([np.arange(1, n + 1) for n in n_teams]) if len(idx) else np.array([], int)
    d = dept.iloc[idx].reset_index(drop=True)
    return pd.DataFrame({
        "team_id": d.dept_id + "T" + pd.Series(k).astype(str).str.zfill(2),
        "team_name": d.dept_name + "第" + pd.Series(k).astype(str) + "诊疗组",
        "dept_id": d.dept_id,
    })


def doctors(rng: np.random.Generator, dept: pd.DataFrame, team: pd.DataFrame,
            clinic_doctors: np.ndarray) -> pd.DataFrame:
    """dim_doctor: per team one lead (chief / associate chief) plus 2-4 doctors; then
    clinic-only doctors (no team) until each department has `clinic_doctors`."""
    n_members = rng.integers(2, 5, len(team))
    t_idx = np.repeat(np.arange(len(team)), 1 + n_members)
    first = np.r_[0, np.cumsum(1 + n_members)[:-1]]
    pos = np.arange(len(t_idx)) - np.repeat(first, 1 + n_members)
    lead_title = rng.choice(["chief", "associate_chief"], len(team), p=[0.45, 0.55])
    member_title = rng.choice(["associate_chief", "attending", "resident"], len(t_idx),
                              p=[0.2, 0.45, 0.35])
    title = np.where(pos == 0, lead_title[t_idx], member_title)
    in_team = pd.DataFrame({"dept_id": team.dept_id.to_numpy()[t_idx],
                            "team_id": team.team_id.to_numpy()[t_idx], "title": title})
    have = in_team.groupby("dept_id").size().reindex(dept.dept_id, fill_value=0).to_numpy()
    extra = np.maximum(clinic_doctors - have, 0)
    e_idx = np.repeat(np.arange(len(dept)), extra)
    clinic_only = pd.DataFrame({
        "dept_id": dept.dept_id.to_numpy()[e_idx], "team_id": pd.Series([None] * len(e_idx),
                                                                        dtype="str"),
        "title": rng.choice(TITLES, len(e_idx), p=[0.15, 0.3, 0.4, 0.15])})
    doc = pd.concat([in_team, clinic_only], ignore_index=True)
    doc = doc.sort_values(["dept_id"], kind="stable").reset_index(drop=True)
    seq = doc.groupby("dept_id").cumcount() + 1
    doc["doctor_id"] = "E" + doc.dept_id.str[1:] + seq.astype(str).str.zfill(3)
    doc["doctor_name"] = (pd.Series(rng.choice(_SURNAMES, len(doc)))
                          + pd.Series(rng.choice(_GIVEN, len(doc)))
                          + pd.Series(rng.choice(_GIVEN + [""], len(doc))))
    return doc


def team_leaders(team: pd.DataFrame, doc: pd.DataFrame) -> pd.Series:
    """The lead doctor of each team (its first member)."""
    first = doc.dropna(subset=["team_id"]).groupby("team_id").doctor_id.first()
    return team.team_id.map(first)


def or_rooms(campus: pd.DataFrame, rooms_per_campus: dict[str, int]) -> pd.DataFrame:
    """dim_or_room: main OR, day-surgery centre and hybrid rooms per campus with surgery."""
    rows = []
    for cid, n in rooms_per_campus.items():
        for k in range(1, n + 1):
            day_centre = k > n * 0.8          # the last fifth is the day-surgery centre
            rows.append((f"{cid}-OR{k:03d}", cid, 600 if day_centre else 720,
                         0 if day_centre else 480))
    return pd.DataFrame(rows, columns=["or_room", "campus_id", "open_minutes_weekday",
                                       "open_minutes_weekend"])
