-- Every key a service table accepts, in the order of the reference
-- (docs/keys.md, generated from this table): the only place a key is
-- described. The host (src/keys.c) reads it once per run; the resolver
-- resolves each default exactly like a user's function of `c`, and
-- validates every final value where it stores it.
--
-- Fields of an entry:
--   name     the key
--   type     string | integer | boolean | scalar (string or number) |
--            list (of strings) | table | functions (a list of them)
--   format   what a string (or each element of a list) must look like:
--            one of the checks of src/validate.c (default "text")
--   choices  the strings allowed (format "choice"), or for a boolean the
--            words it takes besides true and false
--   since    the systemd version whose directive the key writes (older
--            targets do not get it); gates = { value = version } for
--            values that need a newer systemd than the key
--   parts    the value may be a part list (in expand_keys by default)
--   optional false means "off" (nil always does)
--   raw      written unquoted as a directive's whole value: systemd
--            strips its edges, and a final backslash joins the next line
--   when     { key = value, ... }: the key only matters while one of
--            those keys has that value (or, for a list, holds it; true:
--            is set); show lists it only then, and only then is its
--            default checked
--   only_when  a value the user gives while `when` does not hold is an
--            error (it would do nothing): the strict profile's knobs
--   made_when  like `when`: while it holds, what the key names (a
--            directory) is made; a user's ref to it otherwise warns
--   default  a value, a ref or part list (string keys), or a function of
--            `c`, like a user's; a function's second result names the
--            origin `show` reports (default otherwise)
--   strict   function(c, value): what paranoia = "strict" adds to the
--            value; `show` then names "strict" in the origin
--   section  the heading it is listed under; doc: one line about it;
--            default_doc: the default in words, where it is a function
--            or depends on the run
local host = ... -- the host's helpers: src/keys.c
local gsub, upper, lower, sub, find, format = string.gsub, string.upper, string.lower, string.sub,
  string.find, string.format
local match = string.match
local concat = table.concat
local error, ipairs = error, ipairs

local O = {}

-- ref.KEY, as a config writes it; while this table is read the keys are
-- not known yet, so a ref here is a marker { ref = KEY }, which the host
-- (src/keys.c) checks and turns into the key's index
local ref = setmetatable({}, { __index = function(_, name) return { ref = name } end })

-- The directory kinds of `dirs`, in the order of their *Directory=
-- directives; `directive` is false for tmp, which has none. The runtime
-- directory's is written whatever systemd_version says (mix_systemd
-- did); the others need 235.
O.dir_kinds = {
  { name = "runtime", base = "/run", directive = "RuntimeDirectory", since = 211 },
  { name = "configuration", base = "/etc", directive = "ConfigurationDirectory", since = 235 },
  { name = "logs", base = "/var/log", directive = "LogsDirectory", since = 235 },
  { name = "state", base = "/var/lib", directive = "StateDirectory", since = 235 },
  { name = "cache", base = "/var/cache", directive = "CacheDirectory", since = 235 },
  { name = "tmp", base = "/var/tmp", directive = false },
}

-- The order of their environment variables (RUNTIME_DIR, ...) in the unit.
O.dir_env_order = { "runtime", "configuration", "logs", "cache", "state", "tmp" }

-- The kinds whose *Directory= pairs follow the runtime one (templates
-- from an earlier `unitforge init` use this list).
O.dir_directive_order = {}
for _, kind in ipairs(O.dir_kinds) do
  if kind.directive and kind.name ~= "runtime" then O.dir_directive_order[#O.dir_directive_order + 1] = kind.name end
end

local function has(list, value)
  for _, v in ipairs(list) do if v == value then return true end end
  return false
end

local function is_none(c) return c.release_system == "none" end

-- A host path as the service sees it: under chroot, paths below
-- root_directory are relative to it (systemd resolves WorkingDirectory=
-- and Exec paths inside the root). mix_systemd kept host paths, so its
-- chrooted units could not start.
local function service_path(c, path)
  if not c.chroot then return path end
  local root = gsub(c.root_directory, "(.)/+$", "%1")
  if root == "/" then return path end
  if path == root then return "/" end
  if sub(path, 1, #root + 1) == root .. "/" then return sub(path, #root + 1) end
  return path
end

-- <current_dir>/bin/<release_name> as the first word of a command line
local function release_command(c, executable)
  local path = service_path(c, c.current_dir .. "/bin/" .. c.release_name)
  return executable and host.escape_executable(path) or host.escape_command_word(path)
end

local keys = {}
O.keys = keys
local function key(entry) keys[#keys + 1] = entry end

-- 1. Names and paths
local section = "Names and paths"
key { name = "app_name", type = "string", format = "app_name", section = section,
  doc = "the OTP application name ([a-z][a-z0-9_]*); a plain program's: a user name (mail-worker)",
  default = function() return host.mix_app_name(), "mix.exs" end,
  default_doc = "`app: :name` of the mix.exs beside the config, else required" }
key { name = "module_name", type = "string", section = section,
  doc = "the application's module name",
  default = function(c)
    return (gsub(c.app_name, "([^_]*)_?", function(piece) return upper(sub(piece, 1, 1)) .. lower(sub(piece, 2)) end))
  end,
  default_doc = "CamelCase of app_name: foo_bar -> FooBar, my_API -> MyApi" }
key { name = "release_name", type = "string", format = "relative_path", section = section,
  doc = "the release, run as <current_dir>/bin/<release_name>",
  default = ref.app_name }
key { name = "ext_name", type = "string", format = "unit_prefix", section = section,
  doc = "the name outside Erlang: files, users, units",
  default = function(c) return (gsub(c.app_name, "_", "-")) end, default_doc = "app_name with _ -> -" }
key { name = "service_name", type = "string", format = "unit_prefix", section = section,
  doc = "the unit file's base name and its Description=",
  default = ref.ext_name }
key { name = "app_user", type = "string", format = "user_name", section = section,
  doc = "User=", default = ref.ext_name }
key { name = "app_group", type = "string", format = "user_name", section = section,
  doc = "Group=", default = ref.ext_name }
key { name = "syslog_identifier", type = "string", format = "syslog_identifier", raw = true, section = section,
  doc = "SyslogIdentifier=", default = ref.service_name }
key { name = "base_dir", type = "string", format = "absolute_path", section = section,
  doc = "the folder that holds every app's deploy_dir", default = "/srv" }
key { name = "deploy_dir", type = "string", format = "absolute_path", section = section,
  doc = "the app's folder on the host",
  default = { ref.base_dir, "/", ref.ext_name } }
for _, d in ipairs({ { "releases", "the releases" }, { "scripts", "the deploy scripts" },
                     { "flags", "the flag files (restart.flag)" }, { "current", "the current release" } }) do
  local dir, what = d[1], d[2]
  local subdir = dir == "scripts" and "bin" or dir
  key { name = dir .. "_dir", type = "string", format = "absolute_path", section = section,
    doc = "the folder of " .. what,
    when = dir == "flags" and { restart_method = "systemd_flag" } or nil,
    default = { ref.deploy_dir, "/" .. subdir } }
end
key { name = "working_dir", type = "string", format = "absolute_path", raw = true, optional = true,
  section = section, doc = "WorkingDirectory=",
  default = function(c)
    if is_none(c) then return nil end -- a plain program has no release folder
    return service_path(c, c.current_dir)
  end,
  default_doc = "current_dir (inside root_directory under chroot); none for release_system = \"none\"" }
key { name = "root_directory", type = "string", format = "absolute_path", raw = true, section = section,
  when = { chroot = true }, doc = "RootDirectory= under chroot",
  default = ref.current_dir }
key { name = "output_dir", type = "string", format = "folder", section = section,
  doc = "where the unit files are written",
  default = function(c)
    if host.out then return host.out .. "/lib/systemd/system" end
    local env = c.mix_env
    return "_build/" .. ((env and env ~= "") and env or host.env) .. "/systemd/lib/systemd/system"
  end,
  default_doc = "<--out>/lib/systemd/system; without --out, _build/<mix_env or --env>/systemd/lib/systemd/system" }
key { name = "templates_dir", type = "string", format = "folder", section = section,
  doc = "per-file overrides of the built-in templates",
  default = host.config_dir .. "/rel/templates/systemd", default_doc = "rel/templates/systemd beside the config" }
-- What a release needs of its environment; a plain program gets neither
-- unless its config says so.
key { name = "mix_env", type = "string", format = "folder_name", optional = true, section = section,
  doc = "Environment=MIX_ENV=; omitted when false or \"\"",
  default = function(c) if not is_none(c) then return host.env end end,
  default_doc = "--env (prod); none for release_system = \"none\"" }
key { name = "env_lang", type = "string", optional = true, section = section,
  doc = "Environment=LANG=; omitted when false or \"\"",
  default = function(c) if not is_none(c) then return "en_US.utf8" end end,
  default_doc = "en_US.utf8; none for release_system = \"none\"" }

-- 2. Directories
section = "Directories"
local kind_names = {}
for i, kind in ipairs(O.dir_kinds) do kind_names[i] = kind.name end
key { name = "dirs", type = "list", format = "choice", choices = kind_names, section = section,
  doc = "the directories systemd makes for the service: " .. concat(kind_names, ", "), default = {},
  -- what a release writes must land where the strict profile leaves it
  -- writable: its tmp in the runtime directory, Mnesia in state, crash
  -- dumps in logs
  strict = function(c, dirs)
    if is_none(c) then return dirs end
    local out = {}
    for i, d in ipairs(dirs) do out[i] = d end
    for _, d in ipairs({ "runtime", "state", "logs" }) do
      if not has(out, d) then out[#out + 1] = d end
    end
    return out
  end }
for _, kind in ipairs(O.dir_kinds) do
  local k = kind.name
  local when = { dirs = k }
  -- the runtime-environment unit has the runtime directory too
  local written = k == "runtime" and { dirs = k, runtime_environment_service_script = true } or when
  -- what systemd makes for the kind, so a ref to its path names one
  -- that is there (tmp has no directive: nothing is made)
  local made = kind.directive and written or nil
  key { name = k .. "_directory", type = "string", format = "directory_name", when = written, section = section,
    since = kind.since,
    doc = kind.directive and (kind.directive .. "=") or "the tmp directory's name under tmp_directory_base",
    default = ref.service_name }
  key { name = k .. "_directory_base", type = "string", format = "absolute_path", when = when, section = section,
    doc = "the folder systemd makes " .. k .. "_directory in", default = kind.base }
  key { name = k .. "_directory_mode", type = "string", format = "octal_mode", when = written, section = section,
    since = kind.since,
    doc = kind.directive and (kind.directive .. "Mode=") or "the tmp directory's mode", default = "750" }
  key { name = k .. "_dir", type = "string", format = "absolute_path", when = when, made_when = made,
    section = section,
    doc = "the full path, for refs and Environment=" .. upper(k) .. "_DIR=",
    default = { ref[k .. "_directory_base"], "/", ref[k .. "_directory"] } }
end
key { name = "runtime_directory_preserve", type = "string", format = "choice", choices = { "no", "yes", "restart" },
  when = { dirs = "runtime" }, since = 235, section = section,
  doc = "RuntimeDirectoryPreserve=", default = "no" }

-- 3. Process
section = "Process"
key { name = "release_system", type = "string", format = "choice", choices = { "mix", "distillery", "none" },
  section = section, doc = "how the release is started; none: a plain program (exec_start required)",
  default = "mix" }
key { name = "service_type", type = "string", format = "choice", section = section,
  choices = { "simple", "exec", "notify", "forking", "oneshot", "notify-reload" },
  gates = { exec = 240, ["notify-reload"] = 253 },
  doc = "Type=", default = "simple" }
key { name = "start_command", type = "string", optional = true, section = section,
  doc = "the release command that starts it",
  default = function(c)
    local forking = c.service_type == "forking"
    if c.release_system == "distillery" then return forking and "start" or "foreground" end
    if is_none(c) then return nil end
    return forking and "daemon" or "start"
  end,
  default_doc = "mix: start (daemon when forking); distillery: foreground (start when forking)" }
key { name = "exec_start", type = "string", format = "command", parts = true, section = section,
  doc = "ExecStart=",
  default = function(c)
    if is_none(c) then error("required when release_system is \"none\"", 0) end
    local wrap, command = c.exec_start_wrap, c.start_command
    local line
    if wrap and wrap ~= "" then
      -- mix_systemd glued the wrapper onto the command (README: Differences from mix_systemd)
      line = gsub(wrap, " +$", "") .. " " .. release_command(c, false)
    else
      line = release_command(c, true)
    end
    if command and command ~= "" then line = line .. " " .. command end
    return line
  end,
  default_doc = "<exec_start_wrap> <current_dir>/bin/<release_name> <start_command>" }
key { name = "exec_stop", type = "string", format = "command", optional = true, parts = true, section = section,
  doc = "ExecStop=",
  default = function(c)
    if is_none(c) then return nil end
    return release_command(c, true) .. " stop"
  end,
  default_doc = "<current_dir>/bin/<release_name> stop" }
key { name = "exec_start_pre", type = "list", format = "command", parts = true, section = section,
  doc = "one ExecStartPre= each", default = {} }
key { name = "exec_start_wrap", type = "string", format = "command", optional = true, parts = true,
  section = section, doc = "a wrapper command before the release's (one space between)" }
key { name = "pid_file", type = "string", format = "absolute_path", raw = true, section = section,
  when = { service_type = "forking" }, doc = "PIDFile= and Environment=PIDFILE= (forking only)",
  default = { ref.runtime_directory_base, "/", ref.runtime_directory, "/", ref.app_name, ".pid" } }
key { name = "restart", type = "string", format = "choice", section = section,
  choices = { "no", "always", "on-success", "on-failure", "on-abnormal", "on-abort", "on-watchdog" },
  doc = "Restart=",
  -- systemd refuses Restart=always for oneshot services
  default = function(c) return c.service_type == "oneshot" and "no" or "always" end,
  default_doc = "always (no for oneshot)" }
key { name = "restart_sec", type = "scalar", format = "time_span", optional = true, raw = true, section = section,
  doc = "RestartSec= when set" }
key { name = "timeout_start_sec", type = "scalar", format = "time_span", optional = true, raw = true,
  section = section, doc = "TimeoutStartSec= when set" }
key { name = "limit_nofile", type = "scalar", format = "limit", optional = true, section = section,
  doc = "LimitNOFILE=; false omits it", default = 65535 }
key { name = "limit_core", type = "scalar", format = "limit", optional = true, section = section,
  doc = "LimitCORE= when set" }
key { name = "umask", type = "string", format = "octal_mode", section = section, doc = "UMask=",
  -- files the release creates are private to it under the strict profile
  default = function(c)
    if c.paranoia == "strict" then return "0077", "strict" end
    return "0027"
  end,
  default_doc = "\"0027\" (\"0077\" under paranoia = \"strict\")" }

-- What a release writes must land in a directory the strict profile
-- leaves writable: RELEASE_TMP (mix) or RELEASE_MUTABLE_DIR (distillery)
-- in the runtime directory, Mnesia's directory in the state directory,
-- crash dumps in the logs directory; epmd and the distribution port stay
-- on loopback unless clustering is asked for. Only names the user has
-- not set are added.
local function strict_env_vars(c, env_vars)
  if is_none(c) then return env_vars end
  local out, set = {}, {}
  for i, assignment in ipairs(env_vars) do
    out[i] = assignment
    set[match(assignment, "^([^=]*)=") or assignment] = true
  end
  local function add(name, value)
    if not set[name] then out[#out + 1] = name .. "=" .. value end
  end
  add(c.release_system == "distillery" and "RELEASE_MUTABLE_DIR" or "RELEASE_TMP", c.runtime_dir)
  add("ERL_CRASH_DUMP", c.logs_dir .. "/erl_crash.dump")
  -- erl splits ERL_ZFLAGS like a shell: the single quotes keep the double
  -- ones, which make the path an Erlang string
  if not find(c.state_dir, "['\"]") then add("ERL_ZFLAGS", format([[-mnesia dir '"%s/mnesia"']], c.state_dir)) end
  if not c.clustering then
    add("ERL_EPMD_ADDRESS", "127.0.0.1")
    add("ERL_AFLAGS", "-kernel inet_dist_use_interface {127,0,0,1}")
  end
  return out
end

key { name = "env_vars", type = "list", format = "env_assignment", parts = true, section = section,
  doc = "one Environment= each: NAME=value", default = {}, strict = strict_env_vars }
key { name = "env_files", type = "list", format = "env_file", parts = true, section = section,
  doc = "one EnvironmentFile= each; a leading - makes it optional", default = {} }
key { name = "unit_after_targets", type = "list", format = "unit_name", raw = true, section = section,
  doc = "appended to the After= line", default = {} }
key { name = "systemd_version", type = "integer", format = "version", section = section,
  doc = "the target's systemd: gates directives and values", default = 235 }

-- 4. Restart, runtime environment, security
section = "Restart, runtime environment, security"
key { name = "restart_method", type = "string", format = "choice", choices = { "systemctl", "systemd_flag", "touch" },
  section = section, doc = "systemd_flag adds units restarting the app when <flags_dir>/restart.flag changes",
  default = "systemctl" }
key { name = "runtime_environment_service_script", type = "string", format = "relative_path", optional = true,
  parts = true, section = section,
  doc = "a script under scripts_dir run by a oneshot unit before the app" }
key { name = "runtime_environment_unit_after_targets", type = "list", format = "unit_name", raw = true,
  when = { runtime_environment_service_script = true }, section = section,
  doc = "appended to the runtime-environment unit's After= line", default = {} }
key { name = "paranoia", type = "boolean", choices = { "strict" }, optional = true, section = section,
  doc = "true: mix_systemd's hardening set; \"strict\": a modern one gated on systemd_version", default = false }
key { name = "chroot", type = "boolean", optional = true, section = section,
  doc = "RootDirectory=<root_directory>", default = false }
local strict_only = { paranoia = "strict" }
key { name = "capabilities", type = "list", format = "capability", when = strict_only, only_when = true,
  section = section, doc = "CAP_* names the strict profile keeps", default = {} }
key { name = "address_families", type = "list", format = "address_family", when = strict_only, only_when = true,
  section = section, doc = "AF_* families the strict profile allows besides AF_UNIX AF_INET AF_INET6", default = {} }
key { name = "network", type = "boolean", choices = { "local" }, optional = true, when = strict_only, only_when = true,
  section = section, doc = "true, \"local\" (loopback only) or false (no network) under strict", default = true }
key { name = "memory_deny_write_execute", type = "boolean", optional = true, when = strict_only, only_when = true,
  section = section, doc = "MemoryDenyWriteExecute= under strict", default = true }
key { name = "syscall_filter", type = "list", format = "syscall_group", when = strict_only, only_when = true,
  section = section, doc = "extra SystemCallFilter= groups (~ to deny) under strict", default = {} }
key { name = "hardening_extra", type = "table", format = "directives", optional = true, raw = true,
  section = section, doc = "further directives, at every paranoia level: { Directive = value or list }" }
key { name = "clustering", type = "boolean", optional = true, when = strict_only, only_when = true,
  section = section, doc = "under strict, epmd and distribution listen beyond loopback", default = false }
for _, list in ipairs({ "read_write_paths", "read_only_paths", "inaccessible_paths" }) do
  local directive = gsub(gsub(list, "^%l", upper), "_(%l)", upper)
  key { name = list, type = "list", format = "sandbox_path", parts = true, section = section,
    doc = directive .. "=, space-joined on one line", default = {} }
end

-- 5. Expansion, filters and hooks
section = "Expansion, filters and hooks"
local part_keys = {}
for _, entry in ipairs(keys) do
  if entry.parts then part_keys[#part_keys + 1] = entry.name end
end
O.part_keys = part_keys
key { name = "expand_keys", type = "list", format = "key_name", section = section,
  doc = "the keys whose values may be part lists", default = part_keys,
  default_doc = concat(part_keys, ", ") }
key { name = "expand_keys_extra", type = "list", format = "key_name", section = section,
  doc = "appended to expand_keys", default = {} }
key { name = "filters", type = "functions", section = section,
  doc = "functions (text, unit) returning each unit's new text", default = {} }
key { name = "hooks", type = "table", format = "hooks", optional = true, section = section,
  doc = "after_resolve(c) and after_render(units, c)" }

-- Keys of older mix_systemd versions that 0.8 ignores, and what took
-- their place: a config carried over gets this instead of "unknown key".
O.obsolete = {
  distillery = 'replaced by release_system = "distillery"',
  runtime_environment_wrap = "replaced by exec_start_wrap (a command the start command follows) and "
    .. "runtime_environment_service_script (a unit that runs before the app)",
  runtime_environment_wrap_script = "replaced by exec_start_wrap",
  runtime_environment_service_after = "replaced by runtime_environment_unit_after_targets",
  runtime_environment_service = "not needed: the runtime-environment unit is made whenever "
    .. "runtime_environment_service_script is set",
}

-- The units a service is made of, in the order they are rendered: the
-- template, what is added to service_name, and when the service has the
-- unit (as a key's `when`). Templates ask has_unit(c, template).
O.units = {
  { template = "systemd.service.tmpl", suffix = ".service" },
  { template = "restart.path.tmpl", suffix = "-restart.path", when = { restart_method = "systemd_flag" } },
  { template = "restart.service.tmpl", suffix = "-restart.service", when = { restart_method = "systemd_flag" } },
  { template = "runtime-environment.service.tmpl", suffix = "-runtime-environment.service",
    when = { runtime_environment_service_script = true } },
}

-- Whether the target systemd has the directive of `key` (its `since`).
local since = {}
for _, entry in ipairs(keys) do since[entry.name] = entry.since end
function O.available(c, key)
  return c.systemd_version >= (since[key] or 0)
end

return O
