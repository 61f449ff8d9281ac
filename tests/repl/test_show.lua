-- test_show.lua — the REPL's Lua side (lua/repl.lua): how results print,
-- when a statement is incomplete, what Tab completes, and that an error in
-- one line leaves the next line working.
local T = require "testlib"
local repl = require "repl"

local function has(fn) return type(fn) == "function" end

-- Runs repl.feed(line) and returns what it printed and wrote to stderr.
local function feed(line)
  local out, err = {}, {}
  local saved_print, saved_stderr = print, io.stderr
  print = function(...)
    local p = table.pack(...)
    for i = 1, p.n do p[i] = tostring(p[i]) end
    out[#out + 1] = table.concat(p, "\t")
  end
  io.stderr = { write = function(self, ...) for _, s in ipairs({ ... }) do err[#err + 1] = s end return self end }
  local ok, more = pcall(repl.feed, line)
  print, io.stderr = saved_print, saved_stderr
  if not ok then error(more, 2) end
  return table.concat(out, "\n"), table.concat(err), more
end

T.test("scalars and strings print as they are", function()
  T.eq(repl.show(42), "42")
  T.eq(repl.show(1.5), "1.5")
  T.eq(repl.show("plain text"), "plain text")
  T.eq(repl.show(nil), "nil")
  T.eq(repl.show(true), "true")
end)

T.test("tables print on one line when short, array part first, keys sorted", function()
  T.eq(repl.show({ 3, 2, 1, z = 1, a = "s", [10] = true }), '{3, 2, 1, [10] = true, a = "s", z = 1}')
  T.eq(repl.show({}), "{}")
  T.eq(repl.show({ ["not ident"] = 1, ["end"] = 2 }), '{["end"] = 2, ["not ident"] = 1}')
  T.eq(repl.show({ "a\nb" }), '{"a\\nb"}')
end)

T.test("nested tables stop at depth 3", function()
  T.eq(repl.show({ { { { { 1 } } } } }), "{{{{...}}}}")
  T.eq(repl.show({ a = { b = { c = {} } } }), "{a = {b = {c = {}}}}")
end)

T.test("cycles print as <cycle>, shared tables print twice", function()
  local c = { name = "c" }
  c.me = c
  T.eq(repl.show(c), '{me = <cycle>, name = "c"}')
  local shared = { 1 }
  T.eq(repl.show({ shared, shared }), "{{1}, {1}}")
end)

T.test("long tables are cut after 30 entries", function()
  local t = {}
  for i = 1, 100 do t[i] = i end
  local s = repl.show(t)
  T.ok(s:find("30,", 1, true) and not s:find("31,", 1, true), s)
  T.ok(s:find("... (70 more)", 1, true), s)
end)

T.test("floats inside tables show 6 significant digits", function()
  T.eq(repl.show({ 2.5848811809928, 1 / 3, 1e-9, 3 }), "{2.58488, 0.333333, 1e-09, 3}")
  T.eq(repl.show(1 / 3), tostring(1 / 3))
end)

T.test("long plain lists fill their lines", function()
  local t = {}
  for i = 1, 30 do t[i] = 1000 + i end
  local s = repl.show({ loss = t })
  local lines = {}
  for l in s:gmatch("[^\n]+") do lines[#lines + 1] = l end
  T.eq(lines[1], "{")
  T.eq(lines[2], "  loss = {")
  T.eq(lines[3], "    1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012,")
  T.eq(lines[#lines - 1], "  }")
  for _, l in ipairs(lines) do T.ok(#l <= 78, l) end
end)

T.test("wide tables print one entry per line, indented", function()
  local t = { alpha = string.rep("a", 40), beta = string.rep("b", 40), inner = { x = 1 } }
  T.eq(repl.show(t), '{\n  alpha = "' .. string.rep("a", 40) .. '",\n  beta = "' ..
    string.rep("b", 40) .. '",\n  inner = {x = 1}\n}')
end)

T.test("objects with __tostring print through it, even when it fails", function()
  T.eq(repl.show(setmetatable({}, { __tostring = function() return "custom" end })), "custom")
  T.ok(repl.show(setmetatable({}, { __tostring = function() error("bad") end })):find("tostring failed", 1, true))
end)

T.test("public functions print with their signature", function()
  T.eq(repl.show(help.missing), "function: help.missing() -> list")
  T.ok(repl.show(print):find("^builtin") or repl.show(print):find("^function: 0x"), repl.show(print))
end)

T.test("a module prints the names of its functions", function()
  local text = repl.show(tensor)
  T.ok(text:find("^module tensor: "), text)
  T.ok(text:find(" zeros", 1, true) and text:find("help(tensor) documents them.", 1, true), text)
  for line in text:gmatch("[^\n]+") do T.ok(#line <= 78, "line too long: " .. line) end
end)

T.test("a model-like table prints its summary", function()
  local Model = { __index = { summary = function() return "Layer  Output  Params\nTotal 7" end } }
  local m = setmetatable({ layers = {} }, Model)
  T.eq(repl.show(m), "Layer  Output  Params\nTotal 7")
end)

local function test_if(cond, name, why, fn)
  if cond then T.test(name, fn) else T.skip(name, why) end
end

test_if(has(tensor.zeros) and has(tensor.new), "tensors print via tostring; datasets as name, sizes and classes",
  "tensor.zeros/new do not exist yet", function()
  local t = tensor.zeros(2, 3)
  T.eq(repl.show(t), tostring(t))
  local ds = { X = tensor.zeros({ 4, 2, 2 }, "uint8"), y = tensor.new({ 1, 2, 1, 2 }, "int32"),
    classes = { "cat", "dog" }, name = "pets" }
  T.eq(repl.show(ds), "dataset pets: X 4x2x2 uint8, y 4 int32, 2 classes: cat, dog")
  T.eq(repl.show({ t }), "{Tensor(2x3 float32)}")
end)

T.test("compile: expressions first, then statements", function()
  T.eq(select("#", repl.compile("1 + 1")()), 1)
  T.eq(repl.compile("1 + 1")(), 2)
  T.eq(select("#", repl.compile("local x = 1")()), 0)
end)

T.test("compile: an unfinished statement asks for more lines", function()
  for _, src in ipairs({ "for i = 1, 2 do", "x = {", "f(", "if x then", "s = [[", "return 1 +", "{1," }) do
    local chunk, err = repl.compile(src)
    T.ok(chunk == nil and err == "incomplete", src .. ": " .. tostring(err))
  end
end)

T.test("compile: a wrong line is an error at once", function()
  for _, src in ipairs({ "x = = 1", "x = 1; x", "end", ")" }) do
    local chunk, err = repl.compile(src)
    T.ok(chunk == nil and err ~= "incomplete" and err:find("^stdin:1:"), src .. ": " .. tostring(err))
  end
end)

T.test("feed prints results, continues lines and survives errors", function()
  T.eq(feed("6 * 7"), "42")
  local out, err, more = feed("for i = 1, 2 do")
  T.eq(more, true)
  T.eq(out .. err, "")
  T.eq(select(3, feed("io.write('')")), true)
  out, err, more = feed("end")
  T.eq(more, false)
  out, err = feed("error('boom')")
  T.eq(out, "")
  T.ok(err:find("stdin:1: boom", 1, true), err)
  T.eq(feed("1 + 2"), "3")
  out, err = feed("x = = 1")
  T.ok(err:find("unexpected symbol near '='", 1, true), err)
  T.eq(feed("'a', nil, 3"), "a\tnil\t3")
end)

T.test("feed shows a traceback only when it says something", function()
  local _, err = feed("function nested_failure() local y = nil; return y.field end")
  T.eq(err, "")
  _, err = feed("nested_failure()")
  T.ok(err:find("attempt to index a nil value", 1, true), err)
  T.ok(err:find("in function 'nested_failure'", 1, true), err)
  T.ok(not err:find("repl.lua", 1, true) and not err:find("xpcall", 1, true), err)
  _, err = feed("error('flat')")
  T.eq(err, "stdin:1: flat\n")
end)

T.test("reset drops a half-typed statement", function()
  T.eq(select(3, feed("if true then")), true)
  repl.reset()
  T.eq(feed("5 + 5"), "10")
end)

T.test("complete: globals, keywords, fields and methods", function()
  T.eq(table.concat(repl.complete("", "collectg"), " "), "collectgarbage")
  T.eq(table.concat(repl.complete("", "whil"), " "), "while")
  T.eq(table.concat(repl.complete("", "string.rev"), " "), "string.reverse")
  T.eq(table.concat(repl.complete("", "string.re"), " "), "string.rep string.reverse")
  T.eq(table.concat(repl.complete("", "io.stdout:wr"), " "), "io.stdout:write")
  complete_probe = "abc"
  T.eq(table.concat(repl.complete("", "complete_probe:upp"), " "), "complete_probe:upper")
  complete_probe = nil
  T.eq(#repl.complete("", "nosuch.x"), 0)
  T.eq(#repl.complete("", "1+"), 0)
end)

T.test("complete: ':' lists only functions; methods come through __index chains", function()
  local Base = { base_method = function() end }
  local Class = setmetatable({ own_method = function() end }, { __index = Base })
  complete_obj = setmetatable({ field_value = 1 }, { __index = Class })
  T.eq(table.concat(repl.complete("", "complete_obj:"), " "), "complete_obj:base_method complete_obj:own_method")
  T.eq(table.concat(repl.complete("", "complete_obj.f"), " "), "complete_obj.field_value")
  complete_obj = nil
end)

test_if(has(tensor.zeros), "complete: nnlab names (tensor.ze, t:resh)", "tensor.zeros does not exist yet", function()
  T.eq(table.concat(repl.complete("", "tensor.ze"), " "), "tensor.zeros")
  complete_t = tensor.zeros(2)
  T.eq(table.concat(repl.complete("", "complete_t:resh"), " "), "complete_t:reshape")
  T.eq(table.concat(repl.complete("", "complete_t:matm"), " "), "complete_t:matmul")
  complete_t = nil
end)

test_if(has(nn.Dense), "complete: nn.Den, and model methods without the private ones", "nn.Dense does not exist yet", function()
  T.eq(table.concat(repl.complete("", "nn.Den"), " "), "nn.Dense")
  complete_m = nn.Sequential { nn.Dense(2) }
  local all = table.concat(repl.complete("", "complete_m:"), " ")
  complete_m = nil
  T.ok(all:find("complete_m:fit", 1, true) and all:find("complete_m:predict", 1, true), all)
  T.ok(not all:find(":_", 1, true), all)
end)

T.test("complete: private names only when asked for", function()
  complete_p = { _hidden = 1, shown = 2 }
  T.eq(table.concat(repl.complete("", "complete_p."), " "), "complete_p.shown")
  T.eq(table.concat(repl.complete("", "complete_p._"), " "), "complete_p._hidden")
  complete_p = nil
end)

T.done()
