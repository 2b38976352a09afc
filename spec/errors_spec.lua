-- Bad configs: exit 1, a message naming file:line or the key, and the
-- output folder left exactly as it was.
local uf = require("uf")

local function expect_failure(config, pattern, files)
  local dir = uf.project(config, files)
  uf.write(dir .. "/_build/prod/systemd/lib/systemd/system/keep.service", "[Unit]\n")
  local before = uf.snapshot(dir)
  local r = uf.run({ "deploy.lua" }, dir)
  local after = uf.snapshot(dir)
  uf.rm(dir)
  assert.are.equal(1, r.code, r.stderr)
  assert.are.equal("", r.stdout)
  assert.truthy(r.stderr:find(pattern, 1, true), "expected «" .. pattern .. "» in:\n" .. r.stderr)
  assert.are.equal(before, after)
  return r.stderr
end

describe("a bad config", function()
  it("with a syntax error names file and line", function()
    local err = expect_failure('local x = 1\nreturn { app_name = "x"\n', "unitforge: deploy.lua:3:")
    assert.truthy(err:find("'}' expected", 1, true))
  end)

  it("with a runtime error shows file:line and a short traceback", function()
    local err = expect_failure('local function f()\n  error("boom")\nend\nreturn { app_name = f() }\n',
      "unitforge: deploy.lua:2: boom")
    assert.truthy(err:find("stack traceback:", 1, true))
    assert.truthy(err:find("deploy.lua:4:", 1, true))
  end)

  it("that errors inside a computed value names its line", function()
    expect_failure('return { app_name = "x",\n  deploy_dir = function(c)\n    return nil .. "x"\n  end }\n',
      "deploy.lua:3:")
  end)

  it("returning something other than a table says what it got", function()
    expect_failure('return 42', "deploy.lua: the config must return a service table")
  end)

  it("with an unknown key suggests the right one", function()
    expect_failure('return { app_name = "x", deplyo_dir = "/x" }',
      "deploy.lua: deplyo_dir: unknown key (did you mean 'deploy_dir'?)")
  end)

  it("with a ref to an unknown key names the line and suggests", function()
    expect_failure('return { app_name = "x",\n exec_start = { ref.deplyo_dir, "/bin/x" } }',
      "deploy.lua:2: ref.deplyo_dir: unknown key (did you mean 'deploy_dir'?)")
  end)

  it("with a cycle through functions names the path", function()
    expect_failure([[return { app_name = "x",
      deploy_dir = function(c) return c.current_dir .. "/.." end }]],
      "deploy.lua: deploy_dir: cycle: deploy_dir -> current_dir -> deploy_dir")
  end)

  it("with a cycle through refs names the path", function()
    expect_failure('return { app_name = "x", exec_start = ref.exec_stop, exec_stop = ref.exec_start }',
      "cycle: exec_start -> exec_stop -> exec_start")
  end)

  it("that joins a ref with .. is told to use a part list", function()
    expect_failure('return { app_name = "x", exec_start = ref.deploy_dir .. "/x" }', "use a part list")
  end)

  it("with a newline in a value never writes it", function()
    expect_failure('return { app_name = "x", env_vars = { "A=1\\nExecStartPre=/bin/evil" } }',
      "deploy.lua: env_vars[1]: contains a newline, got string \"A=1\\nExecStartPre=/bin/evil\"")
  end)

  it("with a control character in a value never writes it", function()
    expect_failure('return { app_name = "x", syslog_identifier = "a\\rb" }',
      "deploy.lua: syslog_identifier: contains a control character")
  end)

  it("with a newline from a computed value names the key", function()
    expect_failure('return { app_name = "x", exec_stop = function() return "/bin/x\\nExecStartPre=/evil" end }',
      "deploy.lua: exec_stop: contains a newline")
  end)

  it("with invalid UTF-8 in a value names the key", function()
    expect_failure('return { app_name = "x", env_vars = { "A=\\xff\\xfe" } }',
      "deploy.lua: env_vars[1]: is not valid UTF-8")
  end)

  it("with a value longer than a unit line can hold names the key", function()
    expect_failure('return { app_name = "x", env_vars = { "A=" .. ("x"):rep(600 * 1024) } }',
      "deploy.lua: env_vars[1]: is longer than a unit file line can hold")
  end)

  it("with a wrong type names the key, what was expected and what it got", function()
    expect_failure('return { app_name = "x", app_user = 42 }', "deploy.lua: app_user: expected a string, got number 42")
    expect_failure('return { app_name = "x", systemd_version = "235" }',
      'deploy.lua: systemd_version: expected an integer, got string "235"')
    expect_failure('return { app_name = "x", dirs = "runtime" }',
      'deploy.lua: dirs: expected a list of strings, got string "runtime"')
    expect_failure('return { app_name = "x", restart = "sometimes" }',
      'deploy.lua: restart: not one of the allowed values (one of: no always on-success on-failure on-abnormal on-abort on-watchdog), got string "sometimes"')
    expect_failure('return { app_name = "x", base_dir = "srv" }',
      'deploy.lua: base_dir: expected an absolute path (starting with /), got string "srv"')
    expect_failure('return { app_name = "x", umask = "0999" }', "deploy.lua: umask: expected an octal mode")
    expect_failure('return { app_name = "x", env_vars = { "NO_EQUALS" } }',
      "deploy.lua: env_vars[1]: expected NAME=value")
    expect_failure('return { app_name = "Bad-Name" }', "deploy.lua: app_name: expected a lower-case name")
  end)

  it("reports every problem of the run together", function()
    local err = expect_failure([[return {
      { app_name = "a", app_user = 42, umask = "999" },
      { app_name = "b", dirs = { "runtime", "bogus" }, restrat = "always" },
    }]], "deploy.lua: services[1].app_user: expected a string, got number 42")
    assert.truthy(err:find("deploy.lua: services[1].umask: expected an octal mode", 1, true), err)
    assert.truthy(err:find("deploy.lua: services[2].dirs[2]: not one of the allowed values", 1, true), err)
    assert.truthy(err:find("deploy.lua: services[2].restrat: unknown key (did you mean 'restart'?)", 1, true), err)
  end)

  it("with a value the target systemd does not know names the version", function()
    expect_failure('return { app_name = "x", service_type = "exec", systemd_version = 235 }',
      'deploy.lua: service_type: "exec" needs systemd_version >= 240, target is 235')
    expect_failure('return { app_name = "x", exec_start_pre = { "!/bin/x" }, systemd_version = 219 }',
      "deploy.lua: exec_start_pre[1]: the '!' prefix needs systemd_version >= 235, target is 219")
  end)

  it("refuses Restart=always for a oneshot service", function()
    expect_failure('return { app_name = "x", service_type = "oneshot", restart = "always" }',
      "restart: systemd refuses Restart=always for oneshot services")
  end)

  it("with release_system none and no exec_start names exec_start", function()
    expect_failure('return { app_name = "x", release_system = "none" }',
      "deploy.lua: exec_start: required when release_system is \"none\"")
  end)

  it("that cannot write its output exits 3", function()
    local dir = uf.project('return { app_name = "foo_bar" }')
    uf.write(dir .. "/blocker", "a file, not a folder")
    local r = uf.run({ "deploy.lua", "--out", "blocker" }, dir)
    uf.rm(dir)
    assert.are.equal(3, r.code, r.stderr)
    assert.truthy(r.stderr:find("blocker", 1, true), r.stderr)
  end)
end)
