-- Values systemd would refuse, drop or change are refused, naming the
-- key; the ones it takes are written so that it reads them back exactly
-- (uf.systemd_parse: systemd's own parser). Black-box: config in,
-- exit status, message and units out.
local uf = require("uf")

local OUT = "/_build/prod/systemd/lib/systemd/system/"

-- Runs `config`; asserts exit 1, every pattern in stderr, and the output
-- folder as it was.
local function refused(config, patterns)
  local dir = uf.project(config)
  uf.write(dir .. OUT .. "keep.service", "[Unit]\n")
  local before = uf.snapshot(dir)
  local r = uf.run({ "deploy.lua" }, dir)
  local after = uf.snapshot(dir)
  uf.rm(dir)
  assert.are.equal(1, r.code, r.stderr)
  for _, p in ipairs(patterns) do
    assert.truthy(r.stderr:find(p, 1, true), "expected «" .. p .. "» in:\n" .. r.stderr)
  end
  assert.are.equal(before, after)
  return r.stderr
end

-- Writes `config`'s units and returns systemd's parse of `unit`, which
-- must have no complaint.
local function parsed(config, unit)
  local dir = uf.project(config)
  uf.sh("chmod 755 " .. uf.quote(dir))
  local r = uf.run({ "deploy.lua", "--out", "." }, dir)
  assert.are.equal(0, r.code, r.stderr)
  local p = uf.systemd_parse(dir .. "/lib/systemd/system", unit or "x.service")
  p.text = uf.read(dir .. "/lib/systemd/system/" .. (unit or "x.service"))
  uf.rm(dir)
  assert.are.same({}, p.complaints, p.text)
  return p
end

local function service(fields)
  return "return { app_name = 'x', systemd_version = 252, " .. fields .. " }"
end

describe("executables", function()
  for _, case in ipairs({
    { "exec_start", 'release_system = "none", exec_start = "bin/app start"' },
    { "exec_start", 'release_system = "none", exec_start = "./app"' },
    { "exec_start", 'release_system = "none", exec_start = "-bin/app"' },
    { "exec_start_pre[1]", 'exec_start_pre = { "scripts/pre.sh" }' },
    { "exec_start_pre[2]", 'exec_start_pre = { "/bin/true", "scripts/pre.sh --flag" }' },
    { "exec_stop", 'exec_stop = "bin/app stop"' },
    { "exec_start_wrap", 'exec_start_wrap = "wrap/env"' },
    { "exec_start", 'release_system = "none", exec_start = { "bin/", ref.app_name }' },
    { "exec_start_pre[1]", 'exec_start_pre = { "/bin/true ; rel/x" }' },
  }) do
    it("refuses a relative executable in " .. case[1] .. " (" .. case[2] .. ")", function()
      refused(service(case[2]), { "deploy.lua: " .. case[1] .. ": a relative executable" })
    end)
  end

  it("refuses a bare program name before systemd 239 and writes it from 239", function()
    refused("return { app_name = 'x', systemd_version = 238, release_system = 'none', exec_start = 'myapp --serve' }",
      { "exec_start: a bare program name needs systemd_version >= 239" })
    refused("return { app_name = 'x', systemd_version = 235, exec_start_pre = { '!setup' } }",
      { "exec_start_pre[1]: a bare program name needs systemd_version >= 239" })
    local p = parsed(service("release_system = 'none', exec_start = 'true --serve'"))
    assert.are.same({ "true", "--serve" }, p.commands.ExecStart)
  end)

  for _, case in ipairs({
    { 'base_dir = "/srv/it\'s"', "exec_start", "quotes and backslashes" },
    { 'base_dir = "/srv/a\\\\b"', "exec_start", "backslash" },
    { 'base_dir = "/srv/a\\"b"', "exec_start", "quotes and backslashes" },
    { 'release_system = "none", exec_start = { ref.deploy_dir, "/bin/x" }, deploy_dir = "/opt/q\'s"', "exec_start",
      "quotes and backslashes" },
    { 'release_system = "none", exec_start = "/bin/\\"unclosed"', "exec_start", "quote" },
    { 'release_system = "none", exec_start = "/bin/echo \'unclosed"', "exec_start", "a quote is not closed" },
    { 'release_system = "none", exec_start = "/srv/app/"', "exec_start", "names a folder" },
    { 'release_system = "none", exec_start = "-"', "exec_start", "expected a command" },
    { 'release_system = "none", exec_start = "   "', "exec_start", "expected a command" },
    { 'release_system = "none", exec_start = "/" .. ("a"):rep(256) .. "/x"', "exec_start", "255 bytes" },
    { 'release_system = "none", exec_start = ("/aaaaaaaa"):rep(460)', "exec_start", "4095 bytes" },
  }) do
    it("refuses an executable systemd would refuse: " .. case[1], function()
      refused(service(case[1]), { "deploy.lua: " .. case[2] .. ":", case[3] })
    end)
  end

  it("keeps '$' in an executable that comes from data, and doubles it in arguments", function()
    local p = parsed(service([[base_dir = "/srv/a$b c", exec_start_pre = { { ref.deploy_dir, "/bin/pre ", ref.deploy_dir } },
      runtime_environment_service_script = "env$1.sh"]]))
    assert.are.same({ "/srv/a$b c/x/current/bin/x", "start" }, p.commands.ExecStart)
    assert.are.same({ "/srv/a$b c/x/current/bin/x", "stop" }, p.commands.ExecStop)
    -- systemd prints the line before substitution: "$$" reaches the process as "$"
    assert.are.same({ "/srv/a$b c/x/bin/pre", "/srv/a$$b c/x" }, p.commands.ExecStartPre)
    local env = parsed(service([[base_dir = "/srv/a$b", runtime_environment_service_script = "env$1.sh"]]),
      "x-runtime-environment.service")
    assert.are.same({ "/srv/a$b/x/bin/env$1.sh" }, env.commands.ExecStart)
  end)

  it("keeps '$' in a wrapped release path an argument, so it is doubled", function()
    local p = parsed(service([[base_dir = "/srv/$x", exec_start_wrap = "/usr/bin/env"]]))
    assert.are.same({ "/usr/bin/env", "/srv/$$x/x/current/bin/x", "start" }, p.commands.ExecStart)
  end)

  it("escapes data inside a quote the command line opened", function()
    local p = parsed(service([[release_system = "none", deploy_dir = '/srv/a"b $c',
      exec_start = { '/bin/echo "[', ref.deploy_dir, ']"' }]]))
    assert.are.same({ "/bin/echo", "[/srv/a\"b $$c]" }, p.commands.ExecStart)
  end)
end)

describe("directory names", function()
  local kinds = { "runtime", "configuration", "logs", "state", "cache" }
  local directive = { runtime = "RuntimeDirectory", configuration = "ConfigurationDirectory", logs = "LogsDirectory",
    state = "StateDirectory", cache = "CacheDirectory" }
  for _, value in ipairs({ "a b", "it's", [[back\slash]], "50%", "$HOME", "ünï", "a;b", "-dash", "nested/dir", "#x",
    "a:b", 'a"b', [[q"u:o\te's]], "trailing ", " leading", "tab\there", "x/private" }) do
    it(("writes %q so that systemd makes exactly that directory"):format(value), function()
      local fields = {}
      for _, kind in ipairs(kinds) do fields[#fields + 1] = ("%s_directory = %q"):format(kind, value) end
      local p = parsed(service(('dirs = { "runtime", "configuration", "logs", "state", "cache" }, %s')
        :format(table.concat(fields, ", "))))
      for _, kind in ipairs(kinds) do
        assert.are.same({ value }, p.fields[directive[kind]], directive[kind] .. "\n" .. p.text)
      end
      assert.truthy(p.text:find("RUNTIME_DIR", 1, true))
      local found = false
      for _, e in ipairs(p.env) do found = found or e == "RUNTIME_DIR=/run/" .. value end
      assert.is_true(found, p.text)
    end)
  end

  it("refuses ':' in a directory name below systemd 250, where it cannot be escaped", function()
    refused("return { app_name = 'x', systemd_version = 249, dirs = { 'state' }, state_directory = 'a:b' }",
      { "deploy.lua: state_directory: a ':' in a directory name needs systemd_version >= 250" })
  end)

  for _, case in ipairs({
    { "private", "'private'" },
    { "private/x", "'private'" },
    { "a/./b", "normalized" },
    { "a//b", "normalized" },
    { "a/", "normalized" },
    { "./a", "normalized" },
    { "../a", "'..'" },
    { "/abs", "relative" },
    { "", "empty" },
    { ("d"):rep(256), "255 bytes" },
  }) do
    for _, kind in ipairs({ "runtime", "state", "logs" }) do
      it(("refuses %s_directory = %q"):format(kind, case[1]), function()
        refused(service(('dirs = { "%s" }, %s_directory = %q'):format(kind, kind, case[1])),
          { "deploy.lua: " .. kind .. "_directory:", case[2] })
      end)
    end
  end
end)

describe("values written whole", function()
  for _, case in ipairs({
    { 'working_dir = "/srv/x "', "working_dir" },
    { 'working_dir = "/srv/x\t"', "working_dir" },
    { 'current_dir = "/srv/x/current "', "working_dir" }, -- the default that takes it whole
    { 'working_dir = "/srv/x\\\\"', "working_dir: a final backslash" },
    { 'service_type = "forking", pid_file = "/run/x\\\\"', "pid_file: a final backslash" },
    { 'unit_after_targets = { "a\\\\" }', "unit_after_targets[1]" },
    { 'env_files = { "/etc/x.env " }', "env_files[1]" },
    { 'env_files = { "-/etc/x.env\t" }', "env_files[1]" },
    { 'syslog_identifier = " app"', "syslog_identifier" },
    { 'syslog_identifier = "app "', "syslog_identifier" },
    { 'restart_sec = "5s "', "restart_sec" },
    { 'timeout_start_sec = " 1min"', "timeout_start_sec" },
    { 'chroot = true, root_directory = "/srv/root "', "root_directory" },
    { 'paranoia = "strict", hardening_extra = { TasksMax = " 50" }', "hardening_extra" },
    { 'syslog_identifier = ""', "syslog_identifier: expected 1 to 254 bytes" },
    { 'syslog_identifier = ("i"):rep(255)', "syslog_identifier: expected 1 to 254 bytes" },
    { 'read_write_paths = { "+-/srv/data" }', "read_write_paths[1]: expected an absolute path" },
    { 'read_only_paths = { "--/srv/data" }', "read_only_paths[1]: expected an absolute path" },
    { 'release_name = "."', "release_name: expected a normalized path" },
  }) do
    it("refuses edge whitespace systemd would strip: " .. case[1], function()
      refused(service(case[1]), { "deploy.lua: " .. case[2] })
    end)
  end

  it("keeps inner whitespace, which systemd keeps, and edges where the value goes on", function()
    local p = parsed(service([[working_dir = "/srv/my app", env_files = { "-/etc/my app.env" },
      syslog_identifier = "my app", base_dir = "/srv ", restart_method = "systemd_flag",
      read_write_paths = { "-+/srv/a b " }]]))
    assert.are.same({ "/srv/my app" }, p.fields.WorkingDirectory)
    assert.are.same({ "-/etc/my app.env" }, p.fields.EnvironmentFile) -- "-": optional, as written
    assert.are.same({ "/srv /x/current/bin/x", "start" }, p.commands.ExecStart)
  end)

  it("escapes an EnvironmentFile= path, which systemd expands as a glob", function()
    local p = parsed(service([=[env_files = { [[-/etc/a\b*c?d[e]\]] }]=]))
    assert.are.same({ [[-/etc/a\\b\*c\?d\[e]\\]] }, p.fields.EnvironmentFile)
  end)
end)

describe("paths longer than systemd takes", function()
  local long_name = ("n"):rep(256)
  local long_path = ("/abcdefghi"):rep(410) -- 4100 bytes
  for _, case in ipairs({
    { ("working_dir = %q"):format("/srv/" .. long_name), "working_dir", "255 bytes" },
    { ("env_files = { %q }"):format(long_path), "env_files[1]", "4095 bytes" },
    { ("read_write_paths = { %q }"):format("-" .. long_path), "read_write_paths[1]", "4095 bytes" },
    { ("inaccessible_paths = { %q }"):format("/srv/" .. long_name), "inaccessible_paths[1]", "255 bytes" },
    { ("read_only_paths = { %q }"):format(long_path), "read_only_paths[1]", "4095 bytes" },
    { ("base_dir = %q"):format(long_path), "base_dir", "4095 bytes" },
  }) do
    it("refuses " .. case[2] .. " (" .. case[3] .. ")", function()
      refused(service(case[1]), { "deploy.lua: " .. case[2] .. ":", case[3] })
    end)
  end

  it("refuses defaults that the user's parts make too long, naming the key that reaches systemd", function()
    local base = ("/b"):rep(2045) -- 4090 bytes: fine alone
    refused(service(("base_dir = %q"):format(base)), { "deploy.lua: working_dir:", "4095 bytes" })
    -- PathModified= takes flags_dir/restart.flag
    refused(service(("base_dir = %q, restart_method = 'systemd_flag'"):format(("/b"):rep(2042))),
      { "deploy.lua: flags_dir:", "4095 bytes", "restart.flag" })
    refused(service(("service_type = 'forking', dirs = { 'runtime' }, runtime_directory_base = %q"):format(base)),
      { "deploy.lua: pid_file:", "4095 bytes" })
  end)
end)

describe("tabs", function()
  it("reach the process in Environment= values and command arguments", function()
    local p = parsed(service([[release_system = "none", env_vars = { "T=a\tb", "U=\t" },
      exec_start = { "/bin/printf ", function() return "x\ty" end }]]))
    local env = {}
    for _, e in ipairs(p.env) do env[e] = true end
    assert.is_true(env["T=a\tb"], p.text)
    assert.is_true(env["U=\t"], p.text)
    assert.are.same({ "/bin/printf", "x\ty" }, p.commands.ExecStart)
  end)

  it("reach systemd inside paths and names written whole or quoted", function()
    local p = parsed(service([[working_dir = "/srv/a	b", env_files = { "/etc/a	b" }, syslog_identifier = "a	b",
      dirs = { "state" }, state_directory = "s	t", read_write_paths = { "/srv/r	w" }]]))
    assert.are.same({ "/srv/a	b" }, p.fields.WorkingDirectory)
    assert.are.same({ "/etc/a	b" }, p.fields.EnvironmentFile)
    assert.are.same({ "s	t" }, p.fields.StateDirectory)
  end)

  it("separate words where the command line itself has them", function()
    local p = parsed(service([[release_system = "none", exec_start = "/bin/printf\ta\tb"]]))
    assert.are.same({ "/bin/printf", "a", "b" }, p.commands.ExecStart)
  end)

  for _, case in ipairs({
    { 'base_dir = "/srv/a\tb"', "exec_start: systemd refuses a control character in the executable" },
    { 'release_system = "none", exec_start = { ref.deploy_dir, "/x" }, deploy_dir = "/a\tb"', "exec_start: systemd refuses a control character" },
    { 'syslog_identifier = "ab\t"', "syslog_identifier: systemd strips whitespace" },
    { 'working_dir = "\t/srv"', "working_dir: expected an absolute path" },
  }) do
    it("are refused where systemd would not carry them: " .. case[2], function()
      refused(service(case[1]), { "deploy.lua: " .. case[2] })
    end)
  end
end)

describe("values systemd would drop with a log line", function()
  for _, case in ipairs({
    { 'restart_sec = "5 apples"', "restart_sec" }, { 'restart_sec = "s"', "restart_sec" },
    { 'restart_sec = "5."', "restart_sec" }, { 'restart_sec = "5mins"', "restart_sec" },
    { 'timeout_start_sec = "1..5"', "timeout_start_sec" }, { 'timeout_start_sec = "-1"', "timeout_start_sec" },
    { 'limit_core = ""', "limit_core" }, { 'limit_core = "1:2:3"', "limit_core" },
    { 'limit_nofile = "::"', "limit_nofile" }, { 'limit_nofile = "1:"', "limit_nofile" },
    { 'unit_after_targets = { ".service" }', "unit_after_targets[1]" },
    { 'unit_after_targets = { "foo.bar" }', "unit_after_targets[1]" },
    { 'unit_after_targets = { "@.service" }', "unit_after_targets[1]" },
    { 'unit_after_targets = { "a@.service" }', "unit_after_targets[1]: is a template" },
    { 'unit_after_targets = { ("a"):rep(300) .. ".service" }', "unit_after_targets[1]" },
    { 'runtime_environment_service_script = "s.sh", runtime_environment_unit_after_targets = { "x" }',
      "runtime_environment_unit_after_targets[1]" },
  }) do
    it("refuses " .. case[1], function()
      refused(service(case[1]), { "deploy.lua: " .. case[2] })
    end)
  end

  it("takes what systemd takes, as it reads it", function()
    local p = parsed(service([[restart_sec = "1min 30s", timeout_start_sec = "5s5", limit_nofile = "1024:4096",
      limit_core = "infinity", unit_after_targets = { "a@b.service", "network-online.target" }]]))
    assert.are.same({ "1min 30s" }, p.fields.RestartSec)
    assert.are.same({ "10s" }, p.fields.TimeoutStartSec)
  end)

  for _, case in ipairs({
    { "--/bin/a", "a relative executable" }, { "+!/bin/b", "a relative executable" },
    { "@@/bin/c x", "a relative executable" }, { "!!!/bin/d", "a relative executable" },
    { "@/bin/e", "the '@' prefix needs" }, { "-@/bin/g", "the '@' prefix needs" },
  }) do
    it("refuses the prefixes systemd refuses: " .. case[1], function()
      refused(service(('exec_start_pre = { %q }'):format(case[1])), { "deploy.lua: exec_start_pre[1]: " .. case[2] })
    end)
  end

  it("takes the prefixes systemd takes", function()
    local p = parsed(service([[exec_start_pre = { "-@/bin/true true-ish", "!!/bin/true", ":+/bin/true", "-!/bin/true" }]]))
    assert.truthy(p.text:find("ExecStartPre=!!/bin/true", 1, true), p.text)
  end)

  it("refuses several commands in exec_start unless the service is oneshot", function()
    refused(service('release_system = "none", exec_start = "/bin/a ; /bin/b"'),
      { "deploy.lua: exec_start: systemd takes one command here" })
    local p = parsed(service('release_system = "none", service_type = "oneshot", exec_start = "/bin/true ; /bin/true x"'))
    assert.truthy(p.text:find("ExecStart=/bin/true ; /bin/true x", 1, true), p.text)
  end)

  it("takes any *_directory_base where no directive asks systemd to make the folder", function() -- as mix_systemd
    local text = uf.unit_text("return { app_name = 'x', systemd_version = 232, dirs = { 'state', 'tmp' }, "
      .. "state_directory_base = '/srv/st', tmp_directory_base = '/srv/tmp' }")
    assert.truthy(text:find("Environment=STATE_DIR=/srv/st/x", 1, true), text)
    assert.truthy(text:find("Environment=TMP_DIR=/srv/tmp/x", 1, true), text)
  end)
end)

describe("more values systemd drops", function()
  for _, case in ipairs({
    { 'timeout_start_sec = 2e13', "timeout_start_sec" },
    { 'timeout_start_sec = "18446744073710"', "timeout_start_sec" },
    { 'restart_sec = "584942y"', "restart_sec" }, { 'restart_sec = "213503982d"', "restart_sec" },
    { 'restart_sec = "5124095576h"', "restart_sec" }, { 'restart_sec = "99999999999999999999s"', "restart_sec" },
    { 'restart_sec = "1.5.5s"', "restart_sec" },
    { 'limit_nofile = "10:5"', "limit_nofile: the soft limit is higher" },
    { 'limit_core = "infinity:5"', "limit_core: the soft limit is higher" },
    { 'paranoia = "strict", capabilities = { "CAP_BOGUS" }', "capabilities[1]" },
    { 'paranoia = "strict", address_families = { "AF_BOGUS" }', "address_families[1]" },
    { 'paranoia = "strict", syscall_filter = { "@bogus" }', "syscall_filter[1]" },
    { 'paranoia = "strict", syscall_filter = { "~@also-bogus" }', "syscall_filter[1]" },
  }) do
    it("refuses " .. case[1], function()
      refused(service(case[1]), { "deploy.lua: " .. case[2] })
    end)
  end

  it("takes the longest spans systemd counts, and the names it knows", function()
    local p = parsed(service([[restart_sec = "213503981d", timeout_start_sec = "584541y", limit_nofile = "5:infinity",
      paranoia = "strict", capabilities = { "CAP_NET_BIND_SERVICE", "CAP_BPF" }, address_families = { "AF_NETLINK" },
      syscall_filter = { "@resources", "~@mount", "~ptrace" }]]))
    assert.truthy(p.text:find("CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_BPF", 1, true), p.text)
  end)
end)
