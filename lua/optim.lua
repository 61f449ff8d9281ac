-- optim.lua — optimizers for model:compile and hand-written loops:
-- optim.sgd{lr, momentum, nesterov, weight_decay} and
-- optim.adam{lr, beta1, beta2, eps, weight_decay}, with PyTorch's update rules.
-- optimizer:step(model) applies one update from the layers' gradients;
-- optimizer.lr can be changed between epochs. The options are read and
-- checked in C (src/nn/lua_optim.c), as the layers' are.
local C = require "_optim"
return { sgd = C.sgd, adam = C.adam }
