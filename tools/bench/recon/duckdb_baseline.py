#!/usr/bin/env python3
"""The baseline: the same day as an exact-key full outer join in DuckDB.

    duckdb_baseline.py DIR [THREADS]

Loads book.csv and statement.csv, joins them on ExecId and counts rows present on one side only
and rows whose quantity, price, side, fee or settlement date differ. Prints load and join times
and DuckDB's own peak memory as the process's maximum resident size.
"""
import resource
import sys
import time

import duckdb


def main():
    d = sys.argv[1]
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    t0 = time.monotonic()
    for name in ("book", "statement"):
        con.execute(f"""
            CREATE TABLE {name} AS SELECT * FROM read_csv('{d}/{name}.csv', header = true,
              columns = {{'TradeDate': 'VARCHAR', 'ExecId': 'VARCHAR', 'OrderId': 'VARCHAR', 'Account': 'VARCHAR',
                          'Symbol': 'VARCHAR', 'Side': 'VARCHAR', 'Qty': 'DECIMAL(18,6)', 'Price': 'DECIMAL(18,8)',
                          'Currency': 'VARCHAR', 'SettleDate': 'VARCHAR', 'Fee': 'DECIMAL(18,6)'}})""")
    t1 = time.monotonic()
    rows = con.execute("""
        SELECT
          count(*) FILTER (WHERE s.ExecId IS NULL) AS missing_at_venue,
          count(*) FILTER (WHERE b.ExecId IS NULL) AS missing_in_book,
          count(*) FILTER (WHERE b.Qty <> s.Qty) AS quantity,
          count(*) FILTER (WHERE b.Price <> s.Price) AS price,
          count(*) FILTER (WHERE b.Side <> s.Side) AS side,
          count(*) FILTER (WHERE b.Fee <> s.Fee) AS fees,
          count(*) FILTER (WHERE b.SettleDate <> s.SettleDate) AS settlement
        FROM book b FULL OUTER JOIN statement s ON b.ExecId = s.ExecId""").fetchall()
    t2 = time.monotonic()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"duckdb load  {t1 - t0:8.3f} s")
    print(f"duckdb join  {t2 - t1:8.3f} s  peak {peak:7.0f} MB  threads {threads}")
    print(f"duckdb total {t2 - t0:8.3f} s")
    print("duckdb counts (missing at venue, missing in book, qty, price, side, fees, settlement):", rows[0])


if __name__ == "__main__":
    main()
