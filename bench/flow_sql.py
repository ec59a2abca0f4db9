"""The SQL of the flow benchmarks, shared by lakepipe (flow YAML) and pydiverse.pipedag
(bench/flow_pipedag.py), so both tools run the same statements. Plain Python, no imports:
both the project's venv and the pipedag venv load it.

Tables are named `stage.table`; pipedag's script swaps each reference for the view its
table store hands the task.
"""

# Case "flow-sql": one join + GROUP BY over the Parquet inputs, read by path.
SQL_TASK = """
SELECT c.region, c.segment, o.customer_id,
       count(*) AS orders, sum(o.qty) AS items, sum(o.amount) AS revenue,
       avg(o.amount) AS avg_amount, max(o.ts) AS last_order
FROM read_parquet('{orders}') o
JOIN read_parquet('{customers}') c ON c.customer_id = o.customer_id
WHERE o.status <> 'returned'
GROUP BY ALL
"""

# Case "flow": 3 stages, 10 tasks. Stage "raw" reads the two inputs (lakepipe: its read
# tasks; pipedag: a SELECT * FROM read_parquet / read_csv, its usual way to load a file).
READS = [  # (table, input file name)
    ("orders", "orders.parquet"),
    ("customers", "customers.csv"),
]

# (stage, table, inputs, sql)
SQL_TASKS = [
    ("model", "customer_totals", ["raw.orders", "raw.customers"], """
SELECT c.customer_id, c.name, c.region, c.segment,
       count(*) AS orders, sum(o.qty) AS items, sum(o.amount) AS revenue, max(o.ts) AS last_order
FROM raw.orders o JOIN raw.customers c ON c.customer_id = o.customer_id
GROUP BY ALL"""),
    ("model", "daily_region", ["raw.orders", "raw.customers"], """
SELECT c.region, date_trunc('day', o.ts)::DATE AS day, o.status,
       count(*) AS orders, sum(o.amount) AS revenue
FROM raw.orders o JOIN raw.customers c ON c.customer_id = o.customer_id
GROUP BY ALL"""),
    ("model", "product_month", ["raw.orders"], """
SELECT o.product_id, date_trunc('month', o.ts)::DATE AS month,
       count(*) AS orders, sum(o.qty) AS qty, sum(o.amount) AS revenue
FROM raw.orders o
WHERE o.status <> 'returned'
GROUP BY ALL"""),
    ("model", "order_facts", ["raw.orders", "raw.customers"], """
SELECT o.order_id, o.customer_id, o.product_id, o.ts, o.qty, o.amount,
       o.amount / o.qty AS unit_price, c.region, c.segment
FROM raw.orders o JOIN raw.customers c ON c.customer_id = o.customer_id"""),
    ("report", "segment_region", ["model.customer_totals"], """
SELECT t.region, t.segment, count(*) AS customers, sum(t.revenue) AS revenue,
       avg(t.orders) AS avg_orders
FROM model.customer_totals t
GROUP BY ALL"""),
    ("report", "top_products", ["model.product_month"], """
SELECT p.product_id, sum(p.revenue) AS revenue, sum(p.orders) AS orders,
       rank() OVER (ORDER BY sum(p.revenue) DESC) AS revenue_rank
FROM model.product_month p
GROUP BY p.product_id
QUALIFY revenue_rank <= 100"""),
    ("report", "region_month", ["model.daily_region"], """
SELECT d.region, date_trunc('month', d.day)::DATE AS month,
       sum(d.orders) AS orders, sum(d.revenue) AS revenue
FROM model.daily_region d
WHERE d.status IN ('paid', 'shipped', 'delivered')
GROUP BY ALL"""),
    ("report", "segment_weekday", ["model.order_facts", "model.customer_totals"], """
SELECT t.segment, dayofweek(f.ts) AS weekday, count(*) AS orders,
       avg(f.unit_price) AS avg_unit_price, sum(f.amount) AS revenue,
       avg(t.revenue) AS avg_customer_revenue
FROM model.order_facts f JOIN model.customer_totals t ON t.customer_id = f.customer_id
GROUP BY ALL"""),
]

STAGES = ["raw", "model", "report"]
TABLES = [("raw", t) for t, _ in READS] + [(s, t) for s, t, _, _ in SQL_TASKS]
