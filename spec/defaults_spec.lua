-- The default unit, written by hand from docs/keys.md sections 1 and 6.
local uf = require("uf")

local FOO_BAR_DEFAULT = table.concat({
  "[Unit]",
  "Description=foo-bar service",
  "After=local-fs.target network.target",
  "",
  "[Service]",
  "Type=simple",
  "User=foo-bar",
  "Group=foo-bar",
  "WorkingDirectory=/srv/foo-bar/current",
  "ExecStart=/srv/foo-bar/current/bin/foo_bar start",
  "ExecStop=/srv/foo-bar/current/bin/foo_bar stop",
  "Environment=LANG=en_US.utf8",
  "Environment=MIX_ENV=prod",
  "LimitNOFILE=65535",
  "UMask=0027",
  "SyslogIdentifier=foo-bar",
  "Restart=always",
  "",
  "[Install]",
  "WantedBy=multi-user.target",
  "",
}, "\n")

describe("defaults", function()
  local dir
  after_each(function() uf.rm(dir) end)

  it("writes exactly the contract's unit for app foo_bar", function()
    dir = uf.project('return { app_name = "foo_bar" }')
    local r = uf.run({ "deploy.lua" }, dir)
    assert.are.equal(0, r.code, r.stderr)
    local path = "_build/prod/systemd/lib/systemd/system/foo-bar.service"
    assert.are.equal("created " .. path .. "\n", r.stdout)
    assert.are.equal(FOO_BAR_DEFAULT, uf.read(dir .. "/" .. path))
    assert.are.equal("", r.stderr)
  end)

  it("prints the same unit with --stdout", function()
    assert.are.equal(FOO_BAR_DEFAULT, uf.unit_text('return { app_name = "foo_bar" }'))
  end)

  it("lets an overridden ext_name flow into every name and path derived from it", function()
    local text = uf.unit_text('return { app_name = "foo_bar", ext_name = "shop" }')
    assert.truthy(text:find("Description=shop service\n", 1, true))
    assert.truthy(text:find("\nUser=shop\nGroup=shop\n", 1, true))
    assert.truthy(text:find("\nWorkingDirectory=/srv/shop/current\n", 1, true))
    assert.truthy(text:find("\nExecStart=/srv/shop/current/bin/foo_bar start\n", 1, true))
    assert.truthy(text:find("\nSyslogIdentifier=shop\n", 1, true))
  end)

  it("derives paths from overridden base_dir and deploy_dir", function()
    local text = uf.unit_text('return { app_name = "foo_bar", base_dir = "/opt" }')
    assert.truthy(text:find("\nWorkingDirectory=/opt/foo-bar/current\n", 1, true))
    text = uf.unit_text('return { app_name = "foo_bar", deploy_dir = "/apps/fb", release_name = "fbr" }')
    assert.truthy(text:find("\nExecStart=/apps/fb/current/bin/fbr start\n", 1, true))
    assert.truthy(text:find("\nExecStop=/apps/fb/current/bin/fbr stop\n", 1, true))
  end)

  it("names the unit file after service_name, which user and group do not follow", function()
    local dir2 = uf.project('return { app_name = "foo_bar", service_name = "web" }')
    local r = uf.run({ "deploy.lua" }, dir2)
    assert.are.equal(0, r.code, r.stderr)
    local text = uf.read(dir2 .. "/_build/prod/systemd/lib/systemd/system/web.service")
    uf.rm(dir2)
    assert.truthy(text:find("Description=web service\n", 1, true))
    assert.truthy(text:find("\nUser=foo-bar\n", 1, true))
    assert.truthy(text:find("\nSyslogIdentifier=web\n", 1, true))
  end)

  it("reads app_name from mix.exs beside the config", function()
    dir = uf.project("return {}", {
      ["mix.exs"] = 'defmodule FooBar.MixProject do\n  use Mix.Project\n\n'
        .. '  def project do\n    [\n      app: :foo_bar,\n      version: "0.1.0"\n    ]\n  end\nend\n',
    })
    local r = uf.run({ "deploy.lua", "--stdout" }, dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.are.equal(FOO_BAR_DEFAULT, r.stdout)
  end)

  it("prefers the config's app_name over mix.exs", function()
    dir = uf.project('return { app_name = "other" }', {
      ["mix.exs"] = "defmodule FooBar.MixProject do\n  use Mix.Project\n\n"
        .. "  def project, do: [app: :foo_bar, version: \"0.1.0\"]\nend\n",
    })
    local r = uf.run({ "deploy.lua", "--stdout" }, dir)
    assert.truthy(r.stdout:find("Description=other service", 1, true))
  end)

  it("fails with a clear error naming app_name when there is no name at all", function()
    dir = uf.project("return {}")
    local r = uf.run({ "deploy.lua" }, dir)
    assert.are.equal(1, r.code)
    assert.truthy(r.stderr:find("deploy.lua: app_name:", 1, true), r.stderr)
    assert.falsy(uf.exists(dir .. "/_build"))
  end)

  it("uses --env for MIX_ENV and the output folder", function()
    dir = uf.project('return { app_name = "foo_bar" }')
    local r = uf.run({ "deploy.lua", "--env", "staging" }, dir)
    assert.are.equal(0, r.code, r.stderr)
    local text = uf.read(dir .. "/_build/staging/systemd/lib/systemd/system/foo-bar.service")
    assert.truthy(text:find("\nEnvironment=MIX_ENV=staging\n", 1, true))
  end)

  it("puts units under the mix_env folder when mix_env is set", function()
    dir = uf.project('return { app_name = "foo_bar", mix_env = "qa" }')
    assert.are.equal(0, uf.run({ "deploy.lua" }, dir).code)
    assert.truthy(uf.exists(dir .. "/_build/qa/systemd/lib/systemd/system/foo-bar.service"))
  end)

  it("omits LANG and MIX_ENV when they are empty", function()
    local text = uf.unit_text('return { app_name = "foo_bar", env_lang = "", mix_env = "" }')
    assert.falsy(text:find("LANG=", 1, true))
    assert.falsy(text:find("MIX_ENV=", 1, true))
  end)

  it("sees the environment name as the global env", function()
    local text = uf.unit_text('return { app_name = "foo_bar", base_dir = "/srv/" .. env }', { "--env", "qa" })
    assert.truthy(text:find("\nWorkingDirectory=/srv/qa/foo-bar/current\n", 1, true))
  end)
end)
