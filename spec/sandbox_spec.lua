-- What a config may do, and what stops one that runs away (the README
-- "Output and failure"): every failure exits 1 with a clear message and
-- leaves the output folder exactly as it was.
local uf = require("uf")

local function failing(config, pattern, args)
  local dir = uf.project(config)
  uf.write(dir .. "/_build/prod/systemd/lib/systemd/system/keep.service", "[Unit]\n")
  local before = uf.snapshot(dir)
  local all = { "deploy.lua" }
  for _, a in ipairs(args or {}) do all[#all + 1] = a end
  local started = os.time()
  local r = uf.run(all, dir)
  local after = uf.snapshot(dir)
  uf.rm(dir)
  assert.are.equal(1, r.code, r.stderr)
  assert.truthy(r.stderr:find(pattern, 1, true), "expected «" .. pattern .. "» in:\n" .. r.stderr)
  assert.are.equal(before, after)
  return r, os.time() - started
end

describe("a runaway config", function()
  it("with an endless loop is stopped at the time limit", function()
    failing('local n = 0\nwhile true do n = n + 1 end', "unitforge: stopped after 1 s", { "--timeout", "1" })
  end)

  it("looping in a computed value, a filter or a hook is stopped too", function()
    failing('return { app_name = "x", deploy_dir = function() while true do end end }', "stopped after 1 s",
      { "--timeout", "1" })
    failing('return { app_name = "x", filters = { function() while true do end end } }', "stopped after 1 s",
      { "--timeout", "1" })
    failing('return { app_name = "x", hooks = { after_render = function() repeat until false end } }',
      "stopped after 1 s", { "--timeout", "1" })
  end)

  it("with unbounded memory is stopped at the memory limit", function()
    failing('local t = {}\nwhile true do t[#t + 1] = ("x"):rep(4096) .. #t end',
      "stopped: the config used more than its memory limit", { "--max-memory", "16" })
    failing('local s = "x"\nwhile true do s = s .. s end', "memory limit", { "--max-memory", "16" })
  end)

  it("with runaway recursion reports a stack overflow", function()
    failing('local function f(n) return 1 + f(n + 1) end\nreturn { app_name = f(1) }', "stack overflow")
  end)
end)

describe("the sandbox", function()
  for _, case in ipairs({
    { "os.execute", 'os.execute("touch /tmp/pwned")' },
    { "io.popen", 'io.popen("id")' },
    { "os.remove", 'os.remove("deploy.lua")' },
    { "os.exit", "os.exit(0)" },
    { "package.loadlib", 'package.loadlib("libc.so.6", "*")' },
    { "native modules through package.cpath", 'package.cpath = "/usr/lib/x86_64-linux-gnu/lua/5.4/?.so"; require("lfs")' },
    { "the debug library", "debug.sethook()" },
  }) do
    it("has no " .. case[1], function()
      failing(case[2] .. '\nreturn { app_name = "x" }', "deploy.lua:1:")
    end)
  end

  it("opens files for reading only", function()
    failing('io.open("x", "w")\nreturn { app_name = "x" }', "a config may only read files")
    local dir = uf.project('local f = assert(io.open("name.txt"))\nlocal n = f:read("l")\nf:close()\n'
      .. 'return { app_name = n }', { ["name.txt"] = "from_file\n" })
    local r = uf.run({ "deploy.lua", "--stdout" }, dir)
    uf.rm(dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.truthy(r.stdout:find("Description=from-file service", 1, true))
  end)

  it("loads text chunks only", function()
    failing('assert(load(string.char(27) .. "LuaT\\0"))\nreturn {}', "attempt to load a binary chunk")
    failing('load("return 1", "x", "b")\nreturn {}', "binary chunks are not allowed")
    failing('return load(string.dump(function() end))', "deploy.lua:1:")
  end)

  it("makes reading an undefined global an error", function()
    failing('return { app_name = "x", base_dir = BASE_DIR }', "deploy.lua:1: undefined global 'BASE_DIR'")
  end)

  it("keeps load, os.getenv and print working, print going to stderr", function()
    local dir = uf.project([[
      print("debug output")
      local n = load("return 'app_' .. x", "expr", "t", { x = "ok" })()
      return { app_name = n, base_dir = os.getenv("HOME") and "/srv" }]])
    local r = uf.run({ "deploy.lua", "--stdout" }, dir)
    uf.rm(dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.are.equal("debug output\n", r.stderr)
    assert.truthy(r.stdout:match("^%[Unit%]\nDescription=app%-ok service"))
  end)
end)

describe("a write that fails half-way", function()
  it("exits 3 and leaves no temporary files and no partial output", function()
    local dir = uf.project('return { app_name = "foo_bar", restart_method = "systemd_flag" }')
    local sys = dir .. "/_build/prod/systemd/lib/systemd/system/"
    uf.write(sys .. "foo-bar.service", "old content\n")
    -- the third unit cannot be written: a folder stands in its place
    uf.mkdir(sys .. "foo-bar-restart.service")
    local before = uf.snapshot(dir)
    local r = uf.run({ "deploy.lua" }, dir)
    local after = uf.snapshot(dir)
    uf.rm(dir)
    assert.are.equal(3, r.code, r.stderr)
    assert.truthy(r.stderr:find("foo-bar-restart.service: it is not a regular file", 1, true), r.stderr)
    assert.truthy(r.stderr:find("nothing was written", 1, true), r.stderr)
    assert.are.equal("", r.stdout)
    assert.are.equal(before, after)
  end)
end)
