-- `unitforge show`: the resolved config of each service, for people
-- (text) or programs (--json). The host passes, per service, its name,
-- its main unit's exposure score ({ score, level } or nil) and its keys
-- in contract order as { name, value, origin }; functions arrive already
-- described as "<function file:line>".
local M = {}

local function specifiers(s)
  return (s:gsub("\1(%a)", "%%%1"))
end

local function text_value(v)
  if type(v) == "string" then
    return v:match("^<function .*>$") and v or ("%q"):format(specifiers(v))
  elseif type(v) == "table" then
    local parts, keys = {}, {}
    for i, item in ipairs(v) do parts[i] = text_value(item) end
    for k in pairs(v) do
      if math.type(k) ~= "integer" then keys[#keys + 1] = k end
    end
    table.sort(keys)
    for _, k in ipairs(keys) do parts[#parts + 1] = k .. " = " .. text_value(v[k]) end
    return #parts == 0 and "{}" or "{ " .. table.concat(parts, ", ") .. " }"
  end
  return tostring(v)
end

function M.text(services)
  local out = {}
  for i, service in ipairs(services) do
    if i > 1 then out[#out + 1] = "" end
    out[#out + 1] = ("# %s"):format(service.name)
    if service.exposure then
      out[#out + 1] = ("# exposure %.1f %s (systemd-analyze security)"):format(service.exposure.score,
        service.exposure.level)
    end
    local width = 0
    for _, key in ipairs(service.keys) do width = math.max(width, #key.name) end
    for _, key in ipairs(service.keys) do
      out[#out + 1] = ("%-" .. width .. "s = %s  (%s)"):format(key.name, text_value(key.value), key.origin)
    end
  end
  return table.concat(out, "\n") .. "\n"
end

-- Lists and tables are encoded by hand where lua-cjson cannot tell an
-- empty list from an empty object, and to keep the contract's key order.
local function json_value(cjson, v)
  if type(v) == "string" then return cjson.encode(specifiers(v)) end
  if type(v) ~= "table" then return v == nil and "null" or cjson.encode(v) end
  if next(v) == nil or v[1] ~= nil then
    local items = {}
    for i, item in ipairs(v) do items[i] = json_value(cjson, item) end
    return "[" .. table.concat(items, ",") .. "]"
  end
  local keys, items = {}, {}
  for k in pairs(v) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  for _, k in ipairs(keys) do items[#items + 1] = cjson.encode(k) .. ":" .. json_value(cjson, v[k]) end
  return "{" .. table.concat(items, ",") .. "}"
end

function M.json(services, cjson)
  local out = {}
  for i, service in ipairs(services) do
    local keys = {}
    for j, key in ipairs(service.keys) do
      keys[j] = ("%s:{\"value\":%s,\"origin\":%s}"):format(cjson.encode(key.name),
        json_value(cjson, key.value), cjson.encode(key.origin))
    end
    local exposure = service.exposure
      and ("{\"score\":%s,\"level\":%s}"):format(cjson.encode(service.exposure.score), cjson.encode(service.exposure.level))
      or "null"
    out[i] = ("{\"service\":%s,\"exposure\":%s,\"keys\":{%s}}"):format(cjson.encode(service.name), exposure,
      table.concat(keys, ","))
  end
  return "[" .. table.concat(out, ",") .. "]\n"
end

return M
