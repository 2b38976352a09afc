-- The helper module every config sees as the global `unitforge`.
-- `version` is set by the host when it loads this module.
local M = {}

local function is_list(t)
  if next(t) == nil then return false end
  local n = #t
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
  end
  return true
end

local function copy(value)
  if type(value) ~= "table" or getmetatable(value) ~= nil then return value end
  local out = {}
  for k, v in pairs(value) do out[k] = copy(v) end
  return out
end

local function merge_into(base, overlay)
  for k, v in pairs(overlay) do
    local current = base[k]
    if type(v) == "table" and getmetatable(v) == nil and not is_list(v)
       and type(current) == "table" and getmetatable(current) == nil and not is_list(current) then
      merge_into(current, v)
    else
      -- lists (and everything that is not a plain table) replace
      base[k] = copy(v)
    end
  end
  return base
end

--- Deep-merges tables left to right into a new table; the arguments are
--- not modified. Nested tables merge key by key; a list (a table whose
--- keys are 1..n) replaces the earlier value instead of being
--- concatenated, so an overlay's `dirs = {"runtime"}` means exactly that.
--- nil arguments are skipped.
function M.merge(...)
  local result = {}
  for i = 1, select("#", ...) do
    local t = select(i, ...)
    if t ~= nil then
      if type(t) ~= "table" then
        error(("unitforge.merge: argument %d is a %s, not a table"):format(i, type(t)), 2)
      end
      merge_into(result, t)
    end
  end
  return result
end

return M
