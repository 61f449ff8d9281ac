-- test_runner.lua — the literate lesson machinery on small fixture lessons
-- (tests/lessons/fixtures/): terminal prose, captured output, --check and its
-- exit status, --render to Markdown and HTML, --lang, error line numbers.
local T = require "testlib"

local BIN = os.getenv("NNLAB_BIN") or "./nnlab"
local FIX = "tests/lessons/fixtures/"

-- Runs nnlab with arguments (a shell string); returns output and exit code.
local function nnlab(args, env)
  return T.sh((env or "") .. " NO_COLOR=1 " .. BIN .. " --plot none " .. args .. " </dev/null")
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function has(text, part, what)
  if not text:find(part, 1, true) then
    error(string.format("%s: %q not found in:\n%s", what or "output", part, text), 2)
  end
end

local function hasnt(text, part, what)
  if text:find(part, 1, true) then
    error(string.format("%s: %q should not be in:\n%s", what or "output", part, text), 2)
  end
end

T.test("running a lesson prints prose of its language in order with the output", function()
  local out, code = nnlab("--lang en " .. FIX .. "tiny.lua")
  T.eq(code, 0, "exit status")
  has(out, "A small lesson to try")
  hasnt(out, "Una lección")
  local title, p1, sq, sum, total, fin = out:find("Tiny lesson", 1, true), out:find("A small", 1, true),
    out:find("squares\t1 4 9", 1, true), out:find("Sum\n", 1, true), out:find("total = 14", 1, true),
    out:find("The end.", 1, true)
  T.ok(title and p1 and sq and sum and total and fin, "every piece present")
  T.ok(title < p1 and p1 < sq and sq < sum and sum < total and total < fin, "in the file's order")
  local es = nnlab("--lang es " .. FIX .. "tiny.lua")
  has(es, "Una lección pequeña")
  has(es, "Suma\n")
  hasnt(es, "A small lesson")
end)

T.test("terminal prose: headings underlined, paragraphs wrapped, markers removed", function()
  local out = nnlab("--lang en " .. FIX .. "tiny.lua", "COLUMNS=40")
  has(out, "Tiny lesson\n===========\n")
  has(out, "Sum\n---\n")
  has(out, "  • a list item")
  hasnt(out, "**", "bold markers")
  hasnt(out, "\27[", "ANSI styles when not a terminal")
  for line in out:gmatch("[^\n]+") do
    T.ok(utf8.len(line) <= 40, "line wider than 40 columns: " .. line)
  end
  local prose = out:match("A small.-long%.")
  T.ok(prose and select(2, prose:gsub("\n", "")) >= 2, "paragraph wrapped over several lines")
  local wide = nnlab("--lang en " .. FIX .. "tiny.lua", "COLUMNS=200")
  has(wide, "A small lesson to try the `runner`: every paragraph is wrapped to the width of the terminal",
    "wide terminal (capped at 100 columns)")
end)

T.test("running a lesson says where each plot went", function()
  local out, code = nnlab("--lang en " .. FIX .. "plots.lua", "FIXTURE_OUT=" .. T.tmpdir())
  T.eq(code, 0, "exit status:\n" .. out)
  has(out, "[plot: " .. T.tmpdir() .. "/01_square.png]\ndrew ")
end)

T.test("an error reports the lesson's own line number", function()
  local out, code = nnlab(FIX .. "error_line.lua")
  T.eq(code, 1, "exit status")
  has(out, "error_line.lua:8: attempt to index a nil value")
  local checked, ccode = nnlab("--check " .. FIX .. "error_line.lua")
  T.eq(ccode, 1, "exit status under --check")
  has(checked, "FAIL " .. FIX .. "error_line.lua: " .. FIX .. "error_line.lua:8:")
  has(checked, "0 passed, 1 failed")
end)

T.test("--check prints PASS/FAIL per expectation and the summary; exit 0 when all pass", function()
  local out, code = nnlab("--check " .. FIX .. "tiny.lua")
  T.eq(code, 0, "exit status")
  has(out, "PASS sum of squares 14 (expected 14)")
  has(out, "PASS quick flag false (expected false)")
  T.ok(out:match("\n2 passed, 0 failed\n?$"), "summary is the last line:\n" .. out)
  hasnt(out, "Tiny lesson", "prose under --check")
end)

T.test("a failing expectation gives exit status 1", function()
  local out, code = nnlab("--check " .. FIX .. "failing.lua")
  T.eq(code, 1, "exit status")
  has(out, "FAIL two and two 4 (expected 5)")
  has(out, "PASS in range 4 (expected 1..10)")
  has(out, "1 passed, 1 failed")
end)

T.test("several lessons in one --check; an error fails that lesson only", function()
  local out, code = nnlab("--check " .. FIX .. "error_line.lua " .. FIX .. "tiny.lua " .. FIX .. "failing.lua")
  T.eq(code, 1, "exit status")
  has(out, "== " .. FIX .. "tiny.lua")
  has(out, "PASS sum of squares")
  has(out, "3 passed, 2 failed")
end)

T.test("--check runs each lesson in its own globals", function()
  local out, code = nnlab("--check " .. FIX .. "globals_a.lua " .. FIX .. "globals_b.lua")
  T.eq(code, 0, "exit status:\n" .. out)
  has(out, "2 passed, 0 failed")
end)

T.test("without --check an unmet expectation is a note on stderr, not a failure", function()
  local out, code = T.sh("(NO_COLOR=1 " .. BIN .. " " .. FIX .. "failing.lua 2>&1 >/dev/null)")
  T.eq(code, 0, "exit status")
  has(out, "nnlab: " .. FIX .. "failing.lua: expectation not met: FAIL two and two 4 (expected 5)")
  hasnt(out, "in range", "a met expectation")
end)

T.test("a script without prose runs as it is: print and io.write untouched", function()
  local path = T.tmp("plain.lua")
  local f = assert(io.open(path, "w"))
  f:write("#!/usr/bin/env nnlab\nprint(debug.getinfo(print).what, debug.getinfo(io.write).what, select('#', ...), ...)\n")
  f:close()
  local out, code = nnlab(path .. " a b")
  T.eq(code, 0, "exit status")
  T.eq(out, "C\tC\t2\ta\tb\n")
  local lesson_path = T.tmp("withprose.lua")
  f = assert(io.open(lesson_path, "w"))
  f:write("--- prose\nprint(debug.getinfo(print).what, select('#', ...), ...)\n")
  f:close()
  local out2 = nnlab(lesson_path .. " a b")
  has(out2, "C\t2\ta\tb", "a lesson's print is untouched too; script arguments unchanged")
end)

T.test("--quick sets lesson.quick", function()
  local out, code = nnlab("--quick --check " .. FIX .. "tiny.lua")
  T.eq(code, 1, "exit status")
  has(out, "FAIL quick flag true (expected false)")
end)

T.test("--render page.md: prose, code fences, outputs, image links that exist", function()
  local dir = T.tmp("md")
  os.execute("mkdir -p " .. dir)
  local out, code = nnlab("--lang en --render " .. dir .. "/page.md " .. FIX .. "plots.lua",
    "FIXTURE_OUT=" .. T.tmpdir())
  T.eq(code, 0, "exit status:\n" .. out)
  local md = read(dir .. "/page.md")
  T.ok(md, "page written")
  has(md, "# Plots beside the page\n\nA step that draws", "prose")
  hasnt(md, "Un paso que dibuja", "the other language")
  has(md, "```lua\n-- A 4x4 red PNG kept beside this file", "code fence")
  hasnt(md, "#!/usr/bin/env", "shebang line")
  has(md, "```output\ndrew ", "output fence")
  has(md, "````output\na ``` fence inside output\nepoch 1 [==========] done\nfull\n````",
    "output with backticks gets a longer fence; a progress line keeps its last state")
  local link = md:match("!%[a red square%]%(([^)]+)%)")
  T.ok(link, "image link")
  T.eq(link, "plots/01_square.png", "relative link")
  T.eq(read(dir .. "/" .. link), read(FIX .. "red4x4.png"), "image beside the page")
  local es = nnlab("--lang es --render " .. dir .. "/pagina.md " .. FIX .. "plots.lua", "FIXTURE_OUT=" .. T.tmpdir())
  local mdes = read(dir .. "/pagina.md")
  has(mdes, "Un paso que dibuja", "Spanish prose:\n" .. es)
  hasnt(mdes, "A step that draws", "English prose in the Spanish page")
end)

T.test("--render keeps what C code prints (fit's epoch lines) in the step's output", function()
  local path = T.tmp("cprint.lua")
  local f = assert(io.open(path, "w"))
  f:write("--- # C output\nprint('from Lua 1')\nos.execute('echo from a child process')\nio.write('from Lua 2\\n')\n",
    "--- next step\nprint('step 2')\n")
  f:close()
  local page = T.tmp("cprint.md")
  local out, code = nnlab("--render " .. page .. " " .. path)
  T.eq(code, 0, "exit status:\n" .. out)
  has(out, "from Lua 1\nfrom a child process\nfrom Lua 2\nstep 2\nwrote ", "echoed to the terminal in order")
  has(read(page), "```output\nfrom Lua 1\nfrom a child process\nfrom Lua 2\n```", "step 1 output")
  has(read(page), "```output\nstep 2\n```", "step 2 output")
end)

T.test("--render page.html: one self-contained page through libcmark, images embedded", function()
  local path = T.tmp("page.html")
  local out, code = nnlab("--lang en --render " .. path .. " " .. FIX .. "plots.lua", "FIXTURE_OUT=" .. T.tmpdir())
  T.eq(code, 0, "exit status:\n" .. out)
  local html = read(path)
  has(html, "<!DOCTYPE html>")
  has(html, '<html lang="en">')
  has(html, "<title>Plots beside the page</title>")
  has(html, "<style>")
  has(html, "<h1>Plots beside the page</h1>")
  has(html, '<pre><code class="language-lua">')
  has(html, '<pre><code class="language-output">drew ')
  local b64 = html:match('<img src="data:image/png;base64,([^"]+)" alt="a red square"')
  T.ok(b64, "image embedded as a data: URI")
  -- the embedded bytes decode (by Python's base64) to the image file itself
  local want = T.python(string.format([[
import base64
print(base64.b64encode(open(%q, "rb").read()).decode())]], os.getenv("NNLAB_ROOT") .. "/" .. FIX .. "red4x4.png"))
  T.eq(b64, (want:gsub("%s+$", "")), "base64 of the image")
  hasnt(html, "src=\"plots/", "links to files")
end)

T.test("--render with {lang} writes a page per language from one run; convert makes HTML", function()
  local dir = T.tmp("both")
  os.execute("mkdir -p " .. dir)
  local out, code = nnlab("--render " .. dir .. "/p.{lang}.md " .. FIX .. "plots.lua", "FIXTURE_OUT=" .. T.tmpdir())
  T.eq(code, 0, "exit status:\n" .. out)
  has(out, "wrote " .. dir .. "/p.en.md, " .. dir .. "/p.es.md")
  T.eq(select(2, out:gsub("drew ", "")), 1, "the lesson ran once")
  has(read(dir .. "/p.en.md"), "A step that draws")
  has(read(dir .. "/p.es.md"), "Un paso que dibuja")
  local _, c2 = nnlab(string.format("-e 'require(\"lesson_page\").convert(%q, %q)'", dir .. "/p.es.md", dir .. "/p.es.html"))
  T.eq(c2, 0, "convert")
  local html = read(dir .. "/p.es.html")
  has(html, '<html lang="es">')
  has(html, '<img src="data:image/png;base64,')
end)

T.test("--render an unknown extension is refused before running", function()
  local out, code = nnlab("--render /tmp/x.pdf " .. FIX .. "tiny.lua")
  T.eq(code, 1, "exit status")
  has(out, "--render expects a file name ending in .md, .html or .ipynb, got '/tmp/x.pdf'")
  hasnt(out, "squares")
end)

T.test("--render without a lesson is refused", function()
  local out, code = nnlab("--render " .. T.tmp("none.md"))
  T.eq(code, 1, "exit status")
  has(out, "--render expects a lesson file to run, got none")
end)

T.test("--render writes the page up to an error and still fails", function()
  local path = T.tmp("err.md")
  local out, code = nnlab("--render " .. path .. " " .. FIX .. "error_line.lua")
  T.eq(code, 1, "exit status")
  has(out, "error_line.lua:8:")
  local md = read(path)
  T.ok(md, "partial page written")
  has(md, "error: " .. FIX .. "error_line.lua:8: attempt to index a nil value")
end)

T.test("lesson.expect: ranges, values, tables and bad arguments", function()
  local prog = [[
local r = {}
r[1] = lesson.expect("a", 0.5, {min = 0.4, max = 0.6})
r[2] = lesson.expect("b", 0.7, {min = 0.4, max = 0.6})
r[3] = lesson.expect("c", 3, {min = 1})
r[4] = lesson.expect("d", 0 / 0, {max = 1})
r[5] = lesson.expect("e", {2, 3}, {2, 3})
r[6] = lesson.expect("f", "x", "y")
r[7] = lesson.expect("g", 0.1 + 0.2, 0.3)
print(table.concat({tostring(r[1]), tostring(r[2]), tostring(r[3]), tostring(r[4]), tostring(r[5]),
  tostring(r[6]), tostring(r[7])}, " "))
print(pcall(lesson.expect, 1, 2, 3))
print(pcall(lesson.expect, "x", 2))
print(pcall(lesson.expect, "x", 2, {mni = 1}))
print(pcall(lesson.expect, "x", 2, {min = "1"}))
]]
  local path = T.tmp("expect.lua")
  local f = assert(io.open(path, "w"))
  f:write(prog)
  f:close()
  local out = nnlab("--check " .. path)
  has(out, "true false true false true false true")
  has(out, "FAIL b 0.7 (expected 0.4..0.6)")
  has(out, "PASS c 3 (expected >= 1)")
  has(out, "FAIL d nan (expected <= 1)")
  has(out, "PASS e {2, 3} (expected {2, 3})")
  has(out, 'FAIL f "x" (expected "y")')
  has(out, "expected a name (string) as argument 1, got number")
  has(out, "expected a range {min=, max=} or an expected value as argument 3, got nil")
  has(out, "unknown option 'mni' (expected min= and/or max=)")
  has(out, "min= expects a number, got string")
  has(out, "4 passed, 3 failed")
end)

T.test("_lesson: cmark and base64 against Python", function()
  local C = require "_lesson"
  T.eq(C.markdown_to_html("# Title\n\nSome *text*."), "<h1>Title</h1>\n<p>Some <em>text</em>.</p>\n")
  T.eq(C.markdown_to_html("<script>x</script>"), "<!-- raw HTML omitted -->\n", "raw HTML dropped")
  local samples = { "", "a", "ab", "abc", "abcd", "\0\255\128 nnlab" }
  local want = T.python([[
import base64
for s in [b"", b"a", b"ab", b"abc", b"abcd", b"\x00\xff\x80 nnlab"]:
    print("[" + base64.b64encode(s).decode() + "]")]])
  local got = {}
  for _, s in ipairs(samples) do got[#got + 1] = "[" .. C.base64(s) .. "]" end
  T.eq(table.concat(got, "\n") .. "\n", want)
  T.raises(function() C.base64({}) end, "string expected, got table")
end)

T.done()
