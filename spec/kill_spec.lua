-- SIGKILL at any moment of a write (README "Exit status": all units of a
-- run are written or none). A config of thousands of services is
-- written again and again into one --out folder; each round a run is
-- killed at a random moment, from before its first write to after its
-- last rename, and then:
--   * right after the kill, every unit file is wholly the old or wholly
--     the new run's (never a partial file);
--   * a recovering run finds the folders entirely as they were before
--     the killed run, or entirely as that run meant them (a committed
--     run), and never a mixture;
--   * after the next run the out folder holds exactly its output (over
--     what earlier runs left) and no `.unitforge.*` file, no stray folder.
-- Black-box: only the binary, its exit codes and the files it leaves.
-- UFK_SEED=N repeats a run of this spec.
local uf = require("uf")
local ot = require("out_tree")

-- constants: the size of the work
local SERVICES = 3000          -- services of the big config (3,600 units)
local FEWER = 150              -- versions v % 3 == k have k * FEWER fewer services
local VERSIONS = 6             -- versions v1 .. v6
local ONE_FOLDER_KILLS = 40    -- rounds with one output folder
local MULTI_FOLDER_KILLS = 20  -- rounds with a second output_dir and drop-ins
local PARTIAL_KILLS = 14       -- rounds recovered first by a run that writes one folder only
local DISK_SERVICES = 600      -- the same on the real disk (ext4 here), smaller
local DISK_KILLS = 4
local FRESH_KILLS = 12         -- first runs into an empty folder, killed
local DROPIN_KILLS = 14        -- rounds of each drop-in case
local RUN_TIMEOUT = 60         -- seconds: no run may take longer

local SEED = tonumber(os.getenv("UFK_SEED") or "") or (os.time() % 100000)
print(("kill_spec: seed %d (UFK_SEED=%d repeats it)"):format(SEED, SEED))
math.randomseed(SEED)

local FAST_BASE, scratch, remove, ok = ot.FAST_BASE, ot.scratch, ot.remove, ot.ok
local tree, show, overlay, differences = ot.tree, ot.show, ot.overlay, ot.differences

-- The big config. `--env vN` picks the version: every unit of version N
-- starts with "# version N", versions differ in how many services they
-- have, and (with drop-ins) which services get a UNIT.d/v.conf. With
-- UFK_ALT set, every second service goes to that output_dir. The probe
-- services are the same in every version: a config of only them writes
-- nothing but makes a run lock (and so recover) their folders.
local PROBES = [[
local alt = os.getenv("UFK_ALT")
local probes = {
  main = { app_name = "probe", mix_env = "prod" },
  alt = alt and { app_name = "probe_alt", mix_env = "prod", output_dir = alt } or nil,
}
]]

local function big_config(services, dropins)
  return PROBES .. ([[
local v = assert(tonumber(env:match("^v(%%d+)$")), "run with --env vN")
local n = %d - (v %% 3) * %d
local function stamp(text, unit) return ("# version %%d %%s\n"):format(v, unit.name) .. text end
local list = { probes.main, probes.alt }
for i = 1, n do
  local s = {
    app_name = "app" .. i,
    env_vars = { "PORT=" .. (4000 + i), "VERSION=" .. v },
    filters = { stamp },
    restart_method = i %% 10 == 0 and "systemd_flag" or nil,
  }
  if alt and i %% 2 == 0 then s.output_dir = alt end
  if %s and (i + v * 7) %% 61 == 0 then
    s.hooks = { after_render = function(units, c)
      units[#units + 1] = { name = c.service_name .. ".service.d/v.conf",
        text = ("# version %%d drop-in\n[Service]\nEnvironment=DROP=%%d\n"):format(v, v) }
    end }
  end
  list[#list + 1] = s
end
return list
]]):format(services, FEWER, dropins and "true" or "false")
end

local PROBE_BOTH = PROBES .. "return { probes.main, probes.alt }\n"
local PROBE_MAIN = PROBES .. "return { probes.main }\n"
local PROBE_ALT = PROBES .. "return { probes.alt }\n"

-- A project folder: the configs, and where runs leave their output.
local function new_project(services, dropins)
  local dir = uf.tmpdir()
  uf.write(dir .. "/deploy.lua", big_config(services, dropins))
  uf.write(dir .. "/probe.lua", PROBE_BOTH)
  uf.write(dir .. "/probe_main.lua", PROBE_MAIN)
  uf.write(dir .. "/probe_alt.lua", PROBE_ALT)
  return dir
end

-- Runs unitforge in `project`; `opts.alt` is the second folder,
-- `opts.kill_after` sends SIGKILL after that many seconds. Returns
-- {code, stdout, stderr, seconds}.
local function run(project, config, version, out, opts)
  opts = opts or {}
  local args = { config, "--env", "v" .. version, "--out", out }
  for _, a in ipairs(opts.args or {}) do args[#args + 1] = a end
  for i, a in ipairs(args) do args[i] = uf.quote(a) end
  local o, e = project .. "/run.out", project .. "/run.err"
  local command = ("cd %s && %s timeout -s KILL %.3f %s %s >%s 2>%s </dev/null"):format(
    uf.quote(project), opts.alt and ("env UFK_ALT=" .. uf.quote(opts.alt)) or "",
    opts.kill_after or RUN_TIMEOUT, uf.quote(uf.bin), table.concat(args, " "), o, e)
  local result = uf.capture(("s=$(date +%%s%%N); %s; rc=$?; e=$(date +%%s%%N); echo \"$rc $((e - s))\""):format(command))
  local code, ns = result:match("(%d+) (%d+)")
  return { code = tonumber(code), stdout = uf.read(o), stderr = uf.read(e), seconds = tonumber(ns) / 1e9 }
end

-- The inode numbers of the folders that matter (lock order), for a
-- failure message.
local function inodes(t)
  local folders, seen = { "lib/systemd/system", "alt" }, {}
  for _, d in ipairs(t.debris) do
    local f = d:match("^(.*)/[^/]*$")
    if f and not seen[f] and #folders < 8 then seen[f] = true folders[#folders + 1] = f end
  end
  local quoted = {}
  for i, f in ipairs(folders) do quoted[i] = uf.quote(t.root .. "/" .. f) end
  return uf.capture("ls -id " .. table.concat(quoted, " ") .. " 2>/dev/null | sort -n")
    :gsub(t.root .. "/", ""):gsub("\n", "\n    ")
end

local function assert_tree(t, expected, what, extra_dirs)
  local d = differences(t, expected, extra_dirs)
  if #d > 0 and #t.debris > 0 then d[#d + 1] = "folders in lock order (inode, path):\n    " .. inodes(t) end
  assert(#d == 0, what .. ":\n  " .. table.concat(d, "\n  "))
end

-- Right after a kill: every unit file is the old one or the new one,
-- whole; none of the old ones is gone.
local function assert_whole_files(t, old, new, what)
  local bad = {}
  for rel, got in pairs(t.files) do
    if got ~= old[rel] and got ~= new[rel] and #bad < 12 then
      bad[#bad + 1] = ("%s: %s is neither the old (%s) nor the new (%s) unit"):format(rel, show(got),
        show(old[rel]), show(new[rel]))
    end
  end
  for rel, want in pairs(old) do
    if t.files[rel] == nil and #bad < 12 then bad[#bad + 1] = rel .. ": the old unit is gone, " .. show(want) end
  end
  for rel, y in pairs(t.other) do bad[#bad + 1] = ("unexpected entry of type %s: %s"):format(y, rel) end
  assert(#bad == 0, what .. ":\n  " .. table.concat(bad, "\n  "))
end

-- What a killed run left: its commit marker is in its primary folder
-- from the commit until its very last step.
local function classify(code, t)
  if code == 0 then return "finished" end
  local marker, journal = false, false
  for _, d in ipairs(t.debris) do
    if d:match("%.unitforge%.committed$") then marker = true end
    if d:match("%.unitforge%.journal$") then journal = true end
  end
  if marker then return "committed" end
  if journal then return "uncommitted" end
  if #t.debris > 0 then return "temporaries" end
  return "clean" -- before the first write, or after the last step
end

local function same_files(a, b)
  for k, v in pairs(a) do if b[k] ~= v then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

-- The files each version writes, from a run into an empty folder.
local function reference_maker(project, multi)
  local cache = {}
  return function(v)
    if not cache[v] then
      local dir = scratch(FAST_BASE)
      local r = run(project, "deploy.lua", v, dir, { alt = multi and dir .. "/alt" or nil })
      ok(r, "reference run v" .. v)
      local t = tree(dir)
      remove(dir)
      assert(#t.debris == 0, "a reference run left " .. tostring(t.debris[1]))
      cache[v] = t.files
    end
    return cache[v]
  end
end

local function pick_two()
  local a = math.random(VERSIONS)
  local b = math.random(VERSIONS - 1)
  if b >= a then b = b + 1 end
  return a, b
end

-- Kill delays: a third over the whole run and a bit past it, the rest
-- around the commit. Where that is, is tracked from where kills land (and
-- follows the machine's speed as it changes): a kill before the commit
-- moves the aim later, one after the run moves it earlier, a committed
-- one narrows it.
local function delay_picker(full)
  local center, step = 0.75 * full, 0.08 * full
  local picker = {}
  function picker.next()
    if math.random(3) == 1 then return math.random() * full * 1.15 end
    return math.max(0, center + 2 * step * (math.random() - 0.5))
  end
  function picker.learn(delay, class)
    local pre = class == "uncommitted" or class == "temporaries" or class == "before"
    local post = class == "finished" or class == "after"
    if class == "committed" then
      center = (center + delay) / 2
      step = math.max(0.7 * step, 0.01 * full)
    elseif pre and delay >= center - step then
      center = center + step
      step = math.min(1.2 * step, 0.15 * full)
    elseif post and delay <= center + step then
      center = center - step
      step = math.min(1.2 * step, 0.15 * full)
    end
  end
  return picker
end

-- How long a run rewriting every unit takes here.
local function measure(project, out, alt)
  local worst = 0
  for i = 1, 3 do
    local r = run(project, "deploy.lua", i % 2 + 1, out, { alt = alt })
    ok(r, "timing run")
    if i > 1 then worst = math.max(worst, r.seconds) end
  end
  return worst
end

-- Prints how a loop went: its rounds, how long, where the kills landed.
local function summary(opts, started, full, seen)
  local classes = {}
  for k, v in pairs(seen) do classes[#classes + 1] = k .. " " .. v end
  table.sort(classes)
  print(("kill_spec: %s: %d rounds in %d s, a full run %.3f s; kills landed: %s"):format(opts.name, opts.rounds,
    os.time() - started, full, table.concat(classes, ", ")))
end

-- The kill loop. `opts`: services, multi (a second folder and drop-ins),
-- alt_first (the second folder is made first, so it sorts first and is
-- the primary), partial (recover first with a run that writes one
-- folder), base (where the out folder is), rounds.
local function kill_loop(opts)
  local project = new_project(opts.services, opts.multi)
  local root = scratch(opts.base or FAST_BASE)
  finally(function() remove(root) uf.rm(project) end)
  local out = root .. "/out"
  local alt = opts.multi and out .. "/alt" or nil
  if opts.alt_first then uf.mkdir(alt) end
  local reference = reference_maker(project, opts.multi)
  local full = measure(project, out, alt)
  local picker = delay_picker(full)
  local model = tree(out).files
  local seen = {}
  local started = os.time()
  for round = 1, opts.rounds do
    local a, b = pick_two()
    local what = ("%s round %d (A=v%d, B=v%d)"):format(opts.name, round, a, b)
    ok(run(project, "deploy.lua", a, out, { alt = alt }), what .. ": run A")
    model = overlay(model, reference(a))
    assert_tree(tree(out), model, what .. ": after run A")

    local delay = picker.next()
    local killed = run(project, "deploy.lua", b, out, { alt = alt, kill_after = delay })
    assert(killed.code == 0 or killed.code == 137, what .. ": run B exited " .. killed.code .. "\n" .. killed.stderr)
    local as_b = overlay(model, reference(b))
    local t = tree(out)
    local class = classify(killed.code, t)
    if class == "clean" then -- killed before its first write, or after its last step
      class = same_files(t.files, model) and "before" or "after"
    end
    picker.learn(delay, class)
    seen[class] = (seen[class] or 0) + 1
    what = ("%s, B killed after %.3f s of %.3f: %s"):format(what, delay, full, class)
    assert_whole_files(t, model, as_b, what .. ": right after the kill")
    -- which state recovery must settle on: the killed run's when it was
    -- committed; otherwise the old one, or the new one when the kill came
    -- after the run's last step
    local settled
    if class == "finished" or class == "committed" then
      settled = as_b
    elseif class == "after" then
      settled = as_b
    else
      settled = model
    end

    if round == 1 then -- --dry-run only compares: it settles nothing
      local before = uf.snapshot(out)
      local dry = run(project, "deploy.lua", b, out, { alt = alt, args = { "--dry-run" } })
      ok(dry, what .. ": --dry-run")
      assert.are.equal(before, uf.snapshot(out), what .. ": --dry-run changed the folder")
    end

    if opts.partial then
      -- a run that writes (and so locks) one folder only: that folder is
      -- settled, whole
      local which = round % 2 == 0 and "main" or "alt"
      ok(run(project, "probe_" .. which .. ".lua", 0, out, { alt = alt }), what .. ": probe of the " .. which .. " folder")
      local folder = which == "main" and "lib/systemd/system/" or "alt/"
      local t2 = tree(out)
      local sub, want = { files = {}, dirs = {}, debris = {}, other = {} }, {}
      for rel, text in pairs(t2.files) do
        if rel:sub(1, #folder) == folder and not rel:sub(#folder + 1):find("/") then sub.files[rel] = text end
      end
      for _, d in ipairs(t2.debris) do
        if d:sub(1, #folder) == folder and not d:sub(#folder + 1):find("/") then sub.debris[#sub.debris + 1] = d end
      end
      for rel, text in pairs(settled) do
        if rel:sub(1, #folder) == folder and not rel:sub(#folder + 1):find("/") then want[rel] = text end
      end
      local d = differences(sub, want)
      local dirs_ok = {}
      for _, line in ipairs(d) do
        if not line:match("^stray folder") and not line:match("^missing folder") then dirs_ok[#dirs_ok + 1] = line end
      end
      assert(#dirs_ok == 0, what .. ": the " .. which .. " folder after a run that writes only it:\n  "
        .. table.concat(dirs_ok, "\n  "))
    end

    if round % 2 == 0 or opts.partial then
      -- a run that writes nothing new: the folders are settled, whole
      ok(run(project, "probe.lua", 0, out, { alt = alt }), what .. ": probe run")
      assert_tree(tree(out), settled, what .. ": after a run that only settles")
    end

    local c = round % 4 < 2 and b or a
    ok(run(project, "deploy.lua", c, out, { alt = alt }), what .. ": run C (v" .. c .. ")")
    model = overlay(settled, reference(c))
    assert_tree(tree(out), model, what .. ": after run C (v" .. c .. ")")
  end
  summary(opts, started, full, seen)
  remove(root)
  uf.rm(project)
  return seen
end

describe("a run killed with SIGKILL at a random moment", function()
  it("with one output folder leaves whole files, and the next run settles it and writes exactly its output", function()
    local seen = kill_loop({ name = "one folder", services = SERVICES, rounds = ONE_FOLDER_KILLS })
    -- the kills covered the moments that matter
    assert.is_true((seen.uncommitted or 0) + (seen.temporaries or 0) > 0, "no kill landed before the commit")
    assert.is_true((seen.committed or 0) > 0, "no kill landed between the commit and the end")
  end)

  it("writing two output folders and drop-ins (the second folder sorts first) settles every folder", function()
    kill_loop({ name = "two folders", services = SERVICES, multi = true, alt_first = true, rounds = MULTI_FOLDER_KILLS })
  end)

  it("recovered first by a run writing only one of its folders, settles that folder whole, then all", function()
    kill_loop({ name = "partial recovery", services = SERVICES, multi = true, partial = true, rounds = PARTIAL_KILLS })
  end)

  it("on the real disk too", function()
    kill_loop({ name = "disk", services = DISK_SERVICES, multi = true, base = "/tmp", rounds = DISK_KILLS })
  end)
end)

-- A config of SERVICES services and the probe; version 2 adds the
-- drop-in app1.service.d/v.conf.
local DROPIN_CONFIG = ([[
local v = assert(tonumber(env:match("^v(%%d+)$")))
local list = { { app_name = "probe", mix_env = "prod" } }
for i = 1, %d do
  local s = { app_name = "app" .. i, env_vars = { "VERSION=" .. v } }
  if i == 1 and v == 2 then
    s.hooks = { after_render = function(units, c)
      units[#units + 1] = { name = "app1.service.d/v.conf", text = "[Service]\nEnvironment=DROP=2\n" }
    end }
  end
  list[#list + 1] = s
end
return list
]]):format(SERVICES)
local DROPIN = "lib/systemd/system/app1.service.d"

-- Rounds of: v1 (no drop-in) written; a v2 run (with the drop-in) killed
-- at a random moment; then, every second round, a run that writes
-- nothing new (the probe) must find the folders entirely v1 or entirely
-- v2; then the next run (opts.next(round): 1 or 2) writes exactly its
-- output, no debris, no stray folder. opts.low_inode: the drop-in folder
-- exists from the start and sorts before the unit folder, so it is the
-- killed run's primary when it is among its folders.
local function dropin_loop(opts)
  local project = uf.tmpdir()
  uf.write(project .. "/deploy.lua", DROPIN_CONFIG)
  uf.write(project .. "/probe.lua", 'return { { app_name = "probe", mix_env = "prod" } }\n')
  local root = scratch(FAST_BASE)
  finally(function() remove(root) uf.rm(project) end)
  local out = root .. "/out"
  local main = out .. "/lib/systemd/system"
  local extra_dirs = {}
  if opts.low_inode then
    uf.mkdir(root .. "/early")
    uf.mkdir(main)
    assert(uf.sh(("mv %s %s"):format(uf.quote(root .. "/early"), uf.quote(out .. "/" .. DROPIN))) == 0)
    extra_dirs[DROPIN] = true -- made by this spec: it stays, empty or not
  end
  local reference = reference_maker(project, false)
  local v1, v2 = reference(1), reference(2)
  local full = measure(project, out)
  local picker = delay_picker(full)
  local seen = {}
  local started = os.time()
  for round = 1, opts.rounds do
    uf.sh("rm -f " .. uf.quote(out .. "/" .. DROPIN .. "/v.conf"))
    if not opts.low_inode then uf.sh("rmdir " .. uf.quote(out .. "/" .. DROPIN) .. " 2>/dev/null") end
    local what = ("%s round %d"):format(opts.name, round)
    ok(run(project, "deploy.lua", 1, out), what .. ": run v1")
    assert_tree(tree(out), v1, what .. ": after run v1", extra_dirs)
    local delay = picker.next()
    local killed = run(project, "deploy.lua", 2, out, { kill_after = delay })
    local t = tree(out)
    local class = classify(killed.code, t)
    if class == "clean" then class = same_files(t.files, v1) and "before" or "after" end
    picker.learn(delay, class)
    seen[class] = (seen[class] or 0) + 1
    what = ("%s, v2 killed after %.3f s of %.3f: %s"):format(what, delay, full, class)
    assert_whole_files(t, v1, v2, what .. ": right after the kill")
    local settled = (class == "finished" or class == "committed" or class == "after") and v2 or v1
    if round % 2 == 0 then
      ok(run(project, "probe.lua", 0, out), what .. ": probe run")
      assert_tree(tree(out), settled, what .. ": after a run that only settles", extra_dirs)
    end
    local next_version = opts.next(round)
    ok(run(project, "deploy.lua", next_version, out), what .. ": the next run (v" .. next_version .. ")")
    assert_tree(tree(out), overlay(settled, reference(next_version)),
      what .. ": after the next run (v" .. next_version .. ")", extra_dirs)
  end
  summary(opts, started, full, seen)
  remove(root)
  uf.rm(project)
end

describe("a run killed while adding a drop-in", function()
  -- The primary folder of a run (where its commit marker goes) is the
  -- first, in lock order (device, inode), of those it changes: a drop-in
  -- folder made before the unit folder (on ext4, any reused inode) sorts
  -- first. The next run, of a config without that drop-in, does not
  -- write it.
  it("whose drop-in folder sorts first is settled whole by runs that do not write that folder", function()
    dropin_loop({ name = "drop-in folder first", low_inode = true, rounds = DROPIN_KILLS,
      next = function() return 1 end })
  end)

  -- The killed run made app1.service.d: undoing it removes that folder,
  -- which the next run of the same config needs; the next run of the
  -- other config must not find it left behind, empty.
  it("that made the drop-in folder is undone without a stray folder, and the next run writes", function()
    dropin_loop({ name = "drop-in folder made", rounds = DROPIN_KILLS,
      next = function(round) return round % 4 < 2 and 2 or 1 end })
  end)
end)

describe("the first run into a new folder, killed", function()
  -- Undoing it removes the folders it made: the next run, which has
  -- just opened and locked them, must still write its units.
  it("is undone, and the next run writes exactly its output", function()
    local project = new_project(SERVICES, false)
    local root = scratch(FAST_BASE)
    finally(function() remove(root) uf.rm(project) end)
    local reference = reference_maker(project, false)(1)
    local out = root .. "/out"
    local full = measure(project, out)
    local seen = {}
    for round = 1, FRESH_KILLS do
      uf.sh("rm -rf " .. uf.quote(out))
      local delay = math.random() * full
      local r = run(project, "deploy.lua", 1, out, { kill_after = delay })
      local class = classify(r.code, tree(out))
      seen[class] = (seen[class] or 0) + 1
      local what = ("fresh round %d, killed after %.3f s of %.3f: %s"):format(round, delay, full, class)
      ok(run(project, "deploy.lua", 1, out), what .. ": the next run")
      assert_tree(tree(out), reference, what .. ": after the next run")
    end
  end)
end)
