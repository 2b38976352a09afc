-- Helpers visible to unit templates (built-in and user-edited ones).
local H = {}

--- true when `value` is an element of `list`
function H.has(list, value)
  for _, v in ipairs(list or {}) do
    if v == value then return true end
  end
  return false
end

--- the elements of `list` joined by `sep` (a space by default)
function H.join(list, sep)
  return table.concat(list, sep or " ")
end

-- The directory kinds in the order their environment variables appear
-- in the unit (OPTIONS.md section 6).
H.dir_env_order = { "runtime", "configuration", "logs", "cache", "state", "tmp" }

-- The order of their Directory=/DirectoryMode= pairs, after the runtime one.
H.dir_directive_order = { "configuration", "logs", "state", "cache" }

return H
