-- `make install` and `make uninstall` as a packager runs them: PREFIX and
-- DESTDIR honoured, each file where it belongs and nothing elsewhere,
-- and an installed binary that needs nothing from the source tree.
local uf = require("uf")

-- The build folder of the binary under test: make installs what the
-- suite runs and builds nothing new.
local build_dir = uf.bin:match("^(.*)/[^/]*$")

-- Runs `make TARGET NAME=VALUE...` in the source tree, away from any make
-- the suite itself runs under (its MAKEFLAGS carry its own variables);
-- returns the exit code and the output.
local function make(target, vars)
  local args = { "BUILD_DIR=" .. uf.quote(build_dir) }
  for _, name in ipairs({ "PREFIX", "DESTDIR" }) do
    if vars[name] then args[#args + 1] = name .. "=" .. uf.quote(vars[name]) end
  end
  local out = os.tmpname()
  local code = uf.sh(("cd %s && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u PREFIX -u DESTDIR "
    .. "make --no-print-directory %s %s >%s 2>&1 </dev/null"):format(
    uf.quote(uf.root), target, table.concat(args, " "), out))
  local output = uf.read(out)
  os.remove(out)
  return code, output
end

-- Every entry below `dir`: relative path -> type and mode ("f 755").
local function tree(dir)
  local entries = {}
  for line in uf.capture(("find %s -mindepth 1 -printf '%%P %%y %%m\\n'"):format(uf.quote(dir))):gmatch("[^\n]+") do
    local path, kind = line:match("^(.*) (%a %d+)$")
    entries[path] = kind
  end
  return entries
end

-- Runs the binary at `bin` as uf.run runs the one under test.
local function run(bin, args, cwd)
  local saved = uf.bin
  uf.bin = bin
  local r = uf.run(args, cwd)
  uf.bin = saved
  return r
end

local examples = {}
for dir in io.popen("cd " .. uf.quote(uf.root) .. " && ls -d examples/*/"):lines() do
  if uf.exists(uf.root .. "/" .. dir .. "deploy.lua") then examples[#examples + 1] = dir:gsub("/$", "") end
end

describe("make install", function()
  local dest, installed, doc

  setup(function()
    dest = uf.tmpdir()
    installed = dest .. "/usr/bin/unitforge"
    doc = dest .. "/usr/share/doc/unitforge"
  end)

  teardown(function()
    uf.rm(dest)
  end)

  it("installs into DESTDIR under PREFIX", function()
    local code, output = make("install", { PREFIX = "/usr", DESTDIR = dest })
    assert.are.equal(0, code, output)
    -- nothing goes elsewhere: every path it reports is under DESTDIR
    for path in output:gmatch("Installing: (%S+)") do
      assert.are.equal(dest .. "/usr/", path:sub(1, #dest + 5), path)
    end
  end)

  it("puts the binary in bin and the documentation in share/doc/unitforge, and nothing else", function()
    local entries = tree(dest)
    assert.are.equal("f 755", entries["usr/bin/unitforge"])
    assert.are.equal(uf.read(uf.root .. "/README.md"), uf.read(doc .. "/README.md"))
    -- the pages the README links to, where its links point
    for _, page in ipairs({ "docs/keys.md", "docs/design.md" }) do
      assert.are.equal(uf.read(uf.root .. "/" .. page), uf.read(doc .. "/" .. page), page)
    end
    for _, example in ipairs(examples) do
      assert.are.equal(uf.read(uf.root .. "/" .. example .. "/deploy.lua"),
        uf.read(doc .. "/" .. example .. "/deploy.lua"), example)
    end
    for path in pairs(entries) do
      local expected = path == "usr" or path == "usr/bin" or path == "usr/bin/unitforge" or path == "usr/share"
        or path == "usr/share/doc" or path:match("^usr/share/doc/unitforge")
      assert.truthy(expected, path)
    end
  end)

  it("installs a binary that runs from any folder", function()
    local version = run(installed, { "--version" })
    assert.are.equal(0, version.code, version.stderr)
    assert.are.equal(uf.run({ "--version" }).stdout, version.stdout)
    local cwd = uf.tmpdir()
    local r = run(installed, { doc .. "/examples/basic/deploy.lua", "--stdout" }, cwd)
    assert.are.equal(0, r.code, r.stderr)
    assert.are.equal(uf.run({ uf.root .. "/examples/basic/deploy.lua", "--stdout" }).stdout, r.stdout)
    uf.rm(cwd)
  end)

  it("installs a binary that needs nothing from the source tree or the build", function()
    -- the build folder and the source tree (in that order: the first
    -- may be inside the second) hidden under empty tmpfs mounts, in a
    -- mount namespace of this run alone
    local project = uf.project('return { app_name = "foo_bar", dirs = { "runtime" }, restart_method = "systemd_flag" }')
    local hide = ""
    for _, dir in ipairs({ build_dir, uf.root }) do
      hide = hide .. ("mount -t tmpfs none %s && "):format(uf.quote(dir))
    end
    local unshare = uf.sh("test $(id -u) = 0") == 0 and "unshare --mount" or "unshare --map-root-user --mount"
    local script = hide .. ("test ! -e %s && cd %s && %s %s deploy.lua --out out && %s %s show deploy.lua --json >show.json "
      .. "&& %s %s init deploy.lua"):format(uf.quote(uf.root .. "/README.md"), uf.quote(project),
      uf.wrapper, uf.quote(installed), uf.wrapper, uf.quote(installed), uf.wrapper, uf.quote(installed))
    local out = os.tmpname()
    local code = uf.sh(("%s sh -c %s >%s 2>&1 </dev/null"):format(unshare, uf.quote(script), out))
    local output = uf.read(out)
    os.remove(out)
    assert.are.equal(0, code, output)
    assert.truthy(output:find("created out/lib/systemd/system/foo-bar-restart.path", 1, true), output)
    assert.truthy(uf.read(project .. "/show.json"):find('"service":"foo-bar"', 1, true))
    assert.truthy(uf.exists(project .. "/rel/templates/systemd/systemd.service.tmpl"))
    uf.rm(project)
  end)

  it("installs under /usr/local when PREFIX is not given", function()
    local other = uf.tmpdir()
    local code, output = make("install", { DESTDIR = other })
    assert.are.equal(0, code, output)
    assert.are.equal("f 755", tree(other)["usr/local/bin/unitforge"])
    assert.truthy(uf.exists(other .. "/usr/local/share/doc/unitforge/README.md"))
    uf.rm(other)
  end)
end)

describe("make uninstall", function()
  it("removes what make install put there and nothing else", function()
    local dest = uf.tmpdir()
    local code, output = make("install", { PREFIX = "/usr", DESTDIR = dest })
    assert.are.equal(0, code, output)
    uf.write(dest .. "/usr/bin/other", "#!/bin/sh\n", "755")
    uf.write(dest .. "/usr/share/doc/other/README", "kept\n")
    code, output = make("uninstall", { PREFIX = "/usr", DESTDIR = dest })
    assert.are.equal(0, code, output)
    local left = {}
    for path, kind in pairs(tree(dest)) do
      if kind:sub(1, 1) ~= "d" then left[#left + 1] = path end
    end
    table.sort(left)
    assert.are.same({ "usr/bin/other", "usr/share/doc/other/README" }, left)
    assert.is_false(uf.exists(dest .. "/usr/share/doc/unitforge"))
    uf.rm(dest)
  end)
end)
