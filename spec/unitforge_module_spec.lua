-- The `unitforge` helper module, loaded straight from lua/ and through
-- the binary.
package.path = (os.getenv("UNITFORGE_ROOT") or ".") .. "/lua/?.lua;" .. package.path
local unitforge = require("unitforge")
local uf = require("uf")

describe("unitforge.merge", function()
  it("deep-merges tables left to right", function()
    local base = { a = 1, nested = { x = 1, y = 2 } }
    local merged = unitforge.merge(base, { b = 2, nested = { y = 3 } })
    assert.are.same({ a = 1, b = 2, nested = { x = 1, y = 3 } }, merged)
    assert.are.same({ a = 1, nested = { x = 1, y = 2 } }, base)
  end)

  it("replaces lists instead of concatenating them", function()
    local merged = unitforge.merge({ dirs = { "runtime", "state" } }, { dirs = { "logs" } })
    assert.are.same({ dirs = { "logs" } }, merged)
  end)

  it("skips nil layers and rejects non-tables", function()
    assert.are.same({ a = 1 }, unitforge.merge({ a = 1 }, nil))
    assert.has_error(function() unitforge.merge({}, 42) end,
      "unitforge.merge: argument 2 is a number, not a table")
  end)

  it("keeps functions and refs as they are", function()
    local f = function() end
    assert.are.equal(f, unitforge.merge({}, { deploy_dir = f }).deploy_dir)
  end)
end)

describe("the unitforge global in a config", function()
  it("has merge and the binary's version", function()
    local version = uf.run({ "--version" }).stdout:match("unitforge (%S+)")
    local text = uf.unit_text(([[
      local base = { app_name = "foo_bar", dirs = { "runtime" } }
      assert(unitforge.version == %q, unitforge.version)
      return unitforge.merge(base, { ext_name = "merged" })]]):format(version))
    assert.truthy(text:find("Description=merged service", 1, true))
    assert.truthy(text:find("RuntimeDirectory=merged", 1, true))
  end)

  it("can require modules beside the config and in its lua/ folder", function()
    local dir = uf.project('local a = require("base")\nlocal b = require("shared")\nreturn unitforge.merge(a, b)', {
      ["base.lua"] = 'return { app_name = "foo_bar" }',
      ["lua/shared.lua"] = 'return { umask = "0077" }',
    })
    local r = uf.run({ "deploy.lua", "--stdout" }, dir)
    uf.rm(dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.truthy(r.stdout:find("\nUMask=0077\n", 1, true))
  end)
end)
