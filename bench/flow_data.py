"""Writes the inputs of the flow benchmarks, reproducibly (a fixed seed mixed into DuckDB's
hash of the row number, so the same --rows and --seed give the same values):

- orders.parquet (zstd): N rows of order_id, customer_id, product_id, status, qty, amount
  (DECIMAL(12,2)), ts (TIMESTAMP); customer_id is skewed towards low ids.
- customers.parquet and customers.csv: N/20 rows (at least 1,000) of customer_id, name,
  region, segment, signup (DATE).

    flow_data.py --rows N --out DIR [--seed 42]
"""
import argparse
from pathlib import Path

import duckdb


def customers_for(rows: int) -> int:
    return max(1_000, rows // 20)


def orders_query(rows: int, seed: int = 42) -> str:
    """The SELECT of the orders table (also the CSV and Parquet inputs of file_cases.py)."""
    customers = customers_for(rows)
    # h(k) is a deterministic 64-bit hash of (row, seed, k); reduce it modulo what we need.
    return f"""
        SELECT i AS order_id,
               (1 + least(hash(i, {seed}, 1) % {customers}, hash(i, {seed}, 2) % {customers}))::BIGINT
                   AS customer_id,
               (1 + hash(i, {seed}, 3) % 5000)::INTEGER AS product_id,
               ['new', 'paid', 'shipped', 'delivered', 'returned'][(1 + hash(i, {seed}, 4) % 5)::BIGINT]
                   AS status,
               (1 + hash(i, {seed}, 5) % 20)::INTEGER AS qty,
               ((100 + hash(i, {seed}, 6) % 500000) / 100)::DECIMAL(12, 2) AS amount,
               TIMESTAMP '2025-01-01' + to_seconds((hash(i, {seed}, 7) % 31536000)::BIGINT) AS ts
        FROM range(1, {rows} + 1) t(i)"""


def generate(rows: int, out: Path, seed: int = 42) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    customers = customers_for(rows)
    con = duckdb.connect()
    orders = orders_query(rows, seed)
    con.execute(f"COPY ({orders}) TO '{out / 'orders.parquet'}' "
                "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)")
    cust = f"""
        SELECT i AS customer_id,
               'customer ' || i AS name,
               ['north', 'south', 'east', 'west', 'central', 'online'][(1 + hash(i, {seed}, 11) % 6)::BIGINT]
                   AS region,
               ['consumer', 'small business', 'enterprise'][(1 + hash(i, {seed}, 12) % 3)::BIGINT]
                   AS segment,
               DATE '2020-01-01' + (hash(i, {seed}, 13) % 1800)::INTEGER AS signup
        FROM range(1, {customers} + 1) t(i)"""
    con.execute(f"COPY ({cust}) TO '{out / 'customers.parquet'}' (FORMAT parquet, COMPRESSION zstd)")
    con.execute(f"COPY ({cust}) TO '{out / 'customers.csv'}' (FORMAT csv, HEADER)")
    return {"orders": rows, "customers": customers}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    print(generate(args.rows, Path(args.out), args.seed))


if __name__ == "__main__":
    main()
