-- paranoia = "strict" (docs/design.md): the directive set per systemd
-- version, value gates included, the knobs, what a release needs to keep
-- working, and the exposure scores systemd-analyze gives.
local uf = require("uf")

local PHOENIX = uf.root .. "/examples/phoenix/deploy.lua"

local function main_unit(body)
  return uf.unit_text("return { app_name = \"foo_bar\",\n" .. body .. "\n}")
end

-- The lines after Restart= and the directory directives: the hardening
-- block of [Service].
local function hardening_lines(text)
  local service = text:match("\n%[Service%]\n(.-)\n\n")
  local lines, after = {}, false
  for line in (service .. "\n"):gmatch("([^\n]*)\n") do
    if after and not line:match("^%u%l+Directory") and not line:match("DirectoryMode=")
      and not line:match("^RuntimeDirectoryPreserve=") then
      lines[#lines + 1] = line
    end
    if line:match("^Restart=") then after = true end
  end
  return lines
end

local BASE_252 = {
  "NoNewPrivileges=yes", "PrivateTmp=yes", "PrivateDevices=yes", "DevicePolicy=closed",
  "ProtectSystem=strict", "ProtectHome=yes", "ProtectKernelTunables=yes", "ProtectKernelModules=yes",
  "ProtectKernelLogs=yes", "ProtectControlGroups=yes", "ProtectClock=yes", "ProtectHostname=yes",
  "ProtectProc=invisible", "ProcSubset=pid", "PrivateUsers=yes", "PrivateMounts=yes", "RemoveIPC=yes",
  "RestrictNamespaces=yes", "RestrictRealtime=yes", "RestrictSUIDSGID=yes", "LockPersonality=yes",
  "MemoryDenyWriteExecute=yes", "KeyringMode=private", "SystemCallArchitectures=native",
  "SystemCallFilter=@system-service", "SystemCallFilter=~@privileged", "SystemCallFilter=~@resources",
  "SystemCallErrorNumber=EPERM", "CapabilityBoundingSet=", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
}

local function without(list, ...)
  local drop, out = {}, {}
  for _, d in ipairs({ ... }) do drop[d] = true end
  for _, line in ipairs(list) do
    if not drop[line] then out[#out + 1] = line end
  end
  return out
end

describe('paranoia = "strict"', function()
  it("emits the full set at systemd 252", function()
    assert.are.same(BASE_252, hardening_lines(main_unit([[paranoia = "strict", systemd_version = 252]])))
  end)

  it("drops what 247 does not know (ProtectProc values are 247)", function()
    assert.are.same(BASE_252, hardening_lines(main_unit([[paranoia = "strict", systemd_version = 247]])))
  end)

  it("keeps to what 235 knows: no @system-service group, no ProtectClock/Hostname/KernelLogs/Proc", function()
    assert.are.same(without(BASE_252, "ProtectKernelLogs=yes", "ProtectClock=yes", "ProtectHostname=yes",
      "ProtectProc=invisible", "ProcSubset=pid", "PrivateMounts=yes", "RestrictSUIDSGID=yes",
      "SystemCallFilter=@system-service", "SystemCallFilter=~@privileged", "SystemCallFilter=~@resources",
      "SystemCallErrorNumber=EPERM"),
      hardening_lines(main_unit([[paranoia = "strict", systemd_version = 235]])))
  end)

  it("gates values too: ProtectSystem=full, not strict, at 219", function()
    assert.are.same({
      "NoNewPrivileges=yes", "PrivateTmp=yes", "PrivateDevices=yes", "DevicePolicy=closed",
      "ProtectSystem=full", "ProtectHome=yes", "SystemCallArchitectures=native",
      "CapabilityBoundingSet=", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    }, hardening_lines(main_unit([[paranoia = "strict", systemd_version = 219]])))
  end)

  it("makes what the release writes land in writable directories", function()
    local text = main_unit([[paranoia = "strict", systemd_version = 252]])
    assert.truthy(text:find("\nUMask=0077\n", 1, true))
    assert.truthy(text:find("\nEnvironment=RUNTIME_DIR=/run/foo-bar\nEnvironment=LOGS_DIR=/var/log/foo-bar\n"
      .. "Environment=STATE_DIR=/var/lib/foo-bar\n", 1, true), text)
    assert.truthy(text:find("\nEnvironment=RELEASE_TMP=/run/foo-bar\n"
      .. "Environment=ERL_CRASH_DUMP=/var/log/foo-bar/erl_crash.dump\n"
      .. [[Environment="ERL_ZFLAGS=-mnesia dir '\"/var/lib/foo-bar/mnesia\"'"]] .. "\n"
      .. "Environment=ERL_EPMD_ADDRESS=127.0.0.1\n"
      .. 'Environment="ERL_AFLAGS=-kernel inet_dist_use_interface {127,0,0,1}"\n', 1, true), text)
    assert.truthy(text:find("\nRuntimeDirectory=foo-bar\n", 1, true))
    assert.truthy(text:find("\nLogsDirectory=foo-bar\n", 1, true))
    assert.truthy(text:find("\nStateDirectory=foo-bar\n", 1, true))
  end)

  it("uses RELEASE_MUTABLE_DIR for distillery and keeps what the user set", function()
    local text = main_unit([[paranoia = "strict", release_system = "distillery", clustering = true,
      env_vars = { "ERL_CRASH_DUMP=/dev/null" }, umask = "0027"]])
    assert.truthy(text:find("\nEnvironment=RELEASE_MUTABLE_DIR=/run/foo-bar\n", 1, true), text)
    assert.truthy(text:find("\nEnvironment=ERL_CRASH_DUMP=/dev/null\n", 1, true), text)
    assert.falsy(text:find("RELEASE_TMP", 1, true))
    assert.falsy(text:find("ERL_EPMD_ADDRESS", 1, true), "clustering keeps the distribution reachable")
    assert.truthy(text:find("\nUMask=0027\n", 1, true))
  end)

  it("adds nothing Erlang-specific to a plain program", function()
    local text = main_unit([[paranoia = "strict", release_system = "none", exec_start = "/usr/bin/true"]])
    assert.falsy(text:find("ERL_", 1, true))
    assert.falsy(text:find("RuntimeDirectory", 1, true))
  end)

  describe("knobs", function()
    it("capabilities: ambient and bounding set, without PrivateUsers", function()
      local lines = hardening_lines(main_unit([[paranoia = "strict", systemd_version = 252,
        capabilities = { "CAP_NET_BIND_SERVICE" }]]))
      local text = table.concat(lines, "\n")
      assert.truthy(text:find("CapabilityBoundingSet=CAP_NET_BIND_SERVICE\nAmbientCapabilities=CAP_NET_BIND_SERVICE", 1, true))
      assert.falsy(text:find("PrivateUsers", 1, true))
    end)

    it("network = \"local\" allows loopback only; network = false has no network", function()
      local tail = hardening_lines(main_unit([[paranoia = "strict", systemd_version = 252, network = "local"]]))
      assert.are.same({ "IPAddressDeny=any", "IPAddressAllow=localhost" }, { tail[#tail - 1], tail[#tail] })
      tail = hardening_lines(main_unit([[paranoia = "strict", systemd_version = 252, network = false]]))
      assert.are.same({ "IPAddressDeny=any", "IPAddressAllow=localhost", "PrivateNetwork=yes" },
        { tail[#tail - 2], tail[#tail - 1], tail[#tail] })
    end)

    it("address_families, memory_deny_write_execute, syscall_filter and hardening_extra", function()
      local text = table.concat(hardening_lines(main_unit([[paranoia = "strict", systemd_version = 252,
        address_families = { "AF_NETLINK" }, memory_deny_write_execute = false,
        syscall_filter = { "@resources" },
        hardening_extra = { TasksMax = 512, ProtectHostname = false, ReadOnlyPaths = { "/a", "/b" } }]])), "\n")
      assert.truthy(text:find("RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK", 1, true))
      assert.falsy(text:find("MemoryDenyWriteExecute", 1, true))
      assert.truthy(text:find("SystemCallFilter=~@resources\nSystemCallFilter=@resources\n", 1, true))
      assert.truthy(text:find("ProtectHostname=no\nReadOnlyPaths=/a\nReadOnlyPaths=/b\nTasksMax=512$"), text)
    end)

    it("are checked", function()
      local dir = uf.project([[return { app_name = "x", paranoia = "maximal", network = "lan",
        capabilities = { "NET_BIND" }, address_families = { "inet" }, syscall_filter = { "@bad group" },
        hardening_extra = { ["bad name"] = 1 } }]])
      local r = uf.run({ "deploy.lua" }, dir)
      uf.rm(dir)
      assert.are.equal(1, r.code)
      for _, expected in ipairs({
        'paranoia: expected true, false or "strict", got string "maximal"',
        'network: expected true, false or "local", got string "lan"',
        "capabilities[1]: expected a capability systemd knows, such as CAP_NET_BIND_SERVICE",
        "address_families[1]: expected an address family systemd knows, such as AF_NETLINK",
        "syscall_filter[1]: not a system call group of systemd 252",
        "hardening_extra: directive names look like ProtectClock, got bad name",
      }) do
        assert.truthy(r.stderr:find(expected, 1, true), expected .. "\n" .. r.stderr)
      end
    end)
  end)
end)

describe("exposure scores (systemd-analyze security --offline=yes, Phoenix example at 252)", function()
  local function score(args)
    local all = { "verify", PHOENIX, "--set", "systemd_version=252" }
    for _, a in ipairs(args) do all[#all + 1] = a end
    local r = uf.run(all)
    assert.are.equal(0, r.code, r.stdout .. r.stderr)
    return tonumber(r.stdout:match("phoenix%-shop%.service: exposure (%d+%.%d)"))
  end

  it("is 7.0 with paranoia = true, as with mix_systemd", function()
    assert.are.equal(7.0, score({ "--set", "paranoia=true" }))
  end)

  it("is at most 1.1 with the strict profile", function()
    assert.truthy(score({ "--set", "paranoia=strict" }) <= 1.1)
  end)

  it("is at most 0.9 serving loopback only", function()
    assert.truthy(score({ "--set", "paranoia=strict", "--set", "network=local" }) <= 0.9)
  end)

  it("is at most 0.5 without network", function()
    assert.truthy(score({ "--set", "paranoia=strict", "--set", "network=false" }) <= 0.5)
  end)

  it("is at most 1.0 chrooted", function()
    assert.truthy(score({ "--set", "paranoia=strict", "--set", "chroot=true" }) <= 1.0)
  end)
end)
