-- Runs at once on one output folder, and writes that fail (README "Exit
-- status": all units of a run are written or none; 3 is an I/O error
-- while writing). Black-box: only the binary, its exit codes and what it
-- leaves on disk.
--   * several runs of different versions at once: every run exits 0,
--     and the folder ends as the runs applied one after another (the
--     last one's units all there, whole, nothing of a version mixed in
--     where it does not belong), no `.unitforge.*` file, no stray folder;
--   * a run that fails before it renames anything leaves every existing
--     file with its inode, bytes, mode, mtime and ctime, and no folder
--     it made;
--   * unit names of 248 to 255 bytes are written;
--   * an existing unit that cannot be read is exit 3 naming it, with
--     nothing written, and never hangs.
-- UFK_SEED=N repeats a run of this spec.
local uf = require("uf")
local ot = require("out_tree")

-- constants: the size of the work
local SERVICES = 2000            -- services per config (2,400 units)
local FEWER = 200                -- versions v % 3 == k have k * FEWER fewer services
local RUNS_AT_ONCE = 6           -- runs started together
local SAME_SET_ROUNDS = 10       -- rounds where every version has the same units (one folder)
local SAME_SET_MULTI_ROUNDS = 10 -- the same with a second folder and drop-ins
local MIXED_ROUNDS = 12          -- rounds of versions with different unit sets
local KILL_ROUNDS = 10           -- rounds where some of the runs are killed (SIGKILL)
local KILLS_PER_ROUND = 2        -- runs killed per such round, at random moments
local RUN_TIMEOUT = 120          -- seconds: no run may take longer
local SMALL_TIMEOUT = 20         -- seconds, for the small runs
local LEVELS = 24                -- free pages (then free inodes) 0 .. LEVELS - 1 on a small tmpfs

local SEED = tonumber(os.getenv("UFK_SEED") or "") or (os.time() % 100000)
print(("concurrency_spec: seed %d (UFK_SEED=%d repeats it)"):format(SEED, SEED))
math.randomseed(SEED)

local scratch, remove, ok, tree, show, overlay, differences =
  ot.scratch, ot.remove, ot.ok, ot.tree, ot.show, ot.overlay, ot.differences
local IS_ROOT = uf.capture("id -u") == "0\n"

-- A config of `services` services, the version from `--env vN`: every
-- unit of version N begins "# version N". With UFK_ALT set, every second
-- service goes to that output_dir. `dropins`: false, "fixed" (the same
-- services get app<i>.service.d/v.conf in every version) or "versioned"
-- (which services get one depends on the version). `same_set`: every
-- version has the same services (else v % 3 removes some).
local function config(services, dropins, same_set, fewer, modulus)
  return ([[
local v = assert(tonumber(env:match("^v(%%d+)$")), "run with --env vN")
local n = %d - (%s and 0 or (v %% 3) * %d)
local alt = os.getenv("UFK_ALT")
local function stamp(text, unit) return ("# version %%d %%s\n"):format(v, unit.name) .. text end
-- the probe units: the same in every version
local list = { { app_name = "probe", mix_env = "prod" },
  alt and { app_name = "probe_alt", mix_env = "prod", output_dir = alt } or nil }
for i = 1, n do
  local s = {
    app_name = "app" .. i,
    env_vars = { "PORT=" .. (4000 + i), "VERSION=" .. v },
    filters = { stamp },
    restart_method = i %% 10 == 0 and "systemd_flag" or nil,
  }
  if alt and i %% 2 == 0 then s.output_dir = alt end
  local dropins = %q
  if (dropins == "fixed" and i %% %d == 0) or (dropins == "versioned" and (i + v * 7) %% %d == 0) then
    s.hooks = { after_render = function(units, c)
      units[#units + 1] = { name = c.service_name .. ".service.d/v.conf",
        text = ("# version %%d drop-in\n[Service]\nEnvironment=DROP=%%d\n"):format(v, v) }
    end }
  end
  list[#list + 1] = s
end
return list
]]):format(services, same_set and "true" or "false", fewer or FEWER, dropins or "", modulus or 53, modulus or 53)
end

-- One run, bounded by `timeout`; opts: env (a string of NAME=value),
-- args, timeout, as (a prefix such as setpriv ...).
local function run(project, args, opts)
  opts = opts or {}
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = uf.quote(a) end
  local o, e = os.tmpname(), os.tmpname()
  local code = uf.sh(("cd %s && env %s %s timeout -s KILL %d %s %s >%s 2>%s </dev/null"):format(
    uf.quote(project), opts.env or "", opts.as or "", opts.timeout or SMALL_TIMEOUT, uf.quote(uf.bin),
    table.concat(quoted, " "), o, e))
  local r = { code = code, stdout = uf.read(o), stderr = uf.read(e) }
  os.remove(o)
  os.remove(e)
  return r
end

local function assert_tree(t, expected, what, extra_dirs)
  local d = differences(t, expected, extra_dirs)
  assert(#d == 0, what .. ":\n  " .. table.concat(d, "\n  "))
end

-- Whether `t` is `before` with the runs `versions` applied one after
-- another in some order: peels off, from the last, a run all of whose
-- units still to explain are its own. Returns the order found, or nil
-- and why not.
local function serialization(t, before, versions, refs, optional)
  optional = optional or {}
  if #t.debris > 0 then return nil, "debris: " .. t.debris[1] end
  for rel, y in pairs(t.other) do return nil, ("unexpected entry of type %s: %s"):format(y, rel) end
  local unexplained = {}
  for rel in pairs(t.files) do unexplained[rel] = true end
  local left, order = {}, {}
  for _, v in ipairs(versions) do left[#left + 1] = v end
  local placed, undone = {}, {}
  while #left > 0 do
    local found
    for i, v in ipairs(left) do
      local all = true
      for rel, text in pairs(refs[v]) do
        if unexplained[rel] and t.files[rel] ~= text then all = false break end
        if t.files[rel] == nil then all = false break end
      end
      if all then found = i break end
    end
    local only_optional = true
    for _, v in ipairs(left) do if not optional[v] then only_optional = false end end
    if not found and only_optional then break end -- killed runs that never committed
    if not found then
      local counts, example = {}, nil
      for _, v in ipairs(left) do
        local wrong, total = 0, 0
        for rel, text in pairs(refs[v]) do
          if unexplained[rel] then
            total = total + 1
            if t.files[rel] ~= text then
              wrong = wrong + 1
              example = example or ("%s is %s, v%d wrote %s"):format(rel, show(t.files[rel]), v, show(text))
            end
          end
        end
        counts[#counts + 1] = ("v%d: %d of its %d units not its own"):format(v, wrong, total)
      end
      return nil, ("no run order explains the folder (placed last: %s); of the others, %s; e.g. %s")
        :format(#order > 0 and "v" .. table.concat(order, ", v") or "none", table.concat(counts, "; "), example)
    end
    local v = table.remove(left, found)
    table.insert(order, 1, v)
    placed[v] = 0
    for rel in pairs(refs[v]) do
      -- units it changed this round (not the probe units, the same in
      -- every version, nor what an earlier round already wrote)
      if unexplained[rel] and refs[v][rel] ~= before[rel] and refs[v][rel]:find("^# version") then
        placed[v] = placed[v] + 1
      end
      unexplained[rel] = nil
    end
  end
  for rel in pairs(unexplained) do
    if before[rel] ~= t.files[rel] then
      return nil, ("%s is %s, written by none of the runs, and was %s"):format(rel, show(t.files[rel]), show(before[rel]))
    end
  end
  local expected = overlay(before, {})
  for _, v in ipairs(order) do expected = overlay(expected, refs[v]) end
  for _, v in ipairs(left) do undone[#undone + 1] = v end
  local d = differences(t, expected)
  if #d > 0 then return nil, table.concat(d, "\n  ") end
  return order, undone, placed
end

-- Starts every run of `versions` at once (each after a random pause of
-- up to 30 ms) on `out`; returns their results.
local function run_together(project, versions, out, alt, kill_after)
  kill_after = kill_after or {}
  local parts = {}
  for i, v in ipairs(versions) do
    parts[#parts + 1] = ("( sleep %.3f; cd %s && %s timeout -s KILL %.3f %s deploy.lua --env v%d --out %s "
      .. ">%s/o%d 2>%s/e%d </dev/null; echo $? >%s/rc%d ) &"):format(math.random() * 0.03, uf.quote(project),
      alt and ("env UFK_ALT=" .. uf.quote(alt)) or "", kill_after[i] or RUN_TIMEOUT, uf.quote(uf.bin), v, uf.quote(out),
      project, i, project, i, project, i)
  end
  uf.sh(table.concat(parts, "\n") .. "\nwait")
  local results = {}
  for i, v in ipairs(versions) do
    results[i] = { version = v, code = tonumber(uf.read(("%s/rc%d"):format(project, i)) or ""),
      stdout = uf.read(("%s/o%d"):format(project, i)), stderr = uf.read(("%s/e%d"):format(project, i)) }
  end
  return results
end

local function references(project, versions, multi)
  local refs = {}
  for _, v in ipairs(versions) do
    if not refs[v] then
      local dir = scratch()
      local r = run(project, { "deploy.lua", "--env", "v" .. v, "--out", dir },
        { env = multi and ("UFK_ALT=" .. uf.quote(dir .. "/alt")) or "", timeout = RUN_TIMEOUT })
      ok(r, "reference run v" .. v)
      local t = tree(dir)
      remove(dir)
      refs[v] = t.files
    end
  end
  return refs
end

local function count_lines(s)
  local n = 0
  for _ in (s or ""):gmatch("[^\n]+") do n = n + 1 end
  return n
end

local PROBE = [[
local alt = os.getenv("UFK_ALT")
return { { app_name = "probe", mix_env = "prod" },
  alt and { app_name = "probe_alt", mix_env = "prod", output_dir = alt } or nil }
]]

local function together_rounds(opts)
  local project = scratch("/tmp")
  uf.write(project .. "/deploy.lua", config(SERVICES, opts.dropins, opts.same_set))
  uf.write(project .. "/probe.lua", PROBE)
  local root = scratch()
  finally(function() remove(root) remove(project) end)
  local out = root .. "/out"
  local alt = opts.multi and out .. "/alt" or nil
  local pool = {}
  for i = 1, opts.versions do pool[i] = opts.same_set and 3 * i or i end
  local refs = references(project, pool, opts.multi)
  local model = {}
  local started = os.time()
  local orders = {}
  local span -- how long a round takes, for the kills
  local killed_count, visible_count = 0, 0
  for round = 1, opts.rounds do
    -- RUNS_AT_ONCE different versions
    local versions, shuffled = {}, {}
    for i, v in ipairs(pool) do shuffled[i] = v end
    for i = #shuffled, 2, -1 do
      local j = math.random(i)
      shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
    end
    for i = 1, RUNS_AT_ONCE do versions[i] = shuffled[i] end
    local kill_after = {}
    if opts.kills and span then
      for i = 1, opts.kills do kill_after[i] = math.random() * span end
    end
    local what = ("%s round %d (v%s at once)"):format(opts.name, round, table.concat(versions, ", v"))
    if next(kill_after) then
      local k = {}
      for i, d in pairs(kill_after) do k[#k + 1] = ("v%d after %.3f s"):format(versions[i], d) end
      what = what .. ", killed: " .. table.concat(k, ", ")
    end
    local s0 = uf.capture("date +%s%N")
    local results = run_together(project, versions, out, alt, kill_after)
    span = span or (tonumber(uf.capture("date +%s%N")) - tonumber(s0)) / 1e9
    local optional = {}
    for i, r in ipairs(results) do
      if kill_after[i] and r.code == 137 then
        optional[r.version] = true
        killed_count = killed_count + 1
      else
        ok(r, what .. ": the run of v" .. r.version)
        local units = 0
        for _ in pairs(refs[r.version]) do units = units + 1 end
        assert.are.equal(units, count_lines(r.stdout), what .. ": v" .. r.version .. " reported every unit")
      end
    end
    local t = tree(out)
    if next(optional) then
      -- right after: every unit whole, of some version; then a run that
      -- writes nothing new settles what the killed runs left
      for rel, text in pairs(t.files) do
        local known = model[rel] == text
        for _, v in ipairs(versions) do known = known or refs[v][rel] == text end
        assert(known, what .. ": right after: " .. rel .. " is " .. show(text) .. ", no version's")
      end
      ok(run(project, { "probe.lua", "--out", out }, { env = alt and ("UFK_ALT=" .. uf.quote(alt)) or "" }),
        what .. ": a run that only settles")
      t = tree(out)
    end
    local order, undone, shown = serialization(t, model, versions, refs, optional)
    assert(order, what .. ": the folder is not the runs applied one after another:\n  " .. tostring(undone))
    if opts.same_set then
      -- every version writes the same units: the folder is exactly the last one's
      assert_tree(t, refs[order[#order]], what .. ": exactly v" .. order[#order])
    end
    model = t.files
    for v in pairs(optional) do
      if shown[v] and shown[v] > 0 then visible_count = visible_count + 1 end
    end
    orders[#orders + 1] = table.concat(order, ">") .. (#undone > 0 and ("(-" .. table.concat(undone, ",-") .. ")") or "")
  end
  print(("concurrency_spec: %s: %d rounds of %d runs in %d s%s; orders: %s"):format(opts.name, opts.rounds,
    RUNS_AT_ONCE, os.time() - started,
    opts.kills and (", %d runs killed (%d of them committed, with units still showing)"):format(killed_count,
      visible_count) or "",
    table.concat(orders, " ")))
  remove(root)
  remove(project)
end

describe("runs at once on one output folder", function()
  it("of versions with the same units leave exactly one version, whole", function()
    together_rounds({ name = "one folder", versions = RUNS_AT_ONCE + 2, same_set = true, rounds = SAME_SET_ROUNDS })
  end)

  it("with a second folder and drop-ins leave exactly one version, whole", function()
    together_rounds({ name = "two folders", versions = RUNS_AT_ONCE + 2, same_set = true, multi = true,
      dropins = "fixed", rounds = SAME_SET_MULTI_ROUNDS })
  end)

  it("of versions with different units leave them applied one after another", function()
    together_rounds({ name = "mixed sets", versions = RUNS_AT_ONCE + 2, multi = true, dropins = "versioned",
      rounds = MIXED_ROUNDS })
  end)

  it("some of them killed at random moments, leave the others applied one after another", function()
    together_rounds({ name = "with kills", versions = RUNS_AT_ONCE + 2, multi = true, dropins = "versioned",
      rounds = KILL_ROUNDS, kills = KILLS_PER_ROUND })
  end)

  it("wait for a folder another process holds, and leave no lock file", function()
    local project = uf.project('return { app_name = "app" }')
    finally(function() uf.rm(project) end)
    local out = project .. "/out"
    local main = out .. "/lib/systemd/system"
    uf.mkdir(main)
    uf.sh(("flock %s sleep 1.5 & sleep 0.3"):format(uf.quote(main)))
    local before = os.time()
    local r = run(project, { "deploy.lua", "--out", out })
    local waited = os.time() - before
    local t = tree(out)
    uf.rm(project)
    ok(r, "a run on a locked folder")
    assert.is_true(waited >= 1, "the run did not wait for the lock")
    assert.are.same({ "lib/systemd/system/app.service" }, (function()
      local l = {}
      for k in pairs(t.files) do l[#l + 1] = k end
      return l
    end)())
    assert.are.same({}, t.debris)
  end)
end)

-- ---- after a killed run, runs that wait on each other ----

describe("after a run killed while writing two folders", function()
  -- Folders P < S < W2 < W in lock order. The killed run wrote P and S
  -- (P its primary). Run X writes P, W2 and W; run Y writes S and W2.
  -- X holds P and W2 and waits for W (held by another process); Y holds
  -- S and waits for W2. When W is free, X settles the killed run: it
  -- needs S, which Y holds while it waits for X. Both must still finish.
  it("runs waiting on each other's folders both finish", function()
    local project = scratch("/tmp")
    finally(function() remove(project) end)
    local root = scratch()
    finally(function() remove(root) end)
    local P, S, W2, W = root .. "/p", root .. "/s", root .. "/w2", root .. "/w"
    for _, d in ipairs({ P, S, W2, W }) do uf.mkdir(d) end
    local inode = {}
    for _, d in ipairs({ P, S, W2, W }) do inode[#inode + 1] = tonumber(uf.capture("stat -c %i " .. uf.quote(d))) end
    if not (inode[1] < inode[2] and inode[2] < inode[3] and inode[3] < inode[4]) then
      pending("this file system did not give the folders increasing inode numbers")
      return
    end
    uf.write(project .. "/killed.lua", ([[
local v = assert(tonumber(env:match("^v(%%d+)$")))
local list = {}
for i = 1, %d do
  list[i] = { app_name = "app" .. i, env_vars = { "VERSION=" .. v }, output_dir = i %% 2 == 0 and %q or %q }
end
return list
]]):format(SERVICES, S, P))
    uf.write(project .. "/x.lua", ([[return {
  { app_name = "x_p", output_dir = %q }, { app_name = "x_w2", output_dir = %q }, { app_name = "x_w", output_dir = %q } }
]]):format(P, W2, W))
    uf.write(project .. "/y.lua", ([[return { { app_name = "y_s", output_dir = %q }, { app_name = "y_w2", output_dir = %q } }
]]):format(S, W2))
    -- a killed run with its journals in P and S
    ok(run(project, { "killed.lua", "--env", "v1" }, { timeout = RUN_TIMEOUT }), "run v1")
    local full
    do
      local s = uf.capture("date +%s%N")
      ok(run(project, { "killed.lua", "--env", "v2" }, { timeout = RUN_TIMEOUT }), "run v2")
      full = (tonumber(uf.capture("date +%s%N")) - tonumber(s)) / 1e9
    end
    local hit
    for attempt = 1, 40 do
      local delay = full * (0.3 + 0.75 * math.random())
      uf.sh(("cd %s && timeout -s KILL %.3f %s killed.lua --env v%d >/dev/null 2>&1"):format(uf.quote(project),
        delay, uf.quote(uf.bin), attempt % 2 + 1))
      if uf.exists(P .. "/.unitforge.journal") and uf.exists(S .. "/.unitforge.journal") then
        hit = ("attempt %d, %.3f s of %.3f"):format(attempt, delay, full)
        break
      end
    end
    assert(hit, "no kill left journals in both folders; cannot test")
    -- W is held; X takes P and W2 and waits for W; Y takes S and waits for W2
    local script = ([[
flock %s sleep 1.5 &
sleep 0.2
cd %s
( timeout -s KILL 60 %s x.lua >x.out 2>x.err; echo $? >x.rc ) &
sleep 0.4
( timeout -s KILL 60 %s y.lua >y.out 2>y.err; echo $? >y.rc ) &
wait
]]):format(uf.quote(W), uf.quote(project), uf.quote(uf.bin), uf.quote(uf.bin))
    local s = uf.capture("date +%s%N")
    uf.sh(script)
    local took = (tonumber(uf.capture("date +%s%N")) - tonumber(s)) / 1e9
    local x = { code = tonumber(uf.read(project .. "/x.rc")), stderr = uf.read(project .. "/x.err") }
    local y = { code = tonumber(uf.read(project .. "/y.rc")), stderr = uf.read(project .. "/y.err") }
    print(("concurrency_spec: killed run (%s); X exit %s, Y exit %s, %.1f s"):format(hit, x.code, y.code, took))
    ok(x, "run X (P, W2, W)")
    ok(y, "run Y (S, W2)")
    for _, d in ipairs({ P, S, W2, W }) do
      assert.are.same({}, tree(d).debris, d)
    end
  end)
end)

-- ---- writes that fail ----

-- Every entry under `dir`: files with inode, size, mode, mtime and ctime
-- (nanoseconds); folders with inode and mode (their times change when a
-- temporary file comes and goes).
local function stats(dir)
  return uf.capture(("cd %s && find . ! -type d -printf '%%p %%y %%i %%s %%m %%T@ %%C@\\n' | sort && "
    .. "find . -type d -printf '%%p %%y %%i %%m\\n' | sort && find . -type f -exec sha256sum {} + | sort")
    :format(uf.quote(dir)))
end

-- Fails listing the entries that differ between two stats() listings.
local function assert_same_stats(before, after, what)
  if before == after then return end
  local function set(text)
    local t = {}
    for line in text:gmatch("[^\n]+") do t[line] = true end
    return t
  end
  local b, a, lines = set(before), set(after), {}
  for line in pairs(b) do if not a[line] and #lines < 10 then lines[#lines + 1] = "before: " .. line end end
  for line in pairs(a) do if not b[line] and #lines < 20 then lines[#lines + 1] = "after:  " .. line end end
  table.sort(lines)
  error((what or "the files changed") .. ":\n  " .. table.concat(lines, "\n  "), 2)
end

local MULTI = config(40, "versioned", false, 5, 5)

-- A project whose out folder holds version 1 of MULTI (a second folder,
-- drop-ins); returns project, out, alt.
local function written_project()
  local project = scratch("/tmp")
  uf.write(project .. "/deploy.lua", MULTI)
  local out, alt = project .. "/out", project .. "/out/alt"
  ok(run(project, { "deploy.lua", "--env", "v1", "--out", out }, { env = "UFK_ALT=" .. uf.quote(alt) }), "run v1")
  return project, out, alt
end

local function v2_args(out) return { "deploy.lua", "--env", "v2", "--out", out } end

describe("a write that fails before anything is renamed", function()
  it("because a folder is where a unit must go: exit 3, files untouched, new folders removed", function()
    local project, out, alt = written_project()
    finally(function() remove(project) end)
    -- version 2 makes drop-in folders that version 1 does not have, and
    -- the last unit it writes is blocked
    uf.sh("rm -f " .. uf.quote(out .. "/lib/systemd/system/app29.service"))
    uf.mkdir(out .. "/lib/systemd/system/app29.service")
    local before = stats(project)
    local r = run(project, v2_args(out), { env = "UFK_ALT=" .. uf.quote(alt) })
    assert.are.equal(3, r.code, r.stderr)
    assert.truthy(r.stderr:find(out .. "/lib/systemd/system/app29.service", 1, true), "names the file: " .. r.stderr)
    assert_same_stats(before, stats(project))
    -- the run had folders to make: without the obstacle it makes them
    uf.sh("rmdir " .. uf.quote(out .. "/lib/systemd/system/app29.service"))
    ok(run(project, v2_args(out), { env = "UFK_ALT=" .. uf.quote(alt) }), "run v2 without the obstacle")
    assert.truthy(uf.exists(out .. "/lib/systemd/system/app1.service.d/v.conf"))
    assert.truthy(uf.exists(alt .. "/app6.service.d/v.conf"))
  end)

  it("because --out is under a file: exit 3, nothing made", function()
    local project, out, alt = written_project()
    finally(function() remove(project) end)
    uf.write(project .. "/file", "x\n")
    local before = stats(project)
    -- the second folder is new and can be made; the first cannot
    local r = run(project, v2_args(project .. "/file/out"), { env = "UFK_ALT=" .. uf.quote(project .. "/new/a/b") })
    assert.are.equal(3, r.code, r.stderr)
    assert.truthy(r.stderr:find(project .. "/file/out", 1, true), r.stderr)
    assert_same_stats(before, stats(project))
    -- and the other way round: the unit folder is fine, the second is under a file
    r = run(project, v2_args(out), { env = "UFK_ALT=" .. uf.quote(project .. "/file/alt") })
    assert.are.equal(3, r.code, r.stderr)
    assert.truthy(r.stderr:find(project .. "/file/alt", 1, true), r.stderr)
    assert_same_stats(before, stats(project))
    -- a fresh --out whose second folder is under a file: the fresh folders go
    r = run(project, v2_args(project .. "/fresh/out"), { env = "UFK_ALT=" .. uf.quote(project .. "/file/alt") })
    assert.are.equal(3, r.code, r.stderr)
    assert_same_stats(before, stats(project))
  end)

  it("for want of space (a small tmpfs, filled to each level): exit 3 and untouched, or done", function()
    if not IS_ROOT or uf.sh("command -v mount >/dev/null") ~= 0 then
      pending("needs root to mount a tmpfs")
      return
    end
    local project = scratch("/tmp")
    finally(function() remove(project) end)
    uf.write(project .. "/deploy.lua", config(12, "versioned", true))
    local mnt = project .. "/mnt"
    uf.mkdir(mnt)
    local outcomes = { done = 0, failed = 0 }
    local failures = {}
    local reference
    do
      local dir = scratch()
      ok(run(project, { "deploy.lua", "--env", "v6", "--out", dir }, { env = "UFK_ALT=" .. uf.quote(dir .. "/alt") }),
        "reference run")
      reference = tree(dir).files
      remove(dir)
    end
    for level = 0, 2 * LEVELS - 1 do
      assert(uf.sh(("mount -t tmpfs -o size=256k,nr_inodes=%d tmpfs %s"):format(level < LEVELS and 10000 or 200,
        uf.quote(mnt))) == 0, "mount failed")
      local out, alt = mnt .. "/out", mnt .. "/out/alt"
      local env = "UFK_ALT=" .. uf.quote(alt)
      local r = run(project, { "deploy.lua", "--env", "v3", "--out", out }, { env = env })
      ok(r, "run v3 into the empty tmpfs")
      if level < LEVELS then
        -- leave `level` pages free
        local free = tonumber(uf.capture("stat -f -c '%a' " .. uf.quote(mnt)))
        local pages = math.max(0, free - level)
        if pages > 0 then
          uf.sh(("dd if=/dev/zero of=%s/filler bs=4096 count=%d 2>/dev/null"):format(uf.quote(mnt), pages))
        end
      else
        -- leave `level - LEVELS` inodes free
        local free = tonumber(uf.capture("stat -f -c '%d' " .. uf.quote(mnt)))
        uf.sh(("cd %s && for i in $(seq 1 %d); do : >f$i; done"):format(uf.quote(mnt), math.max(0, free - (level - LEVELS))))
      end
      local before = stats(mnt)
      r = run(project, { "deploy.lua", "--env", "v6", "--out", out }, { env = env })
      local t = tree(out)
      if r.code == 0 then
        outcomes.done = outcomes.done + 1
        assert_tree(t, reference, "level " .. level .. ": a run that had room")
      else
        outcomes.failed = outcomes.failed + 1
        failures[#failures + 1] = level
        assert.are.equal(3, r.code, r.stderr)
        assert.truthy(r.stderr:find("No space left on device", 1, true), r.stderr)
        assert_same_stats(before, stats(mnt), "level " .. level .. ": " .. r.stderr)
      end
      assert(uf.sh("umount " .. uf.quote(mnt)) == 0)
    end
    print(("concurrency_spec: no space: %d runs done, %d failed (levels %s)"):format(outcomes.done, outcomes.failed,
      table.concat(failures, " ")))
    assert.is_true(outcomes.failed > 0 and outcomes.done > 0)
  end)
end)

describe("unit names of 248 to 255 bytes", function()
  it("are written", function()
    local project = scratch("/tmp")
    finally(function() remove(project) end)
    local services = {}
    for len = 240, 247 do
      services[#services + 1] = ("{ app_name = 'a%d', service_name = %q }"):format(len,
        ("s"):rep(len - #tostring(len)) .. len)
    end
    uf.write(project .. "/deploy.lua", "return { " .. table.concat(services, ", ") .. " }\n")
    local out = project .. "/out"
    local r = run(project, { "deploy.lua", "--out", out })
    ok(r, "a run with long unit names")
    local t = tree(out)
    local lengths = {}
    for rel, text in pairs(t.files) do
      local name = rel:match("[^/]*$")
      lengths[#lengths + 1] = #name
      assert.truthy(text:find("Description=" .. name:gsub("%.service$", "") .. " service", 1, true), rel)
    end
    table.sort(lengths)
    assert.are.same({ 248, 249, 250, 251, 252, 253, 254, 255 }, lengths)
    assert.are.same({}, t.debris)
    -- and again, changed: each is replaced through a temporary file
    uf.write(project .. "/deploy.lua", "return { " .. table.concat(services, ", "):gsub("}", ", umask = '0077' }") .. " }\n")
    ok(run(project, { "deploy.lua", "--out", out }), "a second run with long unit names")
    t = tree(out)
    for rel, text in pairs(t.files) do assert.truthy(text:find("UMask=0077", 1, true), rel) end
    assert.are.same({}, t.debris)
  end)
end)

describe("an existing unit that cannot be read", function()
  local function unreadable(prepare, pattern, as)
    local project, out, alt = written_project()
    finally(function() remove(project) end)
    local target = out .. "/lib/systemd/system/app21.service"
    prepare(target, project)
    local before = stats(project)
    local r = run(project, v2_args(out), { env = "UFK_ALT=" .. uf.quote(alt), as = as, timeout = SMALL_TIMEOUT })
    assert.are_not.equal(137, r.code, "the run hung")
    assert.are.equal(3, r.code, r.stderr)
    assert.truthy(r.stderr:find(target, 1, true), "the message names the file: " .. r.stderr)
    if pattern then assert.truthy(r.stderr:find(pattern, 1, true), r.stderr) end
    assert_same_stats(before, stats(project))
  end

  it("(mode 000, run as an unprivileged user) is exit 3 naming it, nothing written", function()
    if not IS_ROOT or uf.sh("command -v setpriv >/dev/null") ~= 0 then
      pending("needs root and setpriv to run as another user")
      return
    end
    unreadable(function(target, project)
      uf.sh("chown -R 65534:65534 " .. uf.quote(project))
      uf.sh("chmod 000 " .. uf.quote(target))
    end, "Permission denied", "setpriv --reuid=65534 --regid=65534 --clear-groups")
  end)

  it("(a FIFO) is exit 3 naming it, nothing written, no hang", function()
    unreadable(function(target) uf.sh("rm -f " .. uf.quote(target) .. " && mkfifo " .. uf.quote(target)) end)
  end)

  it("(a symbolic link to /dev/zero) is exit 3 naming it, nothing written, no hang", function()
    unreadable(function(target) uf.sh("ln -sf /dev/zero " .. uf.quote(target)) end)
  end)

  it("(a symbolic link loop) is exit 3 naming it, nothing written", function()
    unreadable(function(target) uf.sh("rm -f " .. uf.quote(target) .. " && ln -s " .. uf.quote(target) .. " " .. uf.quote(target)) end)
  end)
end)
