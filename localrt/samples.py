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


GENERATORS = {"pubrio": pubrio_csv, "prospeo": prospeo_csv, "check365": check365_csv, "insideview": insideview_csv}
