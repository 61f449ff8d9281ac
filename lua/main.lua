-- main.lua — what nnlab does after parsing its command line: preload the
-- modules as globals, seed the generators, run -e statements, the script
-- (through the literate lesson runner) or the lessons to check, and the REPL.
-- An error is shown as errors.lua words it (the user's line; every frame
-- under --traceback); with -i the REPL still opens after it, as Python's.
local errors = require "errors"
local MODULES = { "tensor", "data", "nn", "optim", "metrics", "plot", "lesson", "help" }

local function run_chunk(chunk, ...)
  return chunk(...)
end

local function run_stdin()
  local src = io.read("a")
  local chunk, err = load(src, "=stdin", "t")
  if not chunk then error(err, 0) end
  return run_chunk(chunk)
end

local function run(opts)
  for _, stat in ipairs(opts.exec) do
    local chunk, err = load(stat, "=(command line)", "t")
    if not chunk then error(err, 0) end
    run_chunk(chunk)
  end
  local status
  if opts.render and #opts.scripts == 0 then error("--render expects a lesson file to run, got none", 0) end
  if opts.check then
    if #opts.scripts == 0 then error("--check expects at least one lesson file", 0) end
    status = lesson.check_files(opts.scripts, opts)
  elseif #opts.scripts > 0 then
    status = lesson.run_file(opts.scripts[1], opts, table.unpack(opts.args))
  end
  if not opts.interactive and #opts.scripts == 0 and #opts.exec == 0 and not opts.stdin_tty then
    status = run_stdin()
  end
  return status
end

return function(opts)
  for _, name in ipairs(MODULES) do
    _G[name] = require(name)
  end
  if type(tensor.seed) == "function" then tensor.seed(opts.seed) end
  if opts.install_kernel then return require("kernel").install(opts.install_kernel, opts) end
  if opts.kernel then return require("kernel").serve(opts.kernel, opts) end
  local kept -- under -i, the script's locals at the error
  local ok, status = xpcall(run, function(e)
    if opts.interactive then kept = errors.main_locals(2) end
    local msg = errors.format(e, 2, opts.traceback) -- not a tail call: the levels count this frame
    return msg
  end, opts)
  for k, v in pairs(kept or {}) do rawset(_G, k, v) end
  if not ok then
    io.stdout:flush()
    io.stderr:write("nnlab: ", status, "\n")
    io.stderr:flush()
    status = 1
    if not opts.interactive then return status end
  end
  if opts.interactive or (#opts.scripts == 0 and #opts.exec == 0 and opts.stdin_tty) then
    nnlab.repl()
  end
  return status
end
