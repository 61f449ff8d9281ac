-- optim.lua — optimizers.
return {}
