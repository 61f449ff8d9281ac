-- metrics.lua — Lua sugar over the C metrics core (_metrics).
local C = require "_metrics"
local M = {}
for k, v in pairs(C) do M[k] = v end
return M
