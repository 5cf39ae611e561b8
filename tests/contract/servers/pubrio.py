"""Pubrio as its documents describe it, for a DocumentServer (imports nothing from the simulators).

Documented (seeds `pubrio-redeem-people-batch.openapi.txt`, `pubrio-redeem-people-batch-query.txt`; vendors.md
"Pubrio"): POST /redeem/people/batch {peoples, people_contact_types, profile_id?} answers
`data {redeem_query_id, is_completed: false, estimated_time, estimated_time_type: "second"}`; POST
/redeem/people/batch/query {redeem_query_id, profile_id?} answers `data {profile {credit, topup_credit,
total_charged_credit}, query {...}, peoples [{people_search_id, emails [{value, type, status}], phones [...]}]}`
with `type` one of the contact types and `status` "Verified" or null; errors 400 {code, message, details},
429 {error} "Request rate limit exceeded. Please wait and try again later." past 300 requests a minute.

Inferred, where the documents are silent (flagged):
- a key Pubrio does not know is refused with a 400 {code, message, details} saying so (seen; not documented);
- a redeem is still running at its first query and completed at the next (the documents give no timing);
- while running, the answer carries `profile` and `query` and an empty `peoples`;
- every person submitted has an entry in `peoples` once completed, empty lists when nothing was found;
- credits are charged at completion for each detail returned, at the example profile's prices (email 15,
  phone 30), and `total_charged_credit` is that redeem's charge;
- a query for a redeem_query_id it never issued is a 400.

`server.state`: "api_key" (default API_KEY), "redeems" {id: {...}}, "credit" (the account balance),
"window" (the minute's request count).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

from tests.contract.document_server import Answer, Call, DocumentServer

API_KEY = "pubrio-document-key"
CONTACT_TYPES = ("email-personal", "email-work", "phone")
PRICES = {"email-personal": 15, "email-work": 15, "phone": 30}  # the documented example profile's prices
REQUESTS_PER_MINUTE = 300  # documented
START_CREDIT = 450376  # the documented example profile's balance


def general_error(message: str, code: int = 40001) -> Answer:
    """The documented 400 body; 40001 is the only code the documents show ("codes will vary")."""
    return Answer(400, {"code": code, "message": message, "details": {}})


def route(call: Call, server: DocumentServer) -> Answer:
    if call.headers.get("pubrio-api-key") != server.state.get("api_key", API_KEY):
        return general_error("Invalid API key.")  # inferred: Pubrio answers a bad key with a 400
    with server.lock:
        minute, used = server.state.get("window", (0, 0))
        now = int(time.time() // 60)
        used = used + 1 if minute == now else 1
        server.state["window"] = (now, used)
    if used > REQUESTS_PER_MINUTE:
        return Answer(429, {"error": "Request rate limit exceeded. Please wait and try again later."})
    try:
        body = call.json()
    except ValueError:
        return general_error("The request body must be JSON.")
    if call.method == "POST" and call.path == "/redeem/people/batch":
        return _submit(body, server)
    if call.method == "POST" and call.path == "/redeem/people/batch/query":
        return _query(body, server)
    return general_error("Unknown endpoint.")


def _submit(body: Any, server: DocumentServer) -> Answer:
    peoples = body.get("peoples") if isinstance(body, dict) else None
    types = body.get("people_contact_types") if isinstance(body, dict) else None
    if not isinstance(peoples, list) or not peoples:
        return general_error("peoples is required.")
    if not isinstance(types, list) or not types or not set(types) <= set(CONTACT_TYPES):
        return general_error("people_contact_types must list email-personal, email-work or phone.")
    try:
        people = [str(uuid.UUID(str(p))) for p in peoples]
    except ValueError:
        return general_error("peoples must be people_search_id UUIDs.")
    redeem_id = str(uuid.uuid4())
    with server.lock:
        server.state.setdefault("redeems", {})[redeem_id] = {"peoples": people, "types": types, "queries": 0}
    data = {"redeem_query_id": redeem_id, "is_completed": False, "estimated_time": 1, "estimated_time_type": "second"}
    return Answer(200, {"data": data})


def _query(body: Any, server: DocumentServer) -> Answer:
    redeem_id = str(body.get("redeem_query_id")) if isinstance(body, dict) else ""
    with server.lock:
        redeem = server.state.setdefault("redeems", {}).get(redeem_id)
        if redeem is None:
            return general_error("redeem_query_id not found.")
        redeem["queries"] += 1
        completed = redeem["queries"] > 1
        if completed and "peoples_answer" not in redeem:
            redeem["peoples_answer"] = [person(p, redeem["types"]) for p in redeem["peoples"]]
            redeem["charged"] = sum(
                PRICES[c["type"]] for p in redeem["peoples_answer"] for c in p["emails"] + p["phones"]
            )
            server.state["credit"] = server.state.get("credit", START_CREDIT) - redeem["charged"]
        profile = {
            "credit": server.state.get("credit", START_CREDIT),
            "topup_credit": 0,
            "total_charged_credit": redeem.get("charged", 0),
        }
        query = {
            "redeem_query_id": redeem_id,
            "is_completed": completed,
            "estimated_time": 1,
            "estimated_time_type": "second",
        }
        peoples = redeem.get("peoples_answer", [])
    return Answer(200, {"data": {"profile": profile, "query": query, "peoples": peoples}})


def person(people_search_id: str, types: list[str]) -> dict[str, Any]:
    """A person's details, the same every time: about one in four has none."""
    luck = int(hashlib.sha256(people_search_id.encode()).hexdigest()[:4], 16) / 0x10000
    handle = people_search_id.split("-")[0]
    emails, phones = [], []
    if luck >= 0.25:
        if "email-work" in types:
            emails.append({"value": f"{handle}@work.example", "type": "email-work", "status": "Verified"})
        if "email-personal" in types and luck < 0.75:
            emails.append({"value": f"{handle}@mail.example", "type": "email-personal", "status": None})
        if "phone" in types and luck >= 0.5:
            phones.append({"value": f"+1555{int(luck * 1e7):07d}", "type": "phone", "status": None})
    return {"people_search_id": people_search_id, "emails": emails, "phones": phones}


def charged(server: DocumentServer) -> int:
    """Every credit the server charged."""
    return sum(r.get("charged", 0) for r in server.state.get("redeems", {}).values())
