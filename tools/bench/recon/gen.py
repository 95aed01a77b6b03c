#!/usr/bin/env python3
"""Generates one business day for the reconciliation benchmark.

    gen.py N OUTDIR [SEED]

Writes OUTDIR/book.csv (the book's fills), OUTDIR/statement.csv (the venue's daily trade file in
the layout of Specs/mappings/venue-daily-trades.ini) and OUTDIR/expected.csv (one line per seeded
break: code,key). The book file uses the same layout; an account of "?" is a fill the book could
not map to a client account. Every seeded break sits on its own account, so no seeded record can
be absorbed by another record's aggregate: the matcher must find exactly these breaks.
"""
import random
import sys

HEADER = "TradeDate,ExecId,OrderId,Account,Symbol,Side,Qty,Price,Currency,SettleDate,Fee\n"
DATE, SETTLE, SETTLE_LATE = "20260105", "20260106", "20260107"


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
    seeds_per_kind = max(1, n // 10_000)
    kinds = ["missing_at_venue", "missing_in_book", "quantity", "price", "side", "fees", "settlement_date",
             "duplicate", "unknown_account"]
    codes = {"missing_at_venue": 1, "missing_in_book": 2, "quantity": 3, "price": 4, "side": 5, "fees": 6,
             "settlement_date": 7, "duplicate": 8, "unknown_account": 11}
    seeded = {}
    order = list(range(n))
    rng.shuffle(order)
    cursor = 0
    for kind in kinds:
        if kind == "missing_in_book":
            continue
        for _ in range(seeds_per_kind):
            seeded[order[cursor]] = kind
            cursor += 1
    symbols = ["SYM%04d" % i for i in range(2000)]
    accounts = ["ACC%05d" % i for i in range(20000)]
    expected = []
    with open(f"{out}/book.csv", "w") as book, open(f"{out}/statement.csv", "w") as stmt:
        book.write(HEADER)
        stmt.write(HEADER)
        for i in range(n):
            kind = seeded.get(i)
            exec_id = "X%09d" % i
            order_id = "O%08d" % (i // 3)
            account = accounts[rng.randrange(len(accounts))] if kind is None else "SEED%07d" % i
            symbol = symbols[rng.randrange(len(symbols))]
            side = "B" if rng.random() < 0.5 else "S"
            qty = rng.randrange(1, 100) * 100
            price = "%d.%02d" % (rng.randrange(1, 500), rng.randrange(100))
            fee = "%d.%02d" % (qty // 1000, rng.randrange(100))
            fields = [DATE, exec_id, order_id, account, symbol, side, str(qty), price, "USD", SETTLE, fee]
            if kind == "unknown_account":
                book_fields = list(fields)
                book_fields[3] = "?"
                book.write(",".join(book_fields) + "\n")
                expected.append((codes[kind], exec_id))
                continue
            book.write(",".join(fields) + "\n")
            if kind == "missing_at_venue":
                expected.append((codes[kind], exec_id))
                continue
            line = list(fields)
            if kind == "quantity":
                line[6] = str(qty + 1)
            elif kind == "price":
                line[7] = "%s5" % price
            elif kind == "side":
                line[5] = "S" if side == "B" else "B"
            elif kind == "fees":
                line[10] = "%d.%02d" % (qty // 1000 + 1, rng.randrange(100))
            elif kind == "settlement_date":
                line[9] = SETTLE_LATE
            stmt.write(",".join(line) + "\n")
            if kind == "duplicate":
                stmt.write(",".join(line) + "\n")
            if kind is not None:
                expected.append((codes[kind], exec_id))
        for j in range(seeds_per_kind):
            exec_id = "Y%09d" % j
            line = [DATE, exec_id, "OY%08d" % j, "SEEDY%07d" % j, symbols[j % len(symbols)], "B", "100", "10.00",
                    "USD", SETTLE, "1.00"]
            stmt.write(",".join(line) + "\n")
            expected.append((codes["missing_in_book"], exec_id))
    with open(f"{out}/expected.csv", "w") as f:
        f.write("code,key\n")
        for code, key in sorted(expected):
            f.write(f"{code},{key}\n")


if __name__ == "__main__":
    main()
