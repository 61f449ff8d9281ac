-- plot.lua — Lua sugar over the C plot core (_plot).
local C = require "_plot"
local M = {}
for k, v in pairs(C) do M[k] = v end
return M
