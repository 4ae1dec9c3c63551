"""The DRG groups of the demo: the catalogue's 53 sample groups (§11) and a long tail.

Columns: code | name | kind (surgical / procedure / medical) | RW | benchmark LOS | cases per 10k
discharges | risk tier | disciplines (share-weighted) | cost structure (§11.3) | OR case |
short-stay share (day surgery or day case, §11.1).
The sample rows copy the catalogue. Long-tail rows are plausible CHS-DRG style groups with
illustrative names and weights (RW 0.4-2.0 mostly); severity siblings follow §11.2's RW ratios.
"""

SAMPLE = """\
AH11|有创呼吸机支持≥96小时或ECMO或全人工心脏移植术，伴严重并发症或合并症|surgical|9.80|24.0|15|high|重症医学科|icu|1|0
AG19|异体骨髓／造血干细胞移植|surgical|13.50|32.0|6|high|血液内科|icu|1|0
BB21|除创伤之外的其他开颅术，伴严重并发症或合并症|surgical|5.30|18.0|30|mid_high|神经外科|major|1|0
BE29|脑血管介入治疗|surgical|4.10|9.0|45|mid_low|神经外科:0.6;介入放射科:0.4|implant|1|0
BR11|颅内出血性疾患，伴严重并发症或合并症|medical|1.95|14.0|40|high|神经外科:0.5;神经内科:0.5|medical|0|0
BR21|脑缺血性疾患，伴严重并发症或合并症|medical|1.35|11.5|60|mid_high|神经内科:0.8;老年医学科:0.2|medical|0|0
BR23|脑缺血性疾患，伴并发症或合并症|medical|0.98|9.5|110|mid_low|神经内科:0.8;老年医学科:0.1;中医科:0.1|medical|0|0
BR25|脑缺血性疾患，不伴并发症或合并症|medical|0.80|8.0|120|low|神经内科:0.7;中医科:0.2;全科医学科:0.1|medical|0|0
CB39|晶体手术|surgical|0.52|1.8|260|low|眼科|minor|1|0.7
DD29|鼻腔、鼻窦手术|surgical|0.78|4.5|90|low|耳鼻咽喉头颈外科|minor|1|0.1
DE29|扁桃体和/或腺样体切除手术|surgical|0.55|3.0|70|low|耳鼻咽喉头颈外科|minor|1|0.4
EB19|肺大手术|surgical|3.10|8.5|110|mid_low|胸外科|major|1|0
ER13|呼吸系统肿瘤，伴并发症或合并症|medical|1.10|9.0|80|mid_high|呼吸与危重症医学科:0.6;肿瘤科:0.4|medical|0|0
ES31|呼吸系统感染/炎症，伴严重并发症或合并症|medical|1.60|12.5|70|high|呼吸与危重症医学科:0.7;儿科:0.1;老年医学科:0.2|medical|0|0
ES33|呼吸系统感染/炎症，伴并发症或合并症|medical|0.98|9.0|120|mid_high|呼吸与危重症医学科:0.6;儿科:0.2;老年医学科:0.1;全科医学科:0.1|medical|0|0
ES35|呼吸系统感染/炎症，不伴并发症或合并症|medical|0.70|7.0|150|low|呼吸与危重症医学科:0.4;儿科:0.5;全科医学科:0.1|medical|0|0
ET21|慢性气道阻塞病，伴严重并发症或合并症|medical|1.35|11.0|50|mid_high|呼吸与危重症医学科|medical|0|0
ET25|慢性气道阻塞病，不伴并发症或合并症|medical|0.75|8.0|60|low|呼吸与危重症医学科:0.8;中医科:0.2|medical|0|0
FB21|心脏瓣膜手术，伴严重并发症或合并症|surgical|7.40|17.0|15|mid_high|心脏大血管外科|major|1|0
FK39|永久性起搏器植入/置换/更新|procedure|2.90|7.0|35|mid_low|心血管内科|implant|1|0
FL19|经皮心脏消融术伴房颤和/或房扑|procedure|3.50|5.0|50|low|心血管内科|implant|1|0
FM19|经皮冠状动脉支架植入|procedure|2.55|6.0|140|mid_low|心血管内科|implant|1|0
FM39|经皮心导管检查操作|procedure|0.72|3.5|120|low|心血管内科|minor|0|0.4
FR21|心力衰竭、休克，伴严重并发症或合并症|medical|1.45|10.0|60|high|心血管内科:0.8;老年医学科:0.2|medical|0|0
FR39|心绞痛|medical|0.68|6.0|80|low|心血管内科|medical|0|0
FV23|高血压，伴并发症或合并症|medical|0.58|7.0|50|low|心血管内科:0.6;老年医学科:0.2;全科医学科:0.2|medical|0|0
GB11|食管、胃、十二指肠大手术，伴严重并发症或合并症|surgical|4.90|18.0|20|mid_high|胃肠外科|major|1|0
GB29|小肠、大肠（含直肠）的大手术|surgical|3.40|14.0|60|mid_low|胃肠外科:0.7;肛肠外科:0.3|major|1|0
GE15|腹股沟及腹疝手术，不伴并发症或合并症|surgical|0.72|3.0|70|low|普通外科:0.8;小儿外科:0.2|minor|1|0.4
GK39|结肠镜治疗操作|procedure|0.48|2.5|200|low|消化内科|minor|0|0.5
GW19|食管炎、胃肠炎|medical|0.45|5.0|50|low|消化内科:0.5;儿科:0.5|medical|0|0
HB11|胰、肝切除和/或分流手术，伴严重并发症或合并症|surgical|5.90|18.0|20|mid_high|肝胆胰外科|major|1|0
HC29|胆囊切除手术|surgical|0.95|4.5|130|low|肝胆胰外科:0.7;普通外科:0.3|minor|1|0.2
HT23|急性胰腺炎，伴并发症或合并症|medical|0.95|9.0|40|mid_low|消化内科|medical|0|0
IB29|脊柱2节段及以下脊柱融合术|surgical|3.60|10.0|70|low|骨科|implant|1|0
IC29|髋、肩、膝、肘和踝关节置换术|surgical|3.10|9.5|90|low|骨科|implant|1|0
IF31|股骨手术，伴严重并发症或合并症|surgical|2.90|13.0|20|mid_high|骨科|implant|1|0
IU29|颈腰背疾患|medical|0.50|8.0|50|low|骨科:0.4;疼痛科:0.3;中医科:0.3|medical|0|0
JA29|乳房恶性肿瘤根治性切除术|surgical|1.85|8.0|80|low|乳腺外科|major|1|0
KD19|甲状腺大手术|surgical|1.20|4.5|110|low|甲状腺外科|minor|1|0
KS15|糖尿病，不伴并发症或合并症|medical|0.55|7.0|50|low|内分泌代谢科:0.7;中医科:0.15;全科医学科:0.15|medical|0|0
LB19|肾脏结石手术|surgical|1.35|5.5|70|low|泌尿外科|minor|1|0
LR11|肾功能不全，伴严重并发症或合并症|medical|1.70|12.0|30|high|肾脏内科|medical|0|0
MB19|前列腺手术|surgical|1.40|7.0|45|low|泌尿外科|minor|1|0
NC19|子宫（除子宫腔内病变以外）手术|surgical|1.25|6.0|60|low|妇科|major|1|0
NE19|子宫腔内病变手术|surgical|0.48|2.5|90|low|妇科|minor|1|0.7
OB19|剖宫产术|surgical|0.85|5.0|70|low|产科|minor|1|0
OR19|阴道分娩|medical|0.42|3.0|60|low|产科|medical|0|0
RE15|恶性增生性疾患的化学治疗和/或其他治疗，不伴并发症或合并症|procedure|0.55|3.5|400|mid_low|肿瘤科:0.75;血液内科:0.15;放疗科:0.1|chemo|0|0.5
RG15|恶行增生性疾患的靶向、免疫治疗，不伴并发症或合并症|procedure|0.85|3.0|120|mid_low|肿瘤科:0.8;血液内科:0.2|chemo|0|0.6
RC19|恶性增生性疾患放射治疗|procedure|2.30|22.0|40|mid_high|放疗科|chemo|0|0
SR11|败血症，伴严重并发症或合并症|medical|2.30|15.0|20|high|感染性疾病科:0.5;重症医学科:0.5|icu|0|0
XR21|神经、骨骼及肌肉康复，伴严重并发症或合并症|medical|1.30|18.0|40|low|康复医学科|medical|0|0
"""

LONG_TAIL = """\
BR13|颅内出血性疾患，伴并发症或合并症|medical|1.30|11|30|mid_high|神经外科:0.5;神经内科:0.5|medical|0|0
BR15|颅内出血性疾患，不伴并发症或合并症|medical|1.05|9|20|mid_low|神经外科:0.5;神经内科:0.5|medical|0|0
BB23|除创伤之外的其他开颅术，伴并发症或合并症|surgical|3.80|14|25|mid_low|神经外科|major|1|0
BB25|除创伤之外的其他开颅术，不伴并发症或合并症|surgical|3.00|11|25|low|神经外科|major|1|0
BY19|癫痫病|medical|0.70|6|30|mid_low|神经内科:0.6;儿科:0.4|medical|0|0
BZ19|神经系统其他疾患|medical|0.75|7|40|low|神经内科:0.8;中医科:0.2|medical|0|0
BX29|颅神经/周围神经疾患|medical|0.60|6|20|low|疼痛科:0.5;神经内科:0.5|medical|0|0
CB19|玻璃体、视网膜手术|surgical|0.95|4|90|low|眼科|minor|1|0.3
CC19|角膜、巩膜、结膜手术|surgical|0.60|3|50|zero|眼科|minor|1|0.6
CZ19|其他眼部疾患|medical|0.45|4|30|low|眼科|medical|0|0
DC19|中耳/内耳/侧颅底手术|surgical|1.20|6|30|low|耳鼻咽喉头颈外科|minor|1|0
DJ19|口腔颌面部手术|surgical|0.95|5|50|low|口腔科|minor|1|0.2
DT19|中耳炎及上呼吸道感染|medical|0.45|4|40|low|耳鼻咽喉头颈外科:0.4;儿科:0.6|medical|0|0
DZ19|其他头颈、耳、鼻、咽、口疾患|medical|0.50|4|30|low|耳鼻咽喉头颈外科:0.5;口腔科:0.5|medical|0|0
EC19|纵隔手术|surgical|2.20|8|15|low|胸外科|major|1|0
EJ19|呼吸系统其他手术|surgical|1.60|7|20|mid_low|胸外科|major|1|0
ER11|呼吸系统肿瘤，伴严重并发症或合并症|medical|1.50|11|40|high|呼吸与危重症医学科:0.6;肿瘤科:0.4|medical|0|0
ER15|呼吸系统肿瘤，不伴并发症或合并症|medical|0.85|7|60|mid_low|呼吸与危重症医学科:0.5;肿瘤科:0.5|medical|0|0
ET23|慢性气道阻塞病，伴并发症或合并症|medical|0.95|9|70|mid_low|呼吸与危重症医学科:0.8;老年医学科:0.2|medical|0|0
EX19|哮喘及喘息性支气管炎|medical|0.60|6|60|low|呼吸与危重症医学科:0.4;儿科:0.6|medical|0|0
FB23|心脏瓣膜手术，伴并发症或合并症|surgical|5.60|14|15|mid_low|心脏大血管外科|major|1|0
FB25|心脏瓣膜手术，不伴并发症或合并症|surgical|4.80|12|15|low|心脏大血管外科|major|1|0
FF39|静脉系统手术|surgical|0.90|4|30|zero|血管外科|minor|1|0.4
FJ19|循环系统其他手术|surgical|1.80|7|20|mid_low|血管外科|major|1|0
FN19|外周血管经皮血管内检查和/或治疗|procedure|2.20|6|25|low|血管外科:0.6;介入放射科:0.4|implant|1|0
FR23|心力衰竭、休克，伴并发症或合并症|medical|1.00|8.5|60|mid_high|心血管内科:0.7;老年医学科:0.3|medical|0|0
FR25|心力衰竭、休克，不伴并发症或合并症|medical|0.80|7|40|mid_low|心血管内科|medical|0|0
FT29|心律失常及传导障碍|medical|0.60|4.5|60|low|心血管内科|medical|0|0
GB13|食管、胃、十二指肠大手术，伴并发症或合并症|surgical|3.40|14|25|mid_low|胃肠外科|major|1|0
GB15|食管、胃、十二指肠大手术，不伴并发症或合并症|surgical|2.70|12|30|low|胃肠外科|major|1|0
GD19|阑尾切除术|surgical|0.80|4.5|70|low|普通外科:0.8;小儿外科:0.2|minor|1|0
GF19|肛管、肛门及肛周手术|surgical|0.55|4|80|zero|肛肠外科|minor|1|0.5
GR19|消化系统恶性肿瘤|medical|1.00|8|50|mid_high|消化内科:0.5;肿瘤科:0.5|medical|0|0
GV19|消化道出血|medical|0.90|7|40|mid_low|消化内科|medical|0|0
GZ19|其他消化系统诊断|medical|0.50|5|50|low|消化内科:0.7;全科医学科:0.3|medical|0|0
HB13|胰、肝切除和/或分流手术，伴并发症或合并症|surgical|4.00|14|20|mid_low|肝胆胰外科|major|1|0
HB15|胰、肝切除和/或分流手术，不伴并发症或合并症|surgical|3.20|12|25|low|肝胆胰外科|major|1|0
HL19|肝胆胰系统的治疗性操作|procedure|1.30|7|40|low|消化内科|minor|0|0
HL29|肝恶性肿瘤经血管介入治疗|procedure|1.60|6|30|mid_low|介入放射科|implant|1|0
HS19|肝硬化|medical|1.00|10|30|mid_high|消化内科:0.6;感染性疾病科:0.4|medical|0|0
HT21|急性胰腺炎，伴严重并发症或合并症|medical|1.60|13|15|mid_high|消化内科:0.6;重症医学科:0.4|icu|0|0
HT25|急性胰腺炎，不伴并发症或合并症|medical|0.70|7|30|low|消化内科|medical|0|0
HZ19|胆道疾患|medical|0.60|6|40|low|肝胆胰外科:0.5;消化内科:0.5|medical|0|0
ID19|骨科内固定物取出|surgical|0.55|3|40|zero|骨科|minor|1|0.6
IE19|骨盆、髋臼手术|surgical|3.30|12|15|mid_low|骨科|implant|1|0
IF33|股骨手术，伴并发症或合并症|surgical|2.20|10|40|mid_low|骨科|implant|1|0
IF35|股骨手术，不伴并发症或合并症|surgical|1.90|8|30|low|骨科|implant|1|0
IH19|肌肉、肌腱手术|surgical|0.90|5|40|low|骨科:0.8;整形外科:0.2|minor|1|0.3
IR19|骨折（除股骨外）|medical|0.60|7|30|low|骨科|medical|0|0
IT29|慢性炎症性肌肉骨骼结缔组织疾患|medical|0.80|9|60|low|风湿免疫科|medical|0|0
IZ19|其他肌肉骨骼疾患|medical|0.60|8|20|low|风湿免疫科:0.5;疼痛科:0.5|medical|0|0
JB29|乳房良性病变手术|surgical|0.60|3|50|zero|乳腺外科|minor|1|0.6
JJ19|皮肤、皮下组织的其他手术|surgical|0.60|4|40|low|整形外科|minor|1|0.5
KC19|肾上腺手术|surgical|2.00|7|10|low|泌尿外科|major|1|0
KS11|糖尿病，伴严重并发症或合并症|medical|1.05|10|30|mid_low|内分泌代谢科|medical|0|0
KS13|糖尿病，伴并发症或合并症|medical|0.70|8|70|low|内分泌代谢科:0.7;老年医学科:0.3|medical|0|0
KZ19|其他代谢疾患|medical|0.55|7|40|low|内分泌代谢科|medical|0|0
LC19|输尿管手术|surgical|1.20|5|40|low|泌尿外科|minor|1|0.2
LD19|膀胱手术|surgical|1.40|6|25|low|泌尿外科|major|1|0
LL19|肾透析|procedure|0.60|4|30|mid_low|肾脏内科|medical|0|0
LR13|肾功能不全，伴并发症或合并症|medical|1.10|10|40|mid_high|肾脏内科|medical|0|0
LR15|肾功能不全，不伴并发症或合并症|medical|0.85|8|30|mid_low|肾脏内科|medical|0|0
LU19|泌尿系统感染|medical|0.60|6|30|low|肾脏内科:0.5;泌尿外科:0.5|medical|0|0
MJ19|男性生殖系统其他手术|surgical|0.45|2|40|zero|小儿外科:0.5;泌尿外科:0.5|minor|1|0.7
NA19|女性生殖器官恶性肿瘤手术|surgical|2.40|10|30|low|妇科|major|1|0
NF19|外阴、阴道、宫颈手术|surgical|0.50|3|50|zero|妇科|minor|1|0.6
NZ19|女性生殖系统其他疾患|medical|0.45|5|30|low|妇科|medical|0|0
OC19|阴道分娩伴手术操作|surgical|0.55|3.5|40|zero|产科|minor|1|0
OE19|异位妊娠手术|surgical|0.70|4|20|low|妇科:0.5;产科:0.5|minor|1|0
OZ19|妊娠期其他疾患|medical|0.45|5|40|zero|产科|medical|0|0
PR19|新生儿伴其他问题|medical|1.40|12|15|mid_high|新生儿科|icu|0|0
PS19|新生儿，出生体重≥2500克|medical|0.60|6|30|low|新生儿科|medical|0|0
QR19|网状内皮及免疫性疾患|medical|1.00|8|20|mid_low|血液内科:0.6;风湿免疫科:0.4|medical|0|0
RE11|恶性增生性疾患的化学治疗和/或其他治疗，伴严重并发症或合并症|procedure|1.10|7|60|mid_high|肿瘤科:0.6;血液内科:0.4|chemo|0|0
RE13|恶性增生性疾患的化学治疗和/或其他治疗，伴并发症或合并症|procedure|0.75|4.5|150|mid_low|肿瘤科:0.8;血液内科:0.2|chemo|0|0.4
RG11|恶性增生性疾患的靶向、免疫治疗，伴严重并发症或合并症|procedure|1.30|6|20|mid_high|肿瘤科|chemo|0|0
RG13|恶性增生性疾患的靶向、免疫治疗，伴并发症或合并症|procedure|1.00|4|60|mid_low|肿瘤科:0.7;血液内科:0.3|chemo|0|0.3
RS19|淋巴瘤及非急性白血病|medical|1.30|9|25|mid_high|血液内科|chemo|0|0
RU19|急性白血病|medical|2.50|18|20|high|血液内科|chemo|0|0
SR13|败血症，伴并发症或合并症|medical|1.50|12|20|mid_high|感染性疾病科:0.6;重症医学科:0.4|icu|0|0
SS19|病毒性疾患|medical|0.60|7|40|low|感染性疾病科:0.5;儿科:0.5|medical|0|0
SZ19|其他感染性疾患|medical|0.70|8|20|low|感染性疾病科|medical|0|0
TR19|精神分裂症|medical|1.60|30|15|zero|精神心理科|medical|0|0
TS19|情感障碍|medical|1.20|21|20|zero|精神心理科|medical|0|0
TT19|焦虑症|medical|0.90|14|10|zero|精神心理科|medical|0|0
VJ19|创伤的其他手术|surgical|1.10|6|20|low|急诊科:0.3;骨科:0.7|minor|1|0
VR19|中毒及药物毒性反应|medical|0.70|4|30|mid_low|急诊科|medical|0|0
VZ19|其他损伤|medical|0.50|4|30|low|急诊科|medical|0|0
WB19|烧伤伴植皮手术|surgical|2.20|18|8|mid_low|烧伤科|major|1|0
WR19|烧伤|medical|0.80|10|10|low|烧伤科|medical|0|0
XR23|神经、骨骼及肌肉康复，伴并发症或合并症|medical|0.95|16|50|low|康复医学科|medical|0|0
XR25|神经、骨骼及肌肉康复，不伴并发症或合并症|medical|0.75|14|40|zero|康复医学科|medical|0|0
ZZ19|多发严重创伤|surgical|4.00|15|8|high|急诊科:0.3;重症医学科:0.4;骨科:0.3|major|1|0
"""

# MDC names (§10.1)
MDC_NAMES = {
    "A": "先期分组疾病及相关操作", "B": "神经系统", "C": "眼", "D": "头颈、耳、鼻、口、咽",
    "E": "呼吸系统", "F": "循环系统", "G": "消化系统", "H": "肝、胆、胰", "I": "肌肉、骨骼、结缔组织",
    "J": "皮肤、皮下组织及乳腺", "K": "内分泌、营养、代谢", "L": "肾脏及泌尿系统", "M": "男性生殖系统",
    "N": "女性生殖系统", "O": "妊娠、分娩及产褥期", "P": "新生儿及其他围产期疾病", "Q": "血液、造血器官及免疫",
    "R": "骨髓增生疾病和低分化肿瘤", "S": "感染及寄生虫病", "T": "精神疾病", "U": "酒精/药物使用",
    "V": "创伤、中毒及药物毒性反应", "W": "烧伤", "X": "影响健康因素及其他就医情况", "Y": "HIV 感染",
    "Z": "多发严重创伤",
}

# a plausible ICD-10 principal diagnosis per ADRG (front page 主要诊断)
ICD10 = {
    "AH1": "J96.0", "AG1": "C92.0", "BB2": "D32.0", "BE2": "I67.1", "BR1": "I61.9", "BR2": "I63.9",
    "CB3": "H25.9", "DD2": "J32.9", "DE2": "J35.0", "EB1": "C34.1", "ER1": "C34.9", "ES3": "J18.9",
    "ET2": "J44.1", "FB2": "I34.0", "FK3": "I44.2", "FL1": "I48.0", "FM1": "I25.1", "FM3": "I25.1",
    "FR2": "I50.9", "FR3": "I20.0", "FV2": "I11.9", "GB1": "C16.9", "GB2": "C18.9", "GE1": "K40.9",
    "GK3": "K63.5", "GW1": "K52.9", "HB1": "C22.0", "HC2": "K80.1", "HT2": "K85.9", "IB2": "M51.2",
    "IC2": "M17.1", "IF3": "S72.0", "IU2": "M54.5", "JA2": "C50.9", "KD1": "E04.1", "KS1": "E11.9",
    "LB1": "N20.0", "LR1": "N18.5", "MB1": "N40", "NC1": "D25.9", "NE1": "N84.0", "OB1": "O82.0",
    "OR1": "O80.0", "RE1": "Z51.1", "RG1": "Z51.1", "RC1": "Z51.0", "SR1": "A41.9", "XR2": "Z50.9",
    "BY1": "G40.9", "BZ1": "G93.4", "BX2": "G51.0", "CB1": "H33.0", "CC1": "H11.0", "CZ1": "H10.9",
    "DC1": "H66.1", "DJ1": "K07.1", "DT1": "J06.9", "DZ1": "J34.2", "EC1": "D15.2", "EJ1": "J93.1",
    "EX1": "J45.9", "FF3": "I83.9", "FJ1": "I71.4", "FN1": "I70.2", "FT2": "I49.9", "GD1": "K35.8",
    "GF1": "K64.9", "GR1": "C15.9", "GV1": "K92.2", "GZ1": "K59.0", "HL1": "K80.5", "HL2": "C22.0",
    "HS1": "K74.6", "HZ1": "K83.0", "ID1": "Z47.0", "IE1": "S32.4", "IH1": "M66.3", "IR1": "S52.5",
    "IT2": "M06.9", "IZ1": "M79.1", "JB2": "D24", "JJ1": "L72.1", "KC1": "D35.0", "KZ1": "E78.5",
    "LC1": "N20.1", "LD1": "C67.9", "LL1": "N18.5", "LU1": "N39.0", "MJ1": "N47", "NA1": "C53.9",
    "NF1": "N88.0", "NZ1": "N92.0", "OC1": "O70.1", "OE1": "O00.1", "OZ1": "O21.0", "PR1": "P07.3",
    "PS1": "P59.9", "QR1": "D69.3", "RS1": "C83.3", "RU1": "C92.0", "SS1": "B34.9", "SZ1": "A49.9",
    "TR1": "F20.0", "TS1": "F32.2", "TT1": "F41.1", "VJ1": "S61.0", "VR1": "T42.4", "VZ1": "T14.0",
    "WB1": "T31.1", "WR1": "T30.2", "ZZ1": "T07",
}
