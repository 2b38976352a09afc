-- A differential test of unitforge's escaping against real systemd.
--
-- The contract (README, "Values in unit files"): whatever value a user
-- gives reaches systemd exactly, or is refused with exit 1 and a message
-- naming the key, and nothing is written. For every placement a value
-- can reach (Environment=, command-line data inside and outside quotes,
-- executables made from data, directory names, WorkingDirectory=,
-- EnvironmentFile=, SyslogIdentifier=, sandbox path lists, PIDFile=,
-- PathModified=, RootDirectory=), hundreds of values go through
-- unitforge, one service per value:
--   * spec/support/nasty.lua, edge cases, a probe per special character
--     ("x<c>y", "<c>x", "x<c>") and seeded pseudo-random strings;
--   * parsed: `systemd --test` dumps what systemd read from every unit;
--   * live: a booted systemd (spec/support/container.sh) runs the units,
--     and the processes' environ, argv, cwd, exe, mounts, the directories
--     systemd created and the journal's SYSLOG_IDENTIFIER are read back.
-- Each refused value is also written by hand with the escaping systemd
-- documents (reference units, `ufr-*`); when systemd reads that back
-- exactly, the refusal was a false one.
--
-- Environment: UF_ESC_SEED (default: the time; printed, and repeated in
-- every failure), UF_ESC_COUNT (random values, default 160), UF_ESC_LIVE
-- (how many of them are also booted, default 40), UF_ESC_REPORT (a file
-- for the per-placement record of refusals, printed otherwise).
-- UF_ESC_SABOTAGE=dollar|quote|percent|unquote|tab corrupts unitforge's
-- units before both checks, to show that the spec fails when the escaping
-- is wrong. Debugging aids: UF_ESC_ONLY=env,dirs (some placements only),
-- UF_ESC_PARSE_ONLY=1 (no container), UF_ESC_KEEP=1 (keep the files).
--
-- Takes about 2.5 minutes (one `systemd --test` per placement, one boot
-- for everything).
local uf = require("uf")
local container = require("container")
local nasty = require("nasty")

local SEED = tonumber(os.getenv("UF_ESC_SEED") or "") or os.time()
-- Under valgrind (make valgrind) every run costs a second or more: fewer
-- random values, the same placements and fixed lists.
local SLOW = uf.wrapper:find("valgrind", 1, true) ~= nil
local COUNT = tonumber(os.getenv("UF_ESC_COUNT") or "") or (SLOW and 12 or 160)
local LIVE = tonumber(os.getenv("UF_ESC_LIVE") or "") or (SLOW and 4 or 40)
local SABOTAGE = os.getenv("UF_ESC_SABOTAGE")
local REPORT = os.getenv("UF_ESC_REPORT")
local ARGV_DUMP = "/usr/local/bin/argv-dump"
local RERUN = ("UF_ESC_SEED=%d UF_ESC_COUNT=%d UF_ESC_LIVE=%d"):format(SEED, COUNT, LIVE)
io.stdout:write(("real_systemd_escaping: %s\n"):format(RERUN))

local function q(s) return ("%q"):format(s) end

local work, values -- the run's temporary folder, the values under test
local notes = {} -- what systemd does beyond the value itself

-- uf.write runs `mkdir -p` for every file; thousands of units need less.
local function write(path, text)
  local f = io.open(path, "wb")
  if not f then
    uf.mkdir(path:match("^(.*)/[^/]*$"))
    f = assert(io.open(path, "wb"))
  end
  f:write(text)
  f:close()
end

local function shown(s)
  if #s > 120 then return q(s:sub(1, 120)) .. ("... (%d bytes)"):format(#s) end
  return q(s)
end

-- ---------------------------------------------------------------- values

-- splitmix64: the same values for the same seed, whatever busted does
-- with math.random.
local function prng(seed)
  local state = seed
  return function(n)
    state = state + 0x9E3779B97F4A7C15
    local z = state
    z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * 0x94D049BB133111EB
    z = z ~ (z >> 31)
    return (z >> 1) % n + 1
  end
end

local TOKENS = {
  " ", " ", " ", "\t", '"', '"', "'", "'", "\\", "\\", "\\", "$", "$", "{", "}", "%", "%", ";", ":", "#", "=",
  "/", "/", "/", ".", ".", "-", "-", "a", "b", "c", "x", "y", "z", "0", "1", "9", "_", "A", "Z",
  "é", "ü", "✓", "日", "😀", "\u{a0}", "${", "$$", "%n", "%%", "\\;", " ; ", "..", "//", "./", "\\\\",
  "\\x41", "\\n", "private", "+", "~", "@", "!", "*", "?", "[", "]", "(", ")", "&", "|", "<", ">", "`", ",",
}

local function random_value(rand)
  local r = rand(100)
  local len = r <= 5 and 0 or r <= 30 and rand(3) or r <= 70 and 3 + rand(17) or r <= 90 and 20 + rand(60)
    or 80 + rand(220)
  local t, n = {}, 0
  while n < len do
    local token = TOKENS[rand(#TOKENS)]
    t[#t + 1] = token
    n = n + #token
  end
  return table.concat(t)
end

-- One probe per character: where a placement refuses it, and whether
-- systemd would have taken it.
local PROBE_CHARS = {
  " ", "\t", '"', "'", "\\", "$", "{", "}", "%", ";", ":", "#", "=", "/", ".", "-", "+", "~", "@", "!", "*",
  "?", "[", "]", "(", ")", "&", "|", "<", ">", "`", ",", "é", "✓", "😀", "\u{a0}",
}

local EDGE = {
  "private", "private/x", "privateer", "a/private", "-", "-x", "+x", "+-x", "~", "~x", "@x", "!x", ":x",
  " lead", "trail ", "\tlead", "trail\t", "mid\ttab", "two  spaces", "a b/c d", "a:b", 'a"b', "a'b",
  "a\"b'c", [[a\b]], [[a\:b]], [[\]], [[x\]], [[x\\]], [[\\x]], [[x\\\]], [[a\"b]], [[a\'b]], [[\x41]], [[\n]],
  [[\;]], "%", "%%", "%n", "%i%", "$", "$$", "${X}", "$X", "${PATH}", "$PATH", "a$", "${", "}", ";", " ; ",
  "a;", ";a", "#", "#x", "=", "x=y", "=x", ".", "..", "a/./b", "a//b", "a/", "/a", "a/..", "...", ".a", "a.",
  ("n"):rep(255), ("n"):rep(256), ("é"):rep(128), ("abcdefghij/"):rep(380), "ü", "日本語", "😀",
  "\u{feff}x", "\u{2028}", "\u{a0}",
  -- documented refusals: control characters, newline, invalid UTF-8
  "a\nb", "a\rb", "\1n", "a\1Hb", "\27[31m", "a\127b", "a\0b", "\255", "a\195", "\237\160\128", "\192\175",
}

-- values: { s = string, origin = text, live = boolean, probe = char or nil }
local function make_values()
  local list, seen = {}, {}
  local function add(s, origin, live, probe)
    if seen[s] then return end
    seen[s] = true
    list[#list + 1] = { s = s, origin = origin, live = live, probe = probe }
  end
  for i, s in ipairs(nasty.values) do add(s, ("nasty.values[%d]"):format(i), true) end
  for i, s in ipairs(EDGE) do add(s, ("edge case %d"):format(i), true) end
  for _, c in ipairs(PROBE_CHARS) do
    add("x" .. c .. "y", ("probe x%sy"):format(c), true, c)
    add(c .. "x", ("probe %sx"):format(c), false, c)
    add("x" .. c, ("probe x%s"):format(c), false, c)
  end
  local rand = prng(SEED)
  for i = 1, COUNT do add(random_value(rand), ("random value %d of seed %d"):format(i, SEED), i <= LIVE) end
  return list
end

-- ---------------------------------------------------------------- text helpers

local function utf8_valid(s) return utf8.len(s) ~= nil end

-- Refusals the README documents: control characters other than tab,
-- newlines, NUL, invalid UTF-8.
local function documented_refusal(s)
  return s:find("[%z\1-\8\10-\31\127]") ~= nil or not utf8_valid(s)
end

-- systemd's path_simplify(): no '//', no '.' parts, no trailing '/'.
local function norm(path)
  local abs = path:sub(1, 1) == "/"
  local parts = {}
  for part in path:gmatch("[^/]+") do
    if part ~= "." then parts[#parts + 1] = part end
  end
  local s = table.concat(parts, "/")
  if abs then s = "/" .. s end
  return s == "" and (abs and "/" or ".") or s
end

local function dirname(path) return path:match("^(.*)/[^/]*$") or "/" end

local function pct(s) return (s:gsub("%%", "%%%%")) end

-- The characters of s: valid UTF-8 sequences, or single invalid bytes.
local function chars(s)
  local out, i = {}, 1
  while i <= #s do
    local b = s:byte(i)
    local n = b < 0x80 and 1 or b >= 0xF0 and 4 or b >= 0xE0 and 3 or b >= 0xC2 and 2 or 0
    local c = n > 0 and s:sub(i, i + n - 1)
    if c and #c == n and utf8.len(c) == 1 then
      out[#out + 1] = c
      i = i + n
    else
      out[#out + 1] = s:sub(i, i)
      i = i + 1
    end
  end
  return out
end

local function hex_escape(c) return ("\\x%02x"):format(c:byte()) end
local function is_raw_unsafe(c) return #c == 1 and ((c:byte() < 32 and c ~= "\t") or c:byte() >= 127) end

-- ---------------------------------------------------------------- reference escaping
-- How systemd 252 documents (and parses) each kind of value, written
-- independently of unitforge. nil: systemd cannot be given this value.
local R = {}

-- `s` in double quotes: a character in `special` as it says, '%' as
-- '%%', control characters and bytes 127 and up \x-escaped, the rest as
-- it is.
local function dquote(s, special)
  local t = { '"' }
  for _, c in ipairs(chars(s)) do
    if special[c] then t[#t + 1] = special[c]
    elseif c == "%" then t[#t + 1] = "%%"
    elseif is_raw_unsafe(c) then t[#t + 1] = hex_escape(c)
    else t[#t + 1] = c end
  end
  t[#t + 1] = '"'
  return table.concat(t)
end

-- Environment= and command-line words: extract_first_word with
-- EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE; in commands '$' is written '$$'.
function R.cquote(s, dollar)
  return dquote(s, { ["\\"] = "\\\\", ['"'] = '\\"', ["$"] = dollar and "$$" or nil })
end
function R.env(s) return R.cquote(s, false) end
function R.arg(s) return R.cquote(s, true) end

-- The executable: systemd refuses quotes, backslashes and control
-- characters in it after unquoting (string_is_safe()).
function R.exe(path)
  if path:find("[%z\1-\31\127\"'\\]") or not utf8_valid(path) then return nil end
  return '"' .. pct(path) .. '"'
end

-- Values taken whole (WorkingDirectory=, EnvironmentFile=, PIDFile=,
-- SyslogIdentifier=, ...): no unquoting, edges stripped, a final odd
-- backslash joins the next line, the line must be UTF-8.
function R.raw(s)
  if s:find("[%z\n\r]") or s:find("^[ \t]") or s:find("[ \t]$") or not utf8_valid(s) then return nil end
  if #s:match("\\*$") % 2 == 1 then return nil end
  return pct(s)
end

-- EnvironmentFile=: taken whole, then expanded as a glob pattern when
-- the service starts (safe_glob()), so '\', '*', '?' and '[' are
-- backslashed for glob(3).
function R.envfile(s) return R.raw((s:gsub("[\\*?[]", "\\%0"))) end

-- ReadWritePaths= and friends: EXTRACT_UNQUOTE only, so inside double
-- quotes a backslash takes the next character literally.
function R.path(s)
  if s:find("[%z\n\r]") or not utf8_valid(s) then return nil end
  return '"' .. (pct(s):gsub('[\\"]', "\\%0")) .. '"'
end

-- RuntimeDirectory= and friends: first EXTRACT_UNQUOTE|EXTRACT_RETAIN_ESCAPE
-- (backslashes kept), then split at ':' with EXTRACT_CUNESCAPE|
-- EXTRACT_UNESCAPE_SEPARATORS: '\:' is a colon, '\x22' a double quote.
function R.dir(s)
  return dquote(s, { ["\\"] = "\\\\", [":"] = "\\:", ['"'] = "\\x22" })
end

-- A minimal reference service with `lines` in [Service].
local function ref_service(lines, options)
  options = options or {}
  local t = { "[Service]", "Type=" .. (options.type or "exec"), "User=ufesc", "Group=ufesc", "Restart=no" }
  if not options.exec then t[#t + 1] = "ExecStart=" .. ARGV_DUMP end
  for _, line in ipairs(lines) do
    if line == false then return nil end
    t[#t + 1] = line
  end
  return table.concat(t, "\n") .. "\n"
end

-- "Directive=" .. escaped, or false when the escaper says systemd cannot.
local function line(directive, escaped) return escaped and directive .. "=" .. escaped or false end

-- ---------------------------------------------------------------- what systemd does with it

-- systemd 252's replace_env() (flags 0) and replace_env_argv(): what
-- the process gets from a parsed command line.
local function replace_env(s, env)
  local r, state, word, i = {}, "WORD", 1, 1
  while i <= #s do
    local c = s:sub(i, i)
    if state == "WORD" then
      if c == "$" then state = "CURLY" end
    elseif state == "CURLY" then
      if c == "{" then
        r[#r + 1] = s:sub(word, i - 2)
        word, state = i - 1, "VARIABLE"
      elseif c == "$" then
        r[#r + 1] = s:sub(word, i - 1)
        word, state = i + 1, "WORD"
      else
        state = "WORD"
      end
    elseif state == "VARIABLE" then
      if c == "}" then
        r[#r + 1] = env[s:sub(word + 2, i - 1)] or ""
        word, state = i + 1, "WORD"
      elseif c == ":" then
        state = "WORD"
      end
    end
    i = i + 1
  end
  r[#r + 1] = s:sub(word)
  return table.concat(r)
end

local function final_argv(argv, env)
  local out = {}
  for i, a in ipairs(argv) do
    if i > 1 and a:sub(1, 1) == "$" and a:sub(2, 2) ~= "{" and a:sub(2, 2) ~= "$" then
      for w in (env[a:sub(2)] or ""):gmatch("%S+") do out[#out + 1] = w end
    else
      out[#out + 1] = replace_env(a, env)
    end
  end
  return out
end

local function env_table(list)
  local t = {}
  for _, a in ipairs(list) do
    local k, v = a:match("^([^=]*)=(.*)$")
    if k then t[k] = v end
  end
  return t
end

local function parse_dump(text)
  local units, cur, cmd = {}, nil, nil
  for l in text:gmatch("([^\n]*)\n") do
    local name = l:match("^\t%-> Unit (.+):$")
    if name then
      cur = { fields = {}, env = {}, commands = {} }
      units[name] = cur
      cmd = nil
    elseif cur then
      local c = l:match("^\t\t%-> (Exec%a+):$")
      local argv = l:match("^\t\t\tCommand Line: (.*)$")
      local k, v = l:match("^\t\t([%w ]+): (.*)$")
      if not k then k, v = l:match("^\t\t([%w ]+):$"), "" end
      if c then
        cmd = c
        cur.commands[c] = cur.commands[c] or {}
      elseif argv and cmd then
        table.insert(cur.commands[cmd], uf.split_command_line(argv))
      elseif k then
        cur.fields[k] = cur.fields[k] or {}
        table.insert(cur.fields[k], v)
        if k == "Environment" then cur.env[#cur.env + 1] = v end
      end
    end
  end
  return units
end

local function field(u, key) return u.fields[key] and u.fields[key][#u.fields[key]] end

-- The n-th command of an Exec*= list, as the process gets it.
local function command(u, key, n)
  local list = u.commands[key]
  return list and list[n or 1] and final_argv(list[n or 1], env_table(u.env))
end

-- The n-th command's argv as systemd parsed it (before substitution).
local function parsed_command(u, key, n)
  local list = u.commands[key]
  return list and list[n or 1]
end

local function same_list(a, b)
  if type(a) ~= "table" or #a ~= #b then return false end
  for i = 1, #b do if a[i] ~= b[i] then return false end end
  return true
end

local function list_text(t)
  if type(t) ~= "table" then return tostring(t) end
  local out = {}
  for i, v in ipairs(t) do out[i] = shown(v) end
  return "{ " .. table.concat(out, ", ") .. " }"
end

local function value_text(v)
  if type(v) == "table" then return list_text(v) end
  if type(v) == "string" then return shown(v) end
  return tostring(v)
end

local function check(what, got, want)
  local ok
  if type(want) == "table" then ok = same_list(got, want) else ok = got == want end
  return { what = what, got = got, want = want, ok = ok }
end

-- ---------------------------------------------------------------- placements
--
-- Each placement: `keys` (a refusal must name one of them), `subject(v, i)`
-- (the value under test made from v, or nil), `fields(s)` (Lua source of
-- the service table's keys), `checks(u, s, dump)` on systemd's parse,
-- `ref(s)` (reference unit files: name suffix -> text, or nil), and for the
-- booted part either `batch` (many values in one unit) or `live` with
-- `setup(s, name, S)` and `live_checks(rec, s, name, G)`.

local OMIT = {}

-- Whether a path can name a file the container can hold (not "x/",
-- "x/." or "x/..": systemd simplifies those to a folder).
local function file_like(path)
  local last = path:match("([^/]*)$")
  return last ~= "" and last ~= "." and last ~= ".."
end

-- A path made from a value, in a folder of its own: values such as "a"
-- and "a/b" must not meet in the container.
local function path_in(id) return function(v, i) return ("/uf-%s/%d/%s"):format(id, i, v) end end
local function same(v) return v end
local function nonempty(v) if v ~= "" then return v end end
local function fn(s) return ("function() return %s end"):format(q(s)) end

local DIR_KINDS = {
  { key = "runtime", base = "/run", directive = "RuntimeDirectory", env = "RUNTIME_DIR" },
  { key = "state", base = "/var/lib", directive = "StateDirectory", env = "STATE_DIR" },
  { key = "cache", base = "/var/cache", directive = "CacheDirectory", env = "CACHE_DIR" },
  { key = "logs", base = "/var/log", directive = "LogsDirectory", env = "LOGS_DIR" },
  { key = "configuration", base = "/etc", directive = "ConfigurationDirectory", env = "CONFIGURATION_DIR" },
  { key = "tmp", base = "/var/tmp", env = "TMP_DIR" },
}

-- The one file a glob(3) pattern names, or a description of it when it
-- is a real pattern (an unescaped '*', '?' or '[...]').
local function glob_literal(pattern)
  if not pattern then return nil end
  local out, i = {}, 1
  while i <= #pattern do
    local c = pattern:sub(i, i)
    if c == "\\" and i < #pattern then
      i = i + 1
      out[#out + 1] = pattern:sub(i, i)
    elseif c == "*" or c == "?" or c == "\\" or (c == "[" and pattern:find("^[^/]-%]", i + 2)) then
      return "the glob pattern " .. pattern -- ('[' without its ']' is a plain character)
    else
      out[#out + 1] = c
    end
    i = i + 1
  end
  return norm(table.concat(out))
end

local function env_checks(var)
  return function(u, s) return { check("Environment " .. var, env_table(u.env)[var], s) } end
end

local function arg_placement(id, key, exec, open, close)
  return {
    id = id, keys = { key }, subject = same,
    fields = function(s)
      if key == "exec_start_pre" then
        return { exec_start_pre = ("{ { %s, %s, %s } }"):format(q(ARGV_DUMP .. " " .. open), fn(s), q(close)) }
      end
      return { [key] = ("{ %s, %s, %s }"):format(q(ARGV_DUMP .. " " .. open), fn(s), q(close)) }
    end,
    checks = function(u, s)
      return { check(exec .. " argv", command(u, exec), { ARGV_DUMP, open:gsub("[\"']", "") .. s .. close:gsub("[\"']", "") }) }
    end,
    ref = function(s)
      local word = R.arg(open:gsub("[\"']", "") .. s .. close:gsub("[\"']", ""))
      if key == "exec_start" then return ref_service({ "ExecStart=" .. ARGV_DUMP .. " " .. word }, { exec = true }) end
      local directive = key == "exec_stop" and "ExecStop" or "ExecStartPre"
      return ref_service({ directive .. "=" .. ARGV_DUMP .. " " .. word })
    end,
  }
end

local function exe_live_checks(path, cwd)
  return function(rec, s)
    return { check("exe", rec.exe, norm(path(s))), check("cwd", rec.cwd, cwd and norm(cwd(s)) or "/") }
  end
end

-- The executable <deploy_dir>/bin/app, made by `exec_start` (Lua source)
-- from ref.deploy_dir.
local function deploy_dir_exe_placement(id, exec_start)
  return {
    id = id, keys = { "exec_start", "deploy_dir" }, subject = path_in(id),
    fields = function(s) return { deploy_dir = q(s), working_dir = q("/"), exec_start = exec_start } end,
    checks = function(u, s) return { check("ExecStart argv", parsed_command(u, "ExecStart"), { s .. "/bin/app" }) } end,
    ref = function(s) return ref_service({ line("ExecStart", R.exe(s .. "/bin/app")) }, { exec = true }) end,
    live = function() return true end,
    setup = function(s, _, S) S.copies[#S.copies + 1] = norm(s .. "/bin/app") end,
    live_checks = exe_live_checks(function(s) return s .. "/bin/app" end),
  }
end

-- A sandbox path list: the config's `key`, systemd's `directive` (with
-- ProtectSystem=strict when `strict`); booted, the process's mount at the
-- path must show `want` as `mount_shows(mount)` reads it.
local function sandbox_path_placement(id, key, directive, strict, mount_shows, want)
  return {
    id = id, keys = { key }, subject = path_in(id),
    fields = function(s) return { paranoia = strict and q("strict") or nil, [key] = ("{ %s }"):format(q(s)) } end,
    checks = function(u, s) return { check(directive, field(u, directive), norm(s)) } end,
    ref = function(s)
      if strict then return ref_service({ "ProtectSystem=strict", line(directive, R.path(s)) }) end
      return ref_service({ line(directive, R.path(s)) })
    end,
    live = true,
    setup = function(s, name, S) S.dirs[#S.dirs + 1] = norm(s); S.mounts[name] = norm(s) end,
    live_checks = function(rec)
      local m = rec.mounts and rec.mounts[#rec.mounts]
      return { check("mount at the path", m and mount_shows(m) or "no mount", want) }
    end,
  }
end

-- Whether a mount is read-write or read-only.
local function mount_access(m) return m.opts:match("^r[wo]") end

local PLACEMENTS = {
  { id = "env", keys = { "env_vars" }, subject = same,
    fields = function(s) return { env_vars = ("{ %s }"):format(q("V=" .. s)) } end,
    checks = env_checks("V"),
    ref = function(s) return ref_service({ "Environment=" .. R.env("V=" .. s) }) end,
    batch = { var = "V" } },
  { id = "envfn", keys = { "env_vars" }, subject = same,
    fields = function(s) return { env_vars = ("{ { \"V=\", %s } }"):format(fn(s)) } end,
    checks = env_checks("V"),
    ref = function(s) return ref_service({ "Environment=" .. R.env("V=" .. s) }) end,
    batch = { var = "F" } },
  { id = "lang", keys = { "env_lang" }, subject = nonempty,
    fields = function(s) return { env_lang = q(s) } end,
    checks = env_checks("LANG"),
    ref = function(s) return ref_service({ "Environment=" .. R.env("LANG=" .. s) }) end },
  { id = "mixenv", keys = { "mix_env" }, subject = nonempty,
    fields = function(s) return { mix_env = q(s) } end,
    checks = env_checks("MIX_ENV"),
    ref = function(s) return ref_service({ "Environment=" .. R.env("MIX_ENV=" .. s) }) end },
  arg_placement("arg", "exec_start", "ExecStart", "", ""),
  arg_placement("argdq", "exec_start", "ExecStart", '"<', '>"'),
  arg_placement("argsq", "exec_start", "ExecStart", "'<", ">'"),
  arg_placement("pre", "exec_start_pre", "ExecStartPre", "", ""),
  arg_placement("stop", "exec_stop", "ExecStop", "", ""),
  { id = "argref", keys = { "exec_start", "deploy_dir" }, subject = path_in("argref"),
    fields = function(s)
      return { deploy_dir = q(s), working_dir = q("/"), exec_start = ("{ %s, ref.deploy_dir }"):format(q(ARGV_DUMP .. " ")) }
    end,
    checks = function(u, s) return { check("ExecStart argv", command(u, "ExecStart"), { ARGV_DUMP, s }) } end,
    ref = function(s) return ref_service({ "ExecStart=" .. ARGV_DUMP .. " " .. R.arg(s) }, { exec = true }) end,
    live = true,
    live_checks = function(rec, s) return { check("argv", rec.argv, { ARGV_DUMP, s }) } end },
  { id = "exebase", keys = { "base_dir", "deploy_dir", "current_dir", "exec_start", "exec_stop", "working_dir" },
    subject = path_in("exebase"),
    fields = function(s) return { release_system = q("mix"), exec_start = OMIT, working_dir = OMIT, base_dir = q(s) } end,
    checks = function(u, s)
      local exe = s .. "/ufesc/current/bin/ufesc"
      return {
        check("ExecStart argv", parsed_command(u, "ExecStart"), { exe, "start" }),
        check("ExecStop argv", parsed_command(u, "ExecStop"), { exe, "stop" }),
        check("WorkingDirectory", field(u, "WorkingDirectory"), norm(s .. "/ufesc/current")),
      }
    end,
    ref = function(s)
      local exe = R.exe(s .. "/ufesc/current/bin/ufesc")
      return ref_service({ line("ExecStart", exe and exe .. " start"), line("ExecStop", exe and exe .. " stop"),
        line("WorkingDirectory", R.raw(s .. "/ufesc/current")) }, { exec = true })
    end,
    live = true,
    setup = function(s, _, S)
      S.copies[#S.copies + 1] = norm(s .. "/ufesc/current/bin/ufesc")
      S.dirs[#S.dirs + 1] = norm(s .. "/ufesc/current")
    end,
    live_checks = function(rec, s, _, G)
      local exe = s .. "/ufesc/current/bin/ufesc"
      if rec.argv and rec.argv[1] ~= exe then
        G.notes[#G.notes + 1] = ("argv[0] is %s, the executable %s (systemd substitutes ${}/$$ in argv[0], not in the path)")
          :format(shown(rec.argv[1]), shown(exe))
      end
      return { check("exe", rec.exe, norm(exe)), check("cwd", rec.cwd, norm(s .. "/ufesc/current")),
        check("argv[1..]", rec.argv and { table.unpack(rec.argv, 2) }, { "start" }) }
    end },
  deploy_dir_exe_placement("exeref", '{ ref.deploy_dir, "/bin/app" }'),
  deploy_dir_exe_placement("exeq", "{ '\"', ref.deploy_dir, '/bin/app\"' }"),
  { id = "release", keys = { "release_name", "exec_start", "exec_stop" }, subject = same,
    fields = function(s, c)
      return { release_system = q("mix"), exec_start = OMIT, working_dir = OMIT, release_name = q(s),
        base_dir = q("/uf-release/" .. c.n) }
    end,
    checks = function(u, s, _, _, c)
      return { check("ExecStart argv", parsed_command(u, "ExecStart"), { ("/uf-release/%d/ufesc/current/bin/%s"):format(c.n, s), "start" }) }
    end,
    ref = function(s, c)
      local exe = R.exe(("/uf-release/%d/ufesc/current/bin/%s"):format(c.n, s))
      return ref_service({ line("ExecStart", exe and exe .. " start"), line("ExecStop", exe and exe .. " stop"),
        ("WorkingDirectory=/uf-release/%d/ufesc/current"):format(c.n) }, { exec = true })
    end,
    live = function(s) return file_like(s) end,
    setup = function(s, _, S, c)
      S.copies[#S.copies + 1] = norm(("/uf-release/%d/ufesc/current/bin/%s"):format(c.n, s))
      S.dirs[#S.dirs + 1] = ("/uf-release/%d/ufesc/current"):format(c.n)
    end,
    live_checks = function(rec, s, name, G, c)
      return exe_live_checks(function() return ("/uf-release/%d/ufesc/current/bin/%s"):format(c.n, s) end,
        function() return ("/uf-release/%d/ufesc/current"):format(c.n) end)(rec, s, name, G)
    end },
  { id = "wrap", keys = { "base_dir", "deploy_dir", "current_dir", "exec_start", "exec_stop", "working_dir" },
    subject = path_in("wrap"),
    fields = function(s)
      return { release_system = q("mix"), exec_start = OMIT, working_dir = OMIT, base_dir = q(s), exec_start_wrap = q(ARGV_DUMP) }
    end,
    checks = function(u, s)
      return { check("ExecStart argv", command(u, "ExecStart"), { ARGV_DUMP, s .. "/ufesc/current/bin/ufesc", "start" }) }
    end,
    ref = function(s)
      local stop = R.exe(s .. "/ufesc/current/bin/ufesc") -- ExecStop= is not wrapped
      return ref_service({ "ExecStart=" .. ARGV_DUMP .. " " .. R.arg(s .. "/ufesc/current/bin/ufesc") .. " start",
        line("ExecStop", stop and stop .. " stop"), line("WorkingDirectory", R.raw(s .. "/ufesc/current")) },
        { exec = true })
    end,
    live = true,
    setup = function(s, _, S) S.dirs[#S.dirs + 1] = norm(s .. "/ufesc/current") end,
    live_checks = function(rec, s)
      return { check("argv", rec.argv, { ARGV_DUMP, s .. "/ufesc/current/bin/ufesc", "start" }) }
    end },
  { id = "wd", keys = { "working_dir" }, subject = path_in("wd"),
    fields = function(s) return { working_dir = q(s) } end,
    checks = function(u, s) return { check("WorkingDirectory", field(u, "WorkingDirectory"), norm(s)) } end,
    ref = function(s) return ref_service({ line("WorkingDirectory", R.raw(s)) }) end,
    live = true,
    setup = function(s, _, S) S.dirs[#S.dirs + 1] = norm(s) end,
    live_checks = function(rec, s) return { check("cwd", rec.cwd, norm(s)) } end },
  { id = "dirs", keys = { "runtime_directory", "state_directory", "cache_directory", "logs_directory",
      "configuration_directory", "tmp_directory" },
    subject = same,
    fields = function(s)
      local t = { dirs = '{ "runtime", "state", "cache", "logs", "configuration", "tmp" }' }
      for _, k in ipairs(DIR_KINDS) do t[k.key .. "_directory"] = q(s) end
      return t
    end,
    checks = function(u, s)
      local t, env = {}, env_table(u.env)
      for _, k in ipairs(DIR_KINDS) do
        if k.directive then t[#t + 1] = check(k.directive, field(u, k.directive), s) end
        t[#t + 1] = check("Environment " .. k.env, env[k.env], k.base .. "/" .. s)
      end
      return t
    end,
    ref = function(s)
      local lines = {}
      for _, k in ipairs(DIR_KINDS) do
        if k.directive then lines[#lines + 1] = k.directive .. "=" .. R.dir(s) end
        lines[#lines + 1] = "Environment=" .. R.env(k.env .. "=" .. k.base .. "/" .. s)
      end
      return ref_service(lines)
    end,
    live = true,
    setup = function(s, _, S)
      for _, k in ipairs(DIR_KINDS) do
        if k.directive then S.stats[#S.stats + 1] = norm(k.base .. "/" .. s) end
      end
    end,
    live_checks = function(rec, s, _, G)
      local t = {}
      for _, k in ipairs(DIR_KINDS) do
        if k.directive then
          local st = G.stats[norm(k.base .. "/" .. s)]
          -- systemd leaves the owner of a configuration directory that
          -- exists alone, and a value "a/b" makes "a" as root before "a"
          -- itself may come: only the name is this spec's business there
          local owner = k.key ~= "configuration"
          t[#t + 1] = check(k.directive .. " created",
            st and st.mode .. (owner and " uid " .. st.uid or "") or "missing",
            "directory" .. (owner and " uid " .. G.uid or ""))
        end
        t[#t + 1] = check(k.env, rec.environ and rec.environ[k.env], k.base .. "/" .. s)
      end
      return t
    end },
  { id = "envfile", keys = { "env_files" }, subject = path_in("envfile"),
    fields = function(s) return { env_files = ("{ %s }"):format(q(s)) } end,
    checks = function(u, s)
      return { check("EnvironmentFile (the file its glob pattern names)", glob_literal(field(u, "EnvironmentFile")), norm(s)) }
    end,
    ref = function(s) return ref_service({ line("EnvironmentFile", R.envfile(s)) }) end,
    live = function(s) return file_like(s) end,
    setup = function(s, name, S)
      S.files[#S.files + 1] = { norm(s), "UF_ENVFILE=" .. name .. "\n" }
      -- a file only the glob pattern would also match
      local decoy = norm(s):gsub("%*", "DECOY"):gsub("%?", "Q")
      if decoy ~= norm(s) then S.files[#S.files + 1] = { decoy, "UF_DECOY=" .. name .. "\n" } end
    end,
    live_checks = function(rec, _, name)
      return { check("UF_ENVFILE", rec.environ and rec.environ.UF_ENVFILE, name),
        check("UF_DECOY (a file the path matches as a glob)", rec.environ and rec.environ.UF_DECOY, nil) }
    end },
  { id = "syslog", keys = { "syslog_identifier" }, subject = same,
    extra = { ("i"):rep(252), ("i"):rep(253), ("i"):rep(254) }, extra_live = true,
    fields = function(s) return { syslog_identifier = q(s) } end,
    checks = function() return {} end, -- not in systemd's dump: the journal shows it
    ref = function(s) return ref_service({ line("SyslogIdentifier", R.raw(s)) }) end,
    live = true,
    setup = function(_, _, S) S.journal = true end,
    live_checks = function(_, s, name, G)
      return { check("journal SYSLOG_IDENTIFIER", G.journal[name] or "no message in the journal", s) }
    end },
  sandbox_path_placement("rw", "read_write_paths", "ReadWritePaths", true, mount_access, "rw"),
  sandbox_path_placement("ro", "read_only_paths", "ReadOnlyPaths", false, mount_access, "ro"),
  sandbox_path_placement("inacc", "inaccessible_paths", "InaccessiblePaths", true,
    function(m) return m.root:match("/inaccessible/") and "inaccessible" or m.root end, "inaccessible"),
  { id = "rwpfx", keys = { "read_write_paths" },
    subject = function(v, i) return ({ "-", "+", "-+" })[i % 3 + 1] .. "/uf-rwpfx/" .. v end,
    extra = { "+-/uf-rwpfx", "--/uf-rwpfx", "++/uf-rwpfx", "-+-/uf-rwpfx" },
    fields = function(s) return { paranoia = q("strict"), read_write_paths = ("{ %s }"):format(q(s)) } end,
    checks = function(u, s)
      local prefix, path = s:match("^([-+]*)(.*)$")
      return { check("ReadWritePaths", field(u, "ReadWritePaths"), prefix .. norm(path)) }
    end,
    ref = function(s) return ref_service({ "ProtectSystem=strict", line("ReadWritePaths", R.path(s)) }) end },
  { id = "pid", keys = { "pid_file" }, subject = path_in("pid"),
    extra = { "/var/run/ufesc-pid.pid" },
    fields = function(s)
      return { service_type = q("forking"), pid_file = q(s), exec_start = q(ARGV_DUMP .. " uf-daemon") }
    end,
    checks = function(u, s)
      -- systemd rewrites /var/run/ to /run/ (a symlink to it), with a notice
      local want = norm(s):gsub("^/var/run/", "/run/")
      if want ~= norm(s) then
        notes[#notes + 1] = ("PIDFile=%s is read by systemd as %s"):format(norm(s), want)
      end
      return { check("PIDFile", field(u, "PIDFile"), want), check("Environment PIDFILE", env_table(u.env).PIDFILE, s) }
    end,
    ref = function(s)
      return ref_service({ "ExecStart=" .. ARGV_DUMP .. " uf-daemon", line("PIDFile", R.raw(s)),
        "Environment=" .. R.env("PIDFILE=" .. s) }, { type = "forking", exec = true })
    end,
    live = function(s) return file_like(s) end,
    setup = function(s, _, S) S.open_dirs[#S.open_dirs + 1] = dirname(norm(s)); S.reads[#S.reads + 1] = norm(s) end,
    live_checks = function(rec, s, _, G)
      return { check("PIDFILE", rec.environ and rec.environ.PIDFILE, s),
        check("pid file names the main process", G.reads[norm(s)] or "no pid file", rec.pid .. "\n") }
    end },
  { id = "flags", keys = { "flags_dir" }, subject = path_in("flags"),
    fields = function(s) return { restart_method = q("systemd_flag"), flags_dir = q(s) } end,
    checks = function(_, s, dump, name)
      local path = dump[name .. "-restart.path"]
      return { check("PathModified", path and field(path, "PathModified"), norm(s .. "/restart.flag")) }
    end,
    ref = function(s)
      local flag = R.raw(s .. "/restart.flag")
      return flag and { [".service"] = ref_service({}),
        ["-restart.path"] = "[Path]\nPathModified=" .. flag .. "\n" }
    end },
  { id = "rtenv", keys = { "runtime_environment_service_script", "scripts_dir" }, subject = same,
    fields = function(s) return { runtime_environment_service_script = q(s) } end,
    checks = function(_, s, dump, name)
      local u = dump[name .. "-runtime-environment.service"]
      return { check("runtime-environment ExecStart argv", u and parsed_command(u, "ExecStart"), { "/srv/ufesc/bin/" .. s }) }
    end,
    ref = function(s)
      local exe = R.exe("/srv/ufesc/bin/" .. s)
      return exe and { [".service"] = ref_service({}),
        ["-runtime-environment.service"] = ref_service({ "ExecStart=" .. exe }, { type = "oneshot", exec = true }) }
    end },
  { id = "root", keys = { "root_directory" }, subject = path_in("root"),
    fields = function(s) return { chroot = "true", root_directory = q(s) } end,
    checks = function(u, s) return { check("RootDirectory", field(u, "RootDirectory"), norm(s)) } end,
    ref = function(s) return ref_service({ line("RootDirectory", R.raw(s)) }) end },
}

-- ---------------------------------------------------------------- running unitforge

local COMMON = {
  app_name = q("ufesc"), app_user = q("ufesc"), app_group = q("ufesc"), systemd_version = "252",
  env_lang = "false", mix_env = q(""), restart = q("no"), release_system = q("none"),
  exec_start = q(ARGV_DUMP), service_type = q("exec"), working_dir = q("/"),
}

local function service_source(name, fields)
  local t = {}
  for k, v in pairs(COMMON) do t[k] = v end
  for k, v in pairs(fields) do t[k] = v ~= OMIT and v or nil end
  t.service_name = q(name)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. " = " .. t[k] end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

local function files_under(dir)
  local t = {}
  for path in uf.capture("find " .. uf.quote(dir) .. " -type f 2>/dev/null"):gmatch("[^\n]+") do t[#t + 1] = path end
  return t
end

local function run_in(dir)
  uf.sh(("cd %s && %s %s deploy.lua --out out >stdout 2>stderr </dev/null; echo $? >code"):format(
    uf.quote(dir), uf.wrapper, uf.quote(uf.bin)))
  return tonumber(uf.read(dir .. "/code")), uf.read(dir .. "/stderr") or ""
end

-- Generates one service per case (a list of services, then each refused
-- one on its own); fills case.state ("accepted", "refused" or "bad"),
-- case.stderr, case.files (unit name suffix -> path).
local function generate(pl, cases, pwork)
  local singles, batches = {}, 0
  -- a list of services in one run; a failure that names services[N]
  -- sets those aside, one that names none is bisected
  local function attempt(list)
    if #list == 0 then return end
    batches = batches + 1
    local dir = ("%s/batch-%d"):format(pwork, batches)
    local sources = {}
    for k, c in ipairs(list) do sources[k] = service_source(c.name, pl.fields(c.s, c)) end
    write(dir .. "/deploy.lua", "return {\n" .. table.concat(sources, ",\n") .. "\n}\n")
    local code, stderr = run_in(dir)
    if code == 0 then
      local by_name = {}
      for _, c in ipairs(list) do
        c.state = "accepted"
        c.files = {}
        by_name[c.name] = c
      end
      for _, path in ipairs(files_under(dir .. "/out")) do
        local file = path:match("[^/]+$")
        for _, suffix in ipairs({ ".service", "-restart.path", "-restart.service", "-runtime-environment.service" }) do
          local c = file:sub(-#suffix) == suffix and by_name[file:sub(1, -#suffix - 1)]
          if c then c.files[suffix] = path end
        end
      end
      return
    end
    local named, rest = {}, {}
    for k in stderr:gmatch("services%[(%d+)%]") do named[tonumber(k)] = true end
    for k, c in ipairs(list) do
      if named[k] then singles[#singles + 1] = c else rest[#rest + 1] = c end
    end
    if #rest < #list then
      attempt(rest)
    elseif #list == 1 then
      singles[#singles + 1] = list[1]
    else
      local half = #list // 2
      attempt({ table.unpack(list, 1, half) })
      attempt({ table.unpack(list, half + 1) })
    end
  end
  attempt(cases)
  -- the refused ones, each alone, in one shell
  local script, dirs = {}, {}
  for _, c in ipairs(singles) do
    c.dir = pwork .. "/single/" .. c.name
    dirs[#dirs + 1] = c.dir
  end
  if #dirs > 0 then
    write(pwork .. "/dirs", table.concat(dirs, "\0") .. "\0")
    uf.sh("xargs -0 mkdir -p <" .. uf.quote(pwork .. "/dirs"))
  end
  for _, c in ipairs(singles) do
    write(c.dir .. "/deploy.lua", "return " .. service_source(c.name, pl.fields(c.s, c)) .. "\n")
    script[#script + 1] = ("cd %s && %s %s deploy.lua --out out >stdout 2>stderr </dev/null; echo $? >code; "
      .. "find \"$PWD/out\" -type f >files 2>/dev/null"):format(uf.quote(c.dir), uf.wrapper, uf.quote(uf.bin))
  end
  if #script > 0 then
    uf.write(pwork .. "/singles.sh", table.concat(script, "\n") .. "\n")
    uf.sh("sh " .. uf.quote(pwork .. "/singles.sh"))
  end
  for _, c in ipairs(singles) do
    local code = tonumber(uf.read(c.dir .. "/code"))
    c.stderr = uf.read(c.dir .. "/stderr") or ""
    local written = {}
    for path in (uf.read(c.dir .. "/files") or ""):gmatch("[^\n]+") do written[#written + 1] = path end
    if code == 0 then
      c.state = "accepted"
      for _, path in ipairs(written) do
        local file = path:match("[^/]+$")
        c.files = c.files or {}
        c.files[file:sub(#c.name + 1)] = path
      end
    else
      local named = false
      for _, key in ipairs(pl.keys) do
        if c.stderr:find("[%s%.]" .. key:gsub("%p", "%%%0") .. "[%[:]") then named = true end
      end
      if code == 1 and named and #written == 0 then
        c.state = "refused"
        c.reason = (c.stderr:match("[^\n]*"):gsub("^unitforge: [^:]*: ", ""):gsub(", got .*$", ""))
      else
        c.state = "bad"
        c.problem = ("exit %s, %s, %d file(s) written: %s"):format(tostring(code),
          named and "names the key" or "does not name " .. table.concat(pl.keys, "/"), #written, c.stderr)
      end
    end
  end
end

-- Deliberately wrong escaping, applied to unitforge's units when
-- UF_ESC_SABOTAGE is set, to show that the checks catch it.
local SABOTAGES = {
  dollar = function(l) return l:match("^Exec") and (l:gsub("%$%$", "$")) or l end,
  quote = function(l) return (l:gsub('\\"', '"')) end,
  percent = function(l) return (l:gsub("%%%%", "%%")) end,
  unquote = function(l)
    local k, v = l:match('^(%u%a+=)"(.*)"$')
    return k and k .. v:gsub("\\(.)", "%1") or l
  end,
  tab = function(l) return (l:gsub("\t", " ")) end,
}

local function sabotage(text)
  local f = assert(SABOTAGES[SABOTAGE], "unknown UF_ESC_SABOTAGE " .. tostring(SABOTAGE))
  return (text:gsub("([^\n]*)\n", function(l) return f(l) .. "\n" end))
end

-- ---------------------------------------------------------------- systemd --test

local function systemd_test(dir, names)
  local wants = {}
  for i = 1, #names, 40 do wants[#wants + 1] = "Wants=" .. table.concat(names, " ", i, math.min(i + 39, #names)) end
  uf.write(dir .. "/ufesc-all.target", "[Unit]\n" .. table.concat(wants, "\n") .. "\n")
  uf.sh("chmod -R a+rX " .. uf.quote(dir) .. " && chmod a+x " .. uf.quote(work) .. " " .. uf.quote(work .. "/gen")
    .. " " .. uf.quote(dir:match("^(.*)/[^/]*$")))
  local as_user = uf.sh("test $(id -u) = 0") == 0 and "setpriv --reuid=65534 --regid=65534 --clear-groups " or ""
  local out, log = dir .. "/.dump", dir .. "/.log"
  uf.sh(("%s env SYSTEMD_UNIT_PATH=%s: /lib/systemd/systemd --test --system --unit=ufesc-all.target >%s 2>%s")
    :format(as_user, uf.quote(dir), uf.quote(out), uf.quote(log)))
  local dump = parse_dump(uf.read(out) or "")
  local complaints = {}
  for l in (uf.read(log) or ""):gmatch("[^\n]+") do
    local unit = l:match("/(uf[er]%-[^/]-%.%a+):%d+: ") or l:match("^(uf[er]%-[^ ]-%.%a+): ")
    if unit then complaints[unit] = (complaints[unit] and complaints[unit] .. "\n" or "") .. l end
  end
  return dump, complaints
end

-- Checks the units of one case (unitforge's or the reference) against
-- systemd's parse; returns ok and a description of what differs.
local function parse_verdict(pl, c, prefix, dump, complaints)
  local name = prefix .. c.suffix_name
  local u = dump[name .. ".service"]
  local problems = {}
  if not u then
    problems[#problems + 1] = "systemd did not load " .. name .. ".service"
  else
    local state = field(u, "Unit Load State")
    if state ~= "loaded" then problems[#problems + 1] = "Unit Load State: " .. tostring(state) end
    for _, chk in ipairs(pl.checks(u, c.s, dump, name, c)) do
      if not chk.ok then
        problems[#problems + 1] = ("%s: systemd has %s, expected %s"):format(chk.what, value_text(chk.got), value_text(chk.want))
      end
    end
  end
  for unit, text in pairs(complaints) do
    if unit:sub(1, #name + 1) == name .. "." or unit:sub(1, #name + 1) == name .. "-" then
      problems[#problems + 1] = "systemd complained: " .. text
    end
  end
  return #problems == 0, table.concat(problems, "\n    ")
end

-- ---------------------------------------------------------------- the container

local STANDIN_C = [[
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* Stays up so its /proc entry can be read; "stop" exits at once;
 * "uf-daemon" forks and writes the child's pid to $PIDFILE. */
int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "stop") == 0)
        return 0;
    if (argc == 2 && strcmp(argv[1], "uf-daemon") == 0) {
        const char *pidfile = getenv("PIDFILE");
        pid_t child = fork();
        if (child < 0)
            return 1;
        if (child == 0) {
            setsid();
            for (;;)
                pause();
        }
        FILE *f = pidfile ? fopen(pidfile, "w") : NULL;
        if (!f)
            return 2;
        fprintf(f, "%d\n", (int)child);
        return fclose(f) == 0 ? 0 : 3;
    }
    printf("uf-standin up\n");
    fflush(stdout);
    for (;;)
        pause();
}
]]

-- Runs inside the container (lua5.4 and lfs come from the host's root):
-- `setup` creates paths before the units start, `collect` reads back
-- what the processes got. Results are a Lua chunk of %q strings.
local PROBE = [==[
local lfs = require("lfs")
local mode, request, result = arg[1], arg[2], arg[3]
local req = dofile(request)
local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end
local function ser(v)
  if type(v) == "table" then
    local t = {}
    for k, x in pairs(v) do t[#t + 1] = "[" .. ser(k) .. "]=" .. ser(x) end
    return "{" .. table.concat(t, ",") .. "}"
  elseif type(v) == "string" then
    return ("%q"):format(v)
  end
  return tostring(v)
end
local errors = {}
local function mkdir_p(path, created)
  local cur = ""
  for part in path:gmatch("[^/]+") do
    cur = cur .. "/" .. part
    if not lfs.attributes(cur) then
      local ok, err = lfs.mkdir(cur)
      if not ok then errors[#errors + 1] = "mkdir " .. cur .. ": " .. tostring(err) return end
      if created then created[#created + 1] = cur end
    end
  end
end
local function xargs(list, command)
  if #list == 0 then return end
  local f = assert(io.open("/ufesc-probe/list", "wb"))
  f:write(table.concat(list, "\0"), "\0")
  f:close()
  os.execute("xargs -0 -r " .. command .. " </ufesc-probe/list")
end
local out = { errors = errors }
if mode == "setup" then
  for _, d in ipairs(req.dirs) do mkdir_p(d) end
  local open = {}
  for _, d in ipairs(req.open_dirs) do mkdir_p(d, open); open[#open + 1] = d end
  xargs(open, "chmod 1777")
  local standin = read(req.standin)
  for _, path in ipairs(req.copies) do
    mkdir_p(path:match("^(.*)/[^/]*$"))
    local f = io.open(path, "wb")
    if f then f:write(standin) f:close() else errors[#errors + 1] = "cannot write " .. path end
  end
  xargs(req.copies, "chmod 755")
  for _, file in ipairs(req.files) do
    mkdir_p(file[1]:match("^(.*)/[^/]*$"))
    local f = io.open(file[1], "wb")
    if f then f:write(file[2]) f:close() else errors[#errors + 1] = "cannot write " .. file[1] end
  end
else
  local function decode(s) return (s:gsub("\\(%d%d%d)", function(o) return string.char(tonumber(o, 8)) end)) end
  local function show(names)
    local p = io.popen("systemctl show -p Id -p MainPID -p ActiveState -p SubState -p Result "
      .. table.concat(names, " ") .. " 2>/dev/null; echo \"status=$?\"")
    local text = p:read("a")
    p:close()
    local found = {}
    for block in (text .. "\n\n"):gmatch("(.-)\n\n") do
      local rec = {}
      for k, v in block:gmatch("(%w+)=([^\n]*)") do rec[k] = v end
      if rec.Id then found[rec.Id] = rec end
    end
    return found, text:match("status=(%d+)%s*$") == "0"
  end
  local function journal()
    local ids = {}
    local cjson = require("cjson")
    local p = io.popen("journalctl --no-pager -o json --output-fields=_SYSTEMD_UNIT,SYSLOG_IDENTIFIER,MESSAGE 'MESSAGE=uf-standin up'")
    for l in p:lines() do
      local ok, e = pcall(cjson.decode, l)
      if ok and type(e._SYSTEMD_UNIT) == "string" then
        local id = e.SYSLOG_IDENTIFIER
        if type(id) == "table" then id = string.char(table.unpack(id)) end
        ids[(e._SYSTEMD_UNIT:gsub("%.service$", ""))] = id
      end
    end
    p:close()
    return ids
  end
  if mode == "journal" then
    out.journal = journal()
  else
    out.units, out.stats, out.reads = {}, {}, {}
    for i = 1, #req.units, 200 do
      local chunk = { table.unpack(req.units, i, math.min(i + 199, #req.units)) }
      local found, ok = show(chunk)
      if not ok then -- one unit systemctl cannot show (invalid UTF-8 over D-Bus) must not hide the others
        found = {}
        for _, name in ipairs(chunk) do
          local one, one_ok = show({ name })
          found[name] = one[name] or { Id = name, ActiveState = one_ok and "unknown" or "unshowable" }
        end
      end
      for name, rec in pairs(found) do out.units[name] = rec end
    end
    for name, rec in pairs(out.units) do
      local pid = tonumber(rec.MainPID)
      local unit = name:gsub("%.service$", "")
      if pid and pid > 0 then
        local d = "/proc/" .. pid
        rec.environ, rec.cmdline = read(d .. "/environ"), read(d .. "/cmdline")
        rec.cwd = lfs.symlinkattributes(d .. "/cwd", "target")
        rec.exe = lfs.symlinkattributes(d .. "/exe", "target")
        local want = req.mounts[unit]
        if want then
          rec.mounts = {}
          for l in (read(d .. "/mountinfo") or ""):gmatch("[^\n]+") do
            local root, point, opts = l:match("^%S+ %S+ %S+ (%S+) (%S+) (%S+)")
            if point and decode(point) == want then rec.mounts[#rec.mounts + 1] = { root = decode(root), opts = opts } end
          end
        end
      end
      if rec.ActiveState ~= "active" then
        local p = io.popen("journalctl --no-pager -o cat -n 6 -u " .. name .. " 2>&1")
        rec.log = p:read("a")
        p:close()
      end
    end
    for _, path in ipairs(req.stats) do
      local a = lfs.attributes(path)
      out.stats[path] = a and { mode = a.mode, uid = a.uid } or false
    end
    for _, path in ipairs(req.reads) do out.reads[path] = read(path) or false end
    out.journal = req.journal and journal() or {}
    local p = io.popen("id -u ufesc")
    out.uid = tonumber(p:read("a"))
    p:close()
  end
end
local f = assert(io.open(result, "wb"))
f:write("return ", ser(out), "\n")
f:close()
]==]

local function ser(v)
  if type(v) == "table" then
    local t = {}
    for k, x in pairs(v) do t[#t + 1] = "[" .. ser(k) .. "]=" .. ser(x) end
    return "{" .. table.concat(t, ",") .. "}"
  elseif type(v) == "string" then
    return q(v)
  end
  return tostring(v)
end

local function split_nul(s)
  local t = {}
  for part in (s or ""):gmatch("([^%z]*)%z") do t[#t + 1] = part end
  return t
end

-- ---------------------------------------------------------------- the run

local results = {} -- placement id -> list of cases
local live_ran = false

local function case_repro(pl, c, u_lines)
  local src = "return " .. service_source(c.name, pl.fields(c.s, c))
  if #src > 700 then src = src:sub(1, 700) .. "..." end
  return ("[%s] %s: %s\n  config: %s%s"):format(pl.id, c.value.origin, shown(c.s), src,
    u_lines and ("\n  unit:   " .. u_lines) or "")
end

-- The lines of unitforge's units that carry the value's directive.
local function unit_lines(c, pattern)
  local t = {}
  for suffix, path in pairs(c.files or {}) do
    for l in (uf.read(path) or ""):gmatch("[^\n]+") do
      if l:find(pattern) then
        if #l > 400 then l = l:sub(1, 400) .. ("... (%d bytes)"):format(#l) end
        t[#t + 1] = (suffix ~= ".service" and suffix .. ": " or "") .. l
      end
    end
  end
  return table.concat(t, "\n          ")
end

local DIRECTIVE_PATTERN = "^[%u][%a]*=.*" -- every assignment; narrowed per placement below
local PLACEMENT_DIRECTIVES = {
  env = "^Environment=\"?V=", envfn = "^Environment=\"?V=", lang = "^Environment=\"?LANG=",
  mixenv = "^Environment=\"?MIX_ENV=", arg = "^ExecStart=", argdq = "^ExecStart=", argsq = "^ExecStart=",
  pre = "^ExecStartPre=", stop = "^ExecStop=", argref = "^ExecStart=", exebase = "^Exec", exeref = "^ExecStart=",
  exeq = "^ExecStart=", release = "^ExecStart=", wrap = "^ExecStart=", wd = "^WorkingDirectory=",
  dirs = "Directory=", envfile = "^EnvironmentFile=", syslog = "^SyslogIdentifier=", rw = "^ReadWritePaths=",
  ro = "^ReadOnlyPaths=", inacc = "^InaccessiblePaths=", rwpfx = "^ReadWritePaths=", pid = "PID",
  flags = "^PathModified=", rtenv = "^ExecStart=", root = "^RootDirectory=",
}

-- a debugging aid: "env,dirs" checks only those placements; under
-- valgrind, one placement of each family (the full set runs in make test)
local ONLY = os.getenv("UF_ESC_ONLY") or (SLOW and "env,argref,exebase,dirs,wd,envfile" or nil)
if ONLY then
  local keep = {}
  for _, pl in ipairs(PLACEMENTS) do
    if ("," .. ONLY .. ","):find("," .. pl.id .. ",", 1, true) then keep[#keep + 1] = pl end
  end
  PLACEMENTS = keep
end

local function run_parse_phase()
  for _, pl in ipairs(PLACEMENTS) do
    local cases = {}
    local function add(v, s)
      local n = #cases + 1
      cases[n] = { value = v, s = s, n = n, suffix_name = ("%s-%d"):format(pl.id, n) }
      cases[n].name = "ufe-" .. cases[n].suffix_name
    end
    for i, v in ipairs(values) do
      local s = pl.subject(v.s, i)
      if s then add(v, s) end
    end
    for i, s in ipairs(pl.extra or {}) do
      add({ s = s, origin = ("extra case %d"):format(i), live = pl.extra_live or false }, s)
    end
    local pwork = work .. "/gen/" .. pl.id
    generate(pl, cases, pwork)
    -- unitforge's units and the reference units, in one folder
    local dir = pwork .. "/units"
    uf.mkdir(dir)
    local names = {}
    for _, c in ipairs(cases) do
      if c.state == "accepted" then
        for suffix, path in pairs(c.files or {}) do
          local text = uf.read(path)
          if SABOTAGE then text = sabotage(text) end
          write(dir .. "/" .. c.name .. suffix, text)
        end
        for suffix in pairs(c.files or {}) do names[#names + 1] = c.name .. suffix end
      end
      local ref = pl.ref(c.s, c)
      if type(ref) == "string" then ref = { [".service"] = ref } end
      c.ref_files = ref
      if ref then
        for suffix, text in pairs(ref) do write(dir .. "/ufr-" .. c.suffix_name .. suffix, text) end
        for suffix in pairs(ref) do names[#names + 1] = "ufr-" .. c.suffix_name .. suffix end
      end
    end
    local dump, complaints = systemd_test(dir, names)
    for _, c in ipairs(cases) do
      if c.state == "accepted" then c.parse_ok, c.parse_detail = parse_verdict(pl, c, "ufe-", dump, complaints) end
      if c.ref_files then
        c.ref_ok, c.ref_detail = parse_verdict(pl, c, "ufr-", dump, complaints)
      else
        c.ref_ok, c.ref_detail = false, "no way to write it for systemd"
      end
    end
    pl.units_dir = dir
    results[pl.id] = cases
  end
end

-- Batch units: every value a placement accepted (and every refused one
-- whose reference systemd parsed) in one unit, so that all of them reach
-- a real process.
local function batch_units(dir)
  local batches = {}
  local env_src, env_ref = {}, {}
  for _, id in ipairs({ "env", "envfn" }) do
    local pl
    for _, p in ipairs(PLACEMENTS) do if p.id == id then pl = p end end
    for k, c in ipairs(results[id] or {}) do
      local var = pl.batch.var .. k
      if c.state == "accepted" and c.parse_ok then
        env_src[#env_src + 1] = id == "env" and q(var .. "=" .. c.s) or ("{ %s, %s }"):format(q(var .. "="), fn(c.s))
        batches[#batches + 1] = { unit = "ufe-batch-env", case = c, pl = pl, get = function(rec) return rec.environ and rec.environ[var] end }
      elseif c.state == "refused" and c.ref_ok and utf8_valid(c.s) then -- D-Bus carries UTF-8 only
        env_ref[#env_ref + 1] = "Environment=" .. R.env(var .. "=" .. c.s)
        batches[#batches + 1] = { unit = "ufr-batch-env", case = c, pl = pl, ref = true,
          get = function(rec) return rec.environ and rec.environ[var] end }
      end
    end
  end
  local sources = { ("{ app_name = %s, service_name = %s, app_user = %s, app_group = %s, systemd_version = 252, "
    .. "release_system = %s, exec_start = %s, service_type = %s, restart = %s, working_dir = \"/\", env_vars = { %s } }")
    :format(q("ufesc"), q("ufe-batch-env"), q("ufesc"), q("ufesc"), q("none"), q(ARGV_DUMP), q("exec"), q("no"),
      table.concat(env_src, ", ")) }
  local refs = { ["ufr-batch-env.service"] = ref_service(env_ref) }
  for _, id in ipairs({ "arg", "argdq", "argsq" }) do
    local pl
    for _, p in ipairs(PLACEMENTS) do if p.id == id then pl = p end end
    local open = ({ arg = "", argdq = '"<', argsq = "'<" })[id]
    local close = ({ arg = "", argdq = '>"', argsq = ">'" })[id]
    local parts, words, n, nr = { q(ARGV_DUMP) }, { ARGV_DUMP }, 0, 0
    for _, c in ipairs(results[id] or {}) do
      local want = open:gsub("[\"']", "") .. c.s .. close:gsub("[\"']", "")
      if c.state == "accepted" and c.parse_ok then
        n = n + 1
        parts[#parts + 1] = q(" " .. open)
        parts[#parts + 1] = fn(c.s)
        parts[#parts + 1] = q(close)
        local at = n + 1
        batches[#batches + 1] = { unit = "ufe-batch-" .. id, case = c, pl = pl, want = want,
          get = function(rec) return rec.argv and rec.argv[at] end }
      elseif c.state == "refused" and c.ref_ok and utf8_valid(c.s) then -- D-Bus carries UTF-8 only
        nr = nr + 1
        words[#words + 1] = R.arg(want)
        local at = nr + 1
        batches[#batches + 1] = { unit = "ufr-batch-" .. id, case = c, pl = pl, ref = true, want = want,
          get = function(rec) return rec.argv and rec.argv[at] end }
      end
    end
    sources[#sources + 1] = ("{ app_name = %s, service_name = %s, app_user = %s, app_group = %s, systemd_version = 252, "
      .. "release_system = %s, exec_start = { %s }, service_type = %s, restart = %s, working_dir = \"/\" }")
      :format(q("ufesc"), q("ufe-batch-" .. id), q("ufesc"), q("ufesc"), q("none"), table.concat(parts, ", "), q("exec"), q("no"))
    refs["ufr-batch-" .. id .. ".service"] = ref_service({ "ExecStart=" .. table.concat(words, " ") }, { exec = true })
  end
  local gen = work .. "/gen/batch"
  uf.write(gen .. "/deploy.lua", "return {\n" .. table.concat(sources, ",\n") .. "\n}\n")
  local code, stderr = run_in(gen)
  assert(code == 0, "unitforge refused the batch units, whose values it accepted one by one:\n" .. stderr)
  for _, path in ipairs(files_under(gen .. "/out")) do
    local text = uf.read(path)
    if SABOTAGE then text = sabotage(text) end
    uf.write(dir .. "/" .. path:match("[^/]+$"), text)
  end
  for name, text in pairs(refs) do uf.write(dir .. "/" .. name, text) end
  return batches
end

local function run_live_phase()
  local dir = work .. "/live"
  uf.mkdir(dir)
  local S = { dirs = {}, open_dirs = {}, copies = {}, files = {}, stats = {}, reads = {}, mounts = {}, journal = false,
    standin = "/ufesc-probe/standin", units = {} }
  local live = {} -- { pl, case, name, ref }
  for _, pl in ipairs(PLACEMENTS) do
    if pl.live then
      for _, c in ipairs(results[pl.id]) do
        if c.value.live and (pl.live == true or pl.live(c.s)) then
          local name
          if c.state == "accepted" and c.parse_ok then
            name = c.name
            for suffix, path in pairs(c.files) do
              local text = uf.read(path)
              if SABOTAGE then text = sabotage(text) end
              write(dir .. "/" .. name .. suffix, text)
            end
          elseif c.state == "accepted" then
            c.live_skipped = true
          elseif c.state == "refused" and c.ref_ok then
            name = "ufr-" .. c.suffix_name
            for suffix, text in pairs(c.ref_files) do write(dir .. "/" .. name .. suffix, text) end
          end
          if name then
            live[#live + 1] = { pl = pl, case = c, name = name, ref = name:sub(1, 4) == "ufr-" }
            S.units[#S.units + 1] = name .. ".service"
            if pl.setup then pl.setup(c.s, name, S, c) end
          end
        end
      end
    end
  end
  local batches = batch_units(dir)
  local seen = {}
  for _, b in ipairs(batches) do
    if not seen[b.unit] then seen[b.unit] = true; S.units[#S.units + 1] = b.unit .. ".service" end
  end
  local host_standin = work .. "/standin"
  uf.write(work .. "/standin.c", STANDIN_C)
  assert(uf.sh(("cc -O2 -o %s %s"):format(uf.quote(host_standin), uf.quote(work .. "/standin.c"))) == 0,
    "cannot compile the stand-in program (cc)")

  local box = container.boot(dir)
  local ok, err = pcall(function()
    box:must("useradd --system --no-create-home --shell /usr/sbin/nologin ufesc")
    box:write(ARGV_DUMP, uf.read(host_standin), "755")
    box:write("/ufesc-probe/standin", uf.read(host_standin), "755")
    box:write("/ufesc-probe/probe.lua", PROBE)
    box:write("/ufesc-probe/request.lua", "return " .. ser(S) .. "\n")
    box:must("lua5.4 /ufesc-probe/probe.lua setup /ufesc-probe/request.lua /ufesc-probe/setup.lua")
    local setup = load(box:must("cat /ufesc-probe/setup.lua"))()
    for _, e in ipairs(setup.errors) do notes[#notes + 1] = "container setup: " .. e end
    for i = 1, #S.units, 300 do
      box:sh("systemctl start --no-block " .. table.concat(S.units, " ", i, math.min(i + 299, #S.units)))
    end
    box:wait_for('test -z "$(systemctl list-jobs --no-legend)"', 240)
    local function probe(mode)
      box:must(("lua5.4 /ufesc-probe/probe.lua %s /ufesc-probe/request.lua /ufesc-probe/result.lua"):format(mode))
      return load(box:must("cat /ufesc-probe/result.lua"))()
    end
    local data = probe("collect")
    -- the journal takes the stand-ins' first lines in its own time
    for _ = 1, 20 do
      local missing = false
      for _, l in ipairs(live) do
        local rec = data.units[l.name .. ".service"]
        if l.pl.id == "syslog" and rec and rec.ActiveState == "active" and not data.journal[l.name] then missing = true end
      end
      if not missing then break end
      uf.sh("sleep 0.5")
      data.journal = probe("journal").journal
    end
    -- verdicts
    local G = { stats = data.stats, reads = data.reads, journal = data.journal, uid = data.uid, notes = notes }
    for _, rec in pairs(data.units) do
      if rec.environ then
        local env = {}
        for _, a in ipairs(split_nul(rec.environ)) do
          local k, v = a:match("^([^=]*)=(.*)$")
          if k then env[k] = v end
        end
        rec.environ = env
        rec.argv = split_nul(rec.cmdline)
        rec.pid = rec.MainPID
      end
    end
    local function judge(l, checks_of)
      local rec = data.units[l.name .. ".service"] or {}
      local problems = {}
      if rec.ActiveState ~= "active" then
        problems[#problems + 1] = ("the unit is %s/%s (%s)%s"):format(tostring(rec.ActiveState), tostring(rec.SubState),
          tostring(rec.Result), rec.log and ":\n      " .. rec.log:gsub("\n", "\n      ") or "")
      else
        for _, chk in ipairs(checks_of(rec)) do
          if not chk.ok then
            problems[#problems + 1] = ("%s: the process has %s, expected %s"):format(chk.what, value_text(chk.got), value_text(chk.want))
          end
        end
      end
      return #problems == 0, table.concat(problems, "\n    ")
    end
    for _, l in ipairs(live) do
      local ok_live, detail = judge(l, function(rec) return l.pl.live_checks(rec, l.case.s, l.name, G, l.case) end)
      if l.ref then l.case.ref_live_ok, l.case.ref_live_detail = ok_live, detail
      else l.case.live_ok, l.case.live_detail = ok_live, detail end
    end
    for _, b in ipairs(batches) do
      local ok_live, detail = judge({ name = b.unit }, function(rec)
        return { check(b.pl.id .. " value in " .. b.unit, b.get(rec), b.want or b.case.s) }
      end)
      if b.ref then b.case.ref_live_ok, b.case.ref_live_detail = ok_live, detail
      else b.case.live_ok, b.case.live_detail = ok_live, detail end
    end
    live_ran = true
  end)
  box:stop()
  if not ok then error(err, 0) end
end

-- ---------------------------------------------------------------- the record

-- Refusals of structure rather than characters, which the README
-- documents (absolute or relative paths, no '..', normalized directory
-- names, mix_env names a folder, lengths): not counted as false refusals
-- even where systemd's parser would take the value. (A syslog identifier
-- over 254 bytes parses, but journald then drops the service's output:
-- only a live check shows it.)
local DESIGNED = {
  "must not contain '..'", "expected an absolute path", "expected a relative path", "must not be empty",
  "expected a normalized path", "expected a folder name", "a name in the path is longer than systemd accepts",
  "the path is longer than systemd accepts", "expected 1 to 254 bytes",
}

local function designed_refusal(reason)
  for _, d in ipairs(DESIGNED) do
    if (reason or ""):find(d, 1, true) then return true end
  end
  return false
end

local function could_carry(c) return c.ref_ok and c.ref_live_ok ~= false end

local function is_false_refusal(c)
  return c.state == "refused" and could_carry(c) and not documented_refusal(c.s) and not designed_refusal(c.reason)
end

-- Failures grouped by what went wrong, the shortest values first.
local function grouped(failures)
  local groups, order = {}, {}
  for _, f in ipairs(failures) do
    if not groups[f.group] then
      groups[f.group] = {}
      order[#order + 1] = f.group
    end
    table.insert(groups[f.group], f)
  end
  table.sort(order, function(a, b) return #groups[a] > #groups[b] or (#groups[a] == #groups[b] and a < b) end)
  local out = {}
  for _, g in ipairs(order) do
    local list = groups[g]
    table.sort(list, function(a, b) return #a.s < #b.s or (#a.s == #b.s and a.s < b.s) end)
    out[#out + 1] = ("%d x %s"):format(#list, g)
    for i = 1, math.min(3, #list) do out[#out + 1] = "  " .. list[i].text:gsub("\n", "\n  ") end
    if #list > 3 then
      local more = {}
      for i = 4, math.min(10, #list) do more[#more + 1] = shown(list[i].s) end
      out[#out + 1] = "  also: " .. table.concat(more, ", ") .. (#list > 10 and (" and %d more"):format(#list - 10) or "")
    end
  end
  return table.concat(out, "\n")
end

local function first_what(detail) return (detail:match("^([^:]*)") or detail) end

local function contract_failures(pl)
  local failures = {}
  for _, c in ipairs(results[pl.id]) do
    local function lines() return c.files and unit_lines(c, PLACEMENT_DIRECTIVES[pl.id] or DIRECTIVE_PATTERN) end
    if c.state == "bad" then
      failures[#failures + 1] = { s = c.s, group = "a refusal that is not exit 1 + the key named + nothing written",
        text = case_repro(pl, c) .. "\n  refusal: " .. c.problem }
    elseif c.state == "accepted" and not c.parse_ok then
      failures[#failures + 1] = { s = c.s, group = "accepted, but systemd --test reads " .. first_what(c.parse_detail) .. " differently",
        text = case_repro(pl, c, lines()) .. "\n  systemd --test: " .. c.parse_detail }
    elseif c.state == "accepted" and c.live_ok == false then
      failures[#failures + 1] = { s = c.s, group = "accepted, but the booted service differs in " .. first_what(c.live_detail),
        text = case_repro(pl, c, lines()) .. "\n  booted systemd: " .. c.live_detail }
    end
  end
  return failures
end

local function reference_lines(pl, c)
  local ref = {}
  for suffix, text in pairs(c.ref_files) do
    for l in text:gmatch("[^\n]+") do
      if l:find(PLACEMENT_DIRECTIVES[pl.id] or DIRECTIVE_PATTERN) then
        ref[#ref + 1] = (suffix ~= ".service" and suffix .. ": " or "") .. l
      end
    end
  end
  return table.concat(ref, " | ")
end

local function false_refusals(pl)
  local failures = {}
  for _, c in ipairs(results[pl.id]) do
    if is_false_refusal(c) then
      failures[#failures + 1] = { s = c.s, group = "refused (" .. c.reason .. ")",
        text = ("%s\n  refusal: %s\n  yet systemd reads this back exactly%s: %s"):format(case_repro(pl, c),
          c.stderr:match("[^\n]*"), c.ref_live_ok and " (parsed and booted)" or " (parsed)", reference_lines(pl, c)) }
    end
  end
  return failures
end

local function record()
  local out = { ("real_systemd_escaping record (%s)"):format(RERUN) }
  for _, pl in ipairs(PLACEMENTS) do
    local n, acc, refused, false_r, doc_r, designed_r, defects = 0, 0, 0, 0, 0, 0, 0
    local reasons, chars_refused = {}, {}
    for _, c in ipairs(results[pl.id]) do
      n = n + 1
      if c.state == "accepted" then
        acc = acc + 1
        if not c.parse_ok or c.live_ok == false then defects = defects + 1 end
      elseif c.state == "refused" then
        refused = refused + 1
        local could = could_carry(c)
        if is_false_refusal(c) then false_r = false_r + 1
        elseif could and documented_refusal(c.s) then doc_r = doc_r + 1
        elseif could then designed_r = designed_r + 1 end
        local key = (could and "systemd would take it" or "systemd cannot take it") .. ": " .. c.reason
        reasons[key] = (reasons[key] or 0) + 1
        if c.value.probe then
          chars_refused[c.value.probe] = chars_refused[c.value.probe] or {}
          table.insert(chars_refused[c.value.probe], (could and "" or "(systemd too) ") .. q(c.value.s))
        end
      else
        defects = defects + 1
      end
    end
    out[#out + 1] = ("\n%s (%s): %d values, %d accepted, %d contract failures; %d refused: %d false, %d documented "
      .. "(control/newline/UTF-8) and %d by design (paths) that systemd would take")
      :format(pl.id, table.concat(pl.keys, ", "), n, acc, defects, refused, false_r, doc_r, designed_r)
    local rs = {}
    for r, k in pairs(reasons) do rs[#rs + 1] = ("    %4d x %s"):format(k, r) end
    table.sort(rs)
    if #rs > 0 then out[#out + 1] = "  refusals:\n" .. table.concat(rs, "\n") end
    local cs = {}
    for ch, list in pairs(chars_refused) do cs[#cs + 1] = ("    %s: %s"):format(q(ch), table.concat(list, ", ")) end
    table.sort(cs)
    if #cs > 0 then out[#out + 1] = "  probe characters refused:\n" .. table.concat(cs, "\n") end
  end
  local text = table.concat(out, "\n") .. "\n"
  if REPORT then uf.write(REPORT, text) end
  return text
end

-- ---------------------------------------------------------------- the spec

describe("escaping against real systemd 252 (" .. RERUN .. ")", function()
  setup(function()
    work = uf.tmpdir()
    values = make_values()
    local t0 = os.time()
    run_parse_phase()
    io.stdout:write(("real_systemd_escaping: generated and parsed in %ds\n"):format(os.time() - t0))
    if not os.getenv("UF_ESC_PARSE_ONLY") then -- a debugging aid: no container
      t0 = os.time()
      run_live_phase()
      io.stdout:write(("real_systemd_escaping: booted and checked in %ds\n"):format(os.time() - t0))
    end
    local text = record()
    if not REPORT then io.stdout:write(text) end
  end)
  teardown(function()
    if work and not os.getenv("UF_ESC_KEEP") then uf.rm(work) end
  end)

  for _, pl in ipairs(PLACEMENTS) do
    it(pl.id .. ": every value is refused (exit 1, the key named, nothing written) or reaches systemd exactly", function()
      local failures = contract_failures(pl)
      assert(#failures == 0, ("%d value(s) did not reach systemd as given:\n%s"):format(#failures, grouped(failures)))
    end)

    it(pl.id .. ": refuses only what systemd cannot carry", function()
      local failures = false_refusals(pl)
      assert(#failures == 0, ("%d false refusal(s):\n%s"):format(#failures, grouped(failures)))
    end)
  end

  it("the hand-written reference escaping agrees with systemd wherever unitforge's does", function()
    local failures = {}
    for _, pl in ipairs(PLACEMENTS) do
      for _, c in ipairs(results[pl.id]) do
        if c.state == "accepted" and c.parse_ok and not c.ref_ok then
          failures[#failures + 1] = { s = c.s, group = pl.id .. ": " .. first_what(c.ref_detail),
            text = case_repro(pl, c) .. "\n  reference: " .. c.ref_detail }
        end
      end
    end
    assert(#failures == 0, grouped(failures))
  end)

  it("boots every placement that only a running systemd can confirm", function()
    assert(live_ran, "the container part did not run")
    local counted = 0
    for _, pl in ipairs(PLACEMENTS) do
      for _, c in ipairs(results[pl.id]) do
        if c.live_ok ~= nil or c.ref_live_ok ~= nil then counted = counted + 1 end
      end
    end
    assert(counted > 100, "only " .. counted .. " values reached a booted systemd")
  end)

  it("notes what systemd does beyond parsing (argv[0], container set-up)", function()
    local seen, lines = {}, {}
    for _, n in ipairs(notes) do
      if not seen[n] then
        seen[n] = true
        lines[#lines + 1] = "  " .. n
      end
    end
    if #lines > 0 then io.stdout:write("notes:\n" .. table.concat(lines, "\n") .. "\n") end
  end)
end)
