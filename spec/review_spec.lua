-- Defects found in a review of the C host, each pinned by a spec.
local uf = require("uf")

local function run(config, args, files)
  local dir = uf.project(config, files)
  local before = uf.snapshot(dir)
  local all = { "deploy.lua" }
  for _, a in ipairs(args or {}) do all[#all + 1] = a end
  local r = uf.run(all, dir)
  r.unchanged = uf.snapshot(dir) == before
  uf.rm(dir)
  return r
end

local function fails(config, pattern, args, files)
  local r = run(config, args, files)
  assert.are.equal(1, r.code, r.stderr)
  assert.truthy(r.unchanged, "a failed run must not write")
  assert.truthy(r.stderr:find(pattern, 1, true), "expected «" .. pattern .. "» in:\n" .. r.stderr)
end

describe("the host after review", function()
  it("checks a table that holds itself without hanging", function()
    fails("local t = {} t[1] = t t[2] = t t[3] = t\nreturn { app_name = 'x', dirs = t }",
      "deploy.lua: dirs[1]: expected a string, got table", { "--timeout", "5" })
  end)

  it("treats expand_keys = false as a wrong type, not a crash", function()
    fails("return { app_name = 'x', expand_keys = false }", "deploy.lua: expand_keys: expected a list of strings")
  end)

  for name, loop in pairs({
    pcall = "while true do pcall(function() while true do end end) end",
    xpcall = 'while true do xpcall(function() while true do end end, function() return "x" end) end',
    coroutine = "coroutine.wrap(function() while true do end end)()",
    ["coroutine.resume"] = "while true do coroutine.resume(coroutine.create(function() while true do end end)) end",
  }) do
    it("stops a loop hidden behind " .. name .. " at the time limit", function()
      fails(loop, "stopped after 1 s", { "--timeout", "1" })
    end)
  end

  it("does not hand out the config through pairs(c)", function()
    local r = run([[return { app_name = "x", hooks = { after_render = function(units, c)
      local _, state = pairs(c)
      assert(state == nil, "pairs(c) gave the config table")
      local n = 0
      for _ in pairs(c) do n = n + 1 end
      assert(n > 50)
    end } }]], { "--stdout" })
    assert.are.equal(0, r.code, r.stderr)
  end)

  it("validates keys inherited through the service table's metatable", function()
    fails([[return setmetatable({ app_name = "x", dirs = { "runtime" } },
      { __index = { runtime_directory = "../../etc", app_user = "bad user!" } })]],
      "deploy.lua: runtime_directory: a path must not contain '..'")
  end)

  it("refuses calling ref's metamethods by hand instead of crashing", function()
    local r = run('getmetatable(ref).__index("x", "app_name")')
    assert.are.equal(1, r.code, r.stderr)
    assert.truthy(r.stderr:find("deploy.lua:1:", 1, true), r.stderr)
  end)

  it("refuses an empty output_dir", function()
    fails('return { app_name = "x", output_dir = "" }', "deploy.lua: output_dir: expected a folder")
  end)

  it("writes non-integral numbers exactly, without exponents", function()
    local r = run('return { app_name = "x", env_vars = { { "X=", 123456789012345.5 }, { "Y=", 0.1 } } }', { "--stdout" })
    assert.are.equal(0, r.code, r.stderr)
    assert.truthy(r.stdout:find("\nEnvironment=X=123456789012345.5\nEnvironment=Y=0.1\n", 1, true), r.stdout)
  end)

  it("sees two spellings of one folder as one output path", function()
    fails([[return { { app_name = "a", service_name = "s", output_dir = "out/./units" },
      { app_name = "b", service_name = "s", output_dir = "./out//units/" } }]],
      "services 's' and 's' both write out/units/s.service")
  end)

  it("refuses a Lua comment in a template tag, which would swallow the line", function()
    fails('return { app_name = "x" }', "systemd.service.tmpl:2: a Lua comment (--) in a tag", nil,
      { ["rel/templates/systemd/systemd.service.tmpl"] = "[Service]\n<% -- note %>Description=x\n" })
  end)

  it("reports the real error, not a cycle, after a function caught a failure", function()
    fails([[return { app_name = "x",
      releases_dir = function() error("boom") end,
      deploy_dir = function(c)
        pcall(function() return c.releases_dir end)
        return c.releases_dir
      end }]], "deploy.lua:2: boom")
  end)

  it("refuses --max-exposure nan", function()
    local r = run('return { app_name = "x" }', { "--max-exposure", "nan" })
    assert.are.equal(2, r.code)
  end)
end)
