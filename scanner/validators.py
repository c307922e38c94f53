"""Validators named by rules (`validator = "..."`), Presidio-style. Every validator lives here.

Each takes the matched text (normalised), the surrounding text (and the text just before and
after the match) and returns True (certain), False (drop) or None (keep the rule's score).
Reference tables (ID region codes, bank card prefixes) come from the ruleset's own lexicon
directory: `bound(Tables.load(lexicon_dir))` gives the validators a detector calls.
"""
from __future__ import annotations

import datetime as _dt
import ipaddress
import itertools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

from .config import default_lexicon_dir

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
PROVINCES = {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
             "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
             "65", "71", "81", "82", "83"}


def _read_regions(path: Path) -> dict[str, tuple[int | None, int | None]]:
    table: dict[str, tuple[int | None, int | None]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        code, frm, to = (line.split("\t") + ["", ""])[:3]
        table[code] = (int(frm) if frm else None, int(to) if to else None)
    return table


def _read_bins(path: Path) -> dict[str, set[int]]:
    table: dict[str, set[int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        prefix, length = line.split("\t")[:2]
        table.setdefault(prefix, set()).add(int(length))
    return table


@dataclass(frozen=True, eq=False)
class Tables:
    """Reference tables of a lexicon directory (lexicons/data/*.tsv, see its README)."""
    regions: Mapping[str, tuple[int | None, int | None]]    # county code -> (first year, last year)
    bins: Mapping[str, set[int]]                              # card prefix -> card lengths

    @staticmethod
    def load(lexicon_dir: Path | None = None) -> Tables:
        return _tables(str(Path(lexicon_dir or default_lexicon_dir()).resolve()))


@lru_cache(maxsize=8)
def _tables(lexicon_dir: str) -> Tables:
    data = Path(lexicon_dir) / "data"
    return Tables(regions=_read_regions(data / "id_regions.tsv"), bins=_read_bins(data / "bank_bins.tsv"))


def id_check_char(body17: str) -> str:
    return ID_CHECK[sum(int(d) * w for d, w in zip(body17, ID_WEIGHTS)) % 11]


def _valid_date(y: int, m: int, d: int) -> bool:
    try:
        date = _dt.date(y, m, d)
    except ValueError:
        return False
    return _dt.date(1900, 1, 1) <= date <= _dt.date.today()


def _region_ok(code: str, year: int, strict_years: bool, tables: Tables | None = None) -> bool:
    """The region code must exist. A code retired before the birth year cannot be on that person's
    card. A code created after the birth year can (cards were first issued from 1984 and carry the
    region at issuance), so that check only applies in strict mode (python-stdnum semantics)."""
    if code[:2] not in PROVINCES:
        return False
    regions = (tables or Tables.load()).regions
    if code not in regions:
        return False
    frm, to = regions[code]
    if strict_years and frm is not None and year < frm:
        return False
    return to is None or year <= to


def resident_id(value: str, strict_years: bool = False, tables: Tables | None = None) -> bool:
    """GB 11643: 18 characters (region, birth date, sequence, check) or legacy 15 digits.

    strict_years=True also rejects a region code that did not exist yet in the birth year."""
    v = value.upper()
    if len(v) == 18:
        if not v[:17].isdigit() or not (v[17].isdigit() or v[17] == "X"):
            return False
        y, m, d = int(v[6:10]), int(v[10:12]), int(v[12:14])
        if not _valid_date(y, m, d):
            return False
        if not _region_ok(v[:6], y, strict_years, tables):
            return False
        return id_check_char(v[:17]) == v[17]
    if len(v) == 15 and v.isdigit():
        y, m, d = 1900 + int(v[6:8]), int(v[8:10]), int(v[10:12])
        return _valid_date(y, m, d) and _region_ok(v[:6], y, strict_years, tables)
    return False


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc(value: str) -> bool:
    """Unified social credit code (GB 32100): an organisation's ID, never personal data."""
    v = re.sub(r"\s", "", value).upper()
    if len(v) != 18 or any(c not in USCC_ALPHABET for c in v):
        return False
    if not v[8:17].replace("X", "0").isalnum():
        return False
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(v[:17], USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31] == v[17]


def luhn(digits: str) -> bool:
    if not digits.isdigit() or len(digits) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def bank_bin(digits: str, tables: Tables | None = None) -> tuple[bool, bool]:
    """(known prefix, length matches the prefix's card length)."""
    bins = (tables or Tables.load()).bins
    for k in range(10, 2, -1):
        lengths = bins.get(digits[:k])
        if lengths:
            return True, len(digits) in lengths
    return False, False


# --- validators used by rules: (match, context) -> True / False / None -------------------------

# Labels whose numbers look like phone or card numbers but are not (invoice code and number, tax
# ID, machine number, check code): a number right after one of them is that, not personal data.
NOT_PERSONAL_LABEL = re.compile(r"(?:发票代码|发票号码|发票号|机器编号|校验码|纳税人识别号|税号|税务登记号|票据号码|票据代码)"
                                r"\s*[:：]?\s*$")
# Labels right before a bank card number (银行卡号：6212…): the number is a card even when its prefix
# is missing from the BIN table (the table is incomplete).
CARD_LABEL = re.compile(r"(?:银行卡号|银行卡|卡号|收款账号|收款帐号|付款账号|银行账号|银行帐号|账号|帐号)\s*[:：]?\s*$")


def _separators_removed(match: str) -> str:
    return re.sub(r"[\s./-]", "", match)


def v_id_card(match: str, context: str, before: str = "", after: str = "",
              tables: Tables | None = None) -> bool | None:
    return resident_id(_separators_removed(match), tables=tables)


def partial_resident_id(value: str, tables: Tables | None = None) -> bool:
    """The first 14 to 17 digits of an 18-character ID number (the rest cut off by a photo's edge or
    a torn corner): a real region code and a valid birth date (35048119791105); or a legacy 15-digit
    number (region, YYMMDD, sequence)."""
    v = value.upper()
    if not (14 <= len(v) <= 17) or not v.isdigit():
        return False
    if len(v) == 15 and resident_id(v, tables=tables):
        return True
    y, m, d = int(v[6:10]), int(v[10:12]), int(v[12:14])
    return _valid_date(y, m, d) and _region_ok(v[:6], y, False, tables)


def v_partial_id_card(match: str, context: str, before: str = "", after: str = "",
                      tables: Tables | None = None) -> bool:
    return partial_resident_id(_separators_removed(match), tables=tables)


def v_ticket_number(match: str, context: str, before: str = "", after: str = "",
                    tables: Tables | None = None) -> bool | None:
    """An airline e-ticket number (3-digit carrier code, 10-digit serial): a serial of one digit
    repeated (0000000000) is a template's sample, not a ticket."""
    digits = re.sub(r"\D", "", match)
    if len(digits) != 13 or len(set(digits[3:])) == 1:
        return False
    return None


def masked_resident_id(value: str, tables: Tables | None = None) -> bool:
    """An 18-character ID number with its middle masked by '*': a real province, and what shows of
    the region and the birth year is valid (3622011988****0417, 330106********2160, 330***********2160)."""
    v = value.upper()
    if len(v) != 18 or not (v[-1].isdigit() or v[-1] == "X") or "*" not in v:
        return False
    head = v[:len(v) - len(v.lstrip("0123456789"))]
    stars = v[len(head):].rstrip("0123456789X")
    if len(head) < 2 or set(stars) != {"*"} or head[:2] not in PROVINCES:
        return False
    if len(head) >= 6 and head[:6] not in (tables or Tables.load()).regions:
        return False
    if len(head) >= 10 and not 1900 <= int(head[6:10]) <= 2030:
        return False
    return True


def v_masked_id_card(match: str, context: str, before: str = "", after: str = "",
                     tables: Tables | None = None) -> bool:
    return masked_resident_id(_separators_removed(match), tables=tables)


def v_bank_card(match: str, context: str, before: str = "", after: str = "",
                tables: Tables | None = None) -> bool | None:
    digits = _separators_removed(match)
    if not (15 <= len(digits) <= 19) or not luhn(digits):
        return False
    if resident_id(digits, tables=tables):
        return False
    known, length_ok = bank_bin(digits, tables)
    if known and length_ok:
        return True
    if digits.startswith("62") and 16 <= len(digits) <= 19 and CARD_LABEL.search(before):
        return True       # UnionPay-style number right after its label
    if known:
        return None
    # unknown prefix: only with card context nearby
    if re.search(r"卡号|银行卡|借记卡|信用卡|储蓄卡|账号|帐号|card", context, re.IGNORECASE):
        return None
    return False


MOBILE_PREFIXES = re.compile(r"^1(3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9[0-35-9])")


def v_mobile(match: str, context: str, before: str = "", after: str = "",
             tables: Tables | None = None) -> bool | None:
    digits = re.sub(r"\D", "", match)
    if digits.startswith("0086") and len(digits) == 15:
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) != 11 or not MOBILE_PREFIXES.match(digits):
        return False
    if NOT_PERSONAL_LABEL.search(before):
        return False      # 发票号码：13572468013 is an invoice number
    return None


def v_landline(match: str, context: str, before: str = "", after: str = "",
               tables: Tables | None = None) -> bool | None:
    """A landline-shaped number right after an invoice or tax label is that number, not a phone."""
    return False if NOT_PERSONAL_LABEL.search(before) else None


def v_private_ip(match: str, context: str, before: str = "", after: str = "",
                 tables: Tables | None = None) -> bool | None:
    try:
        ip = ipaddress.ip_address(match)
    except ValueError:
        return False
    b, a = before[-3:].lower(), after[:3].lower()
    if "版本" in before[-4:] or "v" in b[-1:] or "version" in before[-9:].lower() or a.startswith(("版", "版本")):
        return False      # a version number
    if b.endswith("第") or a[:1] in ("条", "款", "节", "章"):
        return False      # a clause number: 第10.1.5.2条
    if a.startswith("/") or str(ip).endswith(".0") or str(ip).endswith(".255"):
        return False      # a network or broadcast address, a CIDR range in teaching material
    if ip.version == 4 and (ip.is_private and not ip.is_loopback and not str(ip).startswith("0.")):
        # version-number look-alikes such as "版本 10.2.3.4" are rare; context lowers them
        return None
    return False


def v_coordinate_pair(match: str, context: str, before: str = "", after: str = "",
                      tables: Tables | None = None) -> bool | None:
    nums = re.findall(r"-?\d+\.\d+", match)
    if len(nums) != 2:
        return False
    a, b = float(nums[0]), float(nums[1])
    if max(abs(a), abs(b)) < 10:
        return False   # near (0, 0): version numbers and ratios, not places people publish about
    if not (-90 <= a <= 90 and -180 <= b <= 180) and not (-90 <= b <= 90 and -180 <= a <= 180):
        return False
    return None


def v_dms(match: str, context: str, before: str = "", after: str = "",
          tables: Tables | None = None) -> bool | None:
    nums = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", match)]
    if not nums or nums[0] > 180 or (len(nums) > 1 and nums[1] >= 60) or (len(nums) > 2 and nums[2] >= 60):
        return False
    return None


PLACEHOLDER = re.compile(r"^(?:your|my|enter|input|xxx+|example|sample|demo|test|changeme|placeholder)[_-]?", re.IGNORECASE)
# Words that mark a value as a placeholder wherever they stand in it (AKIAIOSFODNN7EXAMPLE,
# insert_key_here, <your-key>, bP88Q~xxxxxxxx): a random key holds none of them by chance.
PLACEHOLDER_WORDS = ("example", "xxxx", "your", "placeholder", "insert", "changeme", "change_me", "dummy",
                     "sample", "redacted", "replace", "_here", "here_", "fake", "todo", "****", "••", "●●")
# A reference to a value kept elsewhere: ${VAR}, $(cmd), {{ .Values.x }}, %(pw)s, <key>, $DB_PASSWORD,
# var.db_password, settings.SECRET_KEY, process.env.TOKEN, os.environ["X"].
REFERENCE = re.compile(r"^(?:\$\{|\$\(|\{\{|%\(|<|\[|\$[A-Za-z_][A-Za-z0-9_]*$)"
                       r"|^(?:var|vars|local|locals|settings|config|conf|env|process\.env|os\.environ|secrets|params)[.\[]",
                       re.IGNORECASE)
# a dotted lower-case identifier (aws_ec2_client_vpn_endpoint.client-vpn-endpoint.id): code, not a value
IDENTIFIER_PATH = re.compile(r"^[a-z][a-z0-9_]*(?:[.-][a-z][a-z0-9_]*)*\.[a-z][a-z0-9_]*$")


def shannon_entropy(value: str) -> float:
    """Bits per character of the value's own character distribution (gitleaks' `entropy`)."""
    if not value:
        return 0.0
    n = len(value)
    counts: dict[str, int] = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _sequential_run(value: str, k: int = 8) -> bool:
    """A run of k characters each one code point above the last (12345678, abcdefgh)."""
    run = 1
    for a, b in itertools.pairwise(value):
        run = run + 1 if ord(b) - ord(a) == 1 else 1
        if run >= k:
            return True
    return False


def is_placeholder(value: str) -> bool:
    v = value.strip().strip("\"'“”‘’`")
    low = v.lower()
    if any(w in low for w in PLACEHOLDER_WORDS):
        return True
    if REFERENCE.search(v) or IDENTIFIER_PATH.match(v):
        return True
    return bool(re.search(r"(.)\1{5,}", v) or _sequential_run(v))


def v_secret_value(match: str, context: str, before: str = "", after: str = "",
                   tables: Tables | None = None) -> bool | None:
    """A credential value: reject placeholders and plain words."""
    v = match.strip()
    if len(v) < 4:
        return False
    if re.search(r"[\u3400-\u9fff\uff08\uff09\u3010\u3011]", v):
        return False      # Chinese words are descriptions (已设置（6位数字）), not a credential
    if PLACEHOLDER.match(v) or re.fullmatch(r"[A-Z][A-Z0-9_]*_[A-Z0-9_]+", v) or v.startswith("<"):
        return False
    low = v.lower()
    if low in {"password", "passwd", "******", "xxxxxx", "null", "none", "true", "false", "your_password",
               "<password>", "required", "optional", "string"} or set(v) <= set("*xX•●.·"):
        return False
    if is_placeholder(v):
        return False
    if v.isascii() and v.isalpha() and re.match(r"[ \t]+[A-Za-z]{2,}", after):
        return False      # the first word of English prose (pwd：Print working directory), not a value
    return None


def v_password_like(match: str, context: str, before: str = "", after: str = "",
                    tables: Tables | None = None) -> bool | None:
    """A bare value after 口令/密码 separated only by a space: letters plus a digit or a symbol inside
    the value (a sentence's full stop does not count: "password combination." is prose)."""
    v = match.rstrip(".,;:!?)")
    if v_secret_value(v, context) is False:
        return False
    has_alpha = re.search(r"[A-Za-z]", v) is not None
    has_other = re.search(r"[0-9!@#$%^&*_.\-]", v) is not None
    return None if has_alpha and has_other else False


def v_token(match: str, context: str, before: str = "", after: str = "",
            tables: Tables | None = None) -> bool | None:
    """A vendor key or token (secret.token): its shape is the rule's regex; drop placeholders."""
    return False if is_placeholder(match) else None


def v_address(match: str, context: str, before: str = "", after: str = "",
              tables: Tables | None = None) -> bool | None:
    """A street address is personal data only down to a room/unit/building, or after a residence word."""
    if any(k in match for k in ("室", "单元", "栋", "幢", "号楼")):
        return None
    if any(k in context for k in ("住址", "家住", "居住", "业主", "户籍", "现住", "家庭", "名下", "租住")):
        return None
    return False


Validator = Callable[..., "bool | None"]

VALIDATORS: Mapping[str, Validator] = {
    "address": v_address,
    "password_like": v_password_like,
    "id_card": v_id_card,
    "masked_id_card": v_masked_id_card,
    "partial_id_card": v_partial_id_card,
    "ticket_number": v_ticket_number,
    "bank_card": v_bank_card,
    "mobile": v_mobile,
    "landline": v_landline,
    "private_ip": v_private_ip,
    "coordinate_pair": v_coordinate_pair,
    "dms": v_dms,
    "secret_value": v_secret_value,
    "token": v_token,
}


def bound(tables: Tables) -> dict[str, Validator]:
    """The validators with a lexicon directory's tables: name -> f(match, context, before=, after=)."""
    return {name: partial(fn, tables=tables) for name, fn in VALIDATORS.items()}
