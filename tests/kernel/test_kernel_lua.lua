-- test_kernel_lua.lua — the Lua side of the Jupyter kernel (lua/kernel.lua)
-- without sockets: cells made to share top-level locals, statements followed
-- by an expression, errors, completion with character cursors, help for the
-- name under the cursor, is_complete, the kernel spec, and _kernel.json.
local T = require "testlib"
local kernel = require "kernel"
local K = require "_kernel"

T.test("globalise: top-level locals become globals, nested ones stay, line numbers kept", function()
  T.eq(kernel.globalise("local a, b = 1, 2\nif a then\n  local c = 3\nend"),
    "a, b = 1, 2\nif a then\n  local c = 3\nend")
  T.eq(kernel.globalise("local function f() return 1 end"), "function f() return 1 end")
  T.eq(kernel.globalise("local x\nlocal y, z"), "x = nil\ny, z = nil")
  T.eq(kernel.globalise("local k <const> = 5"), "k = 5")
  T.eq(kernel.globalise("print('local x')"), "print('local x')")
end)

T.test("execute: value, statements then an expression, nothing for a statement", function()
  local ok, bundle = kernel.execute("1 + 1", 1, false)
  T.ok(ok, "ran")
  T.eq(bundle["text/plain"], "2")
  ok, bundle = kernel.execute("local q = 4\nq * q", 2, false)
  T.eq(bundle["text/plain"], "16")
  T.eq(q, 4, "q is a global now")
  q = nil
  ok, bundle = kernel.execute("w = 1", 3, false)
  T.ok(ok and bundle == nil, "a statement shows nothing")
  w = nil
  ok, bundle = kernel.execute("1 + 1", 4, true)
  T.ok(ok and bundle == nil, "silent shows nothing")
end)

T.test("execute: tensors and confusion matrices also give text/html, their text in a <pre>", function()
  local _, bundle = kernel.execute("metrics.confusion(tensor.new({1, 2, 2}, 'int32'), tensor.new({1, 2, 1}, 'int32'), {'a<b', 'c'})", 5, false)
  T.ok(bundle["text/html"]:find("^<pre>"), bundle["text/html"])
  T.ok(bundle["text/html"]:find("a&lt;b", 1, true), "escaped")
  T.ok(bundle["text/plain"]:find("a<b", 1, true), bundle["text/plain"])
  _, bundle = kernel.execute("{1, 2}", 6, false)
  T.eq(bundle["text/html"], nil, "a table is text only")
end)

T.test("execute: errors name the cell and line; syntax errors are SyntaxError", function()
  local ok, ename, evalue, tb = kernel.execute("x = 1\nerror('boom')", 7, false)
  T.ok(not ok, "failed")
  T.eq(ename, "Error")
  T.eq(evalue, "In[7]:2: boom")
  T.eq(tb[1], evalue)
  ok, ename, evalue = kernel.execute("x = = 2", 8, false)
  T.eq(ename, "SyntaxError")
  T.ok(evalue:find("In[8]:1:", 1, true), evalue)
  ok, ename, evalue = kernel.execute("for i = 1, 2 do", 9, false)
  T.eq(ename, "SyntaxError")
  T.ok(evalue:find("<eof>", 1, true), evalue)
  x = nil
end)

T.test("complete: the REPL's candidates; positions count characters", function()
  local m, s, e = kernel.complete("y = tensor.ze", 13)
  T.eq(table.concat(m, " "), "tensor.zeros")
  T.eq(s .. ":" .. e, "4:13")
  m, s, e = kernel.complete("ñ = plot.hist", 13)
  T.eq(table.concat(m, " "), "plot.history")
  T.eq(s .. ":" .. e, "4:13")
  m = kernel.complete("x = 1 + ", 8)
  T.ok(#m > 0, "globals offered after an operator")
  T.eq(getmetatable(kernel.complete("zzz_nothing", 11)).__jsontype, "array", "an empty list stays a JSON array")
end)

T.test("inspect: help for the name under the cursor, a value's type, nil when unknown", function()
  T.ok(kernel.inspect("tensor.zeros(2)", 3):find("tensor.zeros(shape", 1, true), "tensor.zeros")
  t_for_inspect = tensor.ones(2)
  T.ok(kernel.inspect("t_for_inspect", 2):find("Tensor", 1, true), "a tensor's help")
  t_for_inspect = nil
  T.eq(kernel.inspect("no_such_name_here", 3), nil)
  T.eq(kernel.inspect("   ", 1), nil)
end)

T.test("is_complete: complete, incomplete, invalid", function()
  T.eq(kernel.is_complete("x = 1"), "complete")
  T.eq(kernel.is_complete("local a = 1\na"), "complete")
  T.eq(kernel.is_complete("function f()"), "incomplete")
  T.eq(kernel.is_complete("x = = 1"), "invalid")
end)

T.test("kernel spec: this nnlab, options given, {connection_file}", function()
  local spec = kernel.spec({ quick = true, seed = 7, lang_given = "en", threads_given = 2, plot = "svg" })
  T.eq(spec.argv[1], K.exe())
  T.eq(table.concat(spec.argv, " ", 2), "--quick --seed 7 --threads 2 --lang en --plot svg --kernel {connection_file}")
  T.eq(spec.language, "lua")
  T.eq(kernel.spec({ seed = 42 }).argv[2], "--kernel", "the default seed is not repeated")
  T.eq(kernel.spec_dir("/opt/x"), "/opt/x/share/jupyter/kernels/nnlab")
end)

T.test("_kernel.json: arrays, objects, sorted keys, and errors for what JSON cannot hold", function()
  T.eq(K.json({ b = 1, a = { 1, 2.5, "x" }, c = setmetatable({}, { __jsontype = "array" }), d = {} }),
    '{"a":[1,2.5,"x"],"b":1,"c":[],"d":{}}')
  T.eq(K.json(0 / 0), "null")
  T.raises(function() K.json({ [true] = 1 }) end, { "object key is a boolean" })
  T.raises(function() K.json({ f = print }) end, { "function value has no JSON form" })
  T.raises(function() K.json("\255") end, { "not valid UTF-8" })
  local cyc = {}
  cyc.self = cyc
  T.raises(function() K.json(cyc) end, { "deeper than 64" })
  T.eq(K.display({ ["text/plain"] = "x" }), false, "no cell runs: nothing sent")
end)

T.done()
