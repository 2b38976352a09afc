-- What a new user runs into first (the command line, messages of the
-- sandbox and of filters, --set, --only): each answer says what is wrong
-- and what to do, and a mistake of the command line exits 2 before the
-- config runs.
local uf = require("uf")

local function run(config, args)
  local dir = uf.project(config)
  local before = uf.snapshot(dir)
  local r = uf.run(args or { "deploy.lua", "--stdout" }, dir)
  r.unchanged = uf.snapshot(dir) == before
  uf.rm(dir)
  return r
end

local function has(text, pattern)
  assert.truthy(text:find(pattern, 1, true), "expected «" .. pattern .. "» in:\n" .. text)
end

local CONFIG = 'return { app_name = "foo_bar" }'

describe("the command line", function()
  it("names the commands for a word that is neither a command nor a file", function()
    for _, args in ipairs({ { "install", "deploy.lua" }, { "genrate", "deploy.lua" }, { "deploy" } }) do
      local r = run(CONFIG, args)
      assert.are.equal(2, r.code, r.stderr)
      has(r.stderr, "unknown command '" .. args[1] .. "' (the commands: generate, show, verify, init, help")
    end
  end)

  it("takes a config whose name looks like a command when the file is there", function()
    local dir = uf.project(CONFIG)
    assert(uf.sh("cp " .. uf.quote(dir .. "/deploy.lua") .. " " .. uf.quote(dir .. "/production")) == 0)
    local r = uf.run({ "production", "--stdout" }, dir)
    uf.rm(dir)
    assert.are.equal(0, r.code, r.stderr)
    has(r.stdout, "Description=foo-bar service")
  end)

  it("answers help with the usage", function()
    local r = run(CONFIG, { "help" })
    assert.are.equal(0, r.code, r.stderr)
    has(r.stdout, "Usage: unitforge")
  end)

  it("lists every option in the synopsis", function()
    local r = run(CONFIG, { "--help" })
    local synopsis = r.stdout:match("^(.-)\n\n")
    for _, option in ipairs({ "--env", "--set", "--only", "--out", "--stdout", "--dry-run", "--json",
                              "--max-exposure", "--force", "--timeout", "--max-memory", "--help", "--version" }) do
      has(synopsis, option)
    end
  end)
end)

describe("the sandbox", function()
  for _, case in ipairs({
    { 'io.popen("id")', "io.popen is not available: a config cannot run programs" },
    { 'os.execute("id")', "os.execute is not available: a config cannot run programs" },
    { "os.exit(0)", "os.exit is not available: a config cannot end the run" },
    { 'os.remove("deploy.lua")', "os.remove is not available: a config cannot write, move or remove files" },
    { 'io.write("x")', "io.write is not available: a config has no default input or output" },
    { 'io.stdout:write("x")', "io.stdout is not available: standard output carries the units" },
    { "debug.traceback()", "the debug library is not available to a config" },
  }) do
    it("says why " .. case[1] .. " cannot run, at the caller's line", function()
      local r = run(case[1] .. "\nreturn { app_name = 'x' }")
      assert.are.equal(1, r.code, r.stderr)
      has(r.stderr, "unitforge: deploy.lua:1: ")
      has(r.stderr, case[2])
      assert.are.equal("", r.stdout)
    end)
  end

  it("leaves what is gone nil, so a config can test for it", function()
    local r = run('local host = io.popen and "popen" or "fallback"\n'
      .. 'return { app_name = "x", env_vars = { "HOST=" .. host } }')
    assert.are.equal(0, r.code, r.stderr)
    has(r.stdout, "Environment=HOST=fallback\n")
  end)
end)

describe("a filter that returns no text", function()
  it("is reported at the line where the filter is written", function()
    local r = run('return { app_name = "foo_bar",\n  filters = {\n    function(text) end } }')
    assert.are.equal(1, r.code, r.stderr)
    has(r.stderr, "filters[1] on foo-bar.service: deploy.lua:3: the filter returned nil")
  end)
end)

describe("filters and after_render", function()
  it("filter the units the hook adds too, once each", function()
    local r = run([[return { app_name = "foo_bar",
      filters = { function(text) return "# filtered\n" .. text end },
      hooks = { after_render = function(units)
        units[#units + 1] = { name = "foo-bar.service.d/nice.conf", text = "[Service]\nNice=5\n" }
      end } }]])
    assert.are.equal(0, r.code, r.stderr)
    has(r.stdout, "# foo-bar.service\n# filtered\n[Unit]")
    has(r.stdout, "# foo-bar.service.d/nice.conf\n# filtered\n[Service]\nNice=5\n")
    assert.falsy(r.stdout:find("# filtered\n# filtered", 1, true), r.stdout)
  end)
end)

describe("--set", function()
  for _, case in ipairs({
    { "paranoia=strcit", "--set paranoia: expected true, strict or false, got 'strcit'" },
    { "network=off", "--set network: expected true, local or false, got 'off'" },
    { "hardening_extra=x", "--set hardening_extra: the key takes a Lua table, which only a config can give" },
    { "dirs=runtime,stat", "--set dirs[2]: not one of the allowed values" },
    { "umask=999", "--set umask:" },
  }) do
    it("names --set KEY and exits 2 for " .. case[1], function()
      local r = run(CONFIG, { "deploy.lua", "--stdout", "--set", case[1] })
      assert.are.equal(2, r.code, r.stderr)
      has(r.stderr, "unitforge: " .. case[2])
      assert.falsy(r.stderr:find("deploy.lua", 1, true), r.stderr)
    end)
  end

  it("reads \\, as a comma inside a list item and \\\\ as a backslash", function()
    local r = run(CONFIG, { "deploy.lua", "--stdout", "--set", "exec_start_pre=/bin/echo a\\,b,/bin/echo c\\\\d" })
    assert.are.equal(0, r.code, r.stderr)
    has(r.stdout, "ExecStartPre=/bin/echo a,b\n")
    has(r.stdout, "ExecStartPre=/bin/echo c\\d\n")
  end)

  it("turns hooks, filters and hardening_extra off with false", function()
    local r = run([[return { app_name = "foo_bar", hooks = { after_resolve = function() error("hooked") end },
      filters = { function() return nil end }, hardening_extra = { ProtectClock = "yes" } }]],
      { "deploy.lua", "--stdout", "--set", "hooks=false", "--set", "filters=false", "--set", "hardening_extra=false" })
    assert.are.equal(0, r.code, r.stderr)
    assert.falsy(r.stdout:find("ProtectClock", 1, true), r.stdout)
  end)

  it("refuses the host's specifier mark", function()
    local r = run(CONFIG, { "deploy.lua", "--stdout", "--set", "app_user=ro\1ot" })
    assert.are.equal(2, r.code, r.stderr)
    has(r.stderr, "--set app_user: contains a control character")
  end)

  it("turns a list off with false", function()
    local r = run('return { app_name = "foo_bar", env_files = { "-/etc/foo.env" } }',
      { "deploy.lua", "--stdout", "--set", "env_files=false" })
    assert.are.equal(0, r.code, r.stderr)
    assert.falsy(r.stdout:find("EnvironmentFile", 1, true), r.stdout)
  end)
end)

describe("--only", function()
  local TWO = [[return {
    { app_name = "shop", service_name = "shop-staging", base_dir = "/srv/staging" },
    { app_name = "shop" } }]]

  it("renders only the services it names", function()
    local r = run(TWO, { "deploy.lua", "--stdout", "--only", "shop-staging" })
    assert.are.equal(0, r.code, r.stderr)
    has(r.stdout, "Description=shop-staging service")
    assert.falsy(r.stdout:find("Description=shop service", 1, true), r.stdout)
  end)

  it("writes only those services' files", function()
    local dir = uf.project(TWO)
    local r = uf.run({ "deploy.lua", "--only", "shop" }, dir)
    local out = dir .. "/_build/prod/systemd/lib/systemd/system/"
    local staging, prod = uf.exists(out .. "shop-staging.service"), uf.exists(out .. "shop.service")
    uf.rm(dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.falsy(staging)
    assert.truthy(prod)
  end)

  it("shows only those services", function()
    local r = run(TWO, { "show", "deploy.lua", "--only", "shop" })
    assert.are.equal(0, r.code, r.stderr)
    assert.falsy(r.stdout:find("shop-staging", 1, true), r.stdout)
    has(r.stdout, "# shop\n")
  end)

  it("is a usage error for a name no service has, listing the services", function()
    local r = run(TWO, { "deploy.lua", "--only", "shop-prod" })
    assert.are.equal(2, r.code, r.stderr)
    assert.truthy(r.unchanged)
    has(r.stderr, "--only shop-prod: no service of deploy.lua has that service_name (its services: shop-staging, shop)")
  end)

  it("still checks every service", function()
    local r = run([[return { { app_name = "shop" }, { app_name = "Bad" } }]], { "deploy.lua", "--only", "shop" })
    assert.are.equal(1, r.code, r.stderr)
    has(r.stderr, "services[2].app_name")
  end)
end)

describe("the strict profile's knobs", function()
  for _, knob in ipairs({ 'network = false', 'capabilities = { "CAP_NET_BIND_SERVICE" }',
                          'address_families = { "AF_NETLINK" }', "memory_deny_write_execute = false",
                          'syscall_filter = { "@resources" }', "clustering = true" }) do
    local key = knob:match("^[%w_]+")
    it("refuse " .. key .. " without paranoia = \"strict\"", function()
      for _, paranoia in ipairs({ "", ", paranoia = true" }) do
        local r = run('return { app_name = "foo_bar", ' .. knob .. paranoia .. " }")
        assert.are.equal(1, r.code, r.stderr)
        has(r.stderr, "deploy.lua: " .. key .. ': works only with paranoia = "strict"')
      end
      local r = run('return { app_name = "foo_bar", paranoia = "strict", ' .. knob .. " }")
      assert.are.equal(0, r.code, r.stderr)
    end)
  end

  it("are no error where they change nothing: the default, or nil from a function", function()
    local r = run('return { app_name = "foo_bar", network = true, capabilities = {}, '
      .. 'memory_deny_write_execute = function(c) if c.paranoia == "strict" then return false end end }')
    assert.are.equal(0, r.code, r.stderr)
  end)

  it("are ignored with a warning when --set turns the profile off", function()
    local r = run('return { app_name = "foo_bar", paranoia = "strict", network = "local" }',
      { "deploy.lua", "--stdout", "--set", "paranoia=false" })
    assert.are.equal(0, r.code, r.stderr)
    has(r.stderr, 'unitforge: warning: deploy.lua: network: ignored: --set paranoia turned off what it works with')
    assert.falsy(r.stdout:find("IPAddressDeny", 1, true), r.stdout)
  end)

  it("add no problem to a wrong paranoia", function()
    local r = run('return { app_name = "foo_bar", paranoia = "strcit", network = "local" }')
    assert.are.equal(1, r.code, r.stderr)
    assert.falsy(r.stderr:find("works only with", 1, true), r.stderr)
  end)

  it("leave hardening_extra working at every level", function()
    local r = run('return { app_name = "foo_bar", hardening_extra = { ProtectClock = "yes" } }')
    assert.are.equal(0, r.code, r.stderr)
    has(r.stdout, "\nProtectClock=yes\n")
  end)
end)

describe("two services of one run", function()
  it("cannot share a runtime directory or a restart flag file", function()
    local r = run([[return {
      { app_name = "shop", service_name = "shop-staging", restart_method = "systemd_flag", dirs = { "runtime" },
        runtime_directory = "shop" },
      { app_name = "shop", restart_method = "systemd_flag", dirs = { "runtime" } } }]])
    assert.are.equal(1, r.code, r.stderr)
    assert.truthy(r.unchanged)
    has(r.stderr, "deploy.lua: services[2].runtime_directory: services[1] (shop-staging) has the runtime directory /run/shop too")
    has(r.stderr, "deploy.lua: services[2].flags_dir: services[1] (shop-staging) has the restart flag file "
      .. "/srv/shop/flags/restart.flag too; touching it restarts both")
  end)

  it("cannot share one through two spellings of its path", function()
    local r = run([[return {
      { app_name = "a", restart_method = "systemd_flag", flags_dir = "/srv/x/flags" },
      { app_name = "b", restart_method = "systemd_flag", flags_dir = "/srv//x/./flags/" } }]])
    assert.are.equal(1, r.code, r.stderr)
    has(r.stderr, "services[2].flags_dir: services[1] (a) has the restart flag file /srv/x/flags/restart.flag too")
  end)

  it("may each have their own", function()
    local r = run([[return {
      { app_name = "shop", service_name = "shop-staging", base_dir = "/srv/staging", restart_method = "systemd_flag",
        dirs = { "runtime" } },
      { app_name = "shop", restart_method = "systemd_flag", dirs = { "runtime" } } }]])
    assert.are.equal(0, r.code, r.stderr)
  end)

  it("share nothing through a directory a service does not have", function()
    local r = run([[return { { app_name = "a", runtime_directory = "x" }, { app_name = "b", runtime_directory = "x" } }]])
    assert.are.equal(0, r.code, r.stderr)
  end)
end)

describe("a config carried over from mix_systemd", function()
  for _, case in ipairs({
    { "distillery = true", 'distillery: obsolete key of mix_systemd: replaced by release_system = "distillery"' },
    { "runtime_environment_wrap = true", "runtime_environment_wrap: obsolete key of mix_systemd: replaced by exec_start_wrap" },
    { 'runtime_environment_service_after = "cloud-init.target"',
      "runtime_environment_service_after: obsolete key of mix_systemd: replaced by runtime_environment_unit_after_targets" },
  }) do
    it("hears what replaced " .. case[1]:match("^[%w_]+"), function()
      local r = run('return { app_name = "foo_bar", ' .. case[1] .. " }")
      assert.are.equal(1, r.code, r.stderr)
      has(r.stderr, "deploy.lua: " .. case[2])
    end)
  end

  it("hears the same from --set", function()
    local r = run(CONFIG, { "deploy.lua", "--set", "distillery=true" })
    assert.are.equal(2, r.code, r.stderr)
    has(r.stderr, "--set distillery: obsolete key of mix_systemd")
  end)

  it("hears that only - is a prefix of env_files", function()
    local r = run('return { app_name = "foo_bar", env_files = { { "!", "/etc/foo.env" } } }')
    assert.are.equal(1, r.code, r.stderr)
    has(r.stderr, "deploy.lua: env_files[1]: only '-' (the file may be missing) is a prefix in EnvironmentFile=")
  end)

  it("hears which systemd_version a service_type needs", function()
    local r = run('return { app_name = "foo_bar", service_type = "exec" }')
    assert.are.equal(1, r.code, r.stderr)
    has(r.stderr, 'deploy.lua: service_type: "exec" needs systemd_version >= 240, target is 235')
  end)

  it("turns limit_nofile off with false", function()
    local r = run('return { app_name = "foo_bar", limit_nofile = false }')
    assert.are.equal(0, r.code, r.stderr)
    assert.falsy(r.stdout:find("LimitNOFILE", 1, true), r.stdout)
  end)
end)

describe("a plain program (release_system = \"none\")", function()
  local WORKER = [[return { app_name = "mail-worker", release_system = "none",
    exec_start = "/usr/bin/python3 -m mailer" }]]

  it("gets nothing of a release: no MIX_ENV, no LANG, no release folder", function()
    local r = run(WORKER)
    assert.are.equal(0, r.code, r.stderr)
    for _, elixir in ipairs({ "MIX_ENV", "LANG=", "WorkingDirectory", "/current", "/bin/mail-worker" }) do
      assert.falsy(r.stdout:find(elixir, 1, true), elixir .. " in:\n" .. r.stdout)
    end
    has(r.stdout, "User=mail-worker\n")
    has(r.stdout, "ExecStart=/usr/bin/python3 -m mailer\n")
  end)

  it("gets them when its config asks", function()
    local r = run([[return { app_name = "mail-worker", release_system = "none", exec_start = "/usr/bin/mailer",
      env_lang = "C.UTF-8", working_dir = "/srv/mail-worker" }]])
    assert.are.equal(0, r.code, r.stderr)
    has(r.stdout, "WorkingDirectory=/srv/mail-worker\n")
    has(r.stdout, "Environment=LANG=C.UTF-8\n")
  end)

  it("may have any name a unit may, while a release's stays an OTP application's", function()
    local r = run('return { app_name = "mail-worker" }')
    assert.are.equal(1, r.code, r.stderr)
    has(r.stderr, "deploy.lua: app_name: expected a lower-case name: [a-z][a-z0-9_]*, an OTP application's")
    r = run('return { app_name = "mail.worker", release_system = "none", exec_start = "/bin/true" }')
    assert.are.equal(1, r.code, r.stderr)
    has(r.stderr, "deploy.lua: app_name: expected [a-z][a-z0-9_]* (a release's, an OTP application's), or for "
      .. 'release_system = "none" a user\'s name')
    assert.falsy(r.stderr:find("app_user", 1, true), "no second problem for the names made from it:\n" .. r.stderr)
    r = run('return { app_name = "foo.bar" }')
    assert.are.equal(1, r.code, r.stderr)
    has(r.stderr, "deploy.lua: app_name:")
    assert.falsy(r.stderr:find("app_user", 1, true), r.stderr)
  end)

  it("keeps a release's defaults for a release", function()
    local r = run(CONFIG)
    has(r.stdout, "WorkingDirectory=/srv/foo-bar/current\n")
    has(r.stdout, "Environment=LANG=en_US.utf8\nEnvironment=MIX_ENV=prod\n")
  end)
end)

describe("a message about a value with a specifier", function()
  it("shows the specifier as the user means it", function()
    local r = run('return { app_name = "foo_bar", exec_start_pre = { { specifier.i } } }')
    assert.are.equal(1, r.code, r.stderr)
    has(r.stderr, 'got string "%i"')
  end)
end)

describe("a ref to a directory the service does not have", function()
  local CONFIG_REF = 'return { app_name = "foo_bar", env_vars = { { "CACHE=", ref.cache_dir } } }'

  it("is a warning naming what nothing creates, and the units are still written", function()
    local r = run(CONFIG_REF)
    assert.are.equal(0, r.code, r.stderr)
    has(r.stderr, 'unitforge: warning: deploy.lua: env_vars: ref.cache_dir is /var/cache/foo-bar, '
      .. 'which nothing creates: dirs lacks "cache"')
    has(r.stdout, "Environment=CACHE=/var/cache/foo-bar\n")
  end)

  it("fails verify", function()
    local r = run(CONFIG_REF, { "verify", "deploy.lua" })
    assert.are.equal(1, r.code, r.stderr)
    has(r.stderr, "ref.cache_dir is /var/cache/foo-bar, which nothing creates")
    has(r.stderr, "verify: deploy.lua did not pass: 1 warning (above)")
  end)

  it("names every way to make it, the same in every run", function()
    for _ = 1, 5 do
      local r = run('return { app_name = "foo_bar", env_vars = { { "RUN=", ref.runtime_dir } } }')
      has(r.stderr, 'ref.runtime_dir is /run/foo-bar, which nothing creates: dirs lacks "runtime", '
        .. "runtime_environment_service_script is not set\n")
    end
  end)

  it("is no warning from a key that does not matter, or for a directory's name", function()
    for _, config in ipairs({
      'return { app_name = "foo_bar", root_directory = ref.state_dir }',
      'return { app_name = "foo_bar", dirs = { "cache" }, cache_directory = ref.state_directory }',
    }) do
      local r = run(config)
      assert.are.equal(0, r.code, r.stderr)
      assert.are.equal("", r.stderr)
    end
  end)

  it("is no warning once the directory is made", function()
    for _, config in ipairs({
      'return { app_name = "foo_bar", dirs = { "cache" }, env_vars = { { "CACHE=", ref.cache_dir } } }',
      'return { app_name = "foo_bar", runtime_environment_service_script = "env.sh", '
        .. 'env_vars = { { "RUN=", ref.runtime_dir } } }',
    }) do
      local r = run(config)
      assert.are.equal(0, r.code, r.stderr)
      assert.are.equal("", r.stderr)
    end
  end)
end)
