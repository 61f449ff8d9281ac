-- main.lua — what nnlab does after parsing its command line: preload the
-- modules as globals, seed the generators, run -e statements, the script
-- (through the literate lesson runner) or the lessons to check, and the REPL.
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

return function(opts)
  local grader_child = require("_grader").child()
  -- a --check child tells the parent of an os.exit before it exits
  if grader_child then os.exit = require("_grader").exit end
  for _, name in ipairs(MODULES) do
    _G[name] = require(name)
  end
  if type(tensor.seed) == "function" then tensor.seed(opts.seed) end
  for _, stat in ipairs(opts.exec) do
    local chunk, err = load(stat, "=(command line)", "t")
    if not chunk then error(err, 0) end
    run_chunk(chunk)
  end
  local status
  if opts.render and #opts.scripts == 0 then error("--render expects a lesson file to run, got none", 0) end
  if opts.check and grader_child then
    status = lesson._check_child(opts.scripts[1], opts)
  elseif opts.check then
    if #opts.scripts == 0 then error("--check expects at least one lesson file", 0) end
    status = lesson.check_files(opts.scripts, opts)
  elseif #opts.scripts > 0 then
    status = lesson.run_file(opts.scripts[1], opts, table.unpack(opts.args))
  end
  if opts.interactive or (#opts.scripts == 0 and #opts.exec == 0) then
    if opts.stdin_tty or opts.interactive then
      nnlab.repl()
    else
      status = run_stdin()
    end
  end
  return status
end
