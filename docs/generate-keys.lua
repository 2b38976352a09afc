-- Writes docs/keys.md, the reference of every key, from the option table
-- (lua/unitforge.options.lua): run `lua5.4 docs/generate-keys.lua >
-- docs/keys.md` from the repository (`make docs` does). A spec checks
-- that the committed file is what this prints, so the reference cannot
-- drift from the table.
local function read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

-- The table's host helpers, as placeholders: defaults that depend on the
-- run are described by their default_doc instead.
local host = {
  env = "<--env>", config_dir = "<config dir>",
  mix_app_name = function() error("not used here") end,
  escape_executable = function(s) return s end,
  escape_command_word = function(s) return s end,
}
local chunk = assert(load(read("lua/unitforge.options.lua"), "=unitforge.options.lua", "t"))
local options = chunk(host)

local function code(s) return "`" .. s .. "`" end

-- a ref in the table is a marker { ref = KEY }
local function ref_name(v) return type(v) == "table" and v.ref and "<" .. v.ref .. ">" end

local function shown(value)
  if type(value) == "string" then return code(("%q"):format(value)) end
  if ref_name(value) then return code(ref_name(value)) end
  if type(value) == "table" then
    if #value == 0 then return code("{}") end
    local parts, all_strings = {}, true
    for i, part in ipairs(value) do
      if ref_name(part) then parts[i] = ref_name(part)
      elseif type(part) == "string" then parts[i] = part
      else all_strings = false end
    end
    -- a part list reads as the path it makes
    return code(table.concat(parts, all_strings and "" or " "))
  end
  return code(tostring(value))
end

local function default_text(entry)
  if entry.default_doc then return entry.default_doc end
  if entry.default == nil then return "none" end
  if type(entry.default) == "function" then error("option table: " .. entry.name .. " needs a default_doc") end
  return shown(entry.default)
end

local function type_text(entry)
  local t = entry.type
  if entry.choices and entry.format == "choice" then
    local words = {}
    for i, c in ipairs(entry.choices) do words[i] = code(c) end
    t = (t == "list" and "list of " or "") .. "one of " .. table.concat(words, ", ")
  elseif entry.choices then
    local words = {}
    for i, c in ipairs(entry.choices) do words[i] = code(("%q"):format(c)) end
    t = "true, false or " .. table.concat(words, ", ")
  elseif entry.format and entry.format ~= "text" then
    t = t .. " (" .. entry.format:gsub("_", " ") .. ")"
  end
  if entry.parts then t = t .. "; part lists" end
  if entry.optional then t = t .. "; false: off" end
  return t
end

local function notes(entry)
  local out = {}
  if entry.since then out[#out + 1] = "systemd >= " .. entry.since end
  if entry.gates then
    local gated = {}
    for value, since in pairs(entry.gates) do gated[#gated + 1] = ("%s >= %d"):format(code(value), since) end
    table.sort(gated)
    out[#out + 1] = table.concat(gated, ", ")
  end
  if entry.when then
    local conditions = {}
    for k, v in pairs(entry.when) do
      conditions[#conditions + 1] = v == true and ("%s is set"):format(code(k))
        or ("%s %s %s"):format(code(k), k == "dirs" and "has" or "is", code(v))
    end
    table.sort(conditions)
    out[#out + 1] = (entry.only_when and "only " or "") .. "when " .. table.concat(conditions, " or ")
      .. (entry.only_when and " (given otherwise: an error)" or "")
  end
  if entry.strict then out[#out + 1] = "strict profile adds to it" end
  return table.concat(out, "; ")
end

local out = {
  "# Keys of a service table",
  "",
  "Generated from the option table, `lua/unitforge.options.lua`, by",
  "`docs/generate-keys.lua` (`make docs`); do not edit. Every key, in the",
  "order `unitforge show` lists them. *Type* says what a value may be (a",
  "part list is strings, numbers, `ref.KEY`, `specifier.X` and functions,",
  "joined); *Notes* say which systemd versions the key or its values need,",
  "when the key matters at all (`show` lists it only then, unless set), and",
  "what `paranoia = \"strict\"` adds. Any key's value may also be a function",
  "of `c`, the resolved config.",
}
local section
for _, entry in ipairs(options.keys) do
  if entry.section ~= section then
    section = entry.section
    out[#out + 1] = ""
    out[#out + 1] = "## " .. section
    out[#out + 1] = ""
    out[#out + 1] = "| key | type | default | what it does | notes |"
    out[#out + 1] = "|---|---|---|---|---|"
  end
  out[#out + 1] = ("| %s | %s | %s | %s | %s |"):format(code(entry.name), type_text(entry),
    default_text(entry):gsub("|", "\\|"), entry.doc:gsub("|", "\\|"), notes(entry))
end
io.write(table.concat(out, "\n"), "\n")
