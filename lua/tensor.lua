-- tensor.lua — the public tensor module: the C binding (_tensor) as it is.
-- Everything of SPEC 3.1 is implemented in C (src/tensor/lua_tensor*.c);
-- tensor.methods is the table of Tensor methods (for help and completion).
local T = require "_tensor"
return T
