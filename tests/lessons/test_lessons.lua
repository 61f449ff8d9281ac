-- test_lessons.lua — every lesson in lessons/ passes its own expectations
-- under `nnlab --check --quick --sandbox` on the real datasets (NNLAB_DATA)
-- within the default time and memory limits, and renders
-- to a page with its plots. Skipped, with the reason, when the data is absent.
local T = require "testlib"

local BIN = os.getenv("NNLAB_BIN") or "./nnlab"

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function lessons()
  local list = {}
  local p = io.popen("ls lessons/[0-9]*.lua 2>/dev/null")
  for l in p:lines() do list[#list + 1] = l end
  p:close()
  return list
end

-- NNLAB_DATA, else the project's shared dataset folder beside the checkout.
local function has_sets(d)
  return d and exists(d .. "/mnist/train-images-idx3-ubyte.gz") and exists(d .. "/cifar-10-binary.tar.gz")
end
local dir = T.data_dir()
if not has_sets(dir) and has_sets("../shared/data") then dir = "../shared/data" end
local has_data = has_sets(dir)
local ENV = has_data and ("NNLAB_DATA='" .. dir .. "' ") or ""
local ready = type(nn.Sequential) ~= "nil" and type(metrics.confusion) ~= "nil" and type(plot.weights) ~= "nil"

T.test("the five lessons of the course are there", function()
  local names = table.concat(lessons(), " ")
  for _, n in ipairs({ "00_flatten", "01_mnist_linear", "02_cifar_hidden", "03_capacity", "04_cifar_cnn" }) do
    T.ok(names:find("lessons/" .. n .. ".lua", 1, true), n .. " missing from: " .. names)
  end
end)

T.test("every lesson has prose in Spanish and English and records expectations", function()
  for _, path in ipairs(lessons()) do
    local f = assert(io.open(path))
    local src = f:read("a")
    f:close()
    T.ok(src:find("\n%-%-%-es ") or src:find("^%-%-%-es "), path .. ": no Spanish prose")
    T.ok(src:find("\n%-%-%-en ") or src:find("^%-%-%-en "), path .. ": no English prose")
    T.ok(src:find("lesson.expect(", 1, true), path .. ": no lesson.expect")
    local _, es = src:gsub("\n%-%-%-es ", "")
    local _, en = src:gsub("\n%-%-%-en ", "")
    T.ok(math.abs(es - en) <= es // 3, path .. ": Spanish and English prose differ much in length")
  end
end)

for _, path in ipairs(lessons()) do
  local name = "nnlab --check --quick --sandbox " .. path
  if not has_data then
    T.skip(name, "the datasets are absent (set NNLAB_DATA to the folder with mnist/ and cifar-10-binary.tar.gz)")
  elseif not ready then
    T.skip(name, "nn.Sequential, metrics.confusion or plot.weights does not exist yet")
  else
    T.test(name, function()
      local t0 = os.time()
      -- (LeakSanitizer needs ptrace, which the sandbox refuses)
      local asan = os.getenv("NNLAB_ASAN") and "ASAN_OPTIONS=detect_leaks=0 " or ""
      local out, code = T.sh(ENV .. asan .. "NNLAB_PLOT=none " .. BIN .. " --check --quick --sandbox --out " ..
        T.tmp("sandbox") .. " " .. path .. " </dev/null")
      local p, f = out:match("\n(%d+) passed, (%d+) failed%s*$")
      T.ok(p, "summary line missing:\n" .. out)
      T.eq(tonumber(f), 0, "failed expectations:\n" .. out)
      T.ok(tonumber(p) > 0, "no expectation recorded")
      T.eq(code, 0, "exit status")
      print("# " .. path .. ": " .. p .. " expectations in about " .. os.difftime(os.time(), t0) .. " s")
    end)
  end
end

-- One real lesson rendered: the page holds the plots it drew, beside it.
if has_data and ready then
  T.test("lesson 00 renders to Markdown with its plots beside the page", function()
    local d = T.tmp("render")
    os.execute("mkdir -p " .. d)
    local out, code = T.sh(ENV .. string.format("%s --quick --lang en --out %s/out --render %s/p.md lessons/00_flatten.lua </dev/null",
      BIN, d, d))
    T.eq(code, 0, "exit status:\n" .. out)
    local f = assert(io.open(d .. "/p.md"))
    local md = f:read("a")
    f:close()
    local n = 0
    for link in md:gmatch("!%[[^%]]*%]%(([^)]+)%)") do
      n = n + 1
      T.ok(exists(d .. "/" .. link), "image " .. link .. " beside the page")
    end
    T.ok(n >= 2, "at least the two example grids, got " .. n .. " images")
    T.ok(md:find("flattened:", 1, true), "code output in the page")
  end)
else
  T.skip("lesson 00 renders with its plots", has_data and "nn.Sequential, metrics.confusion or plot.weights does not exist yet" or "the datasets are absent")
end

T.done()
