-- Every example is generated and passes strict `systemd-analyze verify`
-- (exit 0 and no output), with stub executables for the release paths.
local uf = require("uf")

local examples = {}
for dir in io.popen("ls -d " .. uf.quote(uf.root) .. "/examples/*/"):lines() do
  if uf.exists(dir .. "deploy.lua") then examples[#examples + 1] = dir:gsub("/$", "") end
end

describe("examples", function()
  it("exist", function()
    assert.truthy(#examples > 0)
  end)

  for _, example in ipairs(examples) do
    it(example:match("[^/]+$") .. " generates units that pass strict systemd-analyze verify", function()
      local out = uf.tmpdir()
      local r = uf.run({ example .. "/deploy.lua", "--out", out })
      assert.are.equal(0, r.code, r.stderr)
      local code, output = uf.verify(out .. "/lib/systemd/system")
      uf.rm(out)
      assert.are.equal("", output)
      assert.are.equal(0, code)
    end)
  end
end)
