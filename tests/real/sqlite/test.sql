-- test.sql: the sqlite3 half of the real-program tests (tests/boot/test_real.c).
-- build/real/sqlite3 (Debian's sqlite3 shell, static musl) runs it on Solo and
-- natively on the host (in a tmpfs) with the same arguments and files, and
-- the two outputs must be equal. It works on databases under tmp/, so it
-- needs a writable file system: creating files, rollback journals (written,
-- fsynced, deleted), a WAL with its shared-memory file (mmap MAP_SHARED),
-- the fcntl locks of two connections to one file, and VACUUM INTO.
-- Everything printed is deterministic: counts, sums, contents, file sizes.
--
-- usage: sqlite3 -batch -init sqliterc tmp/test.db '.read test.sql'
.bail on
.mode list
.headers off
.nullvalue NULL

.print == create (rollback journal)
PRAGMA journal_mode;
PRAGMA page_size = 4096;
CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, qty INTEGER, price REAL,
                  note TEXT);
CREATE INDEX item_qty ON item(qty);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
INSERT INTO item(name, qty, price, note)
SELECT printf('item%05d', i), i % 17, i * 0.25, CASE WHEN i % 100 = 0 THEN NULL ELSE
       substr('the quick brown fox jumps over the lazy dog', 1 + i % 30) END FROM n;
SELECT count(*), sum(qty), sum(price), count(note) FROM item;
SELECT id, name, qty, price, note FROM item WHERE id IN (1, 100, 2000) ORDER BY id;

.print == a committed transaction
BEGIN;
UPDATE item SET qty = qty + 100 WHERE id % 10 = 0;
DELETE FROM item WHERE id > 1990;
INSERT INTO item(name, qty, price, note) VALUES ('extra', 1, 9.5, 'added in a transaction');
COMMIT;
SELECT count(*), sum(qty), max(id) FROM item;

.print == a rolled-back transaction
BEGIN;
DELETE FROM item WHERE qty > 10;
UPDATE item SET name = upper(name);
SELECT count(*), count(*) FILTER (WHERE name GLOB 'ITEM*') FROM item;
ROLLBACK;
SELECT count(*), count(*) FILTER (WHERE name GLOB 'item*') FROM item;

.print == savepoints
SAVEPOINT outer_sp;
UPDATE item SET price = 0;
SAVEPOINT inner_sp;
DELETE FROM item;
ROLLBACK TO inner_sp;
SELECT count(*), sum(price) FROM item;
ROLLBACK TO outer_sp;
RELEASE outer_sp;
SELECT count(*), sum(price) FROM item;

.print == the indexes
EXPLAIN QUERY PLAN SELECT id FROM item WHERE qty = 3;
SELECT count(*), min(name), max(name) FROM item WHERE qty = 3;
SELECT qty, count(*) FROM item GROUP BY qty ORDER BY qty LIMIT 5;
PRAGMA integrity_check;

.print == a big transaction (the page cache spills to the file)
PRAGMA cache_size = 20;
BEGIN;
CREATE TABLE blob_t(id INTEGER PRIMARY KEY, b BLOB);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
INSERT INTO blob_t(b) SELECT zeroblob(3000 + i) FROM n;
COMMIT;
SELECT count(*), sum(length(b)) FROM blob_t;
DELETE FROM blob_t WHERE id % 2 = 0;
SELECT count(*) FROM blob_t;
PRAGMA cache_size = -2000;

.print == a second connection to the same file
.connection 1
.open tmp/test.db
SELECT count(*), sum(qty) FROM item;
BEGIN IMMEDIATE;
INSERT INTO item(name, qty, price) VALUES ('from connection 1', 7, 1.5);
COMMIT;
.connection 0
SELECT name, qty, price FROM item WHERE name LIKE 'from%';
.connection close 1

.print == WAL (shared memory through mmap)
PRAGMA journal_mode = WAL;
INSERT INTO item(name, qty, price) VALUES ('in the WAL', 3, 0.5);
SELECT count(*) FROM item;
.connection 1
.open tmp/test.db
SELECT name FROM item WHERE name = 'in the WAL';
.connection 0
.connection close 1
PRAGMA wal_checkpoint(TRUNCATE);
PRAGMA journal_mode = DELETE;

.print == VACUUM, VACUUM INTO
VACUUM;
VACUUM INTO 'tmp/copy.db';
PRAGMA integrity_check;

.print == reopened
.open tmp/copy.db
SELECT count(*), sum(qty), sum(price) FROM item;
SELECT type, name, tbl_name FROM sqlite_schema ORDER BY name;
.open tmp/test.db
SELECT count(*), sum(qty), sum(price) FROM item;
DROP TABLE blob_t;
VACUUM;

.print == the files in tmp (the journals are gone)
SELECT name, length(data) FROM fsdir('tmp') WHERE name <> 'tmp' ORDER BY name;
