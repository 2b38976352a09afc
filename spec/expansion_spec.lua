-- refs, part lists, specifiers and functions (docs/keys.md section 5).
local uf = require("uf")

local function unit(body)
  return uf.unit_text("return { app_name = \"foo_bar\",\n" .. body .. "\n}")
end

describe("expansion", function()
  it("joins part lists with refs and nested lists", function()
    local text = unit([[exec_start_pre = { { "!", ref.deploy_dir, { "/bin", "/x" } } }]])
    assert.truthy(text:find("\nExecStartPre=!/srv/foo-bar/bin/x\n", 1, true), text)
  end)

  it("expands list elements one by one, numbers as decimal", function()
    local text = unit([[dirs = { "runtime" },
      env_vars = { "A=1", { "RELEASE_TMP=", ref.runtime_dir }, { "PORT=", 4000 } }]])
    assert.truthy(text:find("\nEnvironment=A=1\nEnvironment=RELEASE_TMP=/run/foo-bar\nEnvironment=PORT=4000\n", 1, true), text)
  end)

  it("calls element functions with the resolved config", function()
    local text = unit([[env_vars = { function(c) return "NODE=" .. c.service_name .. "@127.0.0.1" end }]])
    assert.truthy(text:find("\nEnvironment=NODE=foo-bar@127.0.0.1\n", 1, true), text)
  end)

  it("accepts a function for any key, seeing overrides", function()
    local text = unit([[ext_name = "shop", deploy_dir = function(c) return "/opt/" .. c.ext_name end]])
    assert.truthy(text:find("\nWorkingDirectory=/opt/shop/current\n", 1, true), text)
  end)

  it("runs each function at most once", function()
    local text = unit([[deploy_dir = (function()
        local calls = 0
        return function(c) calls = calls + 1; assert(calls == 1, "called twice"); return "/d" end
      end)()]])
    assert.truthy(text:find("\nWorkingDirectory=/d/current\n", 1, true), text)
  end)

  it("writes specifiers as %X and literal percent signs doubled", function()
    local text = unit([[env_vars = { { "INSTANCE=", specifier.i }, "RATE=50%" }]])
    assert.truthy(text:find("\nEnvironment=INSTANCE=%i\nEnvironment=RATE=50%%\n", 1, true), text)
  end)

  it("accepts a bare ref as a value", function()
    local text = unit([[working_dir = ref.deploy_dir]])
    assert.truthy(text:find("\nWorkingDirectory=/srv/foo-bar\n", 1, true), text)
  end)

  it("keeps the view read-only", function()
    local dir = uf.project([[return { app_name = "x", deploy_dir = function(c) c.ext_name = "y" return "/d" end }]])
    local r = uf.run({ "deploy.lua", "--stdout" }, dir)
    uf.rm(dir)
    assert.are.equal(1, r.code)
    assert.truthy(r.stderr:find("read-only", 1, true), r.stderr)
  end)

  it("puts exactly one space after exec_start_wrap", function()
    for _, wrap in ipairs({ '"/usr/bin/env"', '"/usr/bin/env "', '"/usr/bin/env   "' }) do
      local text = unit("exec_start_wrap = " .. wrap)
      assert.truthy(text:find("\nExecStart=/usr/bin/env /srv/foo-bar/current/bin/foo_bar start\n", 1, true), text)
    end
  end)
end)
