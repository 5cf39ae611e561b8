"""Contact files for demos and tests: valid rows, invalid rows, blank rows and duplicates, in known places."""

from __future__ import annotations

import csv
import io
import random
import uuid

FIRST = ["Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Tim", "Radia"]
LAST = [
    "Lovelace",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Allen",
    "Berners-Lee",
    "Perlman",
]
COMPANIES = [("Initech", "initech.com"), ("Globex", "globex.io"), ("Umbrella", "umbrella.co"), ("Hooli", "hooli.xyz")]


def pubrio_csv(rows: int, seed: int = 7) -> str:
    """Headers as a CRM export writes them; every 10th row invalid, every 15th a duplicate, every 50th blank."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["People Search ID", "First Name", "Last Name", "Company"])
    seen: list[list[str]] = []
    for n in range(1, rows + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company = rng.choice(COMPANIES)[0]
        if n % 50 == 0:
            row = ["", "", "", ""]
        elif n % 15 == 0 and seen:
            row = list(rng.choice(seen))
        elif n % 10 == 0:
            row = [rng.choice(["", "n/a", "12345", '=HYPERLINK("http://x")']), first, last, company]
        else:
            row = [str(uuid.UUID(int=rng.getrandbits(128), version=4)), first, last, company]
            seen.append(row)
        writer.writerow(row)
    return out.getvalue()


def prospeo_csv(rows: int, seed: int = 11) -> str:
    """Mixed datapoints (names + company, LinkedIn, email); every 10th row too thin to match."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["firstName", "last_name", "Full Name", "Email Address", "LinkedIn", "Company", "Website"])
    seen: list[list[str]] = []
    for n in range(1, rows + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company, domain = rng.choice(COMPANIES)
        tag = f"{first}-{last}-{n}".lower()
        if n % 50 == 0:
            row = [""] * 7
        elif n % 15 == 0 and seen:
            row = list(rng.choice(seen))
        elif n % 10 == 0:
            row = ["", "", f"{first} {last}", "", "", "", ""]  # a full name without a company
        else:
            kind = n % 3
            row = [
                first if kind == 0 else "",
                last if kind == 0 else "",
                "",
                f"{tag}@{domain}" if kind == 1 else "",
                f"https://www.linkedin.com/in/{tag}" if kind == 2 else "",
                company if kind == 0 else "",
                domain if kind == 0 else "",
            ]
            seen.append(row)
        writer.writerow(row)
    return out.getvalue()


def check365_csv(rows: int, seed: int = 13) -> str:
    """Emails to validate; every 10th row not an address, and duplicates differing only in case and spaces."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Email", "Name", "Company"])
    seen: list[str] = []
    for n in range(1, rows + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company, domain = rng.choice(COMPANIES)
        if n % 50 == 0:
            row = ["", "", ""]
        elif n % 15 == 0 and seen:
            row = [f"  {rng.choice(seen).upper()} ", f"{first} {last}", company]
        elif n % 10 == 0:
            row = [rng.choice(["not-an-email", f"{first}@", "@nowhere.com", f"{first} {last}"]), first, company]
        else:
            email = f"{rng.choice(['', 'info.', 'sales.'])}{first}.{last}{n}@{domain}".lower()
            seen.append(email)
            row = [email, f"{first} {last}", company]
        writer.writerow(row)
    return out.getvalue()


def insideview_csv(rows: int, seed: int = 17) -> str:
    """InsideView contact ids; every 10th row not an id, every 15th a duplicate, every 50th blank."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["InsideView Contact ID", "Account"])
    seen: list[str] = []
    for n in range(1, rows + 1):
        company = rng.choice(COMPANIES)[0]
        if n % 50 == 0:
            row = ["", ""]
        elif n % 15 == 0 and seen:
            row = [rng.choice(seen), company]
        elif n % 10 == 0:
            row = [rng.choice(["n/a", "12 345", "id:77", "#REF!"]), company]
        else:
            contact_id = str(rng.randint(100_000, 99_999_999))
            seen.append(contact_id)
            row = [contact_id, company]
        writer.writerow(row)
    return out.getvalue()


# More people than the per-vendor samples: a waterfall's finds should mostly be distinct people.
WATERFALL_FIRST = [
    *FIRST,
    "Alan",
    "Edsger",
    "Donald",
    "Hedy",
    "Katherine",
    "John",
    "Sophie",
    "Guido",
    "Anita",
    "Niklaus",
]
WATERFALL_LAST = [
    *LAST,
    "Turing",
    "Dijkstra",
    "Knuth",
    "Lamarr",
    "Johnson",
    "Backus",
    "Wilson",
    "Rossum",
    "Borg",
    "Wirth",
]
WATERFALL_COMPANIES = [*COMPANIES, ("Vandelay", "vandelay.com"), ("Soylent", "soylent.co"), ("Wonka", "wonka.biz")]
WATERFALL_HEADER = [
    "People Search ID",
    "First Name",
    "Last Name",
    "Full Name",
    "Email",
    "LinkedIn",
    "Company",
    "Website",
]
# What a CRM export's rows carry (weights of the plain rows): a Pubrio people-search id alone or with the person's
# name and company (most rows from a Pubrio search keep both, so Pubrio's misses can fall through to Prospeo),
# name + company only, a LinkedIn URL, an email only, or only a name (no finding vendor can take it).
WATERFALL_KINDS = {"id": 12, "id_name_company": 30, "name_company": 22, "linkedin": 13, "email": 13, "name": 10}


def waterfall_csv(rows: int, seed: int = 19) -> str:
    """Rows carrying different identifiers, for a job of several steps (Pubrio -> Prospeo -> Check365): the kinds
    of WATERFALL_KINDS; every 50th row blank, every 15th a duplicate of an earlier row, every 23rd a bad row (an id
    that is not one, next to a name and company; or an address that is not one); and some rows giving only the
    email of a person another row names by name and company (the same person twice, as CRMs hold them)."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(WATERFALL_HEADER)
    seen: list[list[str]] = []
    named: list[str] = []  # emails a finding vendor may give for rows named by name and company
    kinds, weights = list(WATERFALL_KINDS), list(WATERFALL_KINDS.values())
    for n in range(1, rows + 1):
        first, last = rng.choice(WATERFALL_FIRST), rng.choice(WATERFALL_LAST)
        company, domain = rng.choice(WATERFALL_COMPANIES)
        people_search_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        handle = f"{first}-{last}-{n}".lower()
        if n % 50 == 0:
            row = [""] * len(WATERFALL_HEADER)
        elif n % 15 == 0 and seen:
            row = list(rng.choice(seen))
        elif n % 23 == 0:
            row = rng.choice(
                [
                    [rng.choice(["n/a", "12345", '=HYPERLINK("http://x")']), first, last, "", "", "", company, domain],
                    [
                        "",
                        "",
                        "",
                        f"{first} {last}",
                        rng.choice(["not-an-email", f"{first}@", "@nowhere.com"]),
                        "",
                        "",
                        "",
                    ],
                ]
            )
        else:
            kind = rng.choices(kinds, weights)[0]
            row = {
                "id": [people_search_id, "", "", "", "", "", "", ""],
                "id_name_company": [people_search_id, first, last, "", "", "", company, domain],
                "name_company": ["", first, last, "", "", "", company, domain],
                "linkedin": ["", "", "", f"{first} {last}", "", f"https://www.linkedin.com/in/{handle}", "", ""],
                "email": ["", "", "", "", f"{first}.{last}.{n}@{domain}".lower(), "", "", ""],
                "name": ["", "", "", f"{first} {last}", "", "", "", ""],
            }[kind]
            if kind == "email" and named and rng.random() < 0.25:
                row[4] = rng.choice(named)  # someone another row names: the same email may be found there
            if kind in ("id_name_company", "name_company"):
                named.append(f"{first}.{last}@{domain}".lower())
            seen.append(row)
        writer.writerow(row)
    return out.getvalue()


GENERATORS = {"pubrio": pubrio_csv, "prospeo": prospeo_csv, "check365": check365_csv, "insideview": insideview_csv}
