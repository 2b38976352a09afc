-- Helpers visible to unit templates (built-in and user-edited ones).
local H = {}

-- has(list, value), paths(list), dir(name, version) and the escapers
-- env, cmd, word, exe and glob are provided by the host (src/render.c).

--- the elements of `list` joined by `sep` (a space by default)
function H.join(list, sep)
  return table.concat(list, sep or " ")
end

local hardening = require("unitforge.hardening")
H.strict_directives = hardening.strict_directives
H.extra_directives = hardening.extra_directives

-- From the option table (lua/unitforge.options.lua), added by the host:
-- dir_kinds (name, directive, base of each directory kind), dir_env_order
-- (the order of their environment variables) and available(c, key)
-- (whether the target systemd has the key's directive).

return H
