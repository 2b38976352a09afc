-- show, show --json, --set and verify, through the binary.
local uf = require("uf")
local cjson = require("cjson")

local function run(config, args, files)
  local dir = uf.project(config, files)
  local r = uf.run(args, dir)
  r.dir = dir
  return r
end

describe("--set", function()
  it("types values by the key's schema and applies them after the config", function()
    local r = run([[return { app_name = "foo_bar", umask = "0027" }]], { "deploy.lua", "--stdout",
      "--set", "umask=0077", "--set", "paranoia=true", "--set", "dirs=runtime,state",
      "--set", "systemd_version=219", "--set", "limit_nofile=false", "--set", "restart_sec=5" })
    uf.rm(r.dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.truthy(r.stdout:find("\nUMask=0077\n", 1, true))
    assert.truthy(r.stdout:find("\nNoNewPrivileges=yes\n", 1, true))
    assert.truthy(r.stdout:find("\nRuntimeDirectory=foo-bar\n", 1, true))
    assert.falsy(r.stdout:find("StateDirectory", 1, true)) -- 219
    assert.falsy(r.stdout:find("LimitNOFILE", 1, true))
    assert.truthy(r.stdout:find("\nRestartSec=5\n", 1, true))
  end)

  it("applies to every service of the run", function()
    local r = run([[return { { app_name = "a" }, { app_name = "b" } }]],
      { "deploy.lua", "--stdout", "--set", "base_dir=/opt" })
    uf.rm(r.dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.truthy(r.stdout:find("WorkingDirectory=/opt/a/current", 1, true))
    assert.truthy(r.stdout:find("WorkingDirectory=/opt/b/current", 1, true))
  end)

  for _, case in ipairs({
    { { "--set", "umaks=0077" }, "--set umaks: unknown key (did you mean 'umask'?)" },
    { { "--set", "systemd_version=new" }, "--set systemd_version: expected an integer, got 'new'" },
    { { "--set", "paranoia=maybe" }, "--set paranoia: expected true, strict or false, got 'maybe'" },
    { { "--set", "hooks=x" }, "--set hooks: the key takes a Lua table, which only a config can give" },
    { { "--set", "noequals" }, "--set needs KEY=VALUE" },
  }) do
    it("is a usage error for " .. case[1][2], function()
      local args = { "deploy.lua" }
      for _, a in ipairs(case[1]) do args[#args + 1] = a end
      local r = run('return { app_name = "foo_bar" }', args)
      uf.rm(r.dir)
      assert.are.equal(2, r.code, r.stderr)
      assert.truthy(r.stderr:find(case[2], 1, true), r.stderr)
    end)
  end
end)

describe("show", function()
  it("lists every key with its value and origin", function()
    local mix_exs = "defmodule FooBar.MixProject do\n  use Mix.Project\n\n"
      .. "  def project do\n    [app: :foo_bar, version: \"0.1.0\", deps: []]\n  end\nend\n"
    local r = run([[return { ext_name = "shop", deploy_dir = function(c) return "/opt/" .. c.ext_name end }]],
      { "show", "deploy.lua", "--set", "umask=0077" }, { ["mix.exs"] = mix_exs })
    uf.rm(r.dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.truthy(r.stdout:match("^# shop\n# exposure 9%.2 UNSAFE %(systemd%-analyze security%)\n"), r.stdout)
    assert.truthy(r.stdout:match('\napp_name +%= "foo_bar"  %(mix%.exs%)\n'), r.stdout)
    assert.truthy(r.stdout:match('\next_name +%= "shop"  %(config%)\n'), r.stdout)
    assert.truthy(r.stdout:match('\ndeploy_dir +%= "/opt/shop"  %(computed%)\n'), r.stdout)
    assert.truthy(r.stdout:match('\numask +%= "0077"  %(cli%)\n'), r.stdout)
    assert.truthy(r.stdout:match('\nbase_dir +%= "/srv"  %(default%)\n'), r.stdout)
  end)

  it("--json gives every key its value and origin, lists as arrays", function()
    local r = run([[return { app_name = "foo_bar", dirs = { "runtime" },
      env_vars = { { "I=", specifier.i } },
      filters = { function(t) return t end } }]], { "show", "deploy.lua", "--json", "--set", "systemd_version=247" })
    uf.rm(r.dir)
    assert.are.equal(0, r.code, r.stderr)
    local services = cjson.decode(r.stdout)
    assert.are.equal(1, #services)
    local keys = services[1].keys
    assert.are.equal("foo-bar", services[1].service)
    assert.are.same({ score = 9.2, level = "UNSAFE" }, services[1].exposure)
    assert.are.same({ value = "foo_bar", origin = "config" }, keys.app_name)
    assert.are.same({ value = 247, origin = "cli" }, keys.systemd_version)
    assert.are.same({ value = { "runtime" }, origin = "config" }, keys.dirs)
    assert.are.same({ value = { "I=%i" }, origin = "config" }, keys.env_vars)
    assert.are.equal("default", keys.exec_start_pre.origin)
    assert.truthy(r.stdout:find('"exec_start_pre":{"value":[],', 1, true), "empty lists are arrays")
    assert.truthy(keys.filters.value[1]:match("^<function deploy%.lua:3>$"), keys.filters.value[1])
    assert.are.equal(cjson.null, keys.restart_sec.value)
    local count = 0
    for _ in pairs(keys) do count = count + 1 end
    assert.truthy(count > 45, "every key that applies is listed")
    assert.is_nil(keys.cache_dir, "no cache keys without the cache directory")
    assert.is_nil(keys.pid_file, "no pid_file for a service that does not fork")
  end)

  it("writes nothing", function()
    local r = run('return { app_name = "foo_bar" }', { "show", "deploy.lua" })
    assert.falsy(uf.exists(r.dir .. "/_build"))
    uf.rm(r.dir)
  end)
end)

describe("verify", function()
  it("passes a good config, printing each service's exposure score", function()
    local r = run('return { app_name = "foo_bar", paranoia = true, restart_method = "systemd_flag" }',
      { "verify", "deploy.lua" })
    assert.falsy(uf.exists(r.dir .. "/_build"))
    uf.rm(r.dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.truthy(r.stdout:find("systemd-analyze verify: ok\n", 1, true), r.stdout)
    assert.truthy(r.stdout:find("\nfoo-bar.service: exposure 7.0 MEDIUM\n", 1, true), r.stdout)
    assert.truthy(r.stdout:find("\nfoo-bar-restart.service: exposure ", 1, true), r.stdout)
  end)

  it("fails on any systemd-analyze finding", function()
    local r = run([[return { app_name = "foo_bar", hooks = { after_render = function(units)
      units[1].text = units[1].text:gsub("%[Install%]", "[Service]\nNoSuchSetting=1\n\n[Install]") end } }]],
      { "verify", "deploy.lua" })
    uf.rm(r.dir)
    assert.are.equal(1, r.code, r.stdout)
    assert.truthy(r.stdout:find("foo%-bar%.service:%d+: Unknown key 'NoSuchSetting'"), r.stdout)
    assert.truthy(r.stdout:find("FAILED", 1, true))
  end)

  it("fails above --max-exposure", function()
    local r = run('return { app_name = "foo_bar" }', { "verify", "deploy.lua", "--max-exposure", "8" })
    uf.rm(r.dir)
    assert.are.equal(1, r.code)
    assert.truthy(r.stdout:find("foo-bar.service: exposure 9.2 UNSAFE (above --max-exposure)", 1, true), r.stdout)
    r = run('return { app_name = "foo_bar", paranoia = true }', { "verify", "deploy.lua", "--max-exposure", "7" })
    uf.rm(r.dir)
    assert.are.equal(0, r.code, r.stdout)
  end)

  it("leaves no temporary folder behind", function()
    local before = io.popen("ls -d /tmp/unitforge-verify.* 2>/dev/null | wc -l"):read("n")
    local r = run('return { app_name = "foo_bar" }', { "verify", "deploy.lua" })
    uf.rm(r.dir)
    local after = io.popen("ls -d /tmp/unitforge-verify.* 2>/dev/null | wc -l"):read("n")
    assert.are.equal(before, after)
  end)
end)
