-- Helpers for the specs: run the unitforge binary as a user would and
-- look at what it left behind.
local M = {}

M.bin = os.getenv("UNITFORGE_BIN") or "build/unitforge"
M.root = os.getenv("UNITFORGE_ROOT") or "."
if M.root:sub(1, 1) ~= "/" then M.root = os.getenv("PWD") .. "/" .. M.root end
if M.bin:sub(1, 1) ~= "/" then M.bin = os.getenv("PWD") .. "/" .. M.bin end

-- UNITFORGE_WRAPPER runs every invocation under a tool, e.g. valgrind
-- (see `make valgrind`).
M.wrapper = os.getenv("UNITFORGE_WRAPPER") or ""

function M.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- The standard output of a shell command.
function M.capture(command)
  local p = assert(io.popen(command))
  local out = p:read("a")
  p:close()
  return out
end

function M.sh(command)
  local ok, _, code = os.execute(command)
  return ok and 0 or code
end

function M.tmpdir()
  return (M.capture("mktemp -d /tmp/ufspec.XXXXXX"):gsub("\n$", ""))
end

function M.rm(path)
  if path and path:match("^/tmp/ufspec%.") then M.sh("rm -rf " .. M.quote(path)) end
end

function M.mkdir(path)
  assert(M.sh("mkdir -p " .. M.quote(path)) == 0)
end

function M.write(path, text, mode)
  M.mkdir(path:match("^(.*)/[^/]*$") or ".")
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  if mode then M.sh("chmod " .. mode .. " " .. M.quote(path)) end
end

function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

function M.exists(path)
  return M.sh("test -e " .. M.quote(path)) == 0
end

-- Runs unitforge with `args` (a list) in folder `cwd`; returns a table
-- {code, stdout, stderr}.
function M.run(args, cwd)
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = M.quote(a) end
  local out, err = os.tmpname(), os.tmpname()
  local command = ("cd %s && %s %s %s >%s 2>%s </dev/null"):format(
    M.quote(cwd or "."), M.wrapper, M.quote(M.bin), table.concat(quoted, " "), out, err)
  local code = M.sh(command)
  local result = { code = code, stdout = M.read(out), stderr = M.read(err) }
  os.remove(out)
  os.remove(err)
  return result
end

-- A fingerprint of a folder tree: every entry with its type and mode,
-- and each file's size, mtime and contents, to prove a failed run left
-- it exactly as it was. (A folder's own mtime is left out: creating and
-- removing a temporary file in it changes that, and nothing else.)
function M.snapshot(dir)
  return M.capture(("cd %s 2>/dev/null && find . -type d -printf '%%p %%y %%m\\n' | sort && "
    .. "find . ! -type d -printf '%%p %%y %%s %%m %%T@\\n' | sort && "
    .. "find . -type f -exec sha256sum {} + | sort"):format(M.quote(dir)))
end

-- Writes `config` as deploy.lua in a new folder (plus any `files`,
-- path -> text) and returns the folder.
function M.project(config, files)
  local dir = M.tmpdir()
  if config then M.write(dir .. "/deploy.lua", config) end
  for path, text in pairs(files or {}) do M.write(dir .. "/" .. path, text) end
  return dir
end

-- The units a config generates with --out (and `args`), by file name.
function M.generated(config, args)
  local dir = M.project(config)
  local all = { "deploy.lua", "--out", "out" }
  for _, a in ipairs(args or {}) do all[#all + 1] = a end
  local r = M.run(all, dir)
  assert(r.code == 0, r.stderr)
  local out = {}
  for name in io.popen("ls " .. M.quote(dir .. "/out/lib/systemd/system")):lines() do
    out[name] = M.read(dir .. "/out/lib/systemd/system/" .. name)
  end
  M.rm(dir)
  return out
end

-- Generates the config's units with --stdout and returns the text.
function M.unit_text(config, extra_args)
  local dir = M.project(config)
  local args = { "deploy.lua", "--stdout" }
  for _, a in ipairs(extra_args or {}) do args[#args + 1] = a end
  local r = M.run(args, dir)
  M.rm(dir)
  assert(r.code == 0, "unitforge failed: " .. tostring(r.stderr))
  return r.stdout
end

-- The lines of a unit text.
function M.lines(text)
  local t = {}
  for line in text:gmatch("([^\n]*)\n") do t[#t + 1] = line end
  return t
end

-- The executables a unit runs (Exec*= lines, prefixes stripped).
local function executables(text)
  local found = {}
  for value in text:gmatch("\nExec%a*=([^\n]*)") do
    local path = value:gsub("^[-@:+!]+", ""):match("^(%S+)")
    if path and path:sub(1, 1) == "/" then found[#found + 1] = path end
  end
  return found
end

-- Strict `systemd-analyze verify` of every unit file in `units_dir`:
-- the units go into a throw-away root that holds systemd's own units and
-- stub executables for every command they run. Returns exit code and
-- output; strict success is code 0 with empty output.
function M.verify(units_dir)
  local root = M.tmpdir()
  M.mkdir(root .. "/etc/systemd/system")
  M.mkdir(root .. "/usr/lib/systemd")
  M.sh(("cp -a /usr/lib/systemd/system %s/usr/lib/systemd/"):format(M.quote(root)))
  local units = {}
  for name in M.capture("ls " .. M.quote(units_dir)):gmatch("[^\n]+") do
    local text = M.read(units_dir .. "/" .. name)
    M.write(root .. "/etc/systemd/system/" .. name, text)
    units[#units + 1] = M.quote(root .. "/etc/systemd/system/" .. name)
    for _, exe in ipairs(executables("\n" .. text)) do
      M.write(root .. exe, "#!/bin/sh\n", "755")
    end
  end
  local out = os.tmpname()
  local code = M.sh(("systemd-analyze verify --man=no --root=%s %s >%s 2>&1"):format(
    M.quote(root), table.concat(units, " "), out))
  local output = M.read(out)
  os.remove(out)
  M.rm(root)
  return code, output
end

-- Splits systemd's quote_command_line() output (the dump's "Command
-- Line:") into words: words quoted with '"' when needed, '\', '"', '`',
-- '$' backslashed, control characters and invalid UTF-8 C-escaped (\n,
-- \t, ..., octal).
function M.split_command_line(text)
  local words, i = {}, 1
  while i <= #text do
    local c = text:sub(i, i)
    if c == " " then
      i = i + 1
    elseif c == '"' then
      local word, j = {}, i + 1
      while j <= #text and text:sub(j, j) ~= '"' do
        if text:sub(j, j) == "\\" then
          j = j + 1
          local e = text:sub(j, j)
          local control = ({ a = "\a", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t", v = "\v" })[e]
          if control then
            word[#word + 1] = control
          elseif e:match("%d") then -- cescape_char(): other control characters, invalid UTF-8
            word[#word + 1] = string.char(tonumber(text:sub(j, j + 2), 8))
            j = j + 2
          else
            word[#word + 1] = e
          end
        else
          word[#word + 1] = text:sub(j, j)
        end
        j = j + 1
      end
      words[#words + 1] = table.concat(word)
      i = j + 1
    else
      local j = text:find(" ", i, true) or #text + 1
      words[#words + 1] = text:sub(i, j - 1)
      i = j
    end
  end
  return words
end

-- systemd's own parse of `unit` in `dir` (`systemd --test`, run as an
-- unprivileged user with SYSTEMD_UNIT_PATH, STYLE.md): `env` (the
-- Environment= assignments in order), `commands` (Exec* name -> argv),
-- `fields` (every "Key: value" of the unit's dump, name -> list of
-- values) and `complaints` (what systemd logged about the unit file:
-- a line it ignored).
function M.systemd_parse(dir, unit)
  local as_user = M.sh("test $(id -u) = 0") == 0 and "setpriv --reuid=65534 --regid=65534 --clear-groups " or ""
  M.sh("chmod -R a+rX " .. M.quote(dir))
  local log = os.tmpname()
  local p = io.popen(("%s env SYSTEMD_UNIT_PATH=%s: /lib/systemd/systemd --test --system --unit=%s 2>%s")
    :format(as_user, M.quote(dir), M.quote(unit), log))
  local parsed, inside, command = { env = {}, commands = {}, fields = {}, complaints = {} }, false, nil
  for line in p:lines() do
    if line:match("^\t%-> Unit ") then inside = line == "\t-> Unit " .. unit .. ":" end
    if inside then
      local key, value = line:match("^\t\t([%w ]+): (.*)$")
      if key then
        parsed.fields[key] = parsed.fields[key] or {}
        table.insert(parsed.fields[key], value)
      end
      if key == "Environment" then parsed.env[#parsed.env + 1] = value end
      command = line:match("^\t\t%-> (Exec%a+):$") or command
      local argv = line:match("^\t\t\tCommand Line: (.*)$")
      if argv then parsed.commands[command] = M.split_command_line(argv) end
    end
  end
  p:close()
  for line in (M.read(log) or ""):gmatch("[^\n]+") do
    if line:find(unit, 1, true) and line:find(":%d+: ") then parsed.complaints[#parsed.complaints + 1] = line end
  end
  os.remove(log)
  return parsed
end

return M
