-- nn.lua — Lua sugar over the C nn core (_nn).
local C = require "_nn"
local M = {}
for k, v in pairs(C) do M[k] = v end
return M
