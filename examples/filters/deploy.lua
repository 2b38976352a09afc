-- Shared filters and validation rules from lua/ops.lua.
local ops = require("ops")

return {
  app_name = "audited_app",
  dirs = { "runtime" },
  filters = { ops.header },
  hooks = { after_resolve = ops.house_rules },
}
