-- test_help.lua — help(): every public function and method of the module
-- tables and the nnlab.* metatables has documentation, lookups by name, by
-- identity and by object, and docs/api.md made from the same text.
local T = require "testlib"

local MODULES = { "tensor", "data", "nn", "optim", "metrics", "plot", "lesson", "help" }

local function has(fn) return type(fn) == "function" end

local function test_if(cond, name, why, fn)
  if cond then T.test(name, fn) else T.skip(name, why) end
end

T.test("every public function and method has help (none missing)", function()
  local missing = help.missing()
  if #missing > 0 then error("no help for: " .. table.concat(missing, ", ")) end
end)

T.test("help finds every module function by identity", function()
  local n = 0
  for _, m in ipairs(MODULES) do
    for k, f in pairs(_G[m]) do
      if type(f) == "function" and not k:match("^_") then -- "_name" is private
        n = n + 1
        local text = help.text(f)
        T.ok(not text:find("^help:"), m .. "." .. k .. ": " .. text)
      end
    end
  end
  T.ok(n >= 5, "found only " .. n .. " module functions")
end)

T.test("help finds every method of the nnlab.* metatables by identity", function()
  for name, mt in pairs(debug.getregistry()) do
    if type(name) == "string" and name:match("^nnlab%.") and type(mt) == "table"
      and type(rawget(mt, "__index")) == "table" then
      for k, f in pairs(mt.__index) do
        if type(f) == "function" and not k:match("^_") then
          T.ok(not help.text(f):find("^help:"), name .. ":" .. k)
        end
      end
    end
  end
end)

T.test("missing() reports an undocumented module function and userdata method", function()
  tensor.undocumented_probe = function() end
  tensor._private_probe = function() end
  local reg = debug.getregistry()
  reg["nnlab.ProbeType"] = { __name = "nnlab.ProbeType", __index = { probe_method = function() end } }
  local ok, missing = pcall(help.missing)
  tensor.undocumented_probe, tensor._private_probe = nil, nil
  reg["nnlab.ProbeType"] = nil
  T.ok(ok, tostring(missing))
  local set = {}
  for _, n in ipairs(missing) do set[n] = true end
  T.ok(set["tensor.undocumented_probe"], "module function not reported")
  T.ok(set["ProbeType:probe_method"], "metatable method not reported")
  T.ok(not set["tensor._private_probe"], "a private (_name) function was reported")
end)

T.test("methods behind a C-style __index function are found through its upvalues", function()
  local methods = { hidden_method = function() end }
  local reg = debug.getregistry()
  reg["nnlab.ProbeFn"] = { __name = "nnlab.ProbeFn", __index = function(_, k) return methods[k] end }
  local ok, missing = pcall(help.missing)
  reg["nnlab.ProbeFn"] = nil
  T.ok(ok, tostring(missing))
  T.ok(table.concat(missing, " "):find("ProbeFn:hidden_method", 1, true), "not found")
end)

T.test("documented module functions exist in their modules", function()
  local stale = {}
  for _, name in ipairs(help.names()) do
    local m, f = name:match("^(%l+)%.([%w_]+)$")
    local mod = m and rawget(_G, m)
    if type(mod) == "table" and next(mod) ~= nil and m ~= "nnlab" and mod[f] == nil then
      stale[#stale + 1] = name
    end
  end
  T.eq(table.concat(stale, ", "), "", "documented but absent")
end)

-- One object of each documented type that exists yet.
local function sample_objects()
  local objs = {}
  local function try(name, fn)
    local ok, v = pcall(fn)
    if ok and v ~= nil then objs[name] = v end
  end
  try("Tensor", function() return tensor.zeros(2) end)
  try("Model", function() return nn.Sequential { nn.Dense(2) } end)
  try("Loss", function() return nn.CrossEntropyLoss() end)
  try("Optimizer", function() return optim.sgd { lr = 0.1 } end)
  try("Dataset", function()
    return data.dataset { X = tensor.zeros({ 2, 2 }), y = tensor.new({ 1, 2 }, "int32"), classes = { "a", "b" } }
  end)
  try("Confusion", function()
    local y = tensor.new({ 1, 2 }, "int32")
    return metrics.confusion(y, y, { "a", "b" })
  end)
  return objs
end

T.test("documented methods exist on their objects", function()
  local objs, stale, checked = sample_objects(), {}, 0
  for _, name in ipairs(help.names()) do
    local tname, m = name:match("^(%u%w*):([%w_]+)$")
    local obj = tname and objs[tname]
    if obj ~= nil then
      checked = checked + 1
      local ok, f = pcall(function() return obj[m] end)
      if not ok or f == nil then stale[#stale + 1] = name end
    end
  end
  T.eq(table.concat(stale, ", "), "", "documented but absent")
  T.ok(checked > 0 or not has(tensor.zeros), "no object to check")
end)

T.test("looking up help leaves the seeded generator alone", function()
  tensor.seed(5)
  local a = tensor.rand(4):totable()
  tensor.seed(5)
  help.missing()
  help.text(tensor.zeros)
  local b = tensor.rand(4):totable()
  for i = 1, 4 do T.eq(b[i], a[i], "draw " .. i) end
end)

T.test("help by name prints signature, description and example", function()
  local text = help.text("tensor.zeros")
  T.ok(text:find("tensor.zeros(shape [, dtype]) -> Tensor", 1, true), text)
  T.ok(text:find("filled with 0", 1, true), text)
  T.ok(text:find("Example:\n    > tensor.zeros(2, 3)", 1, true), text)
  T.ok(help.text("Model:fit"):find("Ctrl-C", 1, true))
end)

T.test("help by identity gives the same text as by name", function()
  T.eq(help.text(help.markdown), help.text("help.markdown"))
  if has(tensor.zeros) then T.eq(help.text(tensor.zeros), help.text("tensor.zeros")) end
  T.eq(help.signature_of(help.missing), "help.missing() -> list")
  T.eq(help.signature_of(print), nil)
end)

T.test("help of a module lists its functions", function()
  local text = help.text(tensor)
  T.ok(text:find("^tensor — Tensors"), text)
  T.ok(text:find("  tensor.arange(n)", 1, true), text)
  T.ok(text:find("Tensor", 1, true))
  T.ok(help.text(help):find("help.write_markdown(path)", 1, true))
end)

T.test("help() is an overview naming every module", function()
  local text = help.text()
  for _, m in ipairs(MODULES) do T.ok(text:find("\n  " .. m .. " ", 1, true), m) end
end)

T.test("help of a type name lists its methods", function()
  local text = help.text("Tensor")
  T.ok(text:find('Methods (help("Tensor:name") documents one):', 1, true), text)
  T.ok(text:find(" reshape ", 1, true) and text:find(" matmul", 1, true), text)
  T.ok(help.text("Confusion"):find(" most_confused", 1, true))
end)

test_if(has(tensor.zeros), "help(t) for a tensor prints the Tensor type with its methods",
  "tensor.zeros does not exist yet", function()
  T.eq(help.text(tensor.zeros(2)), help.text("Tensor"))
end)

T.test("help of nnlab objects: model, layer, optimizer, confusion matrix", function()
  if has(nn.Sequential) then
    local model = nn.Sequential { nn.Dense(3) }
    T.ok(help.text(model):find(" fit ", 1, true), "model")
    T.ok(help.text(nn.Dense(3)):find("nn.Dense(units", 1, true), "layer")
  end
  if has(optim.sgd) then T.ok(help.text(optim.sgd { lr = 0.1 }):find("step", 1, true), "optimizer") end
  if has(metrics.confusion) and has(tensor.new) then
    local y = tensor.new({ 1, 2 }, "int32")
    T.ok(help.text(metrics.confusion(y, y, { "a", "b" })):find("most_confused", 1, true), "confusion")
  end
  T.ok(help.text({ X = 1, y = 2 }):find("^Dataset"), "a dataset table")
end)

T.test("help accepts Type.method for Type:method, and prints a hint as a value", function()
  T.eq(help.text("Tensor.reshape"), help.text("Tensor:reshape"))
  T.ok(tostring(help):find("help() for an overview", 1, true))
end)

T.test("help of unknown things says what it expected", function()
  T.ok(help.text("no.such"):find('no documentation for "no.such"', 1, true))
  T.ok(help.text("zeros"):find("did you mean tensor.zeros", 1, true), help.text("zeros"))
  T.ok(help.text(print):find("not part of nnlab's public API", 1, true))
  T.ok(help.text(42):find("no documentation for a number value", 1, true))
  T.ok(help.text(nil):find("no documentation for a nil value", 1, true))
end)

T.test("help(x) prints the text", function()
  local lines = {}
  local saved = print
  print = function(s) lines[#lines + 1] = s end
  local ok, err = pcall(help, "tensor.ones")
  print = saved
  T.ok(ok, tostring(err))
  T.eq(lines[1], help.text("tensor.ones"))
end)

T.test("every entry has a signature, a description and an example", function()
  local md = help.markdown()
  local parts, pos = {}, 1
  while true do
    local i = md:find("\n### ", pos, true)
    if not i then break end
    local j = md:find("\n##", i + 5, true) or #md + 1
    parts[#parts + 1] = md:sub(i + 5, j - 1)
    pos = j
  end
  for _, part in ipairs(parts) do
    local sig, body = part:match("^`([^\n]*)`\n\n(.*)$")
    T.ok(sig, "a heading without a signature: " .. part:sub(1, 60))
    T.ok(body:match("^%S[^\n]+"), sig .. ": no description")
    T.ok(body:find("```lua\n", 1, true), sig .. ": no example")
  end
  T.ok(#parts >= 120, "only " .. #parts .. " entries")
end)

T.test("write_markdown writes markdown() and names a bad path", function()
  local path = T.tmp("api.md")
  help.write_markdown(path)
  local f = assert(io.open(path))
  T.eq(f:read("a"), help.markdown())
  f:close()
  T.raises(function() help.write_markdown("/nonexistent-dir/api.md") end,
    { "help.write_markdown", "/nonexistent-dir/api.md" })
  T.raises(function() help.write_markdown(3) end, "expected a file path (string), got number")
end)

T.test("docs/api.md is the text of help.markdown()", function()
  local root = os.getenv("NNLAB_ROOT") or "."
  local f = io.open(root .. "/docs/api.md")
  T.ok(f, "docs/api.md is missing (make docs)")
  local text = f:read("a")
  f:close()
  T.ok(text == help.markdown(), "docs/api.md is out of date: run make docs")
end)

T.done()
