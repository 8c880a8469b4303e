-- gc.lua - the Lua workload of make bench-apps (bench/apps/appbench.c runs
-- it embedded): garbage-heavy code of the kinds real scripts are made of.
-- Tables built and dropped, strings made by concatenation, formatting and
-- gsub, closures created per item, a binary tree rebuilt each round. It
-- returns an integer checksum that depends on no address and no hash order
-- (string hashes are seeded per state, so pairs() order is not fixed: only
-- ipairs and commutative sums go into it).

local ROUNDS = 2
local M = 0x7fffffff
local sum = 0

local function mix(h, v)
  return (h * 31 + v) % M
end

-- A complete binary tree of tables, walked then dropped.
local function tree(depth)
  if depth == 0 then return { v = 1 } end
  return { l = tree(depth - 1), r = tree(depth - 1), v = depth }
end

local function walk(t)
  if not t.l then return t.v end
  return t.v + walk(t.l) + walk(t.r)
end

-- Records with string fields, grouped through a table keyed by strings.
local function records(n, seed)
  local rs = {}
  local x = seed
  for i = 1, n do
    x = (x * 1103515245 + 12345) % 2147483648
    rs[i] = { id = i, name = "user" .. (x % 997), score = x % 1000,
              tags = { "t" .. (x % 7), "t" .. (x % 11) } }
  end
  local groups = {}
  for _, r in ipairs(rs) do
    local g = groups[r.name]
    if not g then
      g = { n = 0, total = 0 }
      groups[r.name] = g
    end
    g.n = g.n + 1
    g.total = g.total + r.score
  end
  local h = 0
  for name, g in pairs(groups) do
    -- commutative: the order of pairs() does not matter
    h = (h + #name * g.n + g.total) % M
  end
  return h
end

-- Closures per item: counters, adders, a chain of composed functions.
local function closures(n)
  local fs = {}
  for i = 1, n do
    local c = i
    fs[i] = function(d) c = c + d; return c end
  end
  local h = 0
  for k = 1, 3 do
    for i = 1, n do h = mix(h, fs[i](k)) end
  end
  local compose = function(x) return x end
  for i = 1, 50 do
    local f = compose
    compose = function(x) return f(x) + i end
  end
  return mix(h, compose(0))
end

-- Strings: formatting, concatenation through table.concat, gsub, upper,
-- reverse, splitting back with gmatch.
local function strings(n)
  local parts = {}
  for i = 1, n do
    parts[#parts + 1] = string.format("%d:%x:%s", i, i * 7, ("ab"):rep(i % 5))
  end
  local s = table.concat(parts, ",")
  s = s:gsub("ab", "xyz"):upper()
  local h = #s
  for w in s:gmatch("[^,]+") do
    h = mix(h, #w + w:byte(1))
  end
  local r = s:sub(1, 2000):reverse()
  return mix(h, r:byte(1) + #r)
end

-- A table used as a queue and a sorted array, rebuilt each round.
local function arrays(n, seed)
  local a = {}
  local x = seed
  for i = 1, n do
    x = (x * 69069 + 1) % 4294967296
    a[i] = x % 100000
  end
  table.sort(a)
  local h = 0
  for i = 1, n, 97 do h = mix(h, a[i]) end
  local q, head = {}, 1
  for i = 1, n do q[#q + 1] = { i, a[i] } end
  while head <= #q do
    local e = q[head]
    q[head] = nil
    head = head + 1
    if e[1] % 1000 == 0 then h = mix(h, e[2]) end
  end
  return h
end

for round = 1, ROUNDS do
  sum = mix(sum, walk(tree(14)))
  sum = mix(sum, records(20000, round))
  sum = mix(sum, closures(20000))
  sum = mix(sum, strings(10000))
  sum = mix(sum, arrays(20000, round))
  sum = mix(sum, collectgarbage("count") >= 0 and 1 or 0)
end
return sum
