-- test_grader.lua — `nnlab --check` as a grader's tool, against one fixture
-- per attack (tests/lessons/fixtures/grader/): os.exit after a failed check,
-- replaced or filtered lesson.expect, printed PASS lines, no expectations,
-- an endless loop, memory hogs, a crash, Ctrl-C, shared module state, and
-- the ways out of --sandbox; then the JUnit and JSON reports.
local T = require "testlib"

local BIN = os.getenv("NNLAB_BIN") or "./nnlab"
local FIX = "tests/lessons/fixtures/"
local GF = FIX .. "grader/"
local RULE = "======== nnlab --check: results (recorded by nnlab, not printed by the lessons) ========"

-- Under `make asan`: LeakSanitizer needs ptrace, which the sandbox refuses,
-- and ASan's own SIGSEGV handler and allocator would stand between a lesson
-- and the grader's signals and limits; these runs set ASAN_OPTIONS.
local ASAN = os.getenv("NNLAB_ASAN") ~= nil
local function asan(opts) return ASAN and ("ASAN_OPTIONS=" .. opts .. " ") or "" end
local SANDBOX_ENV = asan("detect_leaks=0")
-- A time limit forever.lua runs into, and the small lessons beside it do not.
local LIMIT = ASAN and 15 or 3

-- nnlab --check with arguments (a shell string); output and exit status.
local function check(args, env)
  return T.sh((env or "") .. " NO_COLOR=1 " .. BIN .. " --plot none --check " .. args .. " </dev/null")
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

-- The closing summary (from the rule to the end) and what came before it.
local function split(out)
  local at = out:find(RULE, 1, true)
  if not at then error("no summary in:\n" .. out, 2) end
  return out:sub(1, at - 1), out:sub(at)
end

local function last_line(out) return out:match("([^\n]*)\n?$") end

-- Checks the summary's line for a file: "STATUS file (P passed, F failed, T s)"
-- and, when the lesson failed as a whole, ": " and a reason starting so.
local function verdict(summary, status, path, passed, failed, reason)
  local head = string.format("%s %s (%d passed, %d failed, ", status, path, passed, failed)
  for line in summary:gmatch("[^\n]+") do
    if line:sub(1, #head) == head then
      local why = line:sub(#head + 1):match("^%d+%.%d s%)(.*)$")
      if why == (reason and ": " .. reason or "") or (reason and why and why:sub(1, #reason + 2) == ": " .. reason) then
        return
      end
      error(string.format("summary line %q: expected reason %q", line, tostring(reason)), 2)
    end
  end
  error(string.format("no line starting %q in:\n%s", head, summary), 2)
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function exists(path) return read(path) ~= nil end

local function mkdir(path) os.execute("mkdir -p '" .. path .. "'") end

T.test("os.exit(0) after a failed check fails that lesson, by name; the batch goes on", function()
  local out, code = check(GF .. "exit_after_fail.lua " .. FIX .. "tiny.lua")
  T.eq(code, 1, "exit status:\n" .. out)
  local _, summary = split(out)
  verdict(summary, "FAIL", GF .. "exit_after_fail.lua", 0, 1, "exited early with os.exit(0)")
  has(summary, "    FAIL two and two 4 (expected 5)")
  verdict(summary, "PASS", FIX .. "tiny.lua", 2, 0)
  has(summary, "failing files (1):\n  " .. GF .. "exit_after_fail.lua\n")
  T.eq(last_line(out), "2 passed, 2 failed")
end)

T.test("replacing lesson.expect, filtering it, hiding `lesson` or the library cannot pass a failing check", function()
  for _, name in ipairs({ "replaced_expect", "filtered_expect", "shadowed_expect" }) do
    local out, code = check(GF .. name .. ".lua")
    T.eq(code, 1, name .. " exit status:\n" .. out)
    local _, summary = split(out)
    verdict(summary, "FAIL", GF .. name .. ".lua", name == "replaced_expect" and 0 or 1, 1)
    has(summary, "FAIL test accuracy 0.12 (expected >= 0.9)", name)
    T.ok(last_line(out):match(" [1-9]%d* failed$"), name .. ": " .. last_line(out))
  end
  -- the checks are judged in C: replaced library functions and metatables change nothing
  local tampered = check(GF .. "tampered_library.lua")
  local _, summary = split(tampered)
  verdict(summary, "FAIL", GF .. "tampered_library.lua", 0, 2)
  has(summary, "FAIL test accuracy 0.12 (expected >= 0.9)")
  has(summary, "FAIL a table that says it equals anything {} (expected {1, 1, 1})")
  local out = check(GF .. "reserved_name.lua")
  has(out, "'__nnlab_expect': names that start with __nnlab_ belong to nnlab's lesson runner")
  T.eq(last_line(out), "0 passed, 1 failed")
end)

T.test("a lesson cannot reopen the grader's socket to forge results", function()
  local out, code = check(GF .. "forge.lua")
  T.eq(code, 1, "exit status")
  has(out, "reopened descriptors: 0 1 2\n", "stdin, stdout and stderr only")
  local _, summary = split(out)
  verdict(summary, "FAIL", GF .. "forge.lua", 0, 0, "exited early with os.exit(0)")
  hasnt(summary, "forged")
  T.eq(last_line(out), "0 passed, 1 failed")
end)

T.test("printed PASS lines and summaries count for nothing; no expectation is a failure", function()
  local out, code = check(GF .. "own_pass.lua " .. GF .. "no_expect.lua")
  T.eq(code, 1, "exit status")
  local lessons, summary = split(out)
  has(lessons, "PASS test accuracy 0.95", "the lesson's own print is shown")
  verdict(summary, "FAIL", GF .. "own_pass.lua", 0, 0, "records no expectations")
  verdict(summary, "FAIL", GF .. "no_expect.lua", 0, 0, "records no expectations")
  T.eq(last_line(out), "0 passed, 2 failed")
end)

T.test("--timeout stops while true do end, names it, and the batch goes on", function()
  local t0 = nnlab.clock()
  local out, code = check("--timeout " .. LIMIT .. " " .. GF .. "forever.lua " .. FIX .. "tiny.lua")
  local took = nnlab.clock() - t0
  T.eq(code, 1, "exit status:\n" .. out)
  local _, summary = split(out)
  verdict(summary, "FAIL", GF .. "forever.lua", 1, 0, "timed out after " .. LIMIT .. " s")
  verdict(summary, "PASS", FIX .. "tiny.lua", 2, 0)
  T.ok(took < LIMIT + 30, "took " .. took .. " s")
  T.eq(last_line(out), "3 passed, 1 failed")
end)

T.test("--max-memory stops a Lua memory hog and a huge tensor, named", function()
  local out, code = check("--max-memory 64 --timeout 120 " .. GF .. "memory_hog.lua " .. GF .. "tensor_hog.lua",
    asan("detect_leaks=0:allocator_may_return_null=1"))
  T.eq(code, 1, "exit status:\n" .. out)
  local _, summary = split(out)
  verdict(summary, "FAIL", GF .. "memory_hog.lua", 1, 0, "ran out of memory (--max-memory 64 MB): not enough memory")
  verdict(summary, "FAIL", GF .. "tensor_hog.lua", 1, 0, "ran out of memory (--max-memory 64 MB): " .. GF ..
    "tensor_hog.lua:3: tensor.zeros: out of memory")
  -- without the limit the 4 GB tensor is allocated (lazily: never touched)
  if not ASAN then
    local free = check("--max-memory 0 " .. GF .. "tensor_hog.lua")
    has(free, "PASS allocated 1000000000", "no limit")
  end
end)

T.test("a lesson killed by a signal fails as such; the batch goes on", function()
  local out, code = check(GF .. "crash.lua " .. FIX .. "tiny.lua", asan("handle_segv=0"))
  T.eq(code, 1, "exit status:\n" .. out)
  local _, summary = split(out)
  verdict(summary, "FAIL", GF .. "crash.lua", 1, 0, "killed by SIGSEGV")
  verdict(summary, "PASS", FIX .. "tiny.lua", 2, 0)
  hasnt(out, "still here")
end)

-- Starts the batch in the background, waits until the lesson trains, sends
-- SIGINT with `signal_cmd` ($pid is the batch); output, status, seconds.
local function interrupt(signal_cmd)
  local log = T.tmp("interrupt.out")
  local script = string.format([[
%s --plot none --check %s %s >%s 2>&1 </dev/null &
pid=$!
for i in $(seq 300); do grep -q training %s && break; sleep 0.1; done
sleep 0.5
start=$(date +%%s%%N)
%s
wait $pid
echo "status=$? ms=$(( ($(date +%%s%%N) - start) / 1000000 ))"
]], BIN, GF .. "slow_fit.lua", FIX .. "tiny.lua", log, log, signal_cmd)
  local res = T.sh("bash -c '" .. script:gsub("'", "'\\''") .. "'")
  local status, ms = res:match("status=(%d+) ms=(%d+)")
  return read(log) or "", tonumber(status), tonumber(ms)
end

T.test("Ctrl-C fails the lesson as interrupted (never a pass on half a training) and stops the batch", function()
  local out, status, ms = interrupt("kill -INT $pid")
  T.eq(status, 1, "exit status:\n" .. out)
  T.ok(ms and ms < 10000, "stopped in " .. tostring(ms) .. " ms")
  local _, summary = split(out)
  verdict(summary, "FAIL", GF .. "slow_fit.lua", 0, 0, "interrupted (Ctrl-C)")
  has(summary, "NOT RUN " .. FIX .. "tiny.lua: the batch was interrupted before it")
  hasnt(out, "PASS trained")
  T.eq(last_line(out), "0 passed, 1 failed")
end)

T.test("SIGINT sent to the lesson's own process fails that lesson; the batch goes on", function()
  local out, status = interrupt("pkill -INT -P $pid")
  T.eq(status, 1, "exit status:\n" .. out)
  local _, summary = split(out)
  verdict(summary, "FAIL", GF .. "slow_fit.lua", 0, 0, "interrupted (SIGINT)")
  verdict(summary, "PASS", FIX .. "tiny.lua", 2, 0)
  hasnt(out, "PASS trained")
end)

T.test("lessons share no module state: each runs in its own process", function()
  local out, code = check(GF .. "state_a.lua " .. GF .. "state_b.lua")
  T.eq(code, 0, "exit status:\n" .. out)
  has(out, "PASS data.mnist is nnlab's own true")
  T.eq(last_line(out), "5 passed, 0 failed")
end)

T.test("the summary comes after every lesson's output: per file, failing files, the count", function()
  local out = check(FIX .. "tiny.lua " .. FIX .. "failing.lua " .. FIX .. "error_line.lua")
  local lessons, summary = split(out)
  has(lessons, "== " .. FIX .. "tiny.lua\nsquares")
  has(lessons, "== " .. FIX .. "failing.lua\nx is\t4\nFAIL two and two 4 (expected 5)")
  hasnt(summary, "squares")
  local lines = {}
  for l in summary:gmatch("[^\n]+") do lines[#lines + 1] = l end
  T.eq(lines[1], RULE)
  T.ok(lines[2]:match("^PASS " .. FIX:gsub("%p", "%%%0") .. "tiny%.lua %(2 passed, 0 failed, %d+%.%d s%)$"), lines[2])
  T.ok(lines[3]:match("^FAIL .*failing%.lua %(1 passed, 1 failed, %d+%.%d s%)$"), lines[3])
  T.eq(lines[4], "    FAIL two and two 4 (expected 5) [" .. FIX .. "failing.lua:4]")
  verdict(summary, "FAIL", FIX .. "error_line.lua", 0, 0, FIX .. "error_line.lua:8: attempt to index a nil value")
  has(summary, "failing files (2):\n  " .. FIX .. "failing.lua\n  " .. FIX .. "error_line.lua\n3 passed, 2 failed")
end)

-- ---- the sandbox ----------------------------------------------------------------

T.test("--sandbox: every way out through Lua's library fails with a clear message", function()
  local escape, out_dir = T.tmp("escape"), T.tmp("sandboxed")
  mkdir(escape .. "/home")
  os.execute("touch " .. escape .. "/keep")
  local env = string.format("%sHOME=%s/home ESCAPE_DIR=%s NNLAB_CACHE=%s NNLAB_MIRRORS=", SANDBOX_ENV, escape, escape,
    escape)
  local out, code = check("--sandbox --out " .. out_dir .. " " .. GF .. "sandbox_escapes.lua", env)
  T.eq(code, 0, "exit status:\n" .. out)
  has(out, "os.execute is not allowed under --sandbox (the lesson may not run programs)")
  has(out, "io.open: writing '" .. escape .. "/home/x' is not allowed under --sandbox (only inside " .. out_dir .. ")")
  has(out, "load: binary chunks are not allowed under --sandbox")
  has(out, "debug.setmetatable is not allowed under --sandbox")
  has(out, "package.loadlib is not allowed under --sandbox (the lesson may not load C code)")
  T.ok(last_line(out):match("^%d+ passed, 0 failed$"), last_line(out))
  local left = T.sh("ls -A " .. escape .. " " .. escape .. "/home")
  T.eq(left, escape .. ":\nhome\nkeep\n\n" .. escape .. "/home:\n", "nothing written, removed or renamed")
  -- the same lesson without the sandbox: its attempts succeed, so it fails
  local bare, bcode = check("--out " .. out_dir .. " " .. GF .. "sandbox_escapes.lua", env)
  T.eq(bcode, 1, "without --sandbox:\n" .. bare)
  T.ok(exists(escape .. "/home/x"), "without --sandbox the lesson wrote in ~")
end)

-- -e runs before the sandbox: STASH hands the lesson functions from before it,
-- standing in for a way past the Lua layer.
local STASH = [[-e 'STASH = { execute = os.execute, popen = io.popen, open = io.open, ]] ..
  [[download = require("_data").download, landlock = require("_grader").landlock_abi() }']]

T.test("--sandbox: what slips past the Lua layer meets seccomp and Landlock", function()
  local escape, out_dir, www = T.tmp("escape_os"), T.tmp("sandboxed_os"), T.tmp("www_os")
  mkdir(escape)
  mkdir(www)
  local f = assert(io.open(www .. "/served.txt", "w"))
  f:write("served\n")
  f:close()
  local pid = T.sh(string.format("%s %s/tests/data/serve.py %s %s 60 >/dev/null 2>&1 & echo $!",
    T.PY, os.getenv("NNLAB_ROOT"), www, T.tmp("port_os"))):match("%d+")
  local port
  for _ = 1, 100 do
    port = read(T.tmp("port_os"))
    if port then break end
    os.execute("sleep 0.05")
  end
  local env = string.format("%sESCAPE_DIR=%s SERVER_URL=http://127.0.0.1:%s", SANDBOX_ENV, escape, tostring(port))
  local out, code = check("--sandbox --out " .. out_dir .. " " .. STASH .. " " .. GF .. "sandbox_os.lua", env)
  os.execute("kill " .. pid .. " 2>/dev/null")
  T.ok(port, "the local HTTP server did not start")
  T.eq(code, 0, "exit status:\n" .. out)
  has(out, "PASS no program starts (seccomp refuses fork and execve) true")
  has(out, "PASS no socket for a download (seccomp) true")
  if require("_grader").landlock_abi() > 0 then
    has(out, "PASS no file created outside --out (landlock) true")
    has(out, "sandbox: seccomp, landlock v", "the layers applied, in the summary")
  else
    has(out, "sandbox: seccomp, rlimits (this kernel has no landlock)", "the layers applied, in the summary")
  end
  T.eq(T.sh("ls -A " .. escape), "", "nothing written outside --out")
end)

local PLOTS = "--sandbox: plots are drawn after the lesson by gnuplot in a jail"
if not require("_plot").find() then
  T.skip(PLOTS, "gnuplot is not installed")
elseif require("_grader").landlock_abi() == 0 then
  T.skip(PLOTS, "this kernel has no Landlock, so the grader does not draw them")
else
  T.test(PLOTS, function()
    local escape, out_dir = T.tmp("escape_plots"), T.tmp("sandboxed_plots")
    mkdir(escape)
    local out, code = T.sh(string.format("%sESCAPE_DIR=%s %s --check --sandbox --plot png --out %s %s </dev/null",
      SANDBOX_ENV, escape, BIN, out_dir, GF .. "sandbox_plots.lua"))
    T.eq(code, 0, "exit status:\n" .. out)
    local png = read(out_dir .. "/01_image.png")
    T.ok(png and png:sub(1, 8) == "\137PNG\r\n\26\n", "01_image.png drawn")
    has(out, "plot not drawn: " .. out_dir .. "/02_gnuplot.gp", "the script that writes outside --out fails")
    T.eq(T.sh("ls -A " .. escape), "", "gnuplot neither ran a program nor wrote outside --out")
  end)
end

-- ---- reports -------------------------------------------------------------------

T.test("--junit and --json: one testsuite per lesson, one testcase per check, time-outs as errors", function()
  local dir = T.tmp("reports")
  mkdir(dir)
  local junit, json = dir .. "/results.xml", dir .. "/results.json"
  local f = assert(io.open(junit, "w"))
  f:write("old contents")
  f:close()
  local out, code = check(string.format("--timeout %d --junit %s --json %s %s %s %s %s", LIMIT, junit, json,
    FIX .. "tiny.lua", FIX .. "failing.lua", GF .. "forever.lua", GF .. "no_expect.lua"))
  T.eq(code, 1, "exit status:\n" .. out)
  local got = T.python(string.format([==[
import json, xml.etree.ElementTree as ET
root = ET.parse(%q).getroot()
assert root.tag == "testsuites", root.tag
suites = root.findall("testsuite")
print("suites", len(suites), [s.get("name").split("/")[-1] for s in suites])
for s in suites:
    cases = s.findall("testcase")
    assert int(s.get("tests")) == len(cases)
    float(s.get("time"))
    for c in cases:
        float(c.get("time"))
    print(s.get("name").split("/")[-1], s.get("tests"), s.get("failures"), s.get("errors"),
          [c.get("name") for c in cases])
fail = root.find(".//testcase[@name='two and two']/failure")
print("failure:", fail.get("message"), "|", fail.text.replace("\n", "; "))
err = root.find(".//testsuite[@name='tests/lessons/fixtures/grader/forever.lua']/testcase/error")
print("timeout:", err.get("type"), err.get("message"))
out = root.find(".//testsuite[@name='tests/lessons/fixtures/tiny.lua']/system-out").text
print("system-out has the output:", "squares" in out)
print("totals", root.get("tests"), root.get("failures"), root.get("errors"))
j = json.load(open(%q))
print("json", j["passed"], j["failed"], j["status"], [l["status"] for l in j["lessons"]])
print("json failure", j["lessons"][2]["failure"]["kind"], j["lessons"][3]["failure"]["kind"])
e = j["lessons"][1]["expectations"][0]
print("json expectation", e["name"], e["ok"], e["value"], e["expected"], e["where"])
]==], junit, json))
  has(got, "suites 4 ['tiny.lua', 'failing.lua', 'forever.lua', 'no_expect.lua']")
  has(got, "tiny.lua 2 0 0 ['sum of squares', 'quick flag']")
  has(got, "failing.lua 2 1 0 ['two and two', 'in range']")
  has(got, "forever.lua 2 0 1 ['started', 'runs to its end']")
  has(got, "no_expect.lua 1 1 0 ['records at least one expectation']")
  has(got, "failure: two and two 4 (expected 5) | expected: 5; given: 4; at: " .. FIX .. "failing.lua:4")
  has(got, "timeout: timeout timed out after " .. LIMIT .. " s")
  has(got, "system-out has the output: True")
  has(got, "totals 7 2 1")
  has(got, "json 4 3 fail ['pass', 'fail', 'fail', 'fail']")
  has(got, "json failure timeout no-expectations")
  has(got, "json expectation two and two False 4 5 " .. FIX .. "failing.lua:4")
  T.eq(T.sh("ls -A " .. dir), "results.json\nresults.xml\n", "no temporary file left")
end)

T.test("a report that cannot be written is an error before any lesson runs", function()
  local out, code = check("--junit /nonexistent-dir/r.xml " .. FIX .. "tiny.lua")
  T.eq(code, 1, "exit status")
  has(out, "--junit: cannot write /nonexistent-dir/r.xml")
  hasnt(out, "squares")
end)

T.test("reports hold any bytes a lesson prints: valid UTF-8 XML and JSON", function()
  local path = T.tmp("bytes.lua")
  local f = assert(io.open(path, "w"))
  f:write('--- # Bytes\nio.write("\\0\\1\\27[31m<&>\\"\\255\\254 end\\n")\nlesson.expect("n\\1<&>", 1, 1)\n')
  f:close()
  local junit, json = T.tmp("bytes.xml"), T.tmp("bytes.json")
  local out, code = check(string.format("--junit %s --json %s %s", junit, json, path))
  T.eq(code, 0, "exit status:\n" .. out)
  local got = T.python(string.format([[
import json, xml.etree.ElementTree as ET
root = ET.parse(%q).getroot()
print(ascii(root.find(".//system-out").text))
print(ascii(json.load(open(%q, encoding="utf-8"))["lessons"][0]["stdout"]))
]], junit, json))
  has(got, "'???[31m<&>\"\\ufffd\\ufffd end\\n", "XML, control characters replaced")
  has(got, "'\\x00\\x01\\x1b[31m<&>\"\\ufffd\\ufffd end\\n", "JSON")
end)

T.done()
