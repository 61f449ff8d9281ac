-- tensor.lua — Lua sugar over the C tensor core (_tensor).
local T = require "_tensor"
return T
