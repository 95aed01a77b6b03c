#!/usr/bin/env python3
"""Writes the shipped trading day of 2024-03-15 (a Friday) in Captures/day-20240315/.

    python3 tools/make-trading-day.py

Python 3 standard library only; the output is the same byte for byte on every run (fixed
seed, fixed clock, no dependence on the environment).

Files written:
  venue-BRKR.fix          the broker's session log with the venue SIMX (FIX 4.4, one message per
                          line, raw SOH): the venue's messages SIMX->BRKR (Logon, Heartbeats,
                          ExecutionReports, a SequenceReset-GapFill) and the broker's own
                          Logon/ResendRequest/Logout BRKR->SIMX. Each direction has consecutive
                          MsgSeqNum; after a reconnect at 15:12 the broker asks for a resend and
                          the venue repeats two ExecutionReports with PossDupFlag(43)=Y and
                          OrigSendingTime(122), same ExecIDs (the book must book them once).
  dropcopy-SIMX.fix       the venue's drop copy of the day (SIMX->BRKRDC, CopyMsgIndicator(797)=Y):
                          every ExecutionReport of the session, plus the seeded differences.
  statement-clearing.csv  the end-of-day trade statement in the layout of
                          Specs/mappings/venue-daily-trades.ini, with seeded breaks.
  clients.csv             clients and KYC in the layout of Specs/crm/clients-example.csv.

The seeded breaks and what the day contains are described in Captures/day-20240315/README.md.
"""
import os
import random
from decimal import Decimal, ROUND_HALF_UP

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Captures", "day-20240315")
SOH = "\x01"
DAY = "20240315"
T1 = "20240318"   # next business day (Monday)
T2 = "20240319"   # standard settlement in March 2024, US and Europe alike

# Instruments: symbol -> (currency, reference price, tick decimals, venue opening time UTC)
INSTRUMENTS = {
    "AAPL": ("USD", Decimal("172.60"), 2, 13 * 3600 + 30 * 60),
    "MSFT": ("USD", Decimal("416.40"), 2, 13 * 3600 + 30 * 60),
    "NVDA": ("USD", Decimal("879.50"), 2, 13 * 3600 + 30 * 60),
    "VOD.L": ("GBP", Decimal("0.6950"), 4, 8 * 3600),
    "SAP.DE": ("EUR", Decimal("176.80"), 2, 8 * 3600),
}

# Clients: the client accounts carry the same identifiers as the FIX Account(1) values the venue
# sends, so the drop copy and the statement (which quote Account(1)) meet the book's client
# accounts. HPT-EQ03 belongs to nobody: its fill is the book's accountUnknown exception.
CLIENTS = [
    # id, name, segment, rm, risk, kyc status, kyc expiry, accounts, documents, email, phone, country
    ("C-2001", "Harbour Pension Trust", "institutional", "rpatel", "low", "verified", "2026-09-30",
     ["HPT-EQ01", "HPT-EQ02"], "lei-certificate:LEI-5493007QH2K1P8VZ4T33:2025-02-28",
     "ops@harbourpension.example", "+44 20 7946 0101", "GB"),
    ("C-2002", "Okafor, Daniel", "retail", "lchen", "medium", "verified", "2025-11-30",
     ["DOKAFOR1"], "passport:P-5521904:2031-04-12", "d.okafor@example.org", "+44 7700 900412", "GB"),
    ("C-2003", "Bellwether Capital LLP", "professional", "rpatel", "high", "verified", "2025-06-30",
     ["BWC-ARB1"], "lei-certificate:LEI-2138009ZXQ7RWB5KM061", "trading@bellwether.example", "", "GB"),
    ("C-2004", "Lindqvist Family Office", "professional", "lchen", "medium", "expired", "2024-02-29",
     ["LFO-MAIN"], "passport:P-SE-881273:2027-09-01", "office@lindqvist.example", "+46 8 555 010 20", "SE"),
    ("C-2005", "Marlowe Ventures Ltd", "retail", "lchen", "", "pending", "",
     ["MARL-01"], "", "", "", "IE"),
]
UNOWNED_ACCOUNT = "HPT-EQ03"
ACCOUNTS = ["HPT-EQ01", "HPT-EQ02", "DOKAFOR1", "BWC-ARB1", "LFO-MAIN"]

rng = random.Random(20240315)


def ts(seconds, millis=0):
    """UTC timestamp of the day, seconds after midnight."""
    s = int(seconds)
    return "%s-%02d:%02d:%02d.%03d" % (DAY, s // 3600, s // 60 % 60, s % 60, millis)


def money(x):
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def fmt(d):
    """Plain decimal text without exponent and without needless trailing zeros."""
    t = format(d, "f")
    if "." in t:
        t = t.rstrip("0").rstrip(".")
    return t


def price_text(d, decimals):
    return format(d.quantize(Decimal(1).scaleb(-decimals)), "f")


def encode(begin, header, body):
    """One FIX message with BodyLength(9) and CheckSum(10)."""
    inner = "".join("%d=%s%s" % (t, v, SOH) for t, v in header + body)
    head = "8=%s%s9=%d%s" % (begin, SOH, len(inner.encode()), SOH)
    text = head + inner
    return text + "10=%03d%s" % (sum(text.encode()) % 256, SOH)


class Session:
    """One direction of a FIX 4.4 session: numbers messages and keeps them for resends."""

    def __init__(self, sender, target):
        self.sender, self.target = sender, target
        self.seq = 1
        self.sent = {}

    def header(self, msg_type, seq, sending, extra=()):
        return [(35, msg_type), (49, self.sender), (56, self.target), (34, seq), (52, sending)] + list(extra)

    def send(self, msg_type, body, sending):
        seq = self.seq
        self.seq += 1
        self.sent[seq] = (msg_type, body, sending)
        return seq, encode("FIX.4.4", self.header(msg_type, seq, sending), body)

    def resend(self, seq, sending):
        msg_type, body, orig = self.sent[seq]
        return encode("FIX.4.4", self.header(msg_type, seq, sending, [(43, "Y"), (122, orig)]), body)

    def gap_fill(self, seq, new_seq, sending):
        return encode("FIX.4.4", self.header("4", seq, sending, [(43, "Y"), (122, sending)]),
                      [(123, "Y"), (36, new_seq)])


# ---------------------------------------------------------------------------------------------
# The day's orders. Each order is a list of events (time, kind, details); kinds: new, fill,
# cancel, pendcancel, replace, reject, expire, correct, bust. The venue answers in this order.

class Counter:
    def __init__(self, prefix, start):
        self.prefix, self.n = prefix, start

    def next(self):
        self.n += 1
        return "%s%d" % (self.prefix, self.n)


clordids = Counter("BRKR-240315-", 1000)
orderids = Counter("SIMX-O-", 700000)
execids = Counter("SIMX-E-", 9400000)


def make_order(account, symbol, side, qty, limit, t_new, ord_type="2", tif="0", settl=None):
    return {"account": account, "symbol": symbol, "side": side, "qty": qty, "px": limit,
            "t": t_new, "type": ord_type, "tif": tif, "settl": settl or T2, "events": [],
            "clordid": clordids.next(), "orderid": orderids.next()}


def tick(symbol):
    return Decimal(1).scaleb(-INSTRUMENTS[symbol][2])


def fill_price(symbol, limit, side):
    ref = limit if limit is not None else INSTRUMENTS[symbol][1]
    steps = rng.randint(0, 12)
    p = ref - steps * tick(symbol) if side == "1" else ref + steps * tick(symbol)
    return p


orders = []


def regular(account, symbol, side, qty, t, parts):
    """An order filled in `parts` executions."""
    ccy, ref, dec, _ = INSTRUMENTS[symbol]
    drift = Decimal(rng.randint(-40, 40)) * tick(symbol) * (10 if dec == 2 else 1)
    limit = ref + drift + (Decimal(5) * tick(symbol) * (1 if side == "1" else -1))
    o = make_order(account, symbol, side, qty, limit, t)
    o["events"].append((t, "new", {}))
    left = qty
    tt = t
    for i in range(parts):
        q = left if i == parts - 1 else (qty // parts // 10 * 10 or 1)
        left -= q
        tt += rng.randint(3, 900)
        o["events"].append((tt, "fill", {"q": q, "p": fill_price(symbol, limit, side)}))
    orders.append(o)
    return o


# Opening times (UTC): Europe 08:00, US 13:30. Spread the orders over the day.
EU_OPEN, US_OPEN = 8 * 3600, 13 * 3600 + 30 * 60
plans = [
    ("HPT-EQ01", "VOD.L", "1", 250000, EU_OPEN + 900, 3),
    ("HPT-EQ01", "SAP.DE", "1", 1200, EU_OPEN + 1500, 2),
    ("HPT-EQ02", "SAP.DE", "2", 800, EU_OPEN + 2400, 1),
    ("DOKAFOR1", "VOD.L", "1", 15000, EU_OPEN + 3600, 1),
    ("LFO-MAIN", "SAP.DE", "1", 400, EU_OPEN + 5400, 2),
    ("BWC-ARB1", "VOD.L", "2", 120000, EU_OPEN + 7200, 2),
    ("HPT-EQ02", "VOD.L", "1", 80000, EU_OPEN + 10800, 1),
    ("BWC-ARB1", "SAP.DE", "1", 2500, EU_OPEN + 14400, 3),
    ("HPT-EQ01", "AAPL", "1", 5000, US_OPEN + 120, 3),
    ("HPT-EQ01", "MSFT", "1", 2000, US_OPEN + 300, 2),
    ("HPT-EQ02", "NVDA", "2", 600, US_OPEN + 600, 2),
    ("DOKAFOR1", "AAPL", "1", 100, US_OPEN + 700, 1),
    ("BWC-ARB1", "MSFT", "2", 1500, US_OPEN + 900, 2),
    ("BWC-ARB1", "AAPL", "2", 3000, US_OPEN + 1500, 3),
    ("LFO-MAIN", "NVDA", "1", 200, US_OPEN + 2100, 1),
    ("HPT-EQ02", "AAPL", "1", 1800, US_OPEN + 3000, 2),
    ("DOKAFOR1", "MSFT", "1", 40, US_OPEN + 3600, 1),
    ("HPT-EQ01", "NVDA", "1", 900, US_OPEN + 4200, 3),
    ("BWC-ARB1", "NVDA", "2", 450, US_OPEN + 5400, 2),
    ("LFO-MAIN", "AAPL", "1", 700, US_OPEN + 6300, 2),
    ("HPT-EQ02", "MSFT", "2", 900, US_OPEN + 7200, 1),
    ("DOKAFOR1", "NVDA", "1", 25, US_OPEN + 8400, 1),
    ("BWC-ARB1", "SAP.DE", "2", 1000, EU_OPEN + 25200, 2),
    ("HPT-EQ01", "AAPL", "2", 1200, US_OPEN + 12600, 2),
    ("HPT-EQ02", "NVDA", "1", 300, US_OPEN + 14400, 1),
    ("BWC-ARB1", "MSFT", "1", 800, US_OPEN + 16200, 2),
    ("HPT-EQ01", "MSFT", "1", 600, US_OPEN + 18000, 1),
]
regs = [regular(*p) for p in plans]

# Special life cycles ------------------------------------------------------------------------

# 1. A cancel of the rest: partially filled, pending cancel, cancelled (OrigClOrdID 41).
o = make_order("HPT-EQ02", "MSFT", "1", 3000, Decimal("415.80"), US_OPEN + 1200)
o["events"] += [(US_OPEN + 1200, "new", {}), (US_OPEN + 1260, "fill", {"q": 1200, "p": Decimal("415.75")}),
                (US_OPEN + 1800, "pendcancel", {}), (US_OPEN + 1801, "cancel", {})]
orders.append(o)

# 2. A replace: price and quantity amended (ClOrdID chain, 150=5), then filled on the new ClOrdID.
o = make_order("BWC-ARB1", "AAPL", "1", 2000, Decimal("171.90"), US_OPEN + 2400)
o["events"] += [(US_OPEN + 2400, "new", {}),
                (US_OPEN + 2700, "replace", {"q": 2500, "p": Decimal("172.30")}),
                (US_OPEN + 2760, "fill", {"q": 1500, "p": Decimal("172.28")}),
                (US_OPEN + 2900, "fill", {"q": 1000, "p": Decimal("172.30")})]
orders.append(o)

# 3. A reject (price outside the venue's collar).
o = make_order("DOKAFOR1", "NVDA", "1", 50, Decimal("700.00"), US_OPEN + 4000)
o["events"] += [(US_OPEN + 4000, "reject", {"text": "Price outside collar"})]
orders.append(o)

# 4. An expire: a day order partially filled, expired at the London close (16:30 UTC).
o = make_order("LFO-MAIN", "VOD.L", "1", 60000, Decimal("0.6920"), EU_OPEN + 9000)
o["events"] += [(EU_OPEN + 9000, "new", {}), (EU_OPEN + 12000, "fill", {"q": 35000, "p": Decimal("0.6920")}),
                (16 * 3600 + 30 * 60, "expire", {})]
orders.append(o)

# 5. A trade correction: the second fill is corrected (LastQty 600 -> 500, LastPx 417.10 ->
#    416.90); the order is open again for 100 and fills later.
o = make_order("HPT-EQ01", "MSFT", "2", 1000, Decimal("416.80"), US_OPEN + 9000)
o["events"] += [(US_OPEN + 9000, "new", {}), (US_OPEN + 9030, "fill", {"q": 400, "p": Decimal("417.05")}),
                (US_OPEN + 9100, "fill", {"q": 600, "p": Decimal("417.10")}),
                (US_OPEN + 10800, "correct", {"ref": 2, "q": 500, "p": Decimal("416.90")}),
                (US_OPEN + 11400, "fill", {"q": 100, "p": Decimal("416.95")})]
orders.append(o)
CORRECTED = o

# 6. A bust: the first of two fills is busted (an erroneous trade); the rest is cancelled.
o = make_order("BWC-ARB1", "NVDA", "1", 800, Decimal("881.00"), US_OPEN + 7800)
o["events"] += [(US_OPEN + 7800, "new", {}), (US_OPEN + 7805, "fill", {"q": 300, "p": Decimal("868.00")}),
                (US_OPEN + 7900, "fill", {"q": 500, "p": Decimal("880.40")}),
                (US_OPEN + 9600, "bust", {"ref": 1}),
                (US_OPEN + 9700, "cancel", {})]
orders.append(o)

# 7. A fill on an account no client owns.
o = make_order(UNOWNED_ACCOUNT, "AAPL", "1", 400, Decimal("172.70"), US_OPEN + 5000)
o["events"] += [(US_OPEN + 5000, "new", {}), (US_OPEN + 5010, "fill", {"q": 400, "p": Decimal("172.66")})]
orders.append(o)

# 8. Next-day settlement agreed for one order (SettlType 63=2, SettlDate T+1).
o = make_order("HPT-EQ02", "SAP.DE", "1", 500, Decimal("177.20"), EU_OPEN + 18000, settl=T1)
o["events"] += [(EU_OPEN + 18000, "new", {}), (EU_OPEN + 18030, "fill", {"q": 500, "p": Decimal("177.14")})]
orders.append(o)

# 9. The pending-KYC client's only order is rejected by the venue (no fill).
o = make_order("MARL-01", "AAPL", "1", 10, Decimal("172.00"), US_OPEN + 6600)
o["events"] += [(US_OPEN + 6600, "reject", {"text": "Unknown account"})]
orders.append(o)

# 10. A market order, two fills.
o = make_order("LFO-MAIN", "MSFT", "2", 300, None, US_OPEN + 13000, ord_type="1")
o["events"] += [(US_OPEN + 13000, "new", {}), (US_OPEN + 13001, "fill", {"q": 200, "p": Decimal("417.44")}),
                (US_OPEN + 13002, "fill", {"q": 100, "p": Decimal("417.43")})]
orders.append(o)

# The desk order: entered at the venue's desk for Bellwether, never on the broker's session;
# it shows only in the drop copy and the statement (missing in the book).
DESK = make_order("BWC-ARB1", "NVDA", "1", 150, Decimal("884.00"), US_OPEN + 15000)
DESK["clordid"] = "SIMX-DESK-7731"
DESK["events"] += [(US_OPEN + 15000, "new", {}), (US_OPEN + 15020, "fill", {"q": 150, "p": Decimal("883.85")})]


# ---------------------------------------------------------------------------------------------
# Charges: commission 5 bp (at least 1.00) absolute (13=3); stamp duty 0.5% on UK buys
# (MiscFeeType 5), an exchange fee of 0.0012% on Xetra (4), the SEC fee of 0.0008% on US sells (1).

def charges(symbol, side, q, p):
    ccy = INSTRUMENTS[symbol][0]
    notional = Decimal(q) * p
    commission = max(money(notional * Decimal("0.0005")), Decimal("1.00"))
    fees = []
    if symbol.endswith(".L") and side == "1":
        fees.append((money(notional * Decimal("0.005")), ccy, "5"))
    if symbol.endswith(".DE"):
        fees.append((max(money(notional * Decimal("0.000012")), Decimal("0.01")), ccy, "4"))
    if ccy == "USD" and side == "2":
        fees.append((max(money(notional * Decimal("0.000008")), Decimal("0.01")), ccy, "1"))
    return commission, fees


# ---------------------------------------------------------------------------------------------
# Execution reports: one per event, with the venue's running CumQty/AvgPx. Each report is
# (time, body, meta) where meta keeps what the drop copy and the statement need.

def reports_for(o):
    ccy, _, dec, _ = INSTRUMENTS[o["symbol"]]
    clordid, orig = o["clordid"], None
    qty, px = o["qty"], o["px"]
    fills = []          # [execid, q, p, live]
    out = []
    status = "0"

    def cum():
        live = [(f[1], f[2]) for f in fills if f[3]]
        c = sum(q for q, _ in live)
        avg = (sum(Decimal(q) * p for q, p in live) / c) if c else Decimal(0)
        return c, avg

    previous = None
    for t, kind, d in o["events"]:
        eid = execids.next()
        ms = rng.randint(0, 999)
        last = None
        ref = None
        text = None
        extype = None
        if kind == "new":
            extype, status = "0", "0"
        elif kind == "fill":
            fills.append([eid, d["q"], d["p"], True])
            last = (d["q"], d["p"])
            extype = "F"
        elif kind == "pendcancel":
            orig, clordid = clordid, clordids.next()
            extype, status = "6", "6"
        elif kind == "cancel":
            if previous != "pendcancel":
                orig, clordid = clordid, clordids.next()
            extype, status = "4", "4"
        elif kind == "replace":
            orig, clordid = clordid, clordids.next()
            qty, px = d["q"], d["p"]
            extype = "5"
        elif kind == "reject":
            extype, status, text = "8", "8", d["text"]
        elif kind == "expire":
            extype, status = "C", "C"
        elif kind == "correct":
            f = fills[d["ref"] - 1]
            ref = f[0]
            f[1], f[2] = d["q"], d["p"]
            last = (d["q"], d["p"])
            extype = "G"
        elif kind == "bust":
            f = fills[d["ref"] - 1]
            ref = f[0]
            f[3] = False
            extype = "H"
        c, avg = cum()
        if kind in ("fill", "correct", "bust", "replace", "new"):
            status = "2" if c >= qty else ("1" if c > 0 else "0")
        leaves = 0 if status in ("2", "4", "8", "C") else qty - c
        body = [(37, o["orderid"]), (11, clordid)]
        if orig and kind in ("pendcancel", "cancel", "replace"):
            body.append((41, orig))
        body += [(17, eid)]
        if ref:
            body.append((19, ref))
        body += [(150, extype), (39, status), (1, o["account"]), (55, o["symbol"]), (54, o["side"]),
                 (38, qty), (40, o["type"])]
        if px is not None:
            body.append((44, price_text(px, dec)))
        body.append((59, o["tif"]))
        if last:
            body += [(32, last[0]), (31, price_text(last[1], dec))]
        body += [(151, leaves), (14, c), (6, fmt(avg.quantize(Decimal("0.000001"))) if c else "0"),
                 (15, ccy), (75, DAY), (60, ts(t, ms))]
        if last or kind == "bust":
            if o["settl"] != T2:
                body.append((63, "2"))
            body.append((64, o["settl"]))
        fee_info = None
        if last:
            commission, fees = charges(o["symbol"], o["side"], last[0], last[1])
            body += [(12, fmt(commission)), (13, "3")]
            fee_info = (commission, fees)
        if text:
            body.append((58, text))
        if fee_info and fee_info[1]:
            body.append((136, len(fee_info[1])))
            for amt, fccy, ftype in fee_info[1]:
                body += [(137, fmt(amt)), (138, fccy), (139, ftype)]
        out.append((t, ms, body, {"order": o, "kind": kind, "execid": eid, "ref": ref, "last": last,
                                  "fees": fee_info}))
        previous = kind
    return out


all_reports = []
for o in orders:
    all_reports += reports_for(o)
desk_reports = reports_for(DESK)


def renumber():
    """Numbers ExecIDs and OrderIDs in the order the venue sent them, as a venue does."""
    def key(r):
        return (r[0], r[1], r[3]["execid"])
    everything = sorted(all_reports + desk_reports, key=key)
    exec_map = {r[3]["execid"]: "SIMX-E-%d" % (9400001 + i) for i, r in enumerate(everything)}
    order_map = {}
    for r in everything:
        oid = r[3]["order"]["orderid"]
        if oid not in order_map:
            order_map[oid] = "SIMX-O-%d" % (700001 + len(order_map))
    for r in everything:
        body = r[2]
        for i, (tag, value) in enumerate(body):
            if tag in (17, 19):
                body[i] = (tag, exec_map[value])
            elif tag == 37:
                body[i] = (tag, order_map[value])
        meta = r[3]
        meta["execid"] = exec_map[meta["execid"]]
        if meta["ref"]:
            meta["ref"] = exec_map[meta["ref"]]
    for o in orders + [DESK]:
        o["orderid"] = order_map[o["orderid"]]
    all_reports.sort(key=key)


renumber()


def merged_with_heartbeats(reports, start, end, interval):
    """(time, ms, kind, payload) items: reports and a Heartbeat after every `interval` idle s."""
    items = []
    last = start
    for r in reports:
        while r[0] - last > interval:
            last += interval
            items.append((last, 0, "hb", None))
        items.append((r[0], r[1], "er", r))
        last = r[0]
    while end - last > interval:
        last += interval
        items.append((last, 0, "hb", None))
    return items


LOGON = 7 * 3600 + 55 * 60
LOGOUT = 20 * 3600 + 5 * 60
HB = 300
RECONNECT = 15 * 3600 + 12 * 60


def write_session_log():
    venue = Session("SIMX", "BRKR")
    broker = Session("BRKR", "SIMX")
    lines = []
    logon = [(98, 0), (108, HB)]
    lines.append(broker.send("A", logon + [(141, "N")], ts(LOGON, 12))[1])
    lines.append(venue.send("A", logon, ts(LOGON, 31))[1])
    items = merged_with_heartbeats(all_reports, LOGON, LOGOUT, HB)
    reports_before = []    # venue sequence numbers of the reports sent before the drop
    resent = False
    for t, ms, kind, r in items:
        if not resent and t >= RECONNECT:
            # The connection dropped after the last reports; the broker had logged the last two
            # but not yet stored its incoming sequence number, so after logon it asks for them
            # again: the venue repeats them (PossDup) and gap-fills its admin messages.
            resent = True
            resend_from = reports_before[-2]
            lines.append(broker.send("A", logon, ts(RECONNECT, 5))[1])
            venue_logon_seq, text = venue.send("A", logon, ts(RECONNECT, 40))
            lines.append(text)
            lines.append(broker.send("2", [(7, resend_from), (16, 0)], ts(RECONNECT, 52))[1])
            for seq in range(resend_from, venue_logon_seq):
                if venue.sent[seq][0] == "8":
                    lines.append(venue.resend(seq, ts(RECONNECT + 1, seq - resend_from)))
                else:
                    lines.append(venue.gap_fill(seq, seq + 1, ts(RECONNECT + 1, seq - resend_from)))
            lines.append(venue.gap_fill(venue_logon_seq, venue.seq, ts(RECONNECT + 1, 500)))
        if kind == "hb":
            lines.append(venue.send("0", [], ts(t, 0))[1])
        else:
            seq, text = venue.send("8", r[2], ts(t, min(ms + 2, 999)))
            lines.append(text)
            if t < RECONNECT:
                reports_before.append(seq)
    lines.append(broker.send("5", [], ts(LOGOUT, 0))[1])
    lines.append(venue.send("5", [], ts(LOGOUT, 20))[1])
    with open(os.path.join(OUT, "venue-BRKR.fix"), "w", newline="") as f:
        for line in lines:
            f.write(line + "\n")
    return lines



# Seeded drop-copy differences ---------------------------------------------------------------
# The execution whose price the drop copy reports differently: the first fill of HPT-EQ02 AAPL.
PRICE_DIFF = next(r for r in all_reports if r[3]["kind"] == "fill"
                  and r[3]["order"]["account"] == "HPT-EQ02" and r[3]["order"]["symbol"] == "AAPL")


def write_drop_copy():
    venue = Session("SIMX", "BRKRDC")
    lines = []
    logon = [(98, 0), (108, HB)]
    lines.append(venue.send("A", logon, ts(LOGON, 35))[1])
    reports = sorted(all_reports + desk_reports, key=lambda r: (r[0], r[1], r[3]["execid"]))
    for t, ms, kind, r in merged_with_heartbeats(reports, LOGON, LOGOUT, HB):
        if kind == "hb":
            lines.append(venue.send("0", [], ts(t, 0))[1])
            continue
        body = []
        for tag, value in r[2]:
            if tag in (12, 13, 136, 137, 138, 139):
                continue   # the drop copy reports executions, not the broker's charges
            if r is PRICE_DIFF and tag == 31:
                value = price_text(Decimal(value) + Decimal("0.05"), 2)
            body.append((tag, value))
        body.append((797, "Y"))
        lines.append(venue.send("8", body, ts(t, min(ms + 4, 999)))[1])
    lines.append(venue.send("5", [], ts(LOGOUT, 25))[1])
    with open(os.path.join(OUT, "dropcopy-SIMX.fix"), "w", newline="") as f:
        for line in lines:
            f.write(line + "\n")


# The statement ------------------------------------------------------------------------------

def live_trades(reports):
    """The venue's end-of-day view: trades after corrections and busts, by ExecID."""
    trades = {}
    order = []
    for t, ms, body, meta in reports:
        o = meta["order"]
        if meta["kind"] == "fill":
            trades[meta["execid"]] = {"o": o, "q": meta["last"][0], "p": meta["last"][1], "fees": meta["fees"]}
            order.append(meta["execid"])
        elif meta["kind"] == "correct":
            trades[meta["ref"]].update(q=meta["last"][0], p=meta["last"][1], fees=meta["fees"])
        elif meta["kind"] == "bust":
            del trades[meta["ref"]]
            order.remove(meta["ref"])
    return [(e, trades[e]) for e in order]


def pick(account, symbol, n=0):
    hits = [e for e, tr in statement_trades if tr["o"]["account"] == account and tr["o"]["symbol"] == symbol]
    return hits[n]


def write_statement():
    global statement_trades
    statement_trades = live_trades(sorted(all_reports + desk_reports, key=lambda r: (r[0], r[1], r[3]["execid"])))
    seeds = {
        "quantity": pick("HPT-EQ01", "AAPL", 1),
        "fees": pick("BWC-ARB1", "SAP.DE", 0),
        "settlement": pick("HPT-EQ01", "VOD.L", 0),
        "missing_at_venue": pick("DOKAFOR1", "MSFT", 0),
        "duplicate": pick("LFO-MAIN", "AAPL", 0),
    }
    rows = ["TradeDate,ExecId,OrderId,Account,Symbol,Side,Qty,Price,Currency,SettleDate,Fee"]
    for e, tr in statement_trades:
        if e == seeds["missing_at_venue"]:
            continue
        o = tr["o"]
        ccy, _, dec, _ = INSTRUMENTS[o["symbol"]]
        q = tr["q"]
        commission, fees = tr["fees"]
        fee = commission + sum(a for a, _, _ in fees)
        settle = o["settl"]
        if e == seeds["quantity"]:
            q = q + 100
        if e == seeds["fees"]:
            fee = fee + Decimal("2.50")
        if e == seeds["settlement"]:
            settle = T1
        row = "%s,%s,%s,%s,%s,%s,%d,%s,%s,%s,%s" % (
            DAY, e, o["orderid"], o["account"], o["symbol"], "B" if o["side"] == "1" else "S", q,
            price_text(tr["p"], dec), ccy, settle, format(money(fee), "f"))
        rows.append(row)
        if e == seeds["duplicate"]:
            rows.append(row)
    with open(os.path.join(OUT, "statement-clearing.csv"), "w", newline="") as f:
        f.write("\n".join(rows) + "\n")
    return seeds


statement_trades = []


def write_clients():
    def q(v):
        return '"%s"' % v.replace('"', '""') if ("," in v or '"' in v) else v
    rows = ["id,name,segment,relationship_manager,risk_rating,kyc_status,kyc_expiry,accounts,documents,email,phone,country"]
    for c in CLIENTS:
        cid, name, seg, rm, risk, kyc, exp, accts, docs, email, phone, country = c
        rows.append(",".join(q(v) for v in [cid, name, seg, rm, risk, kyc, exp, ";".join(accts), docs, email,
                                              phone, country]))
    with open(os.path.join(OUT, "clients.csv"), "w", newline="") as f:
        f.write("\n".join(rows) + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    lines = write_session_log()
    write_drop_copy()
    seeds = write_statement()
    write_clients()
    fills = sum(1 for r in all_reports if r[3]["kind"] == "fill")
    print("orders %d (+1 desk order only at the venue), execution reports %d, fills %d, session lines %d"
          % (len(orders), len(all_reports), fills, len(lines)))
    print("price differs in the drop copy: %s" % PRICE_DIFF[3]["execid"])
    print("statement seeds: %s" % ", ".join("%s=%s" % kv for kv in sorted(seeds.items())))
    print("desk order execution: %s" % [r[3]["execid"] for r in desk_reports if r[3]["kind"] == "fill"][0])
    print("corrected: %s; busted: %s" % (
        [r[3]["ref"] for r in all_reports if r[3]["kind"] == "correct"][0],
        [r[3]["ref"] for r in all_reports if r[3]["kind"] == "bust"][0]))


if __name__ == "__main__":
    main()
