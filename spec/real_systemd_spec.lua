-- Behaviour only real systemd can confirm, in a booted container
-- (spec/support/container.sh), with stand-ins for the releases. Skipped,
-- with the reason, where a container cannot run (spec/support/run_spec.sh).
local uf = require("uf")
local container = require("container")
local nasty = require("nasty")

local EXAMPLES = { "basic", "phoenix", "flag-restart", "runtime-environment", "distillery", "paranoia", "chroot" }

-- Generates the examples' units into one folder; returns out and units dir.
local function generate_all()
  local out = uf.tmpdir()
  for _, example in ipairs(EXAMPLES) do
    local r = uf.run({ uf.root .. "/examples/" .. example .. "/deploy.lua", "--out", out })
    assert(r.code == 0, r.stderr)
  end
  uf.write(out .. "/nasty/deploy.lua", nasty.config("/usr/local/bin/argv-dump"))
  local r = uf.run({ out .. "/nasty/deploy.lua", "--out", out })
  assert(r.code == 0, r.stderr)
  return out, out .. "/lib/systemd/system"
end

describe("under real systemd", function()
  local out, box
  setup(function()
    local units
    out, units = generate_all()
    box = container.boot(units)
    box:must("systemctl daemon-reload")
  end)
  teardown(function()
    if box then box:stop() end
    uf.rm(out)
  end)

  -- Creates the app user and a stand-in release at its start script path.
  local function install(user, release_path, script)
    box:must("useradd --system --no-create-home --shell /usr/sbin/nologin " .. user)
    box:write(release_path, script or container.stand_in_release(), "755")
  end

  it("runs the basic example as its user, in its working directory, with LANG and MIX_ENV", function()
    install("foo-bar", "/srv/foo-bar/current/bin/foo_bar")
    box:must("systemctl start foo-bar.service")
    local pid = box:main_pid("foo-bar.service")
    assert.are.equal("foo-bar\n", box:must("ps -o user= -p " .. pid))
    assert.are.equal("/srv/foo-bar/current\n", box:must("readlink /proc/" .. pid .. "/cwd"))
    local env = box:environ(pid)
    assert.are.equal("en_US.utf8", env.LANG)
    assert.are.equal("prod", env.MIX_ENV)
    box:must("systemctl stop foo-bar.service")
    assert.are_not.equal(0, (box:sh("systemctl is-active --quiet foo-bar.service")))
  end)

  describe("the phoenix example", function()
    local pid
    setup(function()
      install("shop", "/srv/phoenix-shop/current/bin/phoenix_shop")
      -- the root pre-start step writes the env file into the configuration
      -- directory, as a deploy-time config sync would
      box:write("/srv/phoenix-shop/bin/deploy-sync-config", [[#!/bin/sh
printf '%s\n' 'SECRET_KEY_BASE="s3cr3t with spaces"' 'DATABASE_URL=ecto://u:p@db/shop?ssl=true' \
  > /etc/phoenix-shop/environment
]], "755")
      box:must("systemctl start phoenix-shop.service")
      pid = box:main_pid("phoenix-shop.service")
    end)

    it("runs as its user", function()
      assert.are.equal("shop\n", box:must("ps -o user= -p " .. pid))
    end)

    it("creates its directories with mode 0750, owned by the user", function()
      for _, dir in ipairs({ "/run/phoenix-shop", "/etc/phoenix-shop", "/var/log/phoenix-shop",
        "/var/lib/phoenix-shop", "/var/cache/phoenix-shop" }) do
        assert.are.equal("750 shop shop\n", box:must("stat -c '%a %U %G' " .. dir), dir)
      end
    end)

    it("gives the process every variable with exactly the configured bytes", function()
      local env = box:environ(pid)
      assert.are.equal("/run/phoenix-shop", env.RUNTIME_DIR)
      assert.are.equal("/etc/phoenix-shop", env.CONFIGURATION_DIR)
      assert.are.equal("/var/log/phoenix-shop", env.LOGS_DIR)
      assert.are.equal("/var/lib/phoenix-shop", env.STATE_DIR)
      assert.are.equal("/var/cache/phoenix-shop", env.CACHE_DIR)
      assert.are.equal("/run/phoenix-shop", env.RELEASE_TMP)
      assert.are.equal("phoenix-shop@127.0.0.1", env.RELEASE_NODE)
      assert.are.equal("4000", env.PORT)
      assert.are.equal("s3cr3t with spaces", env.SECRET_KEY_BASE)
      assert.are.equal("ecto://u:p@db/shop?ssl=true", env.DATABASE_URL)
    end)
  end)

  it("restarts the flag-restart example when the flag file is touched", function()
    install("flag-app", "/srv/flag-app/current/bin/flag_app")
    box:must("mkdir -p /srv/flag-app/flags")
    box:must("systemctl start flag-app-restart.path flag-app.service")
    local before = box:main_pid("flag-app.service")
    box:must("touch /srv/flag-app/flags/restart.flag")
    box:wait_for(("p=$(systemctl show -p MainPID --value flag-app.service); [ \"$p\" != 0 ] && [ \"$p\" != %s ]")
      :format(before))
    assert.are_not.equal(before, box:main_pid("flag-app.service"))
  end)

  it("runs the runtime-environment script before the app, whose output the app sees", function()
    install("env-app", "/srv/env-app/current/bin/env_app")
    box:write("/srv/env-app/bin/write-runtime-environment", [[#!/bin/sh
echo "FROM_SCRIPT=written by $(id -un) at start $$" > /run/env-app/environment
]], "755")
    box:must("systemctl start env-app.service")
    local env = box:environ(box:main_pid("env-app.service"))
    assert.truthy(env.FROM_SCRIPT and env.FROM_SCRIPT:match("^written by env%-app at start %d+$"), env.FROM_SCRIPT)
    -- and again on every restart
    box:must("systemctl restart env-app.service")
    local again = box:environ(box:main_pid("env-app.service"))
    assert.truthy(again.FROM_SCRIPT and again.FROM_SCRIPT ~= env.FROM_SCRIPT, again.FROM_SCRIPT)
  end)

  it("follows the distillery example's forked process through its pid file", function()
    install("legacy-app", "/srv/legacy-app/current/bin/legacy_app", [[#!/bin/sh
case "$1" in
  start) sleep infinity </dev/null >/dev/null 2>&1 & echo $! > "$PIDFILE" ;;
  stop) kill "$(cat "$PIDFILE")" ;;
esac
]])
    box:must("systemctl start legacy-app.service")
    local pid = box:main_pid("legacy-app.service")
    assert.are.equal(pid .. "\n", box:must("cat /run/legacy-app/legacy_app.pid"))
    box:must("systemctl stop legacy-app.service")
  end)

  it("gives a process exactly the nasty values as environment and arguments", function()
    install("nasty", "/usr/local/bin/argv-dump", [[#!/bin/sh
printf '%s\n' "$@" > /tmp/nasty-argv
exec sleep infinity
]])
    box:must("mkdir -p /srv/nasty/current")
    local code, status = box:sh("systemctl start nasty.service")
    assert(code == 0, box:must("journalctl -u nasty.service --no-pager | tail -5"))
    local env = box:environ(box:main_pid("nasty.service"))
    local argv = {}
    for line in (box:must("cat /tmp/nasty-argv")):gmatch("([^\n]*)\n") do argv[#argv + 1] = line end
    for i, v in ipairs(nasty.values) do
      assert.are.equal(v, env["V" .. i], "V" .. i)
      assert.are.equal(v, argv[i], "argument " .. i)
    end
    assert.are.equal(#nasty.values, #argv)
  end)

  for _, case in ipairs({
    { "paranoia", "careful-app", "/srv/careful-app/current/bin/careful_app" },
    { "chroot", "jailed-app", "/srv/jailed-app/current/bin/jailed_app" },
  }) do
    it("starts the " .. case[1] .. " example and keeps it active", function()
      install(case[2], case[3])
      box:must("systemctl start " .. case[2] .. ".service")
      local pid = box:main_pid(case[2] .. ".service")
      box:must("sleep 1.5")
      assert.are.equal(pid, box:main_pid(case[2] .. ".service"))
      assert.are.equal("0\n", box:must("systemctl show -p NRestarts --value " .. case[2] .. ".service"))
      assert.are.equal(case[2] .. "\n", box:must("ps -o user= -p " .. pid))
    end)
  end
end)
