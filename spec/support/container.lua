-- A booted systemd for specs, through spec/support/container.sh.
local uf = require("uf")

local M = {}
M.__index = M

local HARNESS = uf.root .. "/spec/support/container.sh"

local function capture(command)
  local out = os.tmpname()
  local code = uf.sh(command .. " >" .. out .. " 2>&1")
  local text = uf.read(out)
  os.remove(out)
  return code, text
end

-- Boots a container whose /etc/systemd/system holds the files of
-- `unit_dir`. Extra nspawn arguments (e.g. "--net") may follow.
function M.boot(unit_dir, ...)
  local self = setmetatable({ state = uf.tmpdir(), units = unit_dir }, M)
  local args = {}
  for i, a in ipairs({ ... }) do args[i] = uf.quote(a) end
  local code, output = capture(("%s boot %s %s %s </dev/null"):format(
    uf.quote(HARNESS), uf.quote(self.state), uf.quote(unit_dir), table.concat(args, " ")))
  if code ~= 0 then
    self:stop()
    error("booting systemd failed:\n" .. output)
  end
  return self
end

function M:stop()
  uf.sh(("%s stop %s >/dev/null 2>&1"):format(uf.quote(HARNESS), uf.quote(self.state)))
  uf.rm(self.state)
end

-- Runs a shell command inside; returns exit code and output.
function M:sh(command)
  return capture(("%s exec %s sh -c %s </dev/null"):format(
    uf.quote(HARNESS), uf.quote(self.state), uf.quote(command)))
end

-- Like sh, but fails the spec when the command fails; returns the output.
function M:must(command)
  local code, output = self:sh(command)
  assert(code == 0, ("`%s` failed (%d):\n%s"):format(command, code, output))
  return output
end

-- Writes a file inside the container.
function M:write(path, text, mode)
  local host = os.tmpname()
  uf.write(host, text)
  local code = uf.sh(("%s exec %s sh -c %s <%s >/dev/null 2>&1"):format(uf.quote(HARNESS), uf.quote(self.state),
    uf.quote(("mkdir -p \"$(dirname %s)\" && cat > %s && chmod %s %s"):format(
      uf.quote(path), uf.quote(path), mode or "644", uf.quote(path))), host))
  os.remove(host)
  assert(code == 0, "cannot write " .. path .. " in the container")
end

-- Polls `command` until it succeeds, for `seconds` of wall time (a busy
-- machine makes each poll slower); returns its output. On time-out the
-- error shows the output of `diagnose`, when given.
function M:wait_for(command, seconds, diagnose)
  local code, output
  local deadline = os.time() + (seconds or 10)
  repeat
    code, output = self:sh(command)
    if code == 0 then return output end
    uf.sh("sleep 0.1")
  until os.time() > deadline
  local details = diagnose and select(2, self:sh(diagnose)) or ""
  error(("`%s` did not succeed in time:\n%s%s"):format(command, output, details))
end

-- The MainPID of a running service (waits for it to be active).
function M:main_pid(service)
  self:wait_for("systemctl is-active --quiet " .. service)
  local pid = self:must("systemctl show -p MainPID --value " .. service):match("%d+")
  assert(pid and pid ~= "0", service .. " has no main process")
  return pid
end

-- The environment of a process, as a table NAME -> value.
function M:environ(pid)
  local raw = self:must("cat /proc/" .. pid .. "/environ | tr '\\0' '\\n'")
  local env = {}
  for line in raw:gmatch("[^\n]+") do
    local k, v = line:match("^([^=]+)=(.*)$")
    if k then env[k] = v end
  end
  return env
end

-- A stand-in for an Elixir release: handles the release commands, keeps
-- its environment visible, and stays up.
function M.stand_in_release()
  return [[#!/bin/sh
case "$1" in
  start|foreground) exec sleep infinity ;;
  daemon)
    sleep infinity &
    [ -n "$PIDFILE" ] && echo $! > "$PIDFILE"
    exit 0 ;;
  stop) exit 0 ;;
  *) echo "unknown command $1" >&2; exit 1 ;;
esac
]]
end

return M
