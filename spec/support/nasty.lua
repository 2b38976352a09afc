-- Values that break naive unit writers: whitespace, both quote kinds,
-- backslashes (one trailing), '%', '$', '#', ';', UTF-8, emptiness.
local M = {}

M.values = {
  "hello world",
  'double"quote',
  "single'quote",
  [[back\slash]],
  [[trailing\]],
  [[\\two]],
  "50% off %n",
  "$HOME and ${PATH}",
  "#not a comment",
  ";",
  "a;b",
  "ünïcødé ✓",
  "",
  "  padded  ",
  [[\n is not a newline]],
  "'",
  '"',
}

-- A config (Lua source) putting every value into an env var V<i> and, as
-- data, into argument i of the command line after `program`.
function M.config(program, extra)
  local env, args = {}, {}
  for i, v in ipairs(M.values) do
    env[#env + 1] = ("%q"):format(("V%d=%s"):format(i, v))
    args[#args + 1] = (', " ", function() return %q end'):format(v)
  end
  return ([[return {
  app_name = "nasty", release_system = "none", service_type = "exec", systemd_version = 252,
  env_vars = { %s },
  exec_start = { %q%s },
  %s
}]]):format(table.concat(env, ", "), program, table.concat(args), extra or "")
end

return M
