-- The command line: help, version, usage errors (exit 2).
local uf = require("uf")

describe("command line", function()
  it("prints help with --help and exits 0", function()
    local r = uf.run({ "--help" })
    assert.are.equal(0, r.code)
    assert.truthy(r.stdout:find("Usage: unitforge", 1, true))
    for _, option in ipairs({ "--env", "--out", "--stdout", "--dry-run", "--version", "init" }) do
      assert.truthy(r.stdout:find(option, 1, true), option)
    end
  end)

  it("prints the version", function()
    local r = uf.run({ "--version" })
    assert.are.equal(0, r.code)
    assert.truthy(r.stdout:match("^unitforge %d+%.%d+%.%d+\n$"), r.stdout)
  end)

  local usage_errors = {
    { "no config", {} },
    { "unknown option", { "deploy.lua", "--frobnicate" } },
    { "two configs", { "a.lua", "b.lua" } },
    { "--env without value", { "deploy.lua", "--env" } },
    { "empty --env", { "deploy.lua", "--env", "" } },
    { "--env with a slash", { "deploy.lua", "--env", "a/b" } },
    { "--env ..", { "deploy.lua", "--env", ".." } },
    { "--env .", { "deploy.lua", "--env=." } },
    { "--stdout with --dry-run", { "deploy.lua", "--stdout", "--dry-run" } },
  }
  for _, case in ipairs(usage_errors) do
    it("exits 2 on " .. case[1], function()
      local dir = uf.project('return { app_name = "foo_bar" }')
      local before = uf.snapshot(dir)
      local r = uf.run(case[2], dir)
      assert.are.equal(2, r.code, r.stderr)
      assert.truthy(r.stderr:match("^unitforge: "), r.stderr)
      assert.are.equal(before, uf.snapshot(dir))
      uf.rm(dir)
    end)
  end

  it("exits 2 when the config file does not exist", function()
    local dir = uf.project(nil)
    local r = uf.run({ "missing.lua" }, dir)
    assert.are.equal(2, r.code)
    assert.truthy(r.stderr:find("missing.lua", 1, true), r.stderr)
    uf.rm(dir)
  end)

  it("accepts the generate command explicitly", function()
    local dir = uf.project('return { app_name = "foo_bar" }')
    local r = uf.run({ "generate", "deploy.lua", "--stdout" }, dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.truthy(r.stdout:find("[Unit]", 1, true))
    uf.rm(dir)
  end)
end)
