-- Debian's sqlite3 CLI on Solo (tests/boot/test_dynamic.c): a file database
-- written with a transaction and an index, queried with joins, aggregates,
-- window functions, JSON and a recursive CTE; deterministic output.
.headers on
.mode list
PRAGMA journal_mode=DELETE;
CREATE TABLE city(id INTEGER PRIMARY KEY, name TEXT NOT NULL, country TEXT, pop INTEGER);
CREATE TABLE visit(city INTEGER REFERENCES city(id), day TEXT, n INTEGER);
BEGIN;
INSERT INTO city(name, country, pop) VALUES
  ('Lyon', 'FR', 522250), ('Porto', 'PT', 231800), ('Graz', 'AT', 291072),
  ('Turku', 'FI', 201863), ('Gent', 'BE', 265086), ('Brno', 'CZ', 382405);
WITH RECURSIVE d(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM d WHERE i < 199)
INSERT INTO visit SELECT 1 + (i * 7) % 6, date('2026-01-01', '+' || (i % 31) || ' days'), (i * 37) % 11 FROM d;
COMMIT;
CREATE INDEX visit_city ON visit(city);
SELECT c.name, count(*) AS visits, sum(v.n) AS people
  FROM city c JOIN visit v ON v.city = c.id GROUP BY c.id ORDER BY people DESC, c.name;
SELECT name, pop, rank() OVER (ORDER BY pop DESC) AS r FROM city ORDER BY r;
SELECT json_group_array(json_object('c', country, 'p', pop)) FROM (SELECT * FROM city ORDER BY id);
SELECT day, sum(n) FROM visit GROUP BY day HAVING sum(n) > 10 ORDER BY day LIMIT 5;
SELECT printf('%.3f', avg(pop) / 1000.0), hex(zeroblob(4)), upper(group_concat(country, '')) FROM city;
.mode box
SELECT name, country FROM city WHERE pop > 260000 ORDER BY name;
PRAGMA integrity_check;
