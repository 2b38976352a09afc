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

  it("makes drop-in folders as the umask says", function()
    uf.write(dir .. "/deploy.lua", [[return { app_name = "foo_bar", hooks = { after_render = function(units)
      units[#units + 1] = { name = "foo-bar.service.d/x.conf", text = "[Service]\n" }
      return units
    end } }]])
    local code = uf.sh(("cd %s && umask 027 && %s %s deploy.lua >/dev/null 2>&1 </dev/null"):format(
      uf.quote(dir), uf.wrapper, uf.quote(uf.bin)))
    assert.are.equal(0, code)
    local folder = dir .. "/" .. UNIT .. ".d"
    assert.are.equal("750", io.popen("stat -c %a " .. uf.quote(folder)):read("l"))
    assert.are.equal("644", io.popen("stat -c %a " .. uf.quote(folder .. "/x.conf")):read("l"))
  end)

  -- files are made with their mode while the umask is 0 (no chmod after)
  for _, case in ipairs({ { "a folder the run makes", false }, { "a folder that exists", true } }) do
    it("writes them readable by everyone under umask 077, into " .. case[1], function()
      if case[2] then uf.sh("mkdir -p " .. uf.quote(dir .. "/" .. UNIT:match("^(.*)/"))) end
      local code = uf.sh(("cd %s && umask 077 && %s %s deploy.lua >/dev/null 2>&1 </dev/null"):format(
        uf.quote(dir), uf.wrapper, uf.quote(uf.bin)))
      assert.are.equal(0, code)
      assert.are.equal("644", io.popen("stat -c %a " .. uf.quote(dir .. "/" .. UNIT)):read("l"))
    end)
  end
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

  it("removes only folders a run could have made for this folder, never one a journal names elsewhere", function()
    uf.mkdir(dir .. "/victim_empty")
    plant("unitforge-journal 1\nrun 0123456789abcdef\ncreated " .. dir .. "/victim_empty\nend\n")
    assert.are.equal(0, uf.run({ "deploy.lua" }, dir).code)
    assert.is_true(uf.exists(dir .. "/victim_empty"))
  end)

  it("does not follow a drop-in folder that is a symbolic link, even for a committed run", function()
    uf.mkdir(dir .. "/outside")
    uf.sh(("ln -s %s %s"):format(uf.quote(dir .. "/outside"), uf.quote(dir .. SYS .. "evil.d")))
    uf.write(dir .. SYS .. ".unitforge.tmp.0123456789abcdef.0", "[Service]\n")
    plant("unitforge-journal 1\nrun 0123456789abcdef\nrename .unitforge.tmp.0123456789abcdef.0 evil.d/x.conf\nend\n",
      "0123456789abcdef\n")
    local r = uf.run({ "deploy.lua" }, dir)
    assert.are.equal(3, r.code, r.stderr)
    assert.truthy(r.stderr:find("evil.d/x.conf", 1, true), r.stderr)
    assert.is_false(uf.exists(dir .. "/outside/x.conf"))
  end)

  it("settles a journal that names its own folder as another folder of the run, without waiting", function()
    plant("unitforge-journal 1\nrun 0123456789abcdef\nsecondary " .. dir .. SYS:sub(1, -2) .. "\nend\n")
    local r = uf.run({ "deploy.lua", "--timeout", "30" }, dir)
    assert.are.equal(0, r.code, r.stderr)
    local listing = io.popen("ls -A " .. uf.quote(dir .. SYS)):read("a")
    assert.are.equal("foo-bar.service\n", listing)
  end)
  it("cannot lead recovery out through a folder name with '..' in it", function()
    uf.mkdir(dir .. "/evil/x")
    uf.mkdir(dir .. "/victim/empty")
    uf.write(dir .. SYS .. ".unitforge.journal", "unitforge-journal 1\nrun 0123456789abcdef\nsecondary " .. dir
      .. "/victim/empty/../../evil/x\nend\n")
    uf.write(dir .. "/evil/x/.unitforge.journal", "unitforge-journal 1\nrun 0123456789abcdef\nprimary " .. dir
      .. SYS:sub(1, -2) .. "\ncreated " .. dir .. "/victim/empty\nend\n")
    assert.are.equal(0, uf.run({ "deploy.lua" }, dir).code)
    assert.is_true(uf.exists(dir .. "/victim/empty"))
  end)

  it("naming a folder someone holds locked makes the run fail in bounded time, not wait for ever", function()
    uf.mkdir(dir .. "/held")
    uf.write(dir .. SYS .. ".unitforge.journal", "unitforge-journal 1\nrun 0123456789abcdef\nsecondary " .. dir
      .. "/held\nend\n")
    local started = os.time()
    -- a holder only this run can match: other runs of the suite may hold their own
    local hold = ("sleep 40.%d"):format(math.random(100000, 999999))
    local code = uf.sh(("cd %s && flock %s %s & sleep 0.5; cd %s && timeout -s KILL 35 %s deploy.lua >/dev/null 2>%s/err")
      :format(uf.quote(dir), uf.quote(dir .. "/held"), hold, uf.quote(dir), uf.quote(uf.bin), uf.quote(dir)))
    local elapsed = os.time() - started
    local err = uf.read(dir .. "/err") or ""
    uf.sh("pkill -xf " .. uf.quote(hold) .. " 2>/dev/null")
    assert.are.equal(3, code, err)
    assert.truthy(err:find("held", 1, true), err)
    assert.is_true(elapsed < 30, "took " .. elapsed .. " s")
  end)
end)

describe("two units of one run on one file", function()
  it("are found through a symbolic link or '..' in their folders' names: exit 1, nothing written", function()
    local dir = uf.project([[return { { app_name = "a", output_dir = "o/real" },
      { app_name = "a", output_dir = "o/link" }, { app_name = "a", output_dir = "o/sub/../real" } }]])
    uf.mkdir(dir .. "/o/real")
    uf.mkdir(dir .. "/o/sub")
    uf.sh(("ln -s real %s"):format(uf.quote(dir .. "/o/link")))
    local before = uf.snapshot(dir)
    local r = uf.run({ "deploy.lua" }, dir)
    local after = uf.snapshot(dir)
    uf.rm(dir)
    assert.are.equal(1, r.code, r.stderr)
    assert.truthy(r.stderr:find("are one file", 1, true), r.stderr)
    assert.are.equal(before, after)
  end)
end)

describe("init", function()
  it("writes the templates of every folder or of none", function()
    local dir = uf.project([[return { { app_name = "a", templates_dir = "t/ok" },
      { app_name = "b", templates_dir = "/proc/nope/x" } }]])
    local r = uf.run({ "init", "deploy.lua" }, dir)
    local made = uf.exists(dir .. "/t")
    uf.rm(dir)
    assert.are.equal(3, r.code, r.stderr)
    assert.are.equal("", r.stdout)
    assert.is_false(made)
  end)
end)


describe("init with one templates_dir named two ways", function()
  it("writes the templates once", function()
    local dir = uf.project(nil)
    uf.write(dir .. "/deploy.lua", ('return { { app_name = "foo" }, { app_name = "bar", templates_dir = %q } }')
      :format(dir .. "/./rel/templates/systemd"))
    local r = uf.run({ "init", "deploy.lua" }, dir)
    uf.rm(dir)
    assert.are.equal(0, r.code, r.stderr)
    local _, created = r.stdout:gsub("created ", "")
    assert.are.equal(4, created, r.stdout)
  end)
end)
