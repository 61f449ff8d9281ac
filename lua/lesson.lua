-- lesson.lua — the literate lesson runner (placeholder: runs the script).
local M = { quick = false }

function M.run_file(path, opts, ...)
  M.quick = opts.quick
  local chunk, err = loadfile(path, "t")
  if not chunk then error(err, 0) end
  return chunk(...)
end

function M.check_files(paths, opts)
  error("--check: not yet built", 0)
end

return M
