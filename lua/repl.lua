-- repl.lua — evaluates one REPL line (placeholder).
local M = {}
function M.eval_line(line)
  local chunk = load("return " .. line, "=stdin") or load(line, "=stdin")
  if not chunk then print("syntax error") return end
  local r = table.pack(pcall(chunk))
  if not r[1] then print(r[2]) elseif r.n > 1 then print(table.unpack(r, 2, r.n)) end
end
return M
