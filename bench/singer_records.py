"""Writes N Singer messages (one SCHEMA, N RECORDs, a STATE) of a 12-column record with
strings, ints, floats, timestamps and a nested object, reproducibly (fixed seed)."""
import argparse
import json
import random
from datetime import datetime, timedelta, timezone

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "customer_id": {"type": "integer"},
        "email": {"type": ["null", "string"]},
        "country": {"type": "string"},
        "status": {"type": "string"},
        "amount": {"type": "number"},
        "discount": {"type": ["null", "number"]},
        "quantity": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": ["null", "string"], "format": "date-time"},
        "is_gift": {"type": "boolean"},
        "shipping": {"type": "object", "properties": {
            "city": {"type": "string"}, "zip": {"type": "string"},
            "priority": {"type": "integer"}}},
    },
}
COUNTRIES = ["BR", "US", "DE", "JP", "IN", "FR", "MX", "CA"]
STATUSES = ["new", "paid", "shipped", "delivered", "returned"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=42)
    # DataSpoc Pipe 0.2.0 maps date-time to a zone-less timestamp and rejects "Z" or
    # offsets; "naive" writes timestamps it can read (lakepipe reads them as UTC).
    parser.add_argument("--timestamps", choices=["utc", "naive"], default="utc")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def stamp(t):
        text = t.isoformat()
        return text.replace("+00:00", "") if args.timestamps == "naive" else text.replace("+00:00", "Z")

    with open(args.out, "w") as f:
        f.write(json.dumps({"type": "SCHEMA", "stream": "orders", "schema": SCHEMA,
                            "key_properties": ["id"]}) + "\n")
        for i in range(1, args.records + 1):
            created = start + timedelta(seconds=i * 7)
            record = {
                "id": i,
                "customer_id": rng.randrange(1, 100_000),
                "email": None if i % 17 == 0 else f"user{rng.randrange(1, 10**6)}@example.com",
                "country": COUNTRIES[i % len(COUNTRIES)],
                "status": STATUSES[rng.randrange(len(STATUSES))],
                "amount": round(rng.uniform(1, 5000), 2),
                "discount": None if i % 3 else round(rng.uniform(0, 0.5), 3),
                "quantity": rng.randrange(1, 20),
                "created_at": stamp(created),
                "updated_at": stamp(created + timedelta(hours=3)),
                "is_gift": i % 11 == 0,
                "shipping": {"city": f"city-{rng.randrange(500)}", "zip": f"{rng.randrange(10**5):05d}",
                             "priority": rng.randrange(3)},
            }
            f.write(json.dumps({"type": "RECORD", "stream": "orders", "record": record}) + "\n")
        f.write(json.dumps({"type": "STATE", "value": {"bookmarks": {"orders": {"id": args.records}}}}) + "\n")


if __name__ == "__main__":
    main()
