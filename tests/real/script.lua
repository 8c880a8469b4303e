-- script.lua: the Lua half of the real-program tests (tests/boot/test_real.c).
-- build/real/lua (Debian's lua5.4, static musl) runs it on Solo and natively
-- on the host with the same arguments, environment and files (data/ beside
-- it, a read-only file system in both), and the two outputs must be equal.
-- So it prints only what is deterministic: facts about the clocks, never
-- their values; no addresses, no random seeds.
--
-- usage: lua script.lua WORD... STATUS   (exits with STATUS)

local failures = 0
local function check(name, ok)
	if not ok then failures = failures + 1 end
	print(("%-40s %s"):format(name, ok and "ok" or "FAIL"))
end

-- ---------------------------------------------------------------- arguments
print("== arguments")
print("#arg = " .. #arg)
for i = -1, #arg do print(("arg[%d] = %q"):format(i, arg[i])) end
print("... = " .. select("#", ...) .. " values")
local status = math.tointeger(tonumber(arg[#arg]))
check("last argument is the exit status", status ~= nil)

-- ---------------------------------------------------------------- heap
print("== heap")
local array = {}
for i = 1, 300000 do array[i] = i * 3 end
local sum = 0
for _, v in ipairs(array) do sum = sum + v end
print("array sum " .. sum)

local words = {}
for i = 1, 50000 do words[#words + 1] = ("w%06d"):format(i * 7919 % 50000) end
local joined = table.concat(words, " ")
print("joined length " .. #joined)
table.sort(words)
print("sorted " .. words[1] .. " .. " .. words[#words])

local hash = {}
for i = 1, 100000 do hash["key" .. i] = i end
for i = 1, 100000, 2 do hash["key" .. i] = nil end
local count, keysum = 0, 0
for _, v in pairs(hash) do count, keysum = count + 1, keysum + v end
print("hash " .. count .. " entries, sum " .. keysum)

local function counter(step)
	local n = 0
	return function() n = n + step; return n end
end
local counters = {}
for i = 1, 2000 do counters[i] = counter(i) end
for _ = 1, 50 do for i = 1, #counters do counters[i]() end end
print("closure 1999 at " .. counters[1999]())

local lcg, xs = 12345, {}
for i = 1, 40000 do
	lcg = (lcg * 1103515245 + 12345) % 2147483648
	xs[i] = lcg
end
table.sort(xs, function(a, b) return a > b end)
local sorted = true
for i = 2, #xs do sorted = sorted and xs[i - 1] >= xs[i] end
check("40000 numbers sort descending", sorted)

local s = ("abc"):rep(100000)
s = s:gsub("b", "BB"):upper()
print("gsub/upper length " .. #s .. ", " .. select(2, s:gsub("BB", "")) .. " matches")

local big = ("x"):rep(16 * 1024 * 1024)
print("16 MiB string: " .. #big .. " bytes")

local co = coroutine.wrap(function()
	for i = 1, 3 do coroutine.yield(i * i) end
	return "done"
end)
print("coroutine " .. co() .. " " .. co() .. " " .. co() .. " " .. co())

local before = collectgarbage("count")
array, words, joined, hash, counters, xs, s, big = nil, nil, nil, nil, nil, nil, nil, nil
collectgarbage("collect")
local after = collectgarbage("count")
check("collect frees most of the heap", after < before / 4)
local weak = setmetatable({}, { __mode = "k" })
weak[{}] = true
collectgarbage()
check("collect clears weak keys", next(weak) == nil)
collectgarbage("generational")
local churn = 0
for i = 1, 200000 do
	local t = { i, tostring(i) }
	churn = churn + #t[2]
end
print("generational churn " .. churn)
collectgarbage("incremental")

local ok, err = pcall(function() error({ code = 42 }) end)
print("pcall: " .. tostring(ok) .. " " .. err.code)
ok, err = pcall(function() local t = nil; return t.x end)
print("pcall: " .. tostring(ok) .. " " .. err)
math.randomseed(42)
print("seeded random " .. math.random(1, 1000000) .. " " .. math.random(1, 1000000))
print(("%.10f %g %d %x %s"):format(math.pi, 1e300 * 10, math.maxinteger, 255, 0.1 + 0.2))

-- ---------------------------------------------------------------- files
print("== files")
local f = assert(io.open("data/poem.txt", "r"))
local size = f:seek("end")
print("poem size " .. size)
f:seek("set", 4)
print("at 4: " .. f:read(6))
print("now at " .. f:seek("cur"))
f:seek("cur", -2)
print("back 2: " .. f:read("l"))
f:seek("set")
local n, longest = 0, ""
for line in f:lines() do
	n = n + 1
	if #line > #longest then longest = line end
end
print("poem lines " .. n .. ", longest: " .. longest)
print("read at end: " .. tostring(f:read("a")) .. " / " .. tostring(f:read("l")))
f:close()
print("closed: " .. io.type(f) .. ", " .. select(2, pcall(f.read, f)))

local words_total, blank = 0, 0
for line in io.lines("data/poem.txt") do
	if line == "" then blank = blank + 1 end
	for _ in line:gmatch("%a+") do words_total = words_total + 1 end
end
print("poem words " .. words_total .. ", blank lines " .. blank)
for a, b in io.lines("data/poem.txt", 3, "n") do
	print("first 3 bytes and a number: " .. a .. " " .. tostring(b))
	break
end

local me = assert(io.open(arg[0], "rb"))
local text = me:read("a")
me:close()
local _, script_lines = text:gsub("\n", "")
print("this script: " .. #text .. " bytes, " .. script_lines .. " lines")

print(io.open("data/missing.txt"))
print(io.open("nodir/missing.txt", "r"))
print(io.open("out.txt", "w"))
print(io.open("data/poem.txt", "a"))
print(io.open("data/poem.txt", "r+"))
print(os.remove("data/poem.txt"))
print(os.rename("data/poem.txt", "data/poem2.txt"))
local dir = io.open("data", "r")
print("directory opens: " .. tostring(dir ~= nil))
if dir then
	print(dir:read("a"))
	dir:close()
end
print(pcall(io.lines, "data/missing.txt"))

-- ---------------------------------------------------------------- time
print("== time")
local t0 = os.time()
check("os.time is an integer", math.type(t0) == "integer")
check("os.time is after 2024-01-01", t0 > 1704067200)
local c0 = os.clock()
check("os.clock is a number >= 0", type(c0) == "number" and c0 >= 0)
local spin = 0
for i = 1, 2000000 do spin = spin + i % 7 end
local c1 = os.clock()
check("os.clock grows over a busy loop", c1 > c0)
local t1 = os.time()
check("os.time does not go back", t1 >= t0)
check("os.difftime(now, start) >= 0", os.difftime(t1, t0) >= 0)
print("spin " .. spin)
print("difftime " .. os.difftime(1700000000, 1699990000))
print("date " .. os.date("!%Y-%m-%d %H:%M:%S %A %j", 1700000000))
print("date " .. os.date("!%c", 0))
local d = os.date("!*t", 951782400)
print(("table %d-%02d-%02d yday %d wday %d"):format(d.year, d.month, d.day, d.yday, d.wday))
print("os.time of a table " .. os.time({ year = 2024, month = 2, day = 29, hour = 12 }))
print("TZ " .. tostring(os.getenv("TZ")) .. ", HOME " .. tostring(os.getenv("HOME")))
local today = os.date("*t")
check("os.date('*t') is a plausible date", today.year >= 2024 and today.month >= 1 and today.month <= 12)

print(("%d failures"):format(failures))
os.exit(status or 1)
