-- Writing: atomic, idempotent, reported; --stdout, --dry-run and --out.
local uf = require("uf")

local UNIT = "_build/prod/systemd/lib/systemd/system/foo-bar.service"

describe("output", function()
  local dir
  before_each(function() dir = uf.project('return { app_name = "foo_bar" }') end)
  after_each(function() uf.rm(dir) end)

  it("leaves an unchanged unit untouched on the second run", function()
    assert.are.equal(0, uf.run({ "deploy.lua" }, dir).code)
    local before = uf.snapshot(dir)
    uf.sh("sleep 0.05")
    local r = uf.run({ "deploy.lua" }, dir)
    assert.are.equal(0, r.code)
    assert.are.equal("unchanged " .. UNIT .. "\n", r.stdout)
    assert.are.equal(before, uf.snapshot(dir))
  end)

  it("reports an update when the config changes, leaving no temporary files", function()
    assert.are.equal(0, uf.run({ "deploy.lua" }, dir).code)
    uf.write(dir .. "/deploy.lua", 'return { app_name = "foo_bar", umask = "0077" }')
    local r = uf.run({ "deploy.lua" }, dir)
    assert.are.equal("updated " .. UNIT .. "\n", r.stdout)
    assert.truthy(uf.read(dir .. "/" .. UNIT):find("\nUMask=0077\n", 1, true))
    local listing = io.popen("ls -A " .. uf.quote(dir .. "/_build/prod/systemd/lib/systemd/system")):read("a")
    assert.are.equal("foo-bar.service\n", listing)
  end)

  it("writes nothing with --stdout", function()
    local before = uf.snapshot(dir)
    local r = uf.run({ "deploy.lua", "--stdout" }, dir)
    assert.are.equal(0, r.code)
    assert.truthy(r.stdout:match("^%[Unit%]"))
    assert.are.equal(before, uf.snapshot(dir))
  end)

  it("says what would change with --dry-run and writes nothing", function()
    local before = uf.snapshot(dir)
    local r = uf.run({ "deploy.lua", "--dry-run" }, dir)
    assert.are.equal(0, r.code)
    assert.are.equal("would create " .. UNIT .. "\n", r.stdout)
    assert.are.equal(before, uf.snapshot(dir))
  end)

  it("writes under --out DIR/lib/systemd/system", function()
    local r = uf.run({ "deploy.lua", "--out", "dist" }, dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.are.equal("created dist/lib/systemd/system/foo-bar.service\n", r.stdout)
    assert.truthy(uf.exists(dir .. "/dist/lib/systemd/system/foo-bar.service"))
  end)

  it("prints several units like systemctl cat", function()
    uf.write(dir .. "/deploy.lua", 'return { app_name = "foo_bar", restart_method = "systemd_flag" }')
    local r = uf.run({ "deploy.lua", "--stdout" }, dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.truthy(r.stdout:match("^# foo%-bar%.service\n%[Unit%]"), r.stdout)
    assert.truthy(r.stdout:find("\n\n# foo-bar-restart.path\n", 1, true), r.stdout)
  end)

  it("writes unit files readable by everyone", function()
    assert.are.equal(0, uf.run({ "deploy.lua" }, dir).code)
    local mode = io.popen("stat -c %a " .. uf.quote(dir .. "/" .. UNIT)):read("l")
    assert.are.equal("644", mode)
  end)
end)

describe("what an interrupted run left", function()
  local SYS = "/_build/prod/systemd/lib/systemd/system/"
  local dir
  before_each(function()
    dir = uf.project('return { app_name = "foo_bar" }')
    assert.are.equal(0, uf.run({ "deploy.lua" }, dir).code)
  end)
  after_each(function() uf.rm(dir) end)

  local function plant(journal, marker)
    uf.write(dir .. SYS .. ".unitforge.journal", journal)
    if marker then uf.write(dir .. SYS .. ".unitforge.committed", marker) end
  end

  it("is pointed out by --dry-run, which settles nothing", function()
    plant("unitforge-journal 1\nrun 0123456789abcdef\nend\n")
    local before = uf.snapshot(dir)
    local r = uf.run({ "deploy.lua", "--dry-run" }, dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.truthy(r.stderr:find("holds what an interrupted run left", 1, true), r.stderr)
    assert.are.equal(before, uf.snapshot(dir))
  end)

  for _, target in ipairs({ "../outside", "../../../outside", "/tmp/outside", "sub/../../outside" }) do
    it("never leads a rename out of the folder, even committed: " .. target, function()
      uf.write(dir .. "/_build/prod/systemd/lib/systemd/outside", "victim\n")
      uf.write(dir .. "/_build/outside", "victim\n")
      uf.write(dir .. SYS .. ".unitforge.tmp.0123456789abcdef.0", "evil\n")
      plant("unitforge-journal 1\nrun 0123456789abcdef\nrename .unitforge.tmp.0123456789abcdef.0 " .. target
        .. "\nend\n", "0123456789abcdef\n")
      local r = uf.run({ "deploy.lua" }, dir)
      assert.are.equal(0, r.code, r.stderr)
      assert.are.equal("victim\n", uf.read(dir .. "/_build/prod/systemd/lib/systemd/outside"))
      assert.are.equal("victim\n", uf.read(dir .. "/_build/outside"))
      assert.is_nil(uf.read("/tmp/outside"))
      local listing = io.popen("ls -A " .. uf.quote(dir .. SYS)):read("a")
      assert.are.equal("foo-bar.service\n", listing)
    end)
  end

  it("is finished when it was committed, and undone when not", function()
    uf.write(dir .. SYS .. ".unitforge.tmp.00000000000000aa.0", "new\n")
    plant("unitforge-journal 1\nrun 00000000000000aa\nrename .unitforge.tmp.00000000000000aa.0 other.service\nend\n",
      "00000000000000aa\n")
    assert.are.equal(0, uf.run({ "deploy.lua" }, dir).code)
    assert.are.equal("new\n", uf.read(dir .. SYS .. "other.service"))
    uf.write(dir .. SYS .. ".unitforge.tmp.00000000000000bb.0", "newer\n")
    plant("unitforge-journal 1\nrun 00000000000000bb\nrename .unitforge.tmp.00000000000000bb.0 other.service\nend\n")
    assert.are.equal(0, uf.run({ "deploy.lua" }, dir).code)
    assert.are.equal("new\n", uf.read(dir .. SYS .. "other.service"))
    local listing = io.popen("ls -A " .. uf.quote(dir .. SYS)):read("a")
    assert.are.equal("foo-bar.service\nother.service\n", listing)
  end)
end)
