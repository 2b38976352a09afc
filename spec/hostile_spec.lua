-- Hostile input: every value that can reach a unit file, every escape a
-- config could try, and what is already on disk. Black-box: config in,
-- files and exit status out. A failure must exit with the documented
-- status, name the file:line or the key, and leave the output folder
-- byte-for-byte as it was.
local uf = require("uf")

-- A hang must not hang the suite: every run is bounded from outside too.
if uf.wrapper == "" then uf.wrapper = "timeout -s KILL 30" end

local OUT = "/_build/prod/systemd/lib/systemd/system/"

local function args_of(extra)
  local all = { "deploy.lua" }
  for _, a in ipairs(extra or {}) do all[#all + 1] = a end
  return all
end

-- Messages go to a terminal: no raw control characters but newline/tab.
local function assert_clean_stderr(s)
  local bad = s:find("[%z\1-\8\11-\31\127]")
  assert.is_nil(bad, "raw control character in stderr at " .. tostring(bad) .. ":\n" .. s)
  assert.is_nil(s:find("PANIC", 1, true), s)
end

-- Runs `config` in a project whose output folder already holds a unit;
-- opts: args, files, setup(dir), code (default 1), patterns (all must be
-- found in stderr). Returns stderr.
local function expect_failure(config, opts)
  opts = opts or {}
  local dir = uf.project(config, opts.files)
  uf.write(dir .. OUT .. "keep.service", "[Unit]\n")
  if opts.setup then opts.setup(dir) end
  local before = uf.snapshot(dir)
  local r = uf.run(opts.argv or args_of(opts.args), dir)
  local after = uf.snapshot(dir)
  if opts.check then opts.check(dir) end
  uf.rm(dir)
  assert.are.equal(opts.code or 1, r.code, r.stderr)
  assert.are.equal("", r.stdout)
  for _, p in ipairs(opts.patterns or {}) do
    assert.truthy(r.stderr:find(p, 1, true), "expected «" .. p .. "» in:\n" .. r.stderr)
  end
  assert_clean_stderr(r.stderr)
  assert.are.equal(before, after)
  return r.stderr
end

-- Generates with --stdout; asserts success and returns the text.
local function generate(config, extra)
  local dir = uf.project(config)
  local all = args_of(extra)
  all[#all + 1] = "--stdout"
  local r = uf.run(all, dir)
  uf.rm(dir)
  assert.are.equal(0, r.code, r.stderr)
  return r.stdout, r.stderr
end

local function has_line(text, line)
  return ("\n" .. text):find("\n" .. line .. "\n", 1, true) ~= nil
end

local function assert_line(text, line)
  assert.truthy(has_line(text, line), "expected line «" .. line .. "» in:\n" .. text)
end

-- No line of a unit may end in an odd run of backslashes (it would join
-- the next line) or hold a control character.
local function assert_safe_text(text)
  for line in text:gmatch("([^\n]*)\n") do
    local run = line:match("(\\*)$")
    assert.are.equal(0, #run % 2, "line continues: " .. line)
    assert.is_nil(line:find("[%z\1-\8\10-\31\127]"), "control character in: " .. line)
  end
end

describe("values smuggling control characters", function()
  for _, case in ipairs({
    { "a carriage return", 'env_vars = { "A=1\\rB=2" }', "env_vars[1]: contains a control character" },
    { "a NUL in the middle", 'env_vars = { "A=1\\0ExecStartPre=/evil" }', "env_vars[1]: contains a control character" },
    { "a NUL in a name key", 'app_user = "root\\0x"', "app_user:" },
    { "a NUL in a path", 'base_dir = "/srv\\0/../etc"', "base_dir:" },
    { "a tab in an executable's path", 'base_dir = "/srv/a\\tb"', "exec_start: systemd refuses a control character in the executable" },
    { "a tab in a user name", 'app_user = "a\\tb"', "app_user: expected a user or group name" },
    { "DEL", 'syslog_identifier = "a\\127b"', "syslog_identifier: contains a control character" },
    { "an escape sequence", 'env_vars = { "A=\\27[31mred" }', "env_vars[1]: contains a control character" },
    { "a newline inside a part list", 'exec_start = { "/bin/x", { "\\n", "ExecStartPre=/evil" } }',
      "exec_start: contains a newline" },
    { "a newline from an element function", 'env_vars = { function() return "A=1\\nB=2" end }',
      "env_vars[1]: contains a newline" },
    { "a newline in a path list", 'read_write_paths = { "/srv/a\\nExecStart=/evil" }', "read_write_paths[1]" },
    { "a newline in unit_after_targets", 'unit_after_targets = { "a.target\\nExecStartPre=/evil" }',
      "unit_after_targets[1]" },
    { "a newline in hardening_extra", 'paranoia = "strict", systemd_version = 252, hardening_extra = { TasksMax = "5\\nUser=root" }',
      "hardening_extra" },
  }) do
    it("refuses " .. case[1] .. ", naming the key", function()
      expect_failure('return { app_name = "x", ' .. case[2] .. ' }', { patterns = { "deploy.lua: " .. case[3] } })
    end)
  end

  it("refuses a literal \\1 + letter that would pose as a specifier", function()
    expect_failure('return { app_name = "x", env_vars = { "A=\\1i" } }',
      { patterns = { "deploy.lua: env_vars: contains a control character" } })
  end)

  it("refuses a computed value with \\1H that would pose as a specifier", function()
    expect_failure('return { app_name = "x", exec_start = function() return "/bin/x \\1H" end }',
      { patterns = { "deploy.lua: exec_start: contains a control character" } })
  end)

  it("refuses a control character from --set", function()
    expect_failure('return { app_name = "x" }',
      { args = { "--set", "app_user=ro\1ot" }, code = 2, patterns = { "--set app_user" } })
  end)
end)

describe("directive names from hardening_extra", function()
  for _, name in ipairs({ "X\\nExecStartPre", "A=B", "", "Exec Start", "[Install]", "Foo%i" }) do
    it("refuses the directive name " .. name, function()
      expect_failure('return { app_name = "x", paranoia = "strict", systemd_version = 252, hardening_extra = { ["'
        .. name .. '"] = "1" } }', { patterns = { "deploy.lua: hardening_extra" } })
    end)
  end
end)

describe("trailing backslashes", function()
  it("in a command line are escaped so no line continues", function()
    local text = generate('return { app_name = "x", release_system = "none", exec_start = "/bin/echo x\\\\", exec_start_pre = { { "/bin/echo ", ref.deploy_dir } }, deploy_dir = "/srv/a\\\\" }')
    assert_safe_text(text)
    assert_line(text, "ExecStart=/bin/echo x\\\\")
  end)

  it("in an environment value are quoted", function()
    local text = generate('return { app_name = "x", env_vars = { "A=b\\\\", "B=\\\\\\\\\\\\" } }')
    assert_safe_text(text)
    assert_line(text, 'Environment="A=b\\\\"')
  end)

  it("in a path list are quoted", function()
    local text = generate('return { app_name = "x", read_write_paths = { "/srv/a\\\\" } }')
    assert_safe_text(text)
    assert_line(text, 'ReadWritePaths="/srv/a\\\\"')
  end)

  for _, case in ipairs({
    { "syslog_identifier", 'syslog_identifier = "x\\\\"' },
    { "unit_after_targets", 'unit_after_targets = { "a.target\\\\" }' },
    { "hardening_extra", 'paranoia = "strict", systemd_version = 252, hardening_extra = { TasksMax = "5\\\\" }' },
    { "app_user", 'app_user = "x\\\\"' },
  }) do
    it("in " .. case[1] .. " (not unescaped by systemd) is refused, never written", function()
      local err = expect_failure('return { app_name = "x", ' .. case[2] .. ' }')
      assert.truthy(err:find(case[1], 1, true) or err:find("backslash", 1, true), err)
    end)
  end
end)

describe("percent signs, dollars and quotes", function()
  it("double every literal % and keep specifiers only from specifier.X", function()
    local text = generate([[return { app_name = "x",
      env_vars = { "A=%i", "B=%%", { "C=", specifier.i, "%n" } },
      exec_start = "/bin/echo 100%" }]])
    assert_line(text, "Environment=A=%%i")
    assert_line(text, "Environment=B=%%%%")
    assert_line(text, "Environment=C=%i%%n")
    assert_line(text, "ExecStart=/bin/echo 100%%")
  end)

  it("double $ in data from refs, keep ${VAR} in command text", function()
    local text = generate([[return { app_name = "x", deploy_dir = "/srv/$HOME",
      exec_start = { "/bin/echo ${PORT} ", ref.deploy_dir } }]])
    assert_line(text, "ExecStart=/bin/echo ${PORT} /srv/$$HOME")
  end)

  it("escape quotes in an environment value", function()
    local text = generate([[return { app_name = "x", env_vars = { 'A=say "hi"', "B='q'" } }]])
    assert_line(text, 'Environment="A=say \\"hi\\""')
    assert_line(text, [[Environment="B='q'"]])
  end)

  it("quote a ref value with quotes, spaces and a semicolon as one word", function()
    local text = generate([[return { app_name = "x", release_system = "none", deploy_dir = '/srv/a "b" ;c',
      exec_start = { "/bin/echo ", ref.deploy_dir } }]])
    assert_line(text, 'ExecStart=/bin/echo "/srv/a \\"b\\" ;c"')
  end)

  it("write hostile but valid values that strict systemd-analyze verify accepts", function()
    local dir = uf.project([[return { app_name = "x", release_system = "none", deploy_dir = "/srv/a b$%",
      exec_start = { "/bin/echo ", ref.deploy_dir, " x\\" },
      env_vars = { 'A=say "hi"\\', "B=100%", "C=\u{2028}\u{feff}é" } }]])
    local r = uf.run({ "deploy.lua", "--out", "out" }, dir)
    assert.are.equal(0, r.code, r.stderr)
    local code, output = uf.verify(dir .. "/out/lib/systemd/system")
    uf.rm(dir)
    assert.are.equal(0, code, output)
    assert.are.equal("", output)
  end)
end)

describe("unicode oddities", function()
  for _, case in ipairs({
    { "an overlong '/'", "\\xC0\\xAF" },
    { "an overlong NUL", "\\xC0\\x80" },
    { "a 3-byte overlong", "\\xE0\\x80\\xAF" },
    { "a UTF-16 surrogate", "\\xED\\xA0\\x80" },
    { "a code point above U+10FFFF", "\\xF4\\x90\\x80\\x80" },
    { "a truncated sequence at the end", "\\xE2\\x82" },
    { "a lone continuation byte", "\\x80" },
    { "a 5-byte lead", "\\xF8\\x88\\x80\\x80\\x80" },
  }) do
    it("refuses " .. case[1], function()
      expect_failure('return { app_name = "x", env_vars = { "A=' .. case[2] .. '" } }',
        { patterns = { "deploy.lua: env_vars[1]: is not valid UTF-8" } })
    end)
  end

  it("writes U+2028, U+FEFF and U+10FFFF byte for byte", function()
    local text = generate('return { app_name = "x", env_vars = { "A=\\u{2028}\\u{feff}\\u{10ffff}" } }')
    assert_line(text, "Environment=A=\u{2028}\u{feff}\u{10ffff}")
  end)

  it("refuses invalid UTF-8 added by a filter, naming the unit and line", function()
    expect_failure([[return { app_name = "x", filters = { function(t) return t .. "# \xC0\xAF\n" end } }]],
      { patterns = { "unit x.service, line", "invalid UTF-8" } })
  end)
end)

describe("extreme sizes and shapes", function()
  it("refuses a unit line longer than systemd accepts, from a filter", function()
    expect_failure([[return { app_name = "x", filters = { function(t) return t .. "# " .. ("x"):rep(1024 * 1024 + 1) .. "\n" end } }]],
      { patterns = { "unit x.service, line", "line longer than systemd accepts" } })
  end)

  it("refuses a service_name that makes a unit name over 255 characters", function()
    local err = expect_failure('return { app_name = "x", service_name = ("a"):rep(300) }')
    assert.truthy(err:find("service_name", 1, true) or err:find("1 to 255", 1, true), err)
  end)

  it("handles a part list nested 100000 deep without crashing", function()
    local dir = uf.project([[local t = "/bin/x"
for i = 1, 100000 do t = { t } end
return { app_name = "x", exec_start = t }]])
    local r = uf.run({ "deploy.lua", "--stdout" }, dir)
    uf.rm(dir)
    assert.truthy(r.code == 0 or r.code == 1, "exit " .. r.code .. ": " .. r.stderr)
    if r.code == 0 then assert_line(r.stdout, "ExecStart=/bin/x") end
    if r.code == 1 then assert.truthy(r.stderr:find("exec_start", 1, true), r.stderr) end
  end)

  it("refuses a part list that contains itself, naming the key", function()
    expect_failure('local t = { "/bin/x" }\nt[2] = t\nreturn { app_name = "x", exec_start = t }',
      { patterns = { "exec_start" } })
  end)

  it("refuses 10000 nested tables as a list element, naming the key", function()
    local err = expect_failure([[local t = {}
for i = 1, 10000 do t = { t } end
return { app_name = "x", dirs = t }]])
    assert.truthy(err:find("dirs", 1, true), err)
  end)
end)

describe("numbers that are not decimals", function()
  for _, case in ipairs({
    { "NaN in a part list", 'env_vars = { { "A=", 0/0 } }', "env_vars" },
    { "inf in a part list", 'env_vars = { { "A=", math.huge } }', "env_vars" },
    { "-inf in a part list", 'exec_start = { "/bin/sleep ", -math.huge }', "exec_start", "written as -inf" },
    { "NaN as restart_sec", "restart_sec = 0/0", "restart_sec", "written as RestartSec=-nan" },
    { "inf as timeout_start_sec", "timeout_start_sec = math.huge", "timeout_start_sec", "written as TimeoutStartSec=inf" },
    { "NaN as limit_nofile", "limit_nofile = 0/0", "limit_nofile", "written as LimitNOFILE=-nan" },
    { "inf as systemd_version", "systemd_version = math.huge", "systemd_version" },
    { "a float systemd_version", "systemd_version = 247.5", "systemd_version" },
    { "2^63 as limit_core", "limit_core = 2^63", "limit_core", "written as LimitCORE=9.2233720368548e+18" },
    { "a negative restart_sec", "restart_sec = -5", "restart_sec", "written as RestartSec=-5" },
  }) do
    local test = it
    test("refuses " .. case[1] .. ", naming the key", function()
      expect_failure('return { app_name = "x", ' .. case[2] .. ' }', { patterns = { "deploy.lua: " .. case[3] } })
    end)
  end

  it("writes integral floats and large integers as plain decimals", function()
    local text = generate('return { app_name = "x", env_vars = { { "A=", 2^53 }, { "B=", math.mininteger }, { "C=", 1.5 } } }')
    assert_line(text, "Environment=A=9007199254740992")
    assert_line(text, "Environment=B=-9223372036854775808")
    assert_line(text, "Environment=C=1.5")
  end)
end)

describe("names and paths that try to escape", function()
  for _, case in ipairs({
    { "service_name", '"../../../tmp/evil"' },
    { "service_name", '"/etc/passwd"' },
    { "service_name", '"a/b"' },
    { "service_name", '""' },
    { "service_name", '"x.service.d/../y"' },
    { "app_name", '"../x"' },
    { "ext_name", '"../x"' },
    { "mix_env", '"../escaped"', "writes to <project>/escaped/systemd/lib/systemd/system, outside _build" },
    { "mix_env", '"a/b"', "writes to _build/a/b/systemd/..." },
  }) do
    local test = it
    test("refuses " .. case[1] .. " = " .. case[2], function()
      expect_failure('return { app_name = "x", ' .. case[1] .. " = " .. case[2] .. " }",
        { patterns = { "deploy.lua: " .. case[1] .. ":" } })
    end)
  end

  for _, name in ipairs({
    "../evil.service", "/etc/passwd.service", "x.service.d/../../evil.conf", "x.service.d/../x.conf",
    ".d/a.conf", "x.service.d/.conf", "x.service.d/a/b.conf", "x.service.d", "..service",
    "a b.service", "x.service.d/a\\0/../../b.conf",
    "x.service\\n", "", "evil",
  }) do
    it("refuses an after_render unit named " .. name:gsub("\\", "\\\\"), function()
      expect_failure('return { app_name = "x", hooks = { after_render = function(units) units[#units + 1] = { name = "'
        .. name .. '", text = "[Unit]\\n" } end } }', { patterns = { "deploy.lua: unit name" } })
    end)
  end

  it("--set mix_env=../escaped is refused like --env ../escaped", function()
    expect_failure('return { app_name = "x" }',
      { args = { "--set", "mix_env=../escaped" }, code = 2, patterns = { "--set mix_env" } })
  end)

  it("an after_render unit name with a NUL is refused, not cut at the NUL", function()
    expect_failure([[return { app_name = "x", hooks = { after_render = function(units)
  units[#units + 1] = { name = "y.service\0/../../evil.service", text = "[Unit]\n" } end } }]],
      { patterns = { "deploy.lua: unit name" } })
  end)

  it("refuses an after_render unit whose name is not a string", function()
    expect_failure('return { app_name = "x", hooks = { after_render = function(units) units[1].name = 42 end } }',
      { patterns = { "hooks.after_render: units[1] needs a string name and text" } })
  end)

  it("refuses an after_render list entry that is not a table", function()
    expect_failure('return { app_name = "x", hooks = { after_render = function(units) return { "x.service" } end } }',
      { patterns = { "hooks.after_render: units[1] is a string, not a table" } })
  end)

  it("refuses keys that are not strings", function()
    expect_failure('return { app_name = "x", [true] = 1, [1.5] = 2 }', { patterns = {
      "deploy.lua: keys of a service table are names, got boolean",
      "deploy.lua: keys of a service table are names, got number" } })
  end)

  it("an unknown key holding ESC is printed raw to the terminal", function()
    expect_failure('return { app_name = "x", ["a\\27[31mred"] = 3 }', { patterns = { "unknown key" } })
  end)
end)

describe("filters", function()
  for _, case in ipairs({
    { "nil", "nil", "returned nil" },
    { "a number", "42", "returned a number" },
    { "a table with __tostring", 'setmetatable({}, { __tostring = function() return "[Unit]\\n" end })', "returned a table" },
    { "a function", "function() end", "returned a function" },
  }) do
    it("that return " .. case[1] .. " stop the run", function()
      expect_failure('return { app_name = "x", filters = { function() return ' .. case[2] .. " end } }",
        { patterns = { "filters[1] on x.service: deploy.lua:1: the filter " .. case[3] .. "; a filter returns the unit's text" } })
    end)
  end

  for _, case in ipairs({
    { "a NUL", '"[Unit]\\0\\n"', "control character" },
    { "a CR", '"[Unit]\\r\\nExecStart=/evil\\n"', "control character" },
    { "an escape", '"# \\27]0;pwned\\7\\n"', "control character" },
    { "a trailing backslash", '"[Service]\\nEnvironment=A=\\\\\\nExecStart=/evil\\n"', "line ends with a backslash" },
    { "no final newline", '"[Unit]"', "text does not end with a newline" },
  }) do
    it("that add " .. case[1] .. " are refused, naming the unit and line", function()
      expect_failure('return { app_name = "x", filters = { function() return ' .. case[2] .. " end } }",
        { patterns = { "unit x.service, line", case[3] } })
    end)
  end

  it("that are not functions are refused, naming the key", function()
    expect_failure('return { app_name = "x", filters = { "upper" } }', { patterns = { "deploy.lua: filters" } })
  end)

  it("that yield report file and line", function()
    expect_failure('return { app_name = "x", filters = { function(t)\n coroutine.yield(t)\n end } }',
      { patterns = { "deploy.lua:2:" } })
  end)
end)

describe("hooks cannot get around validation", function()
  it("after_resolve cannot change the validated config through getmetatable(c)", function()
    expect_failure([[return { app_name = "x", hooks = { after_resolve = function(c)
  getmetatable(c).__index.app_user = "root"
end } }]], { patterns = { "deploy.lua:2:" } })
  end)

  it("after_render cannot redirect the units through getmetatable(c)", function()
    local ok, err = pcall(expect_failure, [[return { app_name = "x", hooks = { after_render = function(units, c)
  getmetatable(c).__index.output_dir = "/tmp/ufspec.redirected"
end } }]], { patterns = { "deploy.lua:2:" } })
    local redirected = uf.exists("/tmp/ufspec.redirected")
    uf.rm("/tmp/ufspec.redirected")
    assert(ok, err)
    assert.is_false(redirected)
  end)

  it("after_resolve cannot smuggle an unvalidated exec_start through the view", function()
    expect_failure([[return { app_name = "x", hooks = { after_resolve = function(c)
  rawget(getmetatable(c), "__index").exec_start = "/bin/x \1H"
end } }]], { patterns = { "deploy.lua:2:" } })
  end)

  it("rawset on the view, or on a list in it, is refused: nothing rendered can change", function()
    expect_failure([[return { app_name = "x", hooks = { after_resolve = function(c) rawset(c, "app_user", "root") end } }]],
      { patterns = { "deploy.lua:1:", "read-only" } })
    expect_failure([[return { app_name = "x", env_vars = { "A=1" },
  hooks = { after_resolve = function(c) rawset(c.env_vars, 1, "B=2") end } }]],
      { patterns = { "deploy.lua:2:", "read-only" } })
  end)
end)

describe("templates from templates_dir", function()
  local T = "rel/templates/systemd/systemd.service.tmpl"

  it("a template that is a directory is reported as one", function()
    expect_failure('return { app_name = "x" }', {
      setup = function(dir) uf.mkdir(dir .. "/" .. T) end,
      patterns = { "systemd.service.tmpl", "not a regular file" } })
  end)

  it("given by templates_dir = a file is an error, not a silent fallback", function()
    expect_failure('return { app_name = "x", templates_dir = "deploy.lua" }',
      { patterns = { "unitforge: cannot read template deploy.lua/systemd.service.tmpl: Not a directory" } })
  end)

  it("that loop forever are stopped", function()
    expect_failure('return { app_name = "x" }', {
      files = { [T] = "<% while true do end %>\n" }, args = { "--timeout", "1" },
      patterns = { "stopped after 1 s" } })
  end)

  it("that build a huge string are stopped at the memory limit", function()
    expect_failure('return { app_name = "x" }', {
      files = { [T] = '<%= ("x"):rep(1 << 30) %>\n' }, args = { "--max-memory", "32" },
      patterns = { "memory limit" } })
  end)

  it("cannot reach os, io, load or require", function()
    for _, code in ipairs({ 'os.execute("id")', 'io.popen("id")', 'load("return 1")', 'require("os")' }) do
      expect_failure('return { app_name = "x" }', {
        files = { [T] = "[Unit]\n<% " .. code .. " %>\n" }, patterns = { "systemd.service.tmpl:2" } })
    end
  end)

  it("cannot write a control character through a template", function()
    expect_failure('return { app_name = "x" }', {
      files = { [T] = '[Unit]\nDescription=<%= "a\\rb" %>\n' }, patterns = { "systemd.service.tmpl:2" } })
  end)
end)

describe("what is already on disk", function()
  it("an existing unit that is a symlink is replaced, never written through", function()
    local dir = uf.project('return { app_name = "x" }')
    uf.write(dir .. "/victim", "root:x:0:0::/root:/bin/sh\n")
    uf.mkdir(dir .. OUT)
    uf.sh("ln -s ../../../../../victim " .. uf.quote(dir .. OUT .. "x.service"))
    local r = uf.run({ "deploy.lua" }, dir)
    local victim = uf.read(dir .. "/victim")
    local is_link = uf.sh("test -L " .. uf.quote(dir .. OUT .. "x.service")) == 0
    local unit = uf.read(dir .. OUT .. "x.service")
    uf.rm(dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.are.equal("root:x:0:0::/root:/bin/sh\n", victim)
    assert.is_false(is_link)
    assert.truthy(unit:find("User=x", 1, true))
  end)

  it("a dangling symlink is replaced, its target never created", function()
    local dir = uf.project('return { app_name = "x" }')
    uf.mkdir(dir .. OUT)
    uf.sh("ln -s " .. uf.quote(dir .. "/created-through-link") .. " " .. uf.quote(dir .. OUT .. "x.service"))
    local r = uf.run({ "deploy.lua" }, dir)
    local through = uf.exists(dir .. "/created-through-link")
    uf.rm(dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.is_false(through)
  end)

  it("a drop-in folder that is a symlink is not written through", function()
    local dir = uf.project([[return { app_name = "x", hooks = { after_render = function(units)
  units[#units + 1] = { name = "x.service.d/limits.conf", text = "[Service]\nTasksMax=5\n" } end } }]])
    uf.mkdir(dir .. "/elsewhere")
    uf.mkdir(dir .. OUT)
    uf.sh("ln -s " .. uf.quote(dir .. "/elsewhere") .. " " .. uf.quote(dir .. OUT .. "x.service.d"))
    local r = uf.run({ "deploy.lua" }, dir)
    local through = uf.exists(dir .. "/elsewhere/limits.conf")
    uf.rm(dir)
    assert.is_false(through, "the drop-in was written through the symlink (exit " .. r.code .. ")")
  end)

  it("a unit path that is a folder fails with exit 3 before any unit is replaced", function()
    expect_failure('return { app_name = "x", restart_method = "systemd_flag" }', {
      code = 3,
      setup = function(dir)
        uf.write(dir .. OUT .. "x.service", "old\n")
        uf.write(dir .. OUT .. "x-restart.service/inside", "keep\n")
      end,
      patterns = { "unitforge: cannot write", "x-restart.service", "not a regular file", "nothing was written" } })
  end)

  it("--out pointing at a file fails with exit 3 and changes nothing", function()
    expect_failure('return { app_name = "x" }', {
      code = 3, args = { "--out", "deploy.lua" },
      patterns = { "unitforge: cannot open folder deploy.lua/lib/systemd/system", "nothing was written" } })
  end)

  it("--out under a path that cannot hold folders fails with exit 3", function()
    expect_failure('return { app_name = "x" }', {
      code = 3, args = { "--out", "/proc/version/x" }, patterns = { "nothing was written" } })
  end)

  it("--dry-run with a bad config writes nothing", function()
    expect_failure('return { app_name = "x", bad_key = 1 }', {
      args = { "--dry-run" }, patterns = { "deploy.lua: bad_key: unknown key" } })
  end)
end)

describe("--env names", function()
  for _, env in ipairs({ "a/b", "/", "..", ".", "", "a\nb", "a\1b", "../../etc" }) do
    local test = it
    test("refuses " .. string.format("%q", env) .. " as a usage error", function()
      expect_failure('return { app_name = "x" }', { code = 2, args = { "--env", env }, patterns = { "--env" } })
    end)
  end
end)

describe("metamethods, coroutines and garbage collection", function()
  it("an __index that errors on the config names its line", function()
    expect_failure('return setmetatable({ app_name = "x" }, { __index = function(t, k)\n  error("index boom " .. tostring(k))\nend })',
      { patterns = {} })
  end)

  it("a value whose __tostring pretends to be a string is a wrong type", function()
    expect_failure('return { app_name = "x", app_user = setmetatable({}, { __tostring = function() return "root" end }) }',
      { patterns = { "deploy.lua: app_user: expected a string, got table" } })
  end)

  it("a __close that errors names its line", function()
    expect_failure('local x <close> = setmetatable({}, { __close = function()\n  error("close boom")\nend })\nreturn { app_name = "x" }',
      { patterns = { "deploy.lua:2: close boom" } })
  end)

  it("cannot set a finalizer, which no time limit could stop", function()
    expect_failure('setmetatable({}, { __gc = function() error("gc boom") end })\ncollectgarbage()\nreturn { app_name = "x" }',
      { patterns = { "deploy.lua:1: setmetatable: finalizers (__gc) are not available to a config" } })
    local dir = uf.project('_G.keep = setmetatable({}, { __gc = function() while true do end end })\nreturn { app_name = "x" }')
    local r = uf.run({ "deploy.lua", "--timeout", "1" }, dir)
    uf.rm(dir)
    assert.are.equal(1, r.code, r.stderr)
  end)

  it("a __gc that allocates without end at exit is stopped", function()
    local dir = uf.project('_G.keep = setmetatable({}, { __gc = function() local s = "x" while true do s = s .. s end end })\nreturn { app_name = "x" }')
    local r = uf.run({ "deploy.lua", "--max-memory", "16" }, dir)
    uf.rm(dir)
    assert.truthy(r.code == 0 or r.code == 1, "exit " .. r.code .. ": " .. r.stderr)
  end)

  it("c.ext_name read inside a coroutine gives its value", function()
    local text = generate([[return { app_name = "x",
  exec_start = function(c) return coroutine.wrap(function() return "/opt/" .. c.ext_name .. "/run" end)() end }]])
    assert_line(text, "ExecStart=/opt/x/run")
  end)

  it("a computed value that yields while read from a coroutine is an error with its line", function()
    expect_failure([[return { app_name = "x",
  deploy_dir = function() coroutine.yield("/a") return "/b" end,
  exec_start = function(c) return coroutine.wrap(function() return c.deploy_dir .. "/x" end)() end }]],
      { patterns = { "deploy.lua:2:" } })
  end)

  it("a computed value that yields is an error with its line", function()
    expect_failure('return { app_name = "x",\n  deploy_dir = function() coroutine.yield() end }',
      { patterns = { "deploy.lua:2:" } })
  end)

  it("a view kept from a key function still reads final values in a hook", function()
    local text = generate([[local kept
return { app_name = "x",
  deploy_dir = function(c) kept = c return "/opt/x" end,
  filters = { function(t) return t .. "# " .. kept.deploy_dir .. " " .. kept.app_user .. "\n" end } }]])
    assert_line(text, "# /opt/x x")
  end)

  it("a view kept from one service and read while resolving another does not crash", function()
    local text = generate([[local kept
return {
  { app_name = "a", deploy_dir = function(c) kept = c return "/opt/a" end },
  { app_name = "b", deploy_dir = function(c) return kept.deploy_dir .. "-b" end },
}]])
    assert_line(text, "WorkingDirectory=/opt/a-b/current")
  end)

  it("a config key that is a thread is a wrong type", function()
    expect_failure('return { app_name = "x", app_user = coroutine.create(print) }',
      { patterns = { "deploy.lua: app_user: expected a string, got thread" } })
  end)
end)

describe("memory bombs", function()
  for _, case in ipairs({
    { "string.rep at load", 'local s = ("x"):rep(1 << 30)\nreturn { app_name = "x" }' },
    { "string.rep with a separator", 'local s = ("x"):rep(1 << 20, ("y"):rep(1024))\nreturn { app_name = "x" }' },
    { "string.rep in a key function", 'return { app_name = "x", deploy_dir = function() return "/" .. ("x"):rep(1 << 30) end }' },
    { "string.rep in a filter", 'return { app_name = "x", filters = { function(t) return ("x"):rep(1 << 30) end } }' },
    { "string.rep in a hook", 'return { app_name = "x", hooks = { after_resolve = function() local s = ("x"):rep(1 << 30) end } }' },
    { "table.concat", 'local t = {} for i = 1, 64 do t[i] = ("x"):rep(1 << 20) end\nlocal u = {} for i = 1, 1 << 20 do u[i] = t[1 + i % 64] end\nreturn { app_name = table.concat(u) }' },
  }) do
    it("stops " .. case[1] .. " at the memory limit", function()
      -- a generous clock: under valgrind the bomb is slow to go off
      expect_failure(case[2], { args = { "--max-memory", "64", "--timeout", "300" }, patterns = { "memory limit" } })
    end)
  end

  it("reports a string.rep beyond what Lua allows with its line", function()
    expect_failure('local s = ("x"):rep(1 << 40)\nreturn { app_name = "x" }',
      { patterns = { "unitforge: deploy.lua:1: resulting string too large" } })
  end)
end)

describe("escapes from the sandbox", function()
  for _, case in ipairs({
    { "io.open for append", 'io.open("deploy.lua", "a")' },
    { "io.open for update", 'io.open("deploy.lua", "r+")' },
    { "io.open rb+", 'io.open("deploy.lua", "rb+")' },
    { "writing through a read handle", 'assert(io.open("deploy.lua"):write("x"))' },
    { "io.lines writing", 'for l in io.lines("deploy.lua", "w") do end' },
    { "a binary chunk through load", 'assert(load("\\27Lua\\84\\0", "x", "b"))' },
    { "a binary chunk through load with mode nil", 'assert(load("\\27Lua\\84\\0"))' },
    { "a binary chunk through a reader", 'local s = "\\27Lua" assert(load(function() local r = s s = nil return r end))' },
    { "string.dump", 'string.dump(print)' },
    { "the debug library via package.loaded", 'package.loaded.debug.sethook()' },
    { "the debug library via require", 'require("debug")' },
    { "native modules through package.cpath", 'package.cpath = "/usr/lib/x86_64-linux-gnu/lua/5.4/?.so;/usr/lib/x86_64-linux-gnu/liblua5.4.so.?" require("lfs")' },
    { "loadlib via package", 'package.loadlib("/lib/x86_64-linux-gnu/libc.so.6", "system")' },
    { "os.tmpname", 'os.tmpname()' },
    { "loadfile of a binary file", 'assert(loadfile("bin.luac"))' },
    { "dofile from stdin", 'dofile()' },
  }) do
    it("refuses " .. case[1], function()
      expect_failure(case[2] .. '\nreturn { app_name = "x" }', {
        files = { ["bin.luac"] = "\27Lua\84\0junk" }, patterns = { "deploy.lua:1:" } })
    end)
  end

  it("a config cannot write to standard output, which carries the units", function()
    local dir = uf.project('pcall(function() io.stdout:write("ExecStartPre=/bin/evil\\n") end)\nreturn { app_name = "x" }')
    local r = uf.run({ "deploy.lua", "--stdout" }, dir)
    uf.rm(dir)
    assert.is_nil(r.stdout:find("/bin/evil", 1, true), r.stdout)
  end)

  it("closing io.stdout from the config does not lose the units silently", function()
    local dir = uf.project('pcall(function() io.stdout:close() end)\nreturn { app_name = "x" }')
    local r = uf.run({ "deploy.lua", "--stdout" }, dir)
    uf.rm(dir)
    assert.truthy(r.code ~= 0 or r.stdout:find("User=x", 1, true), "exit 0 with no units printed")
  end)

  it("setmetatable(_G, nil) only relaxes typo checks", function()
    local text = generate('setmetatable(_G, nil)\nassert(UNDEFINED == nil)\nreturn { app_name = "x" }')
    assert_line(text, "User=x")
  end)

  it("rawset on ref and specifier cannot forge a ref or a specifier", function()
    local text = generate([[rawset(ref, "deploy_dir", "/evil")
rawset(specifier, "i", "%i")
return { app_name = "x", exec_start = { ref.deploy_dir, "/bin/x" }, env_vars = { { "I=", specifier.i } } }]])
    assert_line(text, "ExecStart=/evil/bin/x")
    assert_line(text, "Environment=I=%%i")
  end)

  it("a precompiled config is refused, naming the file", function()
    expect_failure("\27Lua\84\0\25\147\13\10\26\10garbage", { patterns = { "deploy.lua" } })
  end)

  it("a precompiled config is refused with exit 1", function()
    expect_failure("\27Lua\84\0\25\147\13\10\26\10garbage", { patterns = { "binary chunk" } })
  end)
end)

describe("configs of weird shapes", function()
  for _, case in ipairs({
    { "a table with both services and keys", 'return { app_name = "x", { app_name = "y" } }', "deploy.lua:",
      "app_name = \"x\" is silently dropped; only y.service is written" },
    { "a list with a nil hole", 'return { { app_name = "a" }, nil, { app_name = "b" } }',
      "deploy.lua: service 2 of the list is a nil, not a table" },
    { "a list of strings", 'return { "a", "b" }', "deploy.lua:" },
    { "a function returning a function", "return function() return function() end end", "deploy.lua:" },
    { "a function returning nothing", "return function() end", "deploy.lua:" },
    { "an empty table", "return {}", "app_name" },
    { "a ref", "return ref.deploy_dir", "deploy.lua:" },
    { "a coroutine", "return coroutine.create(print)", "deploy.lua:" },
    { "a list with a hash part", 'return { env_vars = { "A=1", B = "2" }, app_name = "x" }', "env_vars",
      "B = \"2\" is silently dropped" },
    { "dirs with a nil hole", 'return { app_name = "x", dirs = { "runtime", nil, "state" } }', "dirs" },
    { "a key function returning a function", 'return { app_name = "x", app_user = function() return function() end end }',
      "deploy.lua: app_user: the function returned another function" },
    { "a key function returning a table", 'return { app_name = "x", app_user = function() return {} end }',
      "app_user: expected a string" },
    { "an element function returning a ref of itself", 'return { app_name = "x", env_vars = { function() return ref.env_vars end } }',
      "env_vars" },
    { "a function for app_name reading app_name", 'return { app_name = function(c) return c.app_name end }', "app_name" },
  }) do
    local test = it
    test("refuses " .. case[1], function()
      expect_failure(case[2], { patterns = { case[3] } })
    end)
  end

  it("a function of ctx that errors names the line", function()
    expect_failure("return function(ctx)\n  return ctx.nope.x\nend", { patterns = { "deploy.lua:2:" } })
  end)

  it("a config that changes ctx does not change the env", function()
    local text = generate('return function(ctx) ctx.env = "../evil" return { app_name = "x" } end')
    assert_line(text, "Environment=MIX_ENV=prod")
  end)
end)

describe("show --json", function()
  it("prints hostile but valid values as valid JSON", function()
    local dir = uf.project([[return { app_name = "x", env_vars = { 'A="q"\\', "B=\u{2028}", "C=%i" } }]])
    local r = uf.run({ "show", "deploy.lua", "--json" }, dir)
    uf.write(dir .. "/out.json", r.stdout)
    local p = io.popen("python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
      .. "print(repr(d[0][\"keys\"][\"env_vars\"][\"value\"]))' " .. uf.quote(dir .. "/out.json") .. " 2>&1")
    local parsed = p:read("a")
    p:close()
    uf.rm(dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.are.equal("['A=\"q\"\\\\', 'B=\\u2028', 'C=%i']\n", parsed)
  end)
end)
