# Debian's python3 on Solo (tests/boot/test_dynamic.c): the standard library
# modules most programs start with, C extension modules loaded with dlopen
# (_json, _sha2/_hashlib, _datetime, _struct, math, _sqlite3), files and
# threads. Everything it prints is deterministic, so the host is the oracle.
import collections
import datetime
import hashlib
import json
import math
import os
import re
import sqlite3
import struct
import sys
import threading

print("argv", sys.argv[1:])
print("version", sys.version_info[:2])

with open("input.txt") as f:
    text = f.read()
words = re.findall(r"[a-z']+", text.lower())
counts = collections.Counter(words)
print("words", len(words), "distinct", len(counts))
print("top", counts.most_common(5))
print("sha256", hashlib.sha256(text.encode()).hexdigest())
print("md5", hashlib.md5(b"solo").hexdigest())

day = datetime.date(2026, 12, 5) + datetime.timedelta(days=40)
stamp = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
print("date", day.isoformat(), day.strftime("%A"), stamp.timestamp())

packed = struct.pack("<iqd4s", -7, 1 << 40, math.pi, b"solo")
print("struct", packed.hex(), struct.unpack("<iqd4s", packed))
print("math", math.factorial(20), round(math.sqrt(2), 12), math.gcd(462, 1071))

doc = {"words": counts.most_common(3), "day": day.isoformat(), "ok": True, "n": None}
os.makedirs("out", exist_ok=True)
with open("out/doc.json", "w") as f:
    json.dump(doc, f, sort_keys=True, indent=1)
with open("out/doc.json") as f:
    back = json.load(f)
print("json", json.dumps(back, sort_keys=True), os.path.getsize("out/doc.json"))

db = sqlite3.connect("out/words.db")
db.execute("create table w (word text primary key, n integer)")
db.executemany("insert into w values (?, ?)", counts.items())
db.commit()
print("sqlite", sqlite3.sqlite_version_info >= (3, 0, 0),
      db.execute("select count(*), sum(n) from w").fetchone(),
      db.execute("select word from w order by n desc, word limit 3").fetchall())
db.close()

results = {}
lock = threading.Lock()


def work(i):
    h = hashlib.sha1(("%d:" % i + text).encode()).hexdigest()
    with lock:
        results[i] = h[:12]


threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("threads", [results[i] for i in sorted(results)])
print("listdir", sorted(os.listdir("out")))
print("done")
