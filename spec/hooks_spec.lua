-- Filters and hooks (the README "Hooks and filters"): Lua post-processing
-- whose output passes the same checks as the templates.
local uf = require("uf")

local function run(config, args)
  local dir = uf.project(config)
  local before = uf.snapshot(dir)
  local all = { "deploy.lua" }
  for _, a in ipairs(args or { "--stdout" }) do all[#all + 1] = a end
  local r = uf.run(all, dir)
  r.unchanged = uf.snapshot(dir) == before
  r.dir = dir
  return r
end

local function failing(config, pattern)
  local r = run(config, {})
  uf.rm(r.dir)
  assert.are.equal(1, r.code, r.stderr)
  assert.truthy(r.unchanged, "a failed run must not write")
  assert.truthy(r.stderr:find(pattern, 1, true), "expected «" .. pattern .. "» in:\n" .. r.stderr)
  return r.stderr
end

describe("filters", function()
  it("apply in order to every unit, seeing its name and kind", function()
    local r = run([[return { app_name = "foo_bar", restart_method = "systemd_flag",
      filters = {
        function(text, unit) return "# A " .. unit.name .. " " .. unit.kind .. "\n" .. text end,
        function(text) return "# B\n" .. text end,
      } }]])
    uf.rm(r.dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.truthy(r.stdout:find("# foo-bar.service\n# B\n# A foo-bar.service service\n[Unit]", 1, true), r.stdout)
    assert.truthy(r.stdout:find("# foo-bar-restart.path\n# B\n# A foo-bar-restart.path path\n"
      .. "# https://www.freedesktop.org/software/systemd/man/systemd.path.html\n\n[Path]", 1, true), r.stdout)
  end)

  it("that error stop the run naming the filter, the unit and the line", function()
    failing('return { app_name = "foo_bar",\n filters = { function() error("no way") end } }',
      "filters[1] on foo-bar.service: deploy.lua:2: no way")
  end)

  it("must return text", function()
    failing('return { app_name = "foo_bar",\n filters = { function() return 42 end } }',
      "filters[1] on foo-bar.service: deploy.lua:2: the filter returned a number; a filter returns the unit's text")
  end)

  it("cannot smuggle control characters into a unit", function()
    failing([[return { app_name = "foo_bar", filters = { function(t) return t .. "X=\0\n" end } }]],
      "unit foo-bar.service, line 21: control character")
  end)
end)

describe("hooks", function()
  it("after_resolve rejects a config with the team's message and line", function()
    failing([[return { app_name = "foo_bar", app_user = "root",
      hooks = { after_resolve = function(c)
        assert(c.app_user ~= "root", "app_user must not be root")
      end } }]], "hooks.after_resolve: deploy.lua:3: app_user must not be root")
  end)

  it("after_resolve sees a read-only config", function()
    failing([[return { app_name = "foo_bar",
      hooks = { after_resolve = function(c) c.app_user = "x" end } }]], "read-only")
  end)

  it("after_render can edit, add and remove units, drop-ins included", function()
    local r = run([[return { app_name = "foo_bar", restart_method = "systemd_flag",
      hooks = { after_render = function(units, c)
        assert(#units == 3)
        table.remove(units, 3)
        units[1].text = units[1].text:gsub("Restart=always", "Restart=on-failure")
        units[#units + 1] = { name = c.service_name .. ".service.d/limits.conf", text = "[Service]\nNice=5\n" }
      end } }]], {})
    assert.are.equal(0, r.code, r.stderr)
    local sys = r.dir .. "/_build/prod/systemd/lib/systemd/system/"
    assert.truthy(uf.read(sys .. "foo-bar.service"):find("\nRestart=on-failure\n", 1, true))
    assert.truthy(uf.exists(sys .. "foo-bar-restart.path"))
    assert.falsy(uf.exists(sys .. "foo-bar-restart.service"))
    assert.are.equal("[Service]\nNice=5\n", uf.read(sys .. "foo-bar.service.d/limits.conf"))
    uf.rm(r.dir)
  end)

  it("after_render may return a new list", function()
    local r = run([[return { app_name = "foo_bar", hooks = { after_render = function()
      return { { name = "only.service", text = "[Service]\nExecStart=/bin/true\n" } } end } }]])
    uf.rm(r.dir)
    assert.are.equal("[Service]\nExecStart=/bin/true\n", r.stdout)
  end)

  for _, name in ipairs({ "../evil.service", "/etc/evil.service", "evil", "a/b.service", "x.service.d/../../y.conf",
    ".service", "bad name.service" }) do
    it("cannot write a unit named " .. name, function()
      failing(([[return { app_name = "foo_bar", hooks = { after_render = function(units)
        units[#units + 1] = { name = %q, text = "[Service]\n" } end } }]]):format(name), "unit name '" .. name .. "'")
    end)
  end
end)
