-- The option table (lua/unitforge.options.lua) is the one description of
-- a key: the reference in docs/ is generated from it, `show` reports the
-- true origin of every value, and no function, hook or template can
-- change what another unit sees.
local uf = require("uf")
local cjson = require("cjson")

local function run(config, args, files)
  local dir = uf.project(config, files)
  local all = {}
  for _, a in ipairs(args) do all[#all + 1] = a end
  local r = uf.run(all, dir)
  uf.rm(dir)
  return r
end

local function show(config, args)
  local all = { "show", "deploy.lua", "--json" }
  for _, a in ipairs(args or {}) do all[#all + 1] = a end
  local r = run(config, all)
  assert.are.equal(0, r.code, r.stderr)
  return cjson.decode(r.stdout)[1].keys
end

local function failing(config, patterns, files)
  local r = run(config, { "deploy.lua", "--stdout" }, files)
  assert.are.equal(1, r.code, r.stderr)
  assert.are.equal("", r.stdout)
  for _, p in ipairs(patterns) do
    assert.truthy(r.stderr:find(p, 1, true), "expected «" .. p .. "» in:\n" .. r.stderr)
  end
end

describe("the reference of keys", function()
  it("is what docs/generate-keys.lua makes of the option table", function()
    local generated = uf.capture("cd " .. uf.quote(uf.root) .. " && lua5.4 docs/generate-keys.lua")
    assert.are.equal(uf.read(uf.root .. "/docs/keys.md"), generated, "run `make docs` and commit docs/keys.md")
  end)

  it("lists every key show can report, and nothing else", function()
    local keys = show([[return { app_name = "a", dirs = { "runtime", "configuration", "logs", "state", "cache", "tmp" },
      chroot = true, service_type = "forking", restart_method = "systemd_flag", paranoia = "strict",
      runtime_environment_service_script = "env.sh" }]])
    local reference = uf.read(uf.root .. "/docs/keys.md")
    local documented = {}
    for name in reference:gmatch("\n| `([%w_]+)` |") do documented[name] = true end
    for name in pairs(keys) do assert.truthy(documented[name], name .. " is not in docs/keys.md") end
    for name in pairs(documented) do assert.truthy(keys[name], name .. " is documented but show has no such key") end
  end)
end)

describe("show reports where each value came from", function()
  it("names the strict profile for what it adds, and the user's part apart", function()
    local keys = show([[return { app_name = "a", paranoia = "strict" }]])
    assert.are.same({ value = { "runtime", "state", "logs" }, origin = "strict" }, keys.dirs)
    assert.are.same({ value = "0077", origin = "strict" }, keys.umask)
    assert.are.equal("strict", keys.env_vars.origin)
    assert.are.equal("RELEASE_TMP=/run/a", keys.env_vars.value[1])

    keys = show([[return { app_name = "a", paranoia = "strict", dirs = { "cache" }, env_vars = { "RELEASE_TMP=/tmp/x" } }]])
    assert.are.same({ value = { "cache", "runtime", "state", "logs" }, origin = "config+strict" }, keys.dirs)
    assert.are.equal("config+strict", keys.env_vars.origin)
    assert.are.equal("RELEASE_TMP=/tmp/x", keys.env_vars.value[1], "the user's own value is kept")
    for i = 2, #keys.env_vars.value do
      assert.is_nil(keys.env_vars.value[i]:match("^RELEASE_TMP="), "the user's RELEASE_TMP is not added again")
    end
  end)

  it("never rewrites what the user set, and says default without the profile", function()
    local keys = show([[return { app_name = "a", paranoia = "strict", umask = "0022" }]])
    assert.are.same({ value = "0022", origin = "config" }, keys.umask)
    keys = show([[return { app_name = "a", dirs = { "cache" } }]], { "--set", "umask=0007" })
    assert.are.same({ value = "0007", origin = "cli" }, keys.umask)
    assert.are.same({ value = { "cache" }, origin = "config" }, keys.dirs)
    keys = show([[return { app_name = "a" }]])
    assert.are.same({ value = "0027", origin = "default" }, keys.umask)
    assert.are.same({ value = {}, origin = "default" }, keys.dirs)
  end)

  it("lists only the keys that apply to the service, and any the user set", function()
    local keys = show([[return { app_name = "a", dirs = { "runtime" }, cache_directory_mode = "700" }]])
    assert.truthy(keys.runtime_dir)
    assert.is_nil(keys.cache_dir)
    assert.is_nil(keys.state_directory)
    assert.is_nil(keys.pid_file)
    assert.is_nil(keys.root_directory)
    assert.is_nil(keys.capabilities)
    assert.are.same({ value = "700", origin = "config" }, keys.cache_directory_mode)
    keys = show([[return { app_name = "a", dirs = { "cache" }, service_type = "forking", chroot = true }]])
    assert.truthy(keys.cache_dir)
    assert.truthy(keys.pid_file)
    assert.truthy(keys.root_directory)
  end)
end)

describe("no code can change what another unit sees", function()
  local template = "rel/templates/systemd/restart.path.tmpl"
  for _, case in ipairs({
    { "assigning an element", 'c.env_vars[1] = "B=2"' },
    { "table.insert", 'table.insert(c.env_vars, "B=2")' },
    { "table.remove", "table.remove(c.dirs)" },
    { "table.sort", "table.sort(c.dirs, function(a, b) return a > b end)" },
    { "a nested table", 'c.hardening_extra.ProtectClock[1] = "no"' },
    { "the option table's lists", 'dir_kinds[1].name = "cache"' },
  }) do
    it("a template: " .. case[1] .. " is refused as read-only", function()
      failing([[return { app_name = "a", restart_method = "systemd_flag", env_vars = { "A=1" }, dirs = { "runtime", "state" },
        hardening_extra = { ProtectClock = { "yes" } } }]], { "read-only" },
        { [template] = "<% " .. case[2] .. " %>[Path]\nPathModified=/x\n" })
    end)
  end

  it("a hook: rawset, assignment and table functions on c and its lists are refused", function()
    for _, code in ipairs({ 'rawset(c, "app_user", "root")', 'rawset(c.env_vars, 1, "B=2")',
                            'c.env_vars[2] = "B=2"', 'table.insert(c.dirs, "cache")',
                            'setmetatable(c.dirs, nil)' }) do
      failing(([[return { app_name = "a", env_vars = { "A=1" }, dirs = { "runtime" },
        hooks = { after_resolve = function(c) %s end } }]]):format(code), { "deploy.lua:2:" })
    end
  end)

  it("a list the user keeps and changes after the config ran does not reach the units", function()
    local r = run([[local dirs, vars = { "runtime" }, { "A=1" }
      return { app_name = "a", dirs = dirs, env_vars = vars,
        hooks = { after_resolve = function() dirs[1] = "state"; vars[1] = "B=2" end } }]], { "deploy.lua", "--stdout" })
    assert.are.equal(0, r.code, r.stderr)
    assert.truthy(r.stdout:find("\nEnvironment=A=1\n", 1, true), r.stdout)
    assert.truthy(r.stdout:find("\nRuntimeDirectory=a\n", 1, true), r.stdout)
    assert.is_nil(r.stdout:find("StateDirectory", 1, true), r.stdout)
  end)

  it("a function may hand another key's list on, and it stays what it was", function()
    local keys = show([[return { app_name = "a", read_write_paths = { "/srv/a/data" },
      read_only_paths = function(c) return c.read_write_paths end,
      inaccessible_paths = function(c) local t = {} for i, p in ipairs(c.read_only_paths) do t[i] = p .. "/secret" end return t end }]])
    assert.are.same({ "/srv/a/data" }, keys.read_only_paths.value)
    assert.are.same({ "/srv/a/data/secret" }, keys.inaccessible_paths.value)
  end)
end)

-- What an independent review of the option table found, each kept fixed.
describe("values after the option table", function()
  local function units(config, args)
    local all = { "deploy.lua", "--stdout" }
    for _, a in ipairs(args or {}) do all[#all + 1] = a end
    local r = run(config, all)
    assert.are.equal(0, r.code, r.stderr)
    return r.stdout
  end

  it("a table the user shares between services is copied for each: a hook that changes it changes nothing", function()
    for _, key in ipairs({ "dirs", "env_vars" }) do
      local out = units(([[local shared = { %q }
        local function svc(n, x) local s = { app_name = n, release_system = "none", exec_start = "/bin/true",
          paranoia = "strict", expand_keys = {}, %s = shared } for k, v in pairs(x or {}) do s[k] = v end return s end
        return { svc("one"), svc("two", { hooks = { after_resolve = function() shared[1] = %q end } }) }]]):format(
        key == "dirs" and "runtime" or "A=1", key, key == "dirs" and "logs" or "NOT AN ASSIGNMENT"))
      assert.is_nil(out:find("LogsDirectory", 1, true), out)
      assert.is_nil(out:find("NOT AN ASSIGNMENT", 1, true), out)
    end
  end)

  it("--set gives each service a list of its own", function()
    local out = units([[local one = { app_name = "one" }
      one.hooks = { after_resolve = function() one.dirs[1] = "state" end }
      return { one, { app_name = "two" } }]], { "--set", "dirs=runtime" })
    assert.is_nil(out:find("StateDirectory", 1, true), out)
  end)

  it("a table nested a million deep is a wrong value, not a crash", function()
    failing([[local t = {} local c = t for i = 1, 1e6 do local n = {} c[1] = n c = n end
      return { app_name = "a", dirs = t }]], { "deploy.lua: dirs[1]: expected a string, got table" })
  end)

  it("c itself is no value of a key", function()
    failing([[return { app_name = "a", hardening_extra = function(c) return c end }]],
      { "deploy.lua: hardening_extra: the value is the config itself (c)" })
  end)

  it("next, rawget and rawlen see a list of c as the list it is", function()
    local out = units([[return { app_name = "a", dirs = { "runtime" }, env_files = { "/etc/a.env" },
      exec_start_pre = function(c)
        if next(c.env_files) ~= nil and rawlen(c.dirs) == 1 and rawget(c.dirs, 1) == "runtime" then return { "/bin/ok" } end
        return {}
      end }]])
    assert.truthy(out:find("\nExecStartPre=/bin/ok\n", 1, true), out)
  end)

  it("what a value inherits or shows through __pairs is kept", function()
    failing([[return { app_name = "a",
      hooks = setmetatable({}, { __index = { after_resolve = function() error("house rule") end } }) }]], { "house rule" })
    local out = units([[return { app_name = "e", hardening_extra = setmetatable({}, { __index = { TasksMax = 5 },
      __pairs = function() return next, { LimitNPROC = 9 } end }) }]])
    assert.truthy(out:find("\nTasksMax=5\n", 1, true), out)
    assert.truthy(out:find("\nLimitNPROC=9\n", 1, true), out)
  end)

  it("a specifier mark that a metatable hands over never reaches a unit", function()
    for _, expand in ipairs({ "expand_keys = {},", "" }) do
      failing(([[return { app_name = "a", paranoia = "strict", %s
        env_vars = setmetatable({}, { __index = { "HOST=\1H" } }) }]]):format(expand),
        { "deploy.lua: env_vars: contains a control character" })
      -- an __index function is not asked for elements (it may answer every key)
      local out = units(([[return { app_name = "a", paranoia = "strict", %s
        env_vars = setmetatable({}, { __index = function(_, i) if i == 1 then return "HOST=\1H" end end }) }]]):format(expand))
      assert.is_nil(out:find("%H", 1, true), out)
    end
  end)

  it("a table whose __index errors or answers every key is copied as what it holds", function()
    local out = units([[return { app_name = "a", dirs = setmetatable({ "runtime" }, { __index = function(_, k) error("no field " .. k) end }),
      hardening_extra = setmetatable({ ProtectClock = "yes" }, { __index = function() return "no" end }) }]])
    assert.truthy(out:find("\nRuntimeDirectory=a\n", 1, true), out)
    assert.truthy(out:find("\nProtectClock=yes\n", 1, true), out)
  end)

  it("strict adds to what the user gave only once it is right, and says strict only when it added", function()
    for _, case in ipairs({ { 'dirs = "runtime"', "dirs: expected a list of strings" },
                            { 'env_vars = function() return "PORT=4000" end', "env_vars: expected a list of strings" },
                            { 'dirs = { "runtime", bogus = "x" }', "dirs: expected a list, but it has the key bogus" } }) do
      failing(([[return { app_name = "a", paranoia = "strict", %s }]]):format(case[1]), { "deploy.lua: " .. case[2] })
    end
    local keys = show([[return { app_name = "a", paranoia = "strict", release_system = "none", exec_start = "/bin/x" }]])
    assert.are.same({ value = {}, origin = "default" }, keys.dirs)
    keys = show([[return { app_name = "a", paranoia = "strict", dirs = { "runtime", "state", "logs" } }]])
    assert.are.equal("config", keys.dirs.origin)
  end)

  it("a function that fails on a wrong value it read is no second problem", function()
    for _, case in ipairs({
      { 'ext_name = "A B", env_vars = { function(c) return "NODE=" .. c.service_name end }', "ext_name: expected a name" },
      { 'ext_name = "A B", exec_start_pre = function(c) return { "/bin/x " .. c.service_name } end', "ext_name: expected a name" },
      { 'base_dir = "bad", deploy_dir = ref.base_dir', "base_dir: expected an absolute path" },
      { 'app_group = 5, app_user = ref.app_group', "app_group: expected a string" },
    }) do
      local r = run(([[return { app_name = "a", %s }]]):format(case[1]), { "deploy.lua", "--stdout" })
      assert.are.equal(1, r.code)
      local _, lines = r.stderr:gsub("\n", "")
      assert.are.equal(1, lines, r.stderr)
      assert.truthy(r.stderr:find("deploy.lua: " .. case[2], 1, true), r.stderr)
    end
  end)

  it("shows the runtime directory keys of a runtime-environment unit, and checks them", function()
    local keys = show([[return { app_name = "a", runtime_environment_service_script = "env.sh" }]])
    assert.truthy(keys.runtime_directory)
    failing([[return { app_name = "a", service_name = "a:b", runtime_environment_service_script = "env.sh",
      systemd_version = 247 }]], { "deploy.lua: runtime_directory: a ':' in a directory name needs systemd_version >= 250" })
  end)

  it("a wrong value is reported once, not as the refs and defaults made from it", function()
    local r = run([[return { { app_name = "a", service_name = "bad name", env_vars = { { "X=", ref.runtime_dir } } },
      { app_name = "b", umask = "x" } }]], { "deploy.lua", "--stdout" })
    assert.are.equal(1, r.code)
    assert.truthy(r.stderr:find("deploy.lua: services[1].service_name: expected a name", 1, true), r.stderr)
    assert.truthy(r.stderr:find("deploy.lua: services[2].umask:", 1, true), r.stderr)
    assert.is_nil(r.stderr:find("runtime_dir", 1, true), r.stderr)
    assert.is_nil(r.stderr:find("unitforge.options", 1, true), r.stderr)
  end)

  it("a function giving nil for a key with a default is named, whatever the key", function()
    for _, key in ipairs({ "root_directory", "current_dir", "release_name", "systemd_version", "exec_start_pre" }) do
      local r = run(([[return { app_name = "a", chroot = true, paranoia = "strict", %s = function() return nil end }]]):format(key),
        { "deploy.lua", "--stdout" })
      assert.are.equal(1, r.code)
      assert.truthy(r.stderr:find("deploy.lua: " .. key .. ": the function gave nil", 1, true), r.stderr)
      assert.is_nil(r.stderr:find("unitforge.options", 1, true), r.stderr)
    end
  end)

  it("the strict profile adds its directories to a list a function left empty", function()
    local out = units([[return { app_name = "a", paranoia = "strict", dirs = function() return {} end }]])
    assert.truthy(out:find("\nStateDirectory=a\n", 1, true), out)
    assert.truthy(out:find("\nLogsDirectory=a\n", 1, true), out)
  end)

  it("an error in the service table's __index names the user's line, once", function()
    failing([[local n = 0
      return setmetatable({ app_name = "a" }, { __index = function(_, k) if k == "chroot" then n = n + 1 error("flaky " .. n) end end })]],
      { "deploy.lua:2: flaky 1" })
  end)

  it("has_unit of a template wants the config, and says so", function()
    for _, arg in ipairs({ "5", "nil", "" }) do
      failing([[return { app_name = "a" }]], { "has_unit" },
        { ["rel/templates/systemd/systemd.service.tmpl"] = "[Unit]\nX=<%= tostring(has_unit(" .. arg
          .. (arg == "" and "" or ", ") .. '"restart.path.tmpl")) %>\n' })
    end
  end)

  it("templates from an earlier `unitforge init` still render", function()
    local old = uf.read(uf.root .. "/templates/systemd.service.tmpl"):gsub(
      "for _, kind in ipairs%(dir_kinds%) do local k = kind.name if k ~= \"runtime\" and kind.directive and has%(c.dirs, k%) and available%(c, k .. \"_directory\"%) then",
      "if c.systemd_version >= 235 then for _, k in ipairs(dir_directive_order) do if has(c.dirs, k) then local kind = { directive = k:sub(1, 1):upper() .. k:sub(2) .. \"Directory\" }")
    local out = units([[return { app_name = "a", dirs = { "runtime", "state" } }]])
    local r = run([[return { app_name = "a", dirs = { "runtime", "state" } }]], { "deploy.lua", "--stdout" },
      { ["rel/templates/systemd/systemd.service.tmpl"] = old:gsub("<%% end end %%>\n<%% if c.chroot", "<%% end end end %%>\n<%% if c.chroot") })
    assert.are.equal(0, r.code, r.stderr)
    assert.are.equal(out, r.stdout)
  end)
end)
