-- Helpers visible to unit templates (built-in and user-edited ones).
local H = {}

-- has(list, value) and the escapers env, cmd, word and paths are
-- provided by the host (src/render.c).

--- the elements of `list` joined by `sep` (a space by default)
function H.join(list, sep)
  return table.concat(list, sep or " ")
end

local hardening = require("unitforge.hardening")
H.strict_directives = hardening.strict_directives
H.extra_directives = hardening.extra_directives

-- The directory kinds in the order their environment variables appear
-- in the unit (OPTIONS.md section 6).
H.dir_env_order = { "runtime", "configuration", "logs", "cache", "state", "tmp" }

-- The order of their Directory=/DirectoryMode= pairs, after the runtime one.
H.dir_directive_order = { "configuration", "logs", "state", "cache" }

return H
