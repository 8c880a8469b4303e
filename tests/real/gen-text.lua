-- gen-text.lua: writes N lines of deterministic pseudo-random text to stdout,
-- the input of the bzip2 real-program test (tests/boot/test_real.c).
-- usage: lua gen-text.lua N
local n = math.tointeger(tonumber(arg[1])) or error("usage: lua gen-text.lua N")
local syllables = { "so", "lo", "ker", "nel", "page", "map", "boot", "tar", "ring", "three",
	"clock", "heap", "file", "time", "fault", "trap", "stub", "efi", "gdt", "idt" }
local seed = 20251121
local function rand(m)
	seed = (seed * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff
	return (seed >> 33) % m + 1
end
local out = {}
for i = 1, n do
	local words = {}
	for w = 1, rand(12) do
		local word = {}
		for _ = 1, rand(3) do word[#word + 1] = syllables[rand(#syllables)] end
		words[w] = table.concat(word)
	end
	out[#out + 1] = ("%06d %s\n"):format(i, table.concat(words, " "))
	if #out == 1000 then io.write(table.concat(out)); out = {} end
end
io.write(table.concat(out))
