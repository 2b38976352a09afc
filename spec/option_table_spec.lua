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
