-- The Lua sandbox and the run's limits, wherever user code runs: every
-- way code enters the state loads text only, no limit can be caught,
-- no host metatable can be changed to run user code outside the limits,
-- and C code or a read that never returns still meets --timeout. Each
-- failure exits 1 with the same message for the same limit, in time,
-- and leaves the output folder exactly as it was.
local uf = require("uf")

local OUT = "/_build/prod/systemd/lib/systemd/system/"
local TIME_LIMIT = "unitforge: stopped after 1 s: the config, a function, filter, hook or template runs too long "
  .. "(an endless loop, a read that never ends?); raise the limit with --timeout\n"
local MEMORY_LIMIT = "unitforge: stopped: the config used more than its memory limit (unbounded data?); "
  .. "raise the limit with --max-memory\n"

-- A wall-clock bound from outside, so a hang fails the spec instead of
-- hanging it.
-- Under a slow wrapper (valgrind) the bounds on elapsed time grow by
-- what the wrapper itself costs.
local SLACK = uf.wrapper:find("valgrind", 1, true) and 20 or 0
if uf.wrapper == "" then uf.wrapper = "timeout -s KILL 20" end

local function now()
  local p = io.popen("date +%s.%N")
  local t = tonumber(p:read("l"))
  p:close()
  return t
end

-- Runs `config` (Lua source, or nil when `setup` makes deploy.lua) in a
-- project whose output already holds a unit. opts: files, setup(dir),
-- argv (in place of deploy.lua and args), args, stdin ("never": a FIFO
-- the process itself holds open, so a read never ends), code (default
-- 1). Returns the result and the seconds it took, and asserts the tree
-- is unchanged.
local function run_failing(config, opts)
  opts = opts or {}
  local dir = uf.project(config, opts.files)
  uf.write(dir .. OUT .. "keep.service", "[Unit]\n")
  if opts.setup then opts.setup(dir) end
  local before = uf.snapshot(dir)
  local args = opts.argv or { "deploy.lua" }
  for _, a in ipairs(opts.args or {}) do args[#args + 1] = a end
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = uf.quote(a) end
  local out, err, stdin = os.tmpname(), os.tmpname(), "</dev/null"
  if opts.stdin == "never" then
    stdin = "0<>" .. uf.quote(dir .. "/.stdin")
    uf.sh("mkfifo " .. uf.quote(dir .. "/.stdin"))
  end
  local before_run = opts.stdin and uf.snapshot(dir) or before
  local started = now()
  local code = uf.sh(("cd %s && %s %s %s >%s 2>%s %s"):format(uf.quote(dir), uf.wrapper, uf.quote(uf.bin),
    table.concat(quoted, " "), out, err, stdin))
  local elapsed = now() - started
  before = before_run
  local r = { code = code, stdout = uf.read(out), stderr = uf.read(err) }
  os.remove(out)
  os.remove(err)
  local after = uf.snapshot(dir)
  uf.rm(dir)
  assert.are.equal(opts.code or 1, r.code, r.stderr)
  assert.are.equal(before, after)
  assert.is_nil(r.stderr:find("PANIC", 1, true), r.stderr)
  return r, elapsed
end

local function assert_time_limit(config, opts)
  opts = opts or {}
  opts.args = opts.args or { "--timeout", "1" }
  local r, elapsed = run_failing(config, opts)
  assert.are.equal(TIME_LIMIT, r.stderr)
  assert.is_true(elapsed < 4 + SLACK, ("took %.1f s"):format(elapsed))
end

local function assert_memory_limit(config, opts)
  opts = opts or {}
  opts.args = opts.args or { "--max-memory", "32", "--timeout", tostring(5 + 3 * SLACK) }
  local r = run_failing(config, opts)
  assert.are.equal(MEMORY_LIMIT, r.stderr)
end

local function bytecode(source)
  return string.dump(assert(load(source)))
end

-- Flips bytes after the header, deterministically: a corrupt chunk.
local function mutated(chunk, seed)
  local bytes = { chunk:byte(1, -1) }
  for i = 13, #bytes, 7 do bytes[i] = (bytes[i] * 31 + seed) % 256 end
  return string.char(table.unpack(bytes))
end

describe("code enters as text only", function()
  local module_bytes = bytecode("return { app_name = 'x' }")

  for _, case in ipairs({
    { "a module beside the config", "require('mod')", { ["mod.lua"] = module_bytes } },
    { "a module in lua/", "require('team.base')", { ["lua/team/base.lua"] = module_bytes } },
    { "a module found through package.path", "package.path = './vendor/?.lua'\nrequire('v')",
      { ["vendor/v.lua"] = module_bytes } },
    { "a mutated module", "require('bad')", { ["bad.lua"] = mutated(module_bytes, 7) } },
    { "another mutated module", "require('bad')", { ["bad.lua"] = mutated(bytecode("local t = {} for i = 1, 9 do t[i] = i end return t"), 3) } },
    { "loadfile", "assert(loadfile('chunk.luac'))()", { ["chunk.luac"] = module_bytes } },
    { "loadfile with mode b", "assert(loadfile('chunk.luac', 'b'))()", { ["chunk.luac"] = module_bytes } },
    { "dofile", "dofile('chunk.luac')", { ["chunk.luac"] = mutated(module_bytes, 11) } },
    { "load of a string", "assert(load(io.open('chunk.luac'):read('a')))()", { ["chunk.luac"] = module_bytes } },
    { "load with mode b", "assert(load(io.open('chunk.luac'):read('a'), 'c', 'b'))()", { ["chunk.luac"] = module_bytes } },
    { "load from a reader", "local s = io.open('chunk.luac'):read('a')\nassert(load(function() local r = s; s = nil; return r end))()",
      { ["chunk.luac"] = module_bytes } },
    { "a searcher the config installs", "table.insert(package.searchers, 1, function(n) return assert(loadfile(n .. '.luac')) end)\nrequire('chunk')",
      { ["chunk.luac"] = module_bytes } },
    { "a searcher list the config replaces", "package.searchers = { package.searchers[2] }\nrequire('mod')",
      { ["mod.lua"] = mutated(module_bytes, 5) } },
  }) do
    it("refuses bytecode from " .. case[1], function()
      local r = run_failing(case[2] .. "\nreturn { app_name = 'x' }", { files = case[3] })
      assert.truthy(r.stderr:find("binary chunk", 1, true) or r.stderr:find("not allowed", 1, true), r.stderr)
    end)
  end

  it("refuses a precompiled config", function()
    local r = run_failing(nil, { setup = function(dir) uf.write(dir .. "/deploy.lua", mutated(module_bytes, 1)) end })
    assert.truthy(r.stderr:find("deploy.lua", 1, true), r.stderr)
  end)

  it("writes a bytecode template override as text, never runs it, and refuses what it renders", function()
    local r = run_failing("return { app_name = 'x' }",
      { files = { ["rel/templates/systemd/systemd.service.tmpl"] = module_bytes } })
    assert.truthy(r.stderr:find("x.service", 1, true), r.stderr)
  end)

  it("leaves string.dump out, so no config makes bytecode", function()
    local r = run_failing("string.dump(function() end)\nreturn { app_name = 'x' }")
    assert.truthy(r.stderr:find("dump", 1, true), r.stderr)
  end)
end)

describe("the time limit", function()
  local loop = "while true do end"
  for _, case in ipairs({
    { "the config's main chunk", loop .. "\nreturn {}" },
    { "a computed value", "return { app_name = 'x', deploy_dir = function() " .. loop .. " end }" },
    { "a part-list function", "return { app_name = 'x', env_vars = { function() " .. loop .. " end } }" },
    { "a filter", "return { app_name = 'x', filters = { function(t) " .. loop .. " end } }" },
    { "hooks.after_resolve", "return { app_name = 'x', hooks = { after_resolve = function() " .. loop .. " end } }" },
    { "hooks.after_render", "return { app_name = 'x', hooks = { after_render = function() " .. loop .. " end } }" },
    { "a config function", "return function(ctx) " .. loop .. " end" },
    { "a module at require time", "require('slow')\nreturn {}", { ["slow.lua"] = loop } },
    { "a template", "return { app_name = 'x' }", { ["rel/templates/systemd/systemd.service.tmpl"] = "<% " .. loop .. " %>" } },
    { "a loop that catches with pcall", "while true do pcall(function() while true do end end) end" },
    { "a message handler that loops", "xpcall(function() " .. loop .. " end, function() " .. loop .. " end)\nreturn {}" },
    { "a coroutine", "while true do coroutine.resume(coroutine.create(function() " .. loop .. " end)) end" },
    { "coroutine.wrap inside pcall", "while true do pcall(coroutine.wrap(function() " .. loop .. " end)) end" },
    { "a load reader", "while true do load(function() " .. loop .. " end) end" },
    { "a __close handler", "while true do pcall(function() local x <close> = setmetatable({}, { __close = function() " .. loop .. " end }) end) end" },
    { "a __tostring on an error", "while true do pcall(error, setmetatable({}, { __tostring = function() " .. loop .. " end })) end\nreturn {}" },
  }) do
    it("stops " .. case[1] .. " with the same message", function()
      assert_time_limit(case[2], { files = case[3] })
    end)
  end

  for _, case in ipairs({
    { "string.find", [[string.find(("a"):rep(40), ("a*"):rep(40) .. "b")]] },
    { "string.match", [[string.match(("a"):rep(40), ("a-"):rep(40) .. "$b")]] },
    { "string.gsub", [[string.gsub(("ab"):rep(20), ("[ab]*"):rep(30) .. "c", "")]] },
    { "string.rep under pcall", [[pcall(string.find, ("x"):rep(45), ("x*"):rep(45) .. "y")]] },
  }) do
    it("stops C code that cannot be interrupted: a backtracking " .. case[1], function()
      assert_time_limit(case[2] .. "\nreturn { app_name = 'x' }")
    end)
  end

  it("stops a config that is a FIFO nothing writes to", function()
    assert_time_limit(nil, { setup = function(dir) uf.sh("mkfifo " .. uf.quote(dir .. "/deploy.lua")) end })
  end)

  it("reads a config from a pipe (unitforge <(make-config))", function()
    local dir = uf.project(nil)
    local out = os.tmpname()
    local code = uf.sh(("cd %s && printf 'return { app_name = \"piped\" }' | %s %s /dev/stdin --stdout >%s 2>&1")
      :format(uf.quote(dir), uf.wrapper, uf.quote(uf.bin), out))
    local text = uf.read(out)
    os.remove(out)
    uf.rm(dir)
    assert.are.equal(0, code, text)
    assert.truthy(text:find("Description=piped service", 1, true), text)
  end)

  it("stops a config on a pipe that never delivers", function()
    assert_time_limit("return {}", { argv = { "/dev/stdin" }, stdin = "never" })
  end)

  for _, case in ipairs({
    { "io.stdin:read", "io.stdin:read('a')" },
    { "io.lines()", "for l in io.lines() do end" },
    { "io.stdin:lines", "for l in io.stdin:lines() do end" },
  }) do
    it("stops " .. case[1] .. " on a standard input that never closes", function()
      assert_time_limit(case[2] .. "\nreturn { app_name = 'x' }", { stdin = "never" })
    end)
  end

  it("stops io.open of a FIFO the config reads", function()
    assert_time_limit("io.open('pipe'):read('a')\nreturn { app_name = 'x' }",
      { setup = function(dir) uf.sh("mkfifo " .. uf.quote(dir .. "/pipe")) end })
  end)
end)

describe("files unitforge reads itself", function()
  local function fifo(dir, path) uf.sh("mkdir -p " .. uf.quote((dir .. "/" .. path):match("^(.*)/")) .. " && mkfifo " .. uf.quote(dir .. "/" .. path)) end
  local function link(dir, path, target) uf.sh("ln -s " .. target .. " " .. uf.quote(dir .. "/" .. path)) end

  for _, case in ipairs({
    { "a FIFO as mix.exs", function(d) fifo(d, "mix.exs") end },
    { "/dev/zero as mix.exs", function(d) link(d, "mix.exs", "/dev/zero") end },
    { "/dev/urandom as mix.exs", function(d) link(d, "mix.exs", "/dev/urandom") end },
    { "a folder as mix.exs", function(d) uf.mkdir(d .. "/mix.exs") end },
  }) do
    it("reads no app name from " .. case[1] .. ", at once", function()
      local r, elapsed = run_failing("return {}", { setup = case[2], args = { "--timeout", "5" } })
      assert.truthy(r.stderr:find("app_name: not set", 1, true), r.stderr)
      assert.truthy(r.stderr:find("mix.exs", 1, true), r.stderr)
      assert.is_true(elapsed < 2 + SLACK, ("took %.1f s"):format(elapsed))
    end)
  end

  for _, case in ipairs({
    { "a FIFO module", "require('m')", function(d) fifo(d, "m.lua") end },
    { "/dev/zero as a module", "require('m')", function(d) link(d, "m.lua", "/dev/zero") end },
    { "a FIFO module in lua/", "require('m')", function(d) fifo(d, "lua/m.lua") end },
    { "a FIFO for loadfile", "assert(loadfile('m.lua'))", function(d) fifo(d, "m.lua") end },
    { "/dev/zero for dofile", "dofile('m.lua')", function(d) link(d, "m.lua", "/dev/zero") end },
    { "a FIFO template", "", function(d) fifo(d, "rel/templates/systemd/systemd.service.tmpl") end },
    { "/dev/zero as a template", "", function(d)
      uf.mkdir(d .. "/rel/templates/systemd")
      link(d, "rel/templates/systemd/systemd.service.tmpl", "/dev/zero")
    end },
  }) do
    it("refuses " .. case[1] .. " as not a regular file, at once", function()
      local r, elapsed = run_failing(case[2] .. "\nreturn { app_name = 'x' }", { setup = case[3], args = { "--timeout", "5" } })
      assert.truthy(r.stderr:find("not a regular file", 1, true), r.stderr)
      assert.is_true(elapsed < 2 + SLACK, ("took %.1f s"):format(elapsed))
    end)
  end

  it("bounds a config reading /dev/zero by the memory limit", function()
    assert_memory_limit("io.open('/dev/zero'):read('a')\nreturn { app_name = 'x' }")
  end)

  it("bounds a huge regular module by the memory limit", function()
    assert_memory_limit("require('big')\nreturn { app_name = 'x' }", { setup = function(dir)
      uf.sh(("head -c 40000000 /dev/zero | tr '\\0' ' ' > %s"):format(uf.quote(dir .. "/big.lua")))
    end })
  end)
end)

describe("the memory limit", function()
  local grow = "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end"
  for _, case in ipairs({
    { "the main chunk", grow .. "\nreturn {}" },
    { "pcall", "pcall(function() " .. grow .. " end)\nreturn { app_name = 'x' }" },
    { "pcall in a loop", "for i = 1, 3 do pcall(function() " .. grow .. " end) end\nreturn { app_name = 'x' }" },
    { "xpcall", "xpcall(function() " .. grow .. " end, function(e) return e end)\nreturn { app_name = 'x' }" },
    { "a coroutine", "coroutine.resume(coroutine.create(function() " .. grow .. " end))\nreturn { app_name = 'x' }" },
    { "coroutine.wrap under pcall", "pcall(coroutine.wrap(function() " .. grow .. " end))\nreturn { app_name = 'x' }" },
    { "a load reader", "load(function() " .. grow .. " end)\nreturn { app_name = 'x' }" },
    { "one huge string under pcall", "pcall(string.rep, 'x', 1e9)\nreturn { app_name = 'x' }" },
    { "a computed value under pcall", "return { app_name = 'x', deploy_dir = function() pcall(function() " .. grow .. " end) return '/srv/x' end }" },
    { "a filter under pcall", "return { app_name = 'x', filters = { function(t) pcall(function() " .. grow .. " end) return t end } }" },
    { "a hook under pcall", "return { app_name = 'x', hooks = { after_render = function() pcall(function() " .. grow .. " end) end } }" },
    { "a module at require time", "pcall(require, 'grow')\nreturn { app_name = 'x' }", { ["grow.lua"] = grow } },
  }) do
    it("stops " .. case[1] .. " with the same message, whatever catches it", function()
      assert_memory_limit(case[2], { files = case[3] })
    end)
  end
end)

describe("host metatables", function()
  for _, case in ipairs({
    { "a file handle's", "io.stderr" },
    { "an opened file's", "io.open('deploy.lua')" },
    { "the string", "''" },
    { "a caught failure's", "select(2, pcall(function() return ref.no_such_key end))" },
    { "a ref's", "ref.deploy_dir" },
    { "a specifier's", "specifier.i" },
  }) do
    it("hides " .. case[1] .. " metatable", function()
      local text = uf.unit_text("local v = " .. case[2] .. "\nlocal mt = getmetatable(v)\n"
        .. "return { app_name = 'x', env_vars = { 'MT=' .. tostring(mt) } }")
      assert.truthy(text:find("Environment=MT=false", 1, true), text)
    end)
  end

  it("cannot give file handles a finalizer that outlives the time limit", function()
    assert_time_limit([[
local ok = pcall(function() getmetatable(io.stderr).__gc = function() while true do end end end)
for i = 1, 100 do io.open("deploy.lua"):close() end
collectgarbage()
while true do end]])
  end)

  it("gives no finalizer to a table whose metatable's own __index adds __gc while being asked", function()
    local dir = uf.project([[
local mt = {}
setmetatable(mt, { __index = function(t, k) rawset(t, "__gc", function() while true do end end) end })
for i = 1, 100 do setmetatable({}, mt) end
collectgarbage()
return { app_name = "x" }]])
    local started = now()
    local r = uf.run({ "deploy.lua", "--stdout", "--timeout", tostring(1 + SLACK) }, dir)
    local elapsed = now() - started
    uf.rm(dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.is_true(elapsed < 2 + SLACK, ("took %.1f s"):format(elapsed))
  end)

  it("keeps a caught failure's exit status and message out of the config's hands", function()
    local r = run_failing([[
local ok, err = pcall(function() return ref.no_such_key end)
assert(not pcall(function() err.status = 0 end))
error(err)]])
    assert.truthy(r.stderr:find("no_such_key", 1, true), r.stderr)
  end)

  it("still shows a caught failure as text", function()
    local text = uf.unit_text([[local ok, err = pcall(function() return ref.no_such_key end)
return { app_name = "x", env_vars = { "E=" .. tostring(err):gsub("\n.*", "") } }]])
    assert.truthy(text:find("no_such_key", 1, true), text)
  end)
end)

describe("the host's own modules", function()
  for _, case in ipairs({
    { "replaced in package.loaded", 'package.loaded["unitforge.template"] = 42' },
    { "replaced in package.preload", 'package.preload["unitforge.show"] = function() return {} end' },
    { "behind a replaced require", 'require = function() return "abc" end' },
    { "asked for by name", 'assert(not pcall(require, "unitforge.hardening"))' },
    { "and cjson, which bounds neither depth nor memory", 'assert(not pcall(require, "cjson"))' },
  }) do
    it("are out of a config's reach: " .. case[1], function()
      for _, command in ipairs({ "generate", "show" }) do
        local dir = uf.project(case[2] .. '\nreturn { app_name = "x", paranoia = "strict", systemd_version = 252 }')
        local r = uf.run({ command, "deploy.lua", "--stdout" }, dir)
        if command == "show" then r = uf.run({ command, "deploy.lua" }, dir) end
        uf.rm(dir)
        assert.are.equal(0, r.code, command .. ": " .. tostring(r.stderr))
      end
    end)
  end

  it("fail cleanly when the config breaks the libraries they use", function()
    local r = run_failing('string.upper = function() return {} end\nreturn { app_name = "x", dirs = { "runtime" } }')
    assert.truthy(r.stderr:find("systemd.service.tmpl:%d+: attempt to concatenate a table value"), r.stderr)
  end)

  it("join a unit's text without the library a config can replace", function()
    local dir = uf.project('table.concat = function() return {} end\nreturn { app_name = "x" }')
    local r = uf.run({ "deploy.lua", "--stdout" }, dir)
    uf.rm(dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.truthy(r.stdout:find("ExecStart=/srv/x/current/bin/x start", 1, true), r.stdout)
  end)
end)

describe("a limit reached while writing", function()
  it("is no limit: a run never reports one after it has written units", function()
    local dir = uf.project([[
local list = {}
for i = 1, 400 do list[i] = { app_name = "a" .. i, output_dir = "o" } end
list[400].hooks = { after_render = function(units)
  collectgarbage("collect")
  KEEP = {}
  local i = 0
  while collectgarbage("count") * 1024 < 16 * 1024 * 1024 - 40000 do i = i + 1; KEEP[i] = ("x"):rep(2000) .. i end
  return units
end }
return list]])
    local r = uf.run({ "deploy.lua", "--max-memory", "16" }, dir)
    local written = uf.capture("ls " .. uf.quote(dir .. "/o") .. " 2>/dev/null | wc -l"):match("%d+")
    uf.rm(dir)
    if r.code == 0 then
      assert.are.equal("400", written)
    else
      assert.are.equal(MEMORY_LIMIT, r.stderr)
      assert.are.equal("0", written)
    end
  end)
end)

describe("a chunk nested deeper than the C stack", function()
  for _, case in ipairs({
    { "the config", function() return "return " .. ("{"):rep(300) .. ("}"):rep(300) end, "deploy.lua: C stack overflow" },
    { "an expression", function() return 'return { app_name = "x", env_vars = { "A=" .. ' .. ("("):rep(300) .. "1"
      .. (")"):rep(300) .. " } }" end, "deploy.lua: C stack overflow" },
  }) do
    it("is refused with a message, naming " .. case[1], function()
      local r = run_failing(case[2]())
      assert.truthy(r.stderr:find(case[3], 1, true), r.stderr)
    end)
  end

  it("in a template is refused naming the template", function()
    local r = run_failing('return { app_name = "x" }', { files = {
      ["rel/templates/systemd/systemd.service.tmpl"] = "<%= " .. ("("):rep(300) .. "1" .. (")"):rep(300) .. " %>\n" } })
    assert.truthy(r.stderr:find("systemd.service.tmpl: C stack overflow", 1, true), r.stderr)
  end)

  it("in a module that requires itself is reported, not (null)", function()
    local r = run_failing('require("selfreq")\nreturn { app_name = "x" }',
      { files = { ["selfreq.lua"] = 'require("selfreq")\nreturn {}' } })
    assert.truthy(r.stderr:find("C stack overflow", 1, true), r.stderr)
    assert.is_nil(r.stderr:find("(null)", 1, true), r.stderr)
  end)
end)

describe("the time systemd-analyze takes", function()
  it("is not the config's, and what the config had left it still has, not a new budget", function()
    -- show runs systemd-analyze between resolving and printing: the time
    -- the config spent before it counts after it
    local dir = uf.project('return { app_name = "x" }')
    local started = now()
    uf.run({ "show", "deploy.lua" }, dir)
    local baseline = now() - started
    uf.write(dir .. "/deploy.lua", [[
local t0 = os.clock() while os.clock() - t0 < 1.8 do end
local real_ipairs = ipairs
ipairs = function(t) if rawget(t, 1) and type(t[1]) == "table" and t[1].keys then while true do end end return real_ipairs(t) end
return { app_name = "x" }]])
    started = now()
    local r = uf.run({ "show", "deploy.lua", "--timeout", tostring(2 + SLACK) }, dir)
    local elapsed = now() - started
    uf.rm(dir)
    assert.are.equal(1, r.code, r.stderr)
    assert.truthy(r.stderr:find("stopped after", 1, true), r.stderr)
    -- left: 0.2 s after systemd-analyze; a fresh budget would add 2 s
    assert.is_true(elapsed < baseline + 1.8 + 1.0 + SLACK, ("took %.1f s, %.1f s without the loops"):format(elapsed, baseline))
  end)
end)
