#!/usr/bin/env python3
"""Writes the small sample captures in Captures/ from the shared deterministic corpus generator.

    python3 tools/make-sample-captures.py

Each layout the capture reader knows gets one file, so `fixbridge show` can be tried on all:
  Captures/sample-fix44.fix          raw SOH-delimited FIX 4.4, back to back
  Captures/sample-fix42.messages.log QuickFIX message log lines (`YYYYMMDD-HH:MM:SS.sss : 8=FIX…`)
  Captures/sample-fixt11.txt         FIXT.1.1 / FIX 5.0 SP2, '|' delimited, one message per line
  Captures/sample-damaged.fix        FIX 4.4 with seeded damage: junk, a bad CheckSum, a wrong
                                     BodyLength and a truncated tail (for error reporting)
"""
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
shared = os.environ.get("FIXBRIDGE_SHARED", os.path.join(root, "..", "shared"))
generator = os.path.join(shared, "bench", "gen_fix_corpus.py")
out_dir = os.path.join(root, "Captures")


def corpus(version, count):
    with tempfile.NamedTemporaryFile(suffix=".fix", delete=False) as tmp:
        path = tmp.name
    subprocess.run([sys.executable, generator, "--count", str(count), "--seed", "7",
                    "--version", version, "-o", path], check=True, stdout=subprocess.DEVNULL)
    data = open(path, "rb").read()
    os.unlink(path)
    messages = []
    start = 0
    while start < len(data):
        end = data.index(b"\x0110=", start) + 8
        messages.append(data[start:end])
        start = end
    return messages


def log_time(sending_time):
    return sending_time.decode()


def field(message, tag):
    marker = b"\x01" + str(tag).encode() + b"="
    i = message.index(marker) + len(marker)
    return message[i:message.index(b"\x01", i)]


os.makedirs(out_dir, exist_ok=True)
with open(os.path.join(out_dir, "sample-fix44.fix"), "wb") as f:
    f.write(b"".join(corpus("4.4", 200)))
with open(os.path.join(out_dir, "sample-fix42.messages.log"), "wb") as f:
    for m in corpus("4.2", 100):
        f.write(log_time(field(m, 52)).encode() + b" : " + m + b"\n")
with open(os.path.join(out_dir, "sample-fixt11.txt"), "wb") as f:
    for m in corpus("5.0SP2", 100):
        f.write(m.replace(b"\x01", b"|") + b"\n")
damaged = corpus("4.4", 12)
bad_sum = bytearray(damaged[3])
bad_sum[-2] = ord("0") + (bad_sum[-2] - ord("0") + 1) % 10
bad_length = damaged[6].replace(b"\x019=", b"\x019=1", 1)
with open(os.path.join(out_dir, "sample-damaged.fix"), "wb") as f:
    f.write(b"".join(damaged[:2]) + b"not a fix message\n" + damaged[2] + bytes(bad_sum)
            + b"".join(damaged[4:6]) + bad_length + b"".join(damaged[7:11]) + damaged[11][:40])
