-- The restart and runtime-environment units against mix_systemd 0.8.2's
-- own output (README "Differences from mix_systemd"): what a migrating
-- user sees in a diff is blank lines and the listed fixes, nothing else.
--
-- Each MIX_* text below is what mix_systemd 0.8.2 (commit 4391685, "Create
-- release 8.2") writes for the same settings: its priv/templates/*.eex
-- evaluated the way MixSystemd.Templates does it (EEx.eval_file with
-- trim: true), blank lines and all. A case applies to it only the fixes
-- the README lists, by number, and compares with blank lines deleted.
local uf = require("uf")

-- The units of a config, by file name.
local function units(body)
  return uf.generated("return { app_name = \"foo\",\n" .. body .. "\n}")
end

local function without_blank_lines(text)
  local kept = {}
  for _, line in ipairs(uf.lines(text)) do
    if line:match("%S") then kept[#kept + 1] = line end
  end
  return table.concat(kept, "\n") .. "\n"
end

-- Replaces the one line `old` of `text` by `new` (a list of lines, maybe
-- empty), failing if `old` is not there exactly once.
local function replace_line(text, old, new)
  local out, found = {}, 0
  for _, line in ipairs(uf.lines(text)) do
    if line == old then
      found = found + 1
      for _, l in ipairs(new) do out[#out + 1] = l end
    else
      out[#out + 1] = line
    end
  end
  assert(found == 1, ("expected %q once in the mix_systemd text, found it %d times"):format(old, found))
  return table.concat(out, "\n") .. "\n"
end

local function assert_mix(expected, actual)
  assert.are.equal(without_blank_lines(expected), without_blank_lines(actual))
end

local MIX_RESTART_PATH = [[
# https://www.freedesktop.org/software/systemd/man/systemd.path.html

[Path]
PathModified=/srv/foo/flags/restart.flag
# MakeDirectory=true
# DirectoryMode=0750

[Install]
WantedBy=multi-user.target
]]

local MIX_RESTART_SERVICE = [[
[Unit]
Description=foo restarter
After=local-fs.target

[Service]
Type=oneshot
ExecStart=/usr/bin/systemctl restart foo.service

[Install]
WantedBy=multi-user.target
]]

-- dirs: [:runtime], env_vars: ["A=1", "B=2"],
-- runtime_environment_unit_after_targets: ["network-online.target"].
local MIX_RUNTIME_ENV_235 = [[
[Unit]
Description=foo runtime environment
After=local-fs.target network-online.target
[Service]
Type=oneshot
User=foo
Group=foo
ExecStart=/srv/foo/bin/write-env

RuntimeDirectory=foo
RuntimeDirectoryMode=750
RuntimeDirectoryPreserve=no


Environment=A=1

Environment=B=2

[Install]
WantedBy=multi-user.target
]]

-- systemd_version: 219, dirs: [:runtime], env_vars: ["A=1"].
local MIX_RUNTIME_ENV_219 = [[
[Unit]
Description=foo runtime environment
After=local-fs.target
[Service]
Type=oneshot
User=foo
Group=foo
ExecStart=/srv/foo/bin/write-env

RuntimeDirectory=foo
RuntimeDirectoryMode=750



Environment=A=1

[Install]
WantedBy=multi-user.target
]]

-- dirs: [], env_vars: ["A=1"].
local MIX_RUNTIME_ENV_NO_DIRS = [[
[Unit]
Description=foo runtime environment
After=local-fs.target
[Service]
Type=oneshot
User=foo
Group=foo
ExecStart=/srv/foo/bin/write-env


Environment=A=1

[Install]
WantedBy=multi-user.target
]]

describe("parity with mix_systemd 0.8.2", function()
  it("restart_method = systemd_flag: the .path unit as mix_systemd writes it, comments included;"
    .. " the -restart.service less [Install] (fix 8)", function()
    local u = units([[restart_method = "systemd_flag"]])
    assert_mix(MIX_RESTART_PATH, u["foo-restart.path"])
    local fixed = replace_line(MIX_RESTART_SERVICE, "[Install]", {})
    fixed = replace_line(fixed, "WantedBy=multi-user.target", {})
    assert_mix(fixed, u["foo-restart.service"])
  end)

  it("the runtime-environment unit at 235 differs only by RuntimeDirectoryPreserve=yes (fix 3)", function()
    local u = units([[dirs = { "runtime" }, runtime_environment_service_script = "write-env",
      runtime_environment_unit_after_targets = { "network-online.target" }, env_vars = { "A=1", "B=2" }]])
    local fixed = replace_line(MIX_RUNTIME_ENV_235, "RuntimeDirectoryPreserve=no", { "RuntimeDirectoryPreserve=yes" })
    assert_mix(fixed, u["foo-runtime-environment.service"])
  end)

  it("the runtime-environment unit below 235 differs only by PartOf= and RemainAfterExit=yes (fix 3)", function()
    local u = units([[systemd_version = 219, dirs = { "runtime" },
      runtime_environment_service_script = "write-env", env_vars = { "A=1" }]])
    local fixed = replace_line(MIX_RUNTIME_ENV_219, "After=local-fs.target",
      { "After=local-fs.target", "PartOf=foo.service" })
    fixed = replace_line(fixed, "RuntimeDirectoryMode=750", { "RuntimeDirectoryMode=750", "RemainAfterExit=yes" })
    assert_mix(fixed, u["foo-runtime-environment.service"])
  end)

  it("the runtime-environment unit without runtime in dirs differs only by the runtime directory (fix 3)", function()
    local u = units([[runtime_environment_service_script = "write-env", env_vars = { "A=1" }]])
    local fixed = replace_line(MIX_RUNTIME_ENV_NO_DIRS, "ExecStart=/srv/foo/bin/write-env",
      { "ExecStart=/srv/foo/bin/write-env", "RuntimeDirectory=foo", "RuntimeDirectoryMode=750",
        "RuntimeDirectoryPreserve=yes" })
    assert_mix(fixed, u["foo-runtime-environment.service"])
  end)
end)
