-- What the user wrote is what systemd parsed: nasty values through
-- unitforge, read back by systemd itself (uf.systemd_parse).
local uf = require("uf")
local nasty = require("nasty")

describe("round trip through systemd's parser", function()
  local parsed
  setup(function()
    local dir = uf.project(nasty.config("/usr/bin/printf"))
    uf.sh("chmod 755 " .. uf.quote(dir))
    local r = uf.run({ "deploy.lua", "--out", "." }, dir)
    assert(r.code == 0, r.stderr)
    parsed = uf.systemd_parse(dir .. "/lib/systemd/system", "nasty.service")
    uf.rm(dir)
  end)

  it("parses every Environment= value back byte for byte", function()
    local expected = {} -- a plain program (release_system = "none") gets no LANG or MIX_ENV
    for i, v in ipairs(nasty.values) do expected[#expected + 1] = ("V%d=%s"):format(i, v) end
    assert.are.same(expected, parsed.env)
  end)

  it("parses every command argument back, with $ kept for run time as $$", function()
    local expected = { "/usr/bin/printf" }
    for _, v in ipairs(nasty.values) do expected[#expected + 1] = (v:gsub("%$", "$$")) end
    assert.are.same(expected, parsed.commands.ExecStart)
  end)

  it("quotes ref values with spaces in command paths", function()
    local dir = uf.project([[return { app_name = "sp", deploy_dir = "/srv/with space",
      exec_start_pre = { { ref.deploy_dir, "/bin/pre --flag ", ref.deploy_dir } } }]])
    uf.sh("chmod 755 " .. uf.quote(dir))
    assert.are.equal(0, uf.run({ "deploy.lua", "--out", "." }, dir).code)
    local p = uf.systemd_parse(dir .. "/lib/systemd/system", "sp.service")
    uf.rm(dir)
    assert.are.same({ "/srv/with space/bin/pre", "--flag", "/srv/with space" }, p.commands.ExecStartPre)
    assert.are.same({ "/srv/with space/current/bin/sp", "start" }, p.commands.ExecStart)
    assert.are.same({ "/srv/with space/current/bin/sp", "stop" }, p.commands.ExecStop)
  end)

  it("keeps a specifier a specifier and a percent sign a percent sign", function()
    local dir = uf.project([[return { app_name = "spec",
      env_vars = { { "INSTANCE=", specifier.n }, "RATE=100%" } }]])
    uf.sh("chmod 755 " .. uf.quote(dir))
    assert.are.equal(0, uf.run({ "deploy.lua", "--out", "." }, dir).code)
    local p = uf.systemd_parse(dir .. "/lib/systemd/system", "spec.service")
    uf.rm(dir)
    assert.are.same({ "LANG=en_US.utf8", "MIX_ENV=prod", "INSTANCE=spec.service", "RATE=100%" }, p.env)
  end)
end)
