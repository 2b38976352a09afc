-- One block per key family of docs/keys.md, asserting the exact lines it
-- emits. Expectations are written from the contract, not from output.
local uf = require("uf")

-- The units of a config, by file name.
local function units(body, args)
  return uf.generated("return { app_name = \"foo_bar\",\n" .. body .. "\n}", args)
end

local function main_unit(body) return units(body)["foo-bar.service"] end

-- The lines of one section ("Unit", "Service", "Install").
local function section(text, name)
  local lines, inside = {}, false
  for _, line in ipairs(uf.lines(text)) do
    if line:match("^%[") then
      inside = line == "[" .. name .. "]"
    elseif inside and line ~= "" then
      lines[#lines + 1] = line
    end
  end
  return lines
end

-- The lines of [Service] that start with one of the given keys.
local function directives(text, ...)
  local wanted, out = {}, {}
  for _, k in ipairs({ ... }) do wanted[k] = true end
  for _, line in ipairs(section(text, "Service")) do
    local key = line:match("^([%w]+)=")
    if key and wanted[key] then out[#out + 1] = line end
  end
  return out
end

local DEFAULT_HEAD = {
  "Type=simple", "User=foo-bar", "Group=foo-bar", "WorkingDirectory=/srv/foo-bar/current",
}

describe("docs/keys.md", function()
  describe("section 2: directories", function()
    it("emits every kind's env var and directives in contract order", function()
      local text = main_unit([[dirs = { "tmp", "cache", "state", "logs", "configuration", "runtime" }]])
      assert.are.same({
        "Environment=RUNTIME_DIR=/run/foo-bar",
        "Environment=CONFIGURATION_DIR=/etc/foo-bar",
        "Environment=LOGS_DIR=/var/log/foo-bar",
        "Environment=CACHE_DIR=/var/cache/foo-bar",
        "Environment=STATE_DIR=/var/lib/foo-bar",
        "Environment=TMP_DIR=/var/tmp/foo-bar",
        "Environment=LANG=en_US.utf8",
        "Environment=MIX_ENV=prod",
      }, directives(text, "Environment"))
      assert.are.same({
        "RuntimeDirectory=foo-bar", "RuntimeDirectoryMode=750", "RuntimeDirectoryPreserve=no",
        "ConfigurationDirectory=foo-bar", "ConfigurationDirectoryMode=750",
        "LogsDirectory=foo-bar", "LogsDirectoryMode=750",
        "StateDirectory=foo-bar", "StateDirectoryMode=750",
        "CacheDirectory=foo-bar", "CacheDirectoryMode=750",
      }, directives(text, "RuntimeDirectory", "RuntimeDirectoryMode", "RuntimeDirectoryPreserve",
        "ConfigurationDirectory", "ConfigurationDirectoryMode", "LogsDirectory", "LogsDirectoryMode",
        "StateDirectory", "StateDirectoryMode", "CacheDirectory", "CacheDirectoryMode",
        "TmpDirectory", "TmpDirectoryMode"))
    end)

    it("keeps only RuntimeDirectory below systemd 235, env vars at every version", function()
      local text = main_unit([[dirs = { "runtime", "state", "logs" }, systemd_version = 219]])
      assert.are.same({ "RuntimeDirectory=foo-bar", "RuntimeDirectoryMode=750" },
        directives(text, "RuntimeDirectory", "RuntimeDirectoryMode", "RuntimeDirectoryPreserve",
          "StateDirectory", "StateDirectoryMode", "LogsDirectory", "LogsDirectoryMode"))
      assert.are.same({ "Environment=RUNTIME_DIR=/run/foo-bar", "Environment=LOGS_DIR=/var/log/foo-bar",
        "Environment=STATE_DIR=/var/lib/foo-bar", "Environment=LANG=en_US.utf8", "Environment=MIX_ENV=prod" },
        directives(text, "Environment"))
    end)

    it("takes name, base, mode and preserve per kind", function()
      local text = main_unit([[dirs = { "runtime", "state", "tmp" },
        runtime_directory = "rt", runtime_directory_mode = "700", runtime_directory_preserve = "restart",
        state_directory_base = "/data", state_directory = "st", state_directory_mode = "0755",
        tmp_directory_base = "/scratch", tmp_directory = "tp"]])
      assert.are.same({ "Environment=RUNTIME_DIR=/run/rt", "Environment=STATE_DIR=/data/st",
        "Environment=TMP_DIR=/scratch/tp", "Environment=LANG=en_US.utf8", "Environment=MIX_ENV=prod" },
        directives(text, "Environment"))
      assert.are.same({ "RuntimeDirectory=rt", "RuntimeDirectoryMode=700", "RuntimeDirectoryPreserve=restart",
        "StateDirectory=st", "StateDirectoryMode=0755" },
        directives(text, "RuntimeDirectory", "RuntimeDirectoryMode", "RuntimeDirectoryPreserve",
          "StateDirectory", "StateDirectoryMode"))
    end)

    it("derives tmp_dir from the tmp settings, not from logs (fix 4)", function()
      local text = main_unit([[dirs = { "tmp" }, logs_directory = "elsewhere",
        env_vars = { { "T=", ref.tmp_dir } }]])
      assert.truthy(text:find("\nEnvironment=TMP_DIR=/var/tmp/foo-bar\n", 1, true), text)
      assert.truthy(text:find("\nEnvironment=T=/var/tmp/foo-bar\n", 1, true), text)
    end)

    it("lets a K_dir override reach the env var", function()
      local text = main_unit([[dirs = { "configuration" }, configuration_dir = "/etc/custom"]])
      assert.truthy(text:find("\nEnvironment=CONFIGURATION_DIR=/etc/custom\n", 1, true), text)
    end)
  end)

  describe("section 3: process", function()
    it("runs a mix release with start, or daemon when forking, with the pid file", function()
      local text = main_unit([[service_type = "forking", dirs = { "runtime" }]])
      assert.are.same({ "Type=forking" }, directives(text, "Type"))
      assert.are.same({ "ExecStart=/srv/foo-bar/current/bin/foo_bar daemon",
        "ExecStop=/srv/foo-bar/current/bin/foo_bar stop" }, directives(text, "ExecStart", "ExecStop"))
      assert.truthy(text:find("\nEnvironment=PIDFILE=/run/foo-bar/foo_bar.pid\nPIDFile=/run/foo-bar/foo_bar.pid\nLimitNOFILE=65535\n", 1, true), text)
    end)

    it("runs distillery with foreground, or start when forking", function()
      assert.are.same({ "ExecStart=/srv/foo-bar/current/bin/foo_bar foreground" },
        directives(main_unit([[release_system = "distillery"]]), "ExecStart"))
      assert.are.same({ "ExecStart=/srv/foo-bar/current/bin/foo_bar start" },
        directives(main_unit([[release_system = "distillery", service_type = "forking"]]), "ExecStart"))
    end)

    it("accepts notify and exec types", function()
      assert.are.same({ "Type=notify" }, directives(main_unit([[service_type = "notify"]]), "Type"))
      assert.are.same({ "Type=exec" }, directives(main_unit([[service_type = "exec", systemd_version = 240]]), "Type"))
    end)

    it("takes start_command, exec_start, exec_stop and exec_start_pre", function()
      local text = main_unit([[start_command = "foreground",
        exec_start_pre = { "-/bin/true", { "+", ref.scripts_dir, "/migrate" }, "!/bin/setup" },
        exec_stop = { ref.scripts_dir, "/graceful-stop" }]])
      assert.are.same({
        "ExecStartPre=-/bin/true", "ExecStartPre=+/srv/foo-bar/bin/migrate", "ExecStartPre=!/bin/setup",
        "ExecStart=/srv/foo-bar/current/bin/foo_bar foreground", "ExecStop=/srv/foo-bar/bin/graceful-stop",
      }, directives(text, "ExecStartPre", "ExecStart", "ExecStop"))
      text = main_unit([[exec_start = "/usr/bin/env A=1 /bin/app run"]])
      assert.are.same({ "ExecStart=/usr/bin/env A=1 /bin/app run" }, directives(text, "ExecStart"))
    end)

    it("wraps the start command with exactly one space (fix 1), from a part list too", function()
      assert.are.same({ "ExecStart=/srv/foo-bar/bin/wrap /srv/foo-bar/current/bin/foo_bar start" },
        directives(main_unit([[exec_start_wrap = { ref.scripts_dir, "/wrap" }]]), "ExecStart"))
    end)

    it("runs a plain program with release_system none", function()
      local text = main_unit([[release_system = "none", exec_start = "/usr/bin/python3 -m http.server"]])
      assert.are.same({ "ExecStart=/usr/bin/python3 -m http.server" },
        directives(text, "ExecStart", "ExecStop"))
    end)

    it("emits env files, env vars, limits, umask, restart and timeouts in order", function()
      local text = main_unit([[env_files = { "-/etc/foo/env", "/etc/foo/required" },
        env_vars = { "A=1", "B=two" }, limit_nofile = 4096, limit_core = "infinity", umask = "0077",
        restart = "on-failure", restart_sec = 3, timeout_start_sec = 60, syslog_identifier = "fb",
        working_dir = "/var/lib/foo"]])
      assert.are.same({
        "Type=simple", "User=foo-bar", "Group=foo-bar", "WorkingDirectory=/var/lib/foo",
        "ExecStart=/srv/foo-bar/current/bin/foo_bar start", "ExecStop=/srv/foo-bar/current/bin/foo_bar stop",
        "Environment=LANG=en_US.utf8", "Environment=MIX_ENV=prod",
        "EnvironmentFile=-/etc/foo/env", "EnvironmentFile=/etc/foo/required",
        "Environment=A=1", "Environment=B=two",
        "LimitNOFILE=4096", "LimitCORE=infinity", "UMask=0077", "SyslogIdentifier=fb",
        "Restart=on-failure", "RestartSec=3", "TimeoutStartSec=60",
      }, section(text, "Service"))
    end)

    it("omits LimitNOFILE when limit_nofile is false", function()
      assert.are.same({}, directives(main_unit([[limit_nofile = false]]), "LimitNOFILE"))
    end)

    it("puts unit_after_targets on the After= line (fix 2)", function()
      local text = main_unit([[unit_after_targets = { "postgresql.service", "redis.service" }]])
      assert.are.same({ "Description=foo-bar service",
        "After=local-fs.target network.target postgresql.service redis.service" }, section(text, "Unit"))
    end)

    it("keeps the default order of [Service]", function()
      local s = section(main_unit(""), "Service")
      assert.are.same(DEFAULT_HEAD, { s[1], s[2], s[3], s[4] })
    end)
  end)

  describe("section 4: restart, runtime environment, security", function()
    it("adds the restart path and service for systemd_flag (fix 8: no [Install] on the service)", function()
      local u = units([[restart_method = "systemd_flag"]])
      assert.are.same({ "PathModified=/srv/foo-bar/flags/restart.flag", "# MakeDirectory=true",
        "# DirectoryMode=0750" }, section(u["foo-bar-restart.path"], "Path"))
      assert.are.same({ "WantedBy=multi-user.target" }, section(u["foo-bar-restart.path"], "Install"))
      local restart = u["foo-bar-restart.service"]
      assert.are.same({ "Type=oneshot", "ExecStart=/usr/bin/systemctl restart foo-bar.service" },
        section(restart, "Service"))
      assert.truthy(section(restart, "Unit")[2] == "After=local-fs.target")
      assert.falsy(restart:find("[Install]", 1, true))
    end)

    it("adds no units for the other restart methods", function()
      for _, method in ipairs({ "systemctl", "touch" }) do
        local names = {}
        for name in pairs(units(('restart_method = "%s"'):format(method))) do names[#names + 1] = name end
        assert.are.same({ "foo-bar.service" }, names)
      end
    end)

    it("makes the runtime environment unit and orders the app after it (fix 3)", function()
      local u = units([[dirs = { "runtime" }, runtime_environment_service_script = "write-env",
        runtime_environment_unit_after_targets = { "network-online.target" }, env_vars = { "A=1" }]])
      local main = u["foo-bar.service"]
      assert.are.same({ "Description=foo-bar service",
        "After=local-fs.target network.target foo-bar-runtime-environment.service",
        "Wants=foo-bar-runtime-environment.service" }, section(main, "Unit"))
      local env = u["foo-bar-runtime-environment.service"]
      assert.are.same({ "Description=foo-bar runtime environment",
        "After=local-fs.target network-online.target" }, section(env, "Unit"))
      assert.are.same({ "Type=oneshot", "User=foo-bar", "Group=foo-bar",
        "ExecStart=/srv/foo-bar/bin/write-env",
        "RuntimeDirectory=foo-bar", "RuntimeDirectoryMode=750", "RuntimeDirectoryPreserve=yes", "Environment=A=1" },
        section(env, "Service"))
    end)

    it("keeps the runtime environment with RemainAfterExit and PartOf below 235", function()
      local env = units([[runtime_environment_service_script = "write-env", systemd_version = 219]])
        ["foo-bar-runtime-environment.service"]
      assert.truthy(env:find("\nPartOf=foo-bar.service\n", 1, true), env)
      assert.truthy(env:find("\nRemainAfterExit=yes\n", 1, true), env)
      assert.falsy(env:find("RuntimeDirectoryPreserve", 1, true), env)
    end)

    local PARANOIA_BASE = { "NoNewPrivileges=yes", "PrivateDevices=yes", "PrivateTmp=yes",
      "ProtectSystem=full", "ProtectHome=yes" }
    local PARANOIA_232 = { "PrivateUsers=yes", "ProtectKernelModules=yes", "ProtectKernelTunables=yes",
      "ProtectControlGroups=yes" }
    local COMMENTS = { "# RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "# SELinuxContext=",
      "# AppArmorProfile=", "# SmackProcessLabel=" }

    local function tail(text, n)
      local s = section(text, "Service")
      local out = {}
      for i = #s - n + 1, #s do out[#out + 1] = s[i] end
      return out
    end

    local function concat(...)
      local out = {}
      for _, list in ipairs({ ... }) do for _, v in ipairs(list) do out[#out + 1] = v end end
      return out
    end

    for version, expected in pairs({
      [219] = concat(PARANOIA_BASE, COMMENTS),
      [232] = concat(PARANOIA_BASE, PARANOIA_232, COMMENTS),
      [235] = concat(PARANOIA_BASE, PARANOIA_232, { "MountAPIVFS=yes" }, COMMENTS),
    }) do
      it("ends [Service] with the paranoia set at systemd " .. version, function()
        local text = main_unit(("paranoia = true, systemd_version = %d"):format(version))
        assert.are.same(expected, tail(text, #expected))
        assert.are.equal("Restart=always", tail(text, #expected + 1)[1])
      end)
    end

    it("runs chrooted with paths inside the root and the host's system read-only", function()
      local text = main_unit([[chroot = true, dirs = { "runtime" }, systemd_version = 247]])
      assert.are.same({ "WorkingDirectory=/", "ExecStart=/bin/foo_bar start", "ExecStop=/bin/foo_bar stop" },
        directives(text, "WorkingDirectory", "ExecStart", "ExecStop"))
      assert.are.same({ "RootDirectory=/srv/foo-bar/current", "BindReadOnlyPaths=/usr /etc -/bin/sh -/lib64/ld-linux-x86-64.so.2 -/lib/ld-linux-aarch64.so.1",
        "MountAPIVFS=yes" }, tail(text, 3))
      text = main_unit([[chroot = true, root_directory = "/srv/jail", current_dir = "/srv/jail/app",
        systemd_version = 219]])
      assert.are.same({ "WorkingDirectory=/app", "ExecStart=/app/bin/foo_bar start", "ExecStop=/app/bin/foo_bar stop" },
        directives(text, "WorkingDirectory", "ExecStart", "ExecStop"))
      assert.are.same({ "Restart=always", "RootDirectory=/srv/jail" }, tail(text, 2))
    end)

    it("emits path lists with or without chroot (fix 7)", function()
      local text = main_unit([[read_write_paths = { "/var/lib/a", { ref.deploy_dir, "/data" } },
        read_only_paths = { "/etc/a" }, inaccessible_paths = { "/home", "/root" }]])
      assert.are.same({ "ReadWritePaths=/var/lib/a /srv/foo-bar/data", "ReadOnlyPaths=/etc/a",
        "InaccessiblePaths=/home /root" }, tail(text, 3))
    end)
  end)
end)
