-- testlib.lua — the test helpers every tests/**/test_*.lua uses: named cases
-- printed as "ok - name" / "not ok - name: why", assertions, a temporary
-- folder, and a bridge to numpy (Debian's /usr/bin/python3) through .npy files.
local T = {}

local failures = 0

function T.test(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    print("ok - " .. name)
  else
    failures = failures + 1
    print("not ok - " .. name .. ": " .. tostring(err):gsub("\n", "\n    "))
  end
end

-- A case that cannot run here (a dataset is absent): said, not counted as passed.
function T.skip(name, why)
  print("skip - " .. name .. ": " .. why)
end

-- The dataset folder of NNLAB_DATA, or nil.
function T.data_dir()
  local d = os.getenv("NNLAB_DATA")
  if d and d ~= "" then return d end
  return nil
end

local function fmt(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

function T.eq(got, want, what)
  if got ~= want then
    error(string.format("%sexpected %s, got %s", what and (what .. ": ") or "", fmt(want), fmt(got)), 2)
  end
end

function T.ok(cond, what)
  if not cond then error("expected true: " .. (what or "condition"), 2) end
end

-- |got - want| <= tol (absolute) or relative to |want|.
function T.near(got, want, tol, what)
  tol = tol or 1e-5
  if type(got) ~= "number" or not (math.abs(got - want) <= tol * math.max(1, math.abs(want))) then
    error(string.format("%sexpected %s within %g, got %s", what and (what .. ": ") or "",
      tostring(want), tol, tostring(got)), 2)
  end
end

-- Calls fn, expects an error whose message contains every plain string in
-- `parts` (a string or a list); returns the message.
function T.raises(fn, parts, what)
  local ok, err = pcall(fn)
  if ok then error((what and (what .. ": ") or "") .. "expected an error, got none", 2) end
  err = tostring(err)
  if type(parts) == "string" then parts = { parts } end
  for _, p in ipairs(parts or {}) do
    if not err:find(p, 1, true) then
      error(string.format("%serror message %q does not mention %q", what and (what .. ": ") or "", err, p), 2)
    end
  end
  return err
end

local tmpdir
function T.tmpdir()
  if not tmpdir then
    local p = io.popen("mktemp -d /tmp/nnlab-test.XXXXXX")
    tmpdir = p:read("l")
    p:close()
  end
  return tmpdir
end

function T.tmp(name) return T.tmpdir() .. "/" .. name end

function T.sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok and 0 or code
end

T.PY = "/usr/bin/python3"

-- Runs a Python script (numpy imported as np) in the temporary folder and
-- returns its standard output; an error if Python fails.
function T.python(src)
  local path = T.tmp("script.py")
  local f = assert(io.open(path, "w"))
  f:write("import numpy as np\nimport os\nos.chdir(" .. string.format("%q", T.tmpdir()) .. ")\n", src)
  f:close()
  local out, code = T.sh(T.PY .. " " .. path)
  if code ~= 0 then error("python failed:\n" .. out, 2) end
  return out
end

-- Whether Debian's python3-torch can be imported (checked once).
local have_torch
function T.have_torch()
  if have_torch == nil then have_torch = select(2, T.sh(T.PY .. " -c 'import torch'")) == 0 end
  return have_torch
end

-- Runs T.test(name, fn) when python3-torch is there, else reports a skip.
function T.torch_test(name, fn)
  if T.have_torch() then T.test(name, fn) else T.skip(name, "python3-torch is not installed") end
end

function T.done()
  if tmpdir then os.execute("rm -rf " .. tmpdir) end
  os.exit(failures == 0 and 0 or 1, true)
end

return T
