-- test_safety.lua — lessons that cannot silently go wrong: prose inside an
-- expression is an error naming its line, before anything runs; prose
-- between statements changes nothing; --render checks (and makes) the
-- page's folder before the lesson runs.
local T = require "testlib"

local BIN = os.getenv("NNLAB_BIN") or "./nnlab"

local function write(name, text)
  local path = T.tmp(name)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

T.test("prose between the fields of a table constructor is an error naming its line", function()
  local path = write("in_table.lua", table.concat({
    "---es # Prueba",
    "print('ran')",
    "local model = nn.Sequential{",
    "  nn.Flatten(),",
    "---es Una capa densa:",
    "  nn.Dense(10, 'softmax'),",
    "}",
    "print(#model.layers)",
  }, "\n"))
  local out, code = T.sh(BIN .. " " .. path)
  T.eq(code, 1, out)
  T.ok(out:find(path .. ":5: prose line inside an unfinished statement or expression", 1, true), out)
  T.ok(not out:find("ran", 1, true), "nothing ran: " .. out)
  -- the same under --check and --render
  out, code = T.sh(BIN .. " --check " .. path)
  T.ok(code == 1 and out:find(path .. ":5: prose line", 1, true), out)
  out, code = T.sh(BIN .. " --render " .. T.tmp("in_table.md") .. " " .. path)
  T.ok(code == 1 and out:find(path .. ":5: prose line", 1, true), out)
end)

T.test("prose inside a function body, an if block or a long string is an error too", function()
  local cases = {
    { "local function f()\n  local x = 1\n--- inside\n  return x\nend\nprint(f())\n", 3 },
    { "if true then\n  print(1)\n---en inside\n  print(2)\nend\n", 3 },
    { "local s = [[\nfirst\n--- not prose\nsecond]]\nprint(s)\n", 3 },
    { "local x = 1 +\n--- inside\n  2\nprint(x)\n", 2 },
  }
  for i, c in ipairs(cases) do
    local path = write("inside" .. i .. ".lua", c[1])
    local out, code = T.sh(BIN .. " " .. path)
    T.eq(code, 1, out)
    T.ok(out:find(path .. ":" .. c[2] .. ": prose line", 1, true), out)
  end
end)

T.test("prose between complete statements leaves the code as it is", function()
  local path = write("between.lua", table.concat({
    "---es # Prueba",
    "local model = nn.Sequential{ nn.Flatten(),",
    "  nn.Dense(10, 'softmax') }",
    "---es Capas:",
    "",
    "---en Layers:",
    "local n = #model.layers",
    "---",
    "print('layers', n)",
  }, "\n"))
  local out, code = T.sh(BIN .. " " .. path)
  T.eq(code, 0, out)
  T.ok(out:find("layers\t2", 1, true), out)
end)

T.test("--render into a folder that does not exist makes it; a path that cannot be is refused before the lesson runs", function()
  local lesson = write("tiny_render.lua", "---en # Tiny\nprint('lesson ran')\n")
  local page = T.tmp("no/such/folder/page.html")
  local out, code = T.sh(BIN .. " --render " .. page .. " " .. lesson)
  T.eq(code, 0, out)
  local f = io.open(page)
  T.ok(f ~= nil, "page written: " .. out)
  if f then f:close() end
  local bad = write("a_file", "x")
  out, code = T.sh(BIN .. " --render " .. bad .. "/sub/page.html " .. lesson)
  T.eq(code, 1, out)
  T.ok(out:find("--render " .. bad .. "/sub/page.html", 1, true), out)
  T.ok(not out:find("lesson ran", 1, true), "the lesson did not run: " .. out)
end)
