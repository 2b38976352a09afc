-- Templates: built-in ones compiled in, per-file overrides, init, no
-- blank-line litter (the README "Templates").
local uf = require("uf")

local TEMPLATES = "rel/templates/systemd/"

local function generate(dir, args)
  local r = uf.run(args or { "deploy.lua", "--stdout" }, dir)
  assert.are.equal(0, r.code, r.stderr)
  return r.stdout
end

describe("templates", function()
  local dir
  after_each(function() uf.rm(dir) end)

  it("leave no blank lines inside sections and one between them", function()
    dir = uf.project([[return { app_name = "foo_bar", dirs = { "runtime", "state" },
      env_vars = { "A=1" }, paranoia = true, service_type = "forking",
      restart_method = "systemd_flag", runtime_environment_service_script = "env.sh" }]])
    local text = generate(dir)
    assert.falsy(text:find("\n\n\n", 1, true), text)
    for block in (text .. "\n"):gmatch("(.-)\n\n") do
      if not block:match("^# ") then
        assert.truthy(block:match("^%["), "a block must start with a section header:\n" .. block)
      end
    end
  end)

  it("are replaced file by file from templates_dir", function()
    dir = uf.project('return { app_name = "foo_bar", restart_method = "systemd_flag" }', {
      [TEMPLATES .. "systemd.service.tmpl"] = "[Service]\n<% if true then %>\nExecStart=/bin/true <%= c.app_name %>\n<% end %>\n",
    })
    local text = generate(dir)
    assert.truthy(text:find("# foo-bar.service\n[Service]\nExecStart=/bin/true foo_bar\n\n", 1, true), text)
    assert.truthy(text:find("PathModified=/srv/foo-bar/flags/restart.flag", 1, true), text)
  end)

  it("report an error in a user template with its file and line", function()
    dir = uf.project('return { app_name = "foo_bar" }', {
      [TEMPLATES .. "systemd.service.tmpl"] = "[Service]\nA=<%= c.nope.x %>\n",
    })
    local r = uf.run({ "deploy.lua" }, dir)
    assert.are.equal(1, r.code)
    assert.truthy(r.stderr:find("systemd.service.tmpl:2:", 1, true), r.stderr)
  end)

  it("never write a value with a newline, naming the template line", function()
    dir = uf.project('return { app_name = "foo_bar" }', {
      [TEMPLATES .. "systemd.service.tmpl"] = '[Service]\n\nA=<%= "x\\nExecStart=/evil" %>\n',
    })
    local r = uf.run({ "deploy.lua" }, dir)
    assert.are.equal(1, r.code)
    assert.truthy(r.stderr:find("systemd.service.tmpl:3: cannot write this value into a unit: the value contains a newline", 1, true), r.stderr)
    assert.falsy(uf.exists(dir .. "/_build"))
  end)

  it("refuse an unclosed tag with the template's line", function()
    dir = uf.project('return { app_name = "foo_bar" }', {
      [TEMPLATES .. "systemd.service.tmpl"] = "[Service]\n\nA=<%= c.app_name\n",
    })
    local r = uf.run({ "deploy.lua" }, dir)
    assert.are.equal(1, r.code)
    assert.truthy(r.stderr:find("systemd.service.tmpl:3: '<%' without a closing '%>'", 1, true), r.stderr)
  end)

  it("support comments and literal <%% in templates", function()
    dir = uf.project('return { app_name = "foo_bar" }', {
      [TEMPLATES .. "systemd.service.tmpl"] = "<%# a comment\n   over lines %>\n[Service]\nX=<%%= y\n",
    })
    assert.are.equal("[Service]\nX=<%= y\n", generate(dir))
  end)

  describe("init", function()
    it("writes the built-in templates and keeps edited ones", function()
      dir = uf.project('return { app_name = "foo_bar" }')
      local r = uf.run({ "init", "deploy.lua" }, dir)
      assert.are.equal(0, r.code, r.stderr)
      assert.truthy(r.stdout:find("created ./" .. TEMPLATES .. "systemd.service.tmpl", 1, true), r.stdout)
      local path = dir .. "/" .. TEMPLATES .. "systemd.service.tmpl"
      local original = uf.read(path)
      -- the copies render exactly what the built-in ones do
      local builtin = uf.unit_text('return { app_name = "foo_bar" }')
      assert.are.equal(builtin, generate(dir))

      uf.write(path, original:gsub("Restart=", "# edited\nRestart="))
      r = uf.run({ "init", "deploy.lua" }, dir)
      assert.truthy(r.stdout:find("kept ./" .. TEMPLATES .. "systemd.service.tmpl (edited", 1, true), r.stdout)
      assert.truthy(uf.read(path):find("# edited", 1, true))
      assert.truthy(generate(dir):find("# edited\nRestart=", 1, true))

      r = uf.run({ "init", "deploy.lua", "--force" }, dir)
      assert.truthy(r.stdout:find("updated ./" .. TEMPLATES .. "systemd.service.tmpl", 1, true), r.stdout)
      assert.are.equal(original, uf.read(path))
    end)
  end)
end)

describe("a user's template that replaces a shared helper", function()
  it("cannot change what another service's built-in template writes, or where", function()
    local dir = uf.project('return { { app_name = "aaa", templates_dir = "tpl" }, { app_name = "bbb" } }', {
      ["tpl/systemd.service.tmpl"] = '<% has_unit = function(c) c.output_dir = "evil" return false end %>[Unit]\n',
    })
    local r = uf.run({ "deploy.lua", "--dry-run" }, dir)
    uf.rm(dir)
    assert.are_not.equal(0, r.code)
    assert.truthy(r.stderr:find("read-only (tried to set 'output_dir')", 1, true), r.stderr)
  end)

  it("may leave holes and numbers in the pieces, as table.concat took them", function()
    local dir = uf.project('return { app_name = "aaa", templates_dir = "tpl" }', {
      ["tpl/systemd.service.tmpl"] = '<% _n = _n + 1 %>A<% _n = _n + 1 _o[_n] = 7 %>\n',
    })
    local r = uf.run({ "deploy.lua", "--stdout" }, dir)
    uf.rm(dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.are.equal("A7\n", r.stdout)
  end)
end)
