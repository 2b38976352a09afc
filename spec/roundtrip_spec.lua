-- What the user wrote is what systemd parsed: nasty values through
-- unitforge, read back by systemd itself (`systemd --test`, run as an
-- unprivileged user with SYSTEMD_UNIT_PATH, STYLE.md).
local uf = require("uf")
local nasty = require("nasty")

-- Splits systemd's printed command line (quote_command_line) into words.
local function split_command_line(line)
  local words, i = {}, 1
  while i <= #line do
    local c = line:sub(i, i)
    if c == " " then
      i = i + 1
    elseif c == '"' then
      local word, j = {}, i + 1
      while line:sub(j, j) ~= '"' do
        if line:sub(j, j) == "\\" then j = j + 1 end
        word[#word + 1] = line:sub(j, j)
        j = j + 1
      end
      words[#words + 1] = table.concat(word)
      i = j + 1
    else
      local j = line:find(" ", i, true) or #line + 1
      words[#words + 1] = line:sub(i, j - 1)
      i = j
    end
  end
  return words
end

-- systemd's own parse of `unit` in `dir`: its environment and commands.
local function systemd_parse(dir, unit)
  local as_user = uf.sh("test $(id -u) = 0") == 0 and "setpriv --reuid=65534 --regid=65534 --clear-groups " or ""
  uf.sh("chmod -R a+rX " .. uf.quote(dir))
  local p = io.popen(("%s env SYSTEMD_UNIT_PATH=%s: /lib/systemd/systemd --test --system --unit=%s 2>/dev/null")
    :format(as_user, uf.quote(dir), uf.quote(unit)))
  local parsed, inside, command = { env = {}, commands = {} }, false, nil
  for line in p:lines() do
    if line:match("^\t%-> Unit ") then inside = line == "\t-> Unit " .. unit .. ":" end
    if inside then
      local assignment = line:match("^\t\tEnvironment: (.*)$")
      if assignment then parsed.env[#parsed.env + 1] = assignment end
      command = line:match("^\t\t%-> (Exec%a+):$") or command
      local argv = line:match("^\t\t\tCommand Line: (.*)$")
      if argv then parsed.commands[command] = split_command_line(argv) end
    end
  end
  p:close()
  return parsed
end

describe("round trip through systemd's parser", function()
  local parsed
  setup(function()
    local dir = uf.project(nasty.config("/usr/bin/printf"))
    uf.sh("chmod 755 " .. uf.quote(dir))
    local r = uf.run({ "deploy.lua", "--out", "." }, dir)
    assert(r.code == 0, r.stderr)
    parsed = systemd_parse(dir .. "/lib/systemd/system", "nasty.service")
    uf.rm(dir)
  end)

  it("parses every Environment= value back byte for byte", function()
    local expected = { "LANG=en_US.utf8", "MIX_ENV=prod" }
    for i, v in ipairs(nasty.values) do expected[#expected + 1] = ("V%d=%s"):format(i, v) end
    assert.are.same(expected, parsed.env)
  end)

  it("parses every command argument back, with $ kept for run time as $$", function()
    local expected = { "/usr/bin/printf" }
    for _, v in ipairs(nasty.values) do expected[#expected + 1] = (v:gsub("%$", "$$")) end
    assert.are.same(expected, parsed.commands.ExecStart)
  end)

  it("quotes ref values with spaces in command paths", function()
    local dir = uf.project([[return { app_name = "sp", deploy_dir = "/srv/with space",
      exec_start_pre = { { ref.deploy_dir, "/bin/pre --flag ", ref.deploy_dir } } }]])
    uf.sh("chmod 755 " .. uf.quote(dir))
    assert.are.equal(0, uf.run({ "deploy.lua", "--out", "." }, dir).code)
    local p = systemd_parse(dir .. "/lib/systemd/system", "sp.service")
    uf.rm(dir)
    assert.are.same({ "/srv/with space/bin/pre", "--flag", "/srv/with space" }, p.commands.ExecStartPre)
    assert.are.same({ "/srv/with space/current/bin/sp", "start" }, p.commands.ExecStart)
    assert.are.same({ "/srv/with space/current/bin/sp", "stop" }, p.commands.ExecStop)
  end)

  it("keeps a specifier a specifier and a percent sign a percent sign", function()
    local dir = uf.project([[return { app_name = "spec",
      env_vars = { { "INSTANCE=", specifier.n }, "RATE=100%" } }]])
    uf.sh("chmod 755 " .. uf.quote(dir))
    assert.are.equal(0, uf.run({ "deploy.lua", "--out", "." }, dir).code)
    local p = systemd_parse(dir .. "/lib/systemd/system", "spec.service")
    uf.rm(dir)
    assert.are.same({ "LANG=en_US.utf8", "MIX_ENV=prod", "INSTANCE=spec.service", "RATE=100%" }, p.env)
  end)
end)
