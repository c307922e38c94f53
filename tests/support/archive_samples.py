"""A sample archive (档案) made in the tests: docx, pdf, an image of a marked page, txt; a catalogue
xlsx (档号, 题名, 形成日期, 保管期限); marks whose periods have and have not run out on AS_OF, one
without a period (the statutory default), one item older than 25 years. EXPECTED says what the
register must suggest for each (the tests read the xlsx back)."""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

from .drafts import docx_bytes, pdf_bytes
from .pictures import encode, page

AS_OF = dt.date(2026, 12, 1)

# file -> (attribute 建议保密属性 prefix, 开放建议, 到期情况 prefix, 开放审核候选)
EXPECTED = {
    "WS-2015-001.docx": ("涉密", "控制使用", "已到期", ""),        # 秘密★5年 from 2015-03-01: ran out 2020-03-01
    "WS-2020-002.pdf": ("涉密", "不开放", "未到期", ""),           # 机密★20年 from 2020-05-01
    "WS-1995-003.txt": ("非涉密", "开放", "", "是"),              # 1995: older than 25 years
    "WS-2021-004.png": ("涉密", "不开放", "长期", ""),             # 绝密★长期 on a scanned page (OCR)
    "WS-2022-005.txt": ("非涉密", "控制使用", "", ""),             # an ID number: 个人隐私
    "会议纪要.docx": ("涉密", "控制使用", "已到期", ""),            # 秘密 without a period, 2010: 10 years ran out
}
CATALOG = [
    ("档号", "题名", "形成日期", "保管期限"),
    ("WS-2015-001", "关于二〇一五年度设备采购的通知", "2015-03-01", "永久"),
    ("WS-2020-002", "关于项目阶段情况的报告", "2020-05-01", "30年"),
    ("WS-1995-003", "关于开展植树活动的通知", "1995-06-01", "永久"),
    ("WS-2021-004", "专项工作方案", "2021-04-01", "永久"),
    ("WS-2022-005", "人员信息登记", "2022-09-01", "10年"),
    ("WS-2010-006", "二〇一〇年第一次办公会议纪要", "2010-01-15", "永久"),
    ("WS-2019-007", "目录中有而文件缺失的条目", "2019-01-01", "30年"),
]


def files() -> dict[str, bytes]:
    return {
        "WS-2015-001.docx": docx_bytes(["秘密★5年", "关于二〇一五年度设备采购的通知", "各处室：",
                                        "现将本年度设备采购安排通知如下，请遵照执行。", "办公室", "2015年3月1日"]),
        "WS-2020-002.pdf": pdf_bytes(["机密★20年", "关于项目阶段情况的报告", "项目按计划推进，现报告如下。",
                                      "2020年5月1日"]),
        "WS-1995-003.txt": "关于开展植树活动的通知\n各单位：\n定于三月十二日组织植树活动，请做好准备。\n"
                           "某某局办公室\n一九九五年六月一日\n".encode(),
        "WS-2021-004.png": encode(page(["绝密★长期", "专项工作方案", "本方案自印发之日起施行。"], px=56)),
        "WS-2022-005.txt": "人员信息登记\n张伟，身份证号 320106198706153514，联系电话 13912345678。\n"
                           "2022年9月1日\n".encode(),
        "会议纪要.docx": docx_bytes(["秘密", "二〇一〇年第一次办公会议纪要", "会议研究了年度工作安排。",
                                  "二〇一〇年一月十五日"]),
    }


def catalog_xlsx(path: Path) -> Path:
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.title = "目录"
    for row in CATALOG:
        ws.append(list(row))
    wb.save(path)
    return path


def catalog_csv(path: Path) -> Path:
    import csv
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(CATALOG)
    return path


def make_dir(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files().items():
        (root / name).write_bytes(data)
    return root


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files().items():
            zf.writestr(zipfile.ZipInfo("档案/" + name, date_time=(2026, 11, 1, 8, 0, 0)), data)
    return buf.getvalue()
