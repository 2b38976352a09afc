-- Helpers for the specs that write big output folders again and again
-- (kill_spec, concurrency_spec): scratch folders, a whole folder tree
-- read back (files, folders, debris), and how it differs from the files
-- a run should have left.
local uf = require("uf")

local M = {}

-- Scratch space: a tmpfs when there is one (writing thousands of files
-- to this machine's disk takes seconds), else /tmp.
M.FAST_BASE = uf.sh("test -d /dev/shm -a -w /dev/shm") == 0 and "/dev/shm" or "/tmp"

-- A new folder under `base` (default FAST_BASE), mode 755.
function M.scratch(base)
  local dir = (uf.capture(("mktemp -d %s/ufspec.XXXXXX"):format(base or M.FAST_BASE)):gsub("\n$", ""))
  uf.sh("chmod 755 " .. uf.quote(dir))
  return dir
end

-- Removes a scratch folder (unmounting its mnt/ first, if mounted).
function M.remove(path)
  if path and (path:match("^/tmp/ufspec%.") or path:match("^/dev/shm/ufspec%.")) then
    uf.sh("umount " .. uf.quote(path) .. "/mnt 2>/dev/null; rm -rf " .. uf.quote(path))
  end
end

function M.ok(r, what)
  assert(r.code == 0, ("%s: exit %s\n%s"):format(what, tostring(r.code), r.stderr or ""))
end

-- Debris: the writer's `.unitforge.*` files, and any other hidden file
-- (no unit name begins with a dot).
function M.is_debris(rel)
  return (("/" .. rel):match("/%.[^/]*$")) ~= nil
end

-- Everything under `root`: files (path -> bytes), folders, debris and
-- anything else (path -> find's type letter).
function M.tree(root)
  local t = { files = {}, dirs = {}, debris = {}, other = {}, root = root }
  local p = assert(io.popen(("cd %s 2>/dev/null && find . -mindepth 1 -printf '%%y %%P\\n'"):format(uf.quote(root))))
  for line in p:lines() do
    local y, rel = line:match("^(%S) (.*)$")
    if M.is_debris(rel) then
      t.debris[#t.debris + 1] = rel
    elseif y == "d" then
      t.dirs[rel] = true
    elseif y == "f" then
      t.files[rel] = uf.read(root .. "/" .. rel) or ""
    else
      t.other[rel] = y
    end
  end
  p:close()
  table.sort(t.debris)
  return t
end

-- A file's contents for a message: its size and first line.
function M.show(text)
  if text == nil then return "absent" end
  return ("%d bytes, «%s»"):format(#text, text:match("^([^\n]*)") or "")
end

-- `model` with `files` written over it (path -> bytes), as a new table.
function M.overlay(model, files)
  local m = {}
  for k, v in pairs(model) do m[k] = v end
  for k, v in pairs(files) do m[k] = v end
  return m
end

-- The folders that hold `files` (path -> anything), and theirs.
function M.parent_dirs(files)
  local dirs = {}
  for rel in pairs(files) do
    local d = rel:match("^(.*)/[^/]*$")
    while d and not dirs[d] do
      dirs[d] = true
      d = d:match("^(.*)/[^/]*$")
    end
  end
  return dirs
end

-- How tree `t` differs from holding exactly the files `expected`, in
-- exactly the folders that hold them (plus `extra_dirs`), and nothing
-- else: a list of at most 12 lines, empty when it does not.
function M.differences(t, expected, extra_dirs)
  local lines = {}
  local function add(s) if #lines < 12 then lines[#lines + 1] = s end end
  for _, d in ipairs(t.debris) do add("debris: " .. d) end
  for rel, y in pairs(t.other) do add(("unexpected entry of type %s: %s"):format(y, rel)) end
  for rel, want in pairs(expected) do
    if t.files[rel] ~= want then add(("%s: want %s, got %s"):format(rel, M.show(want), M.show(t.files[rel]))) end
  end
  for rel, got in pairs(t.files) do
    if expected[rel] == nil then add(("extra file %s: %s"):format(rel, M.show(got))) end
  end
  local dirs = M.parent_dirs(expected)
  for rel in pairs(extra_dirs or {}) do dirs[rel] = true end
  for rel in pairs(t.dirs) do if not dirs[rel] then add("stray folder: " .. rel) end end
  for rel in pairs(dirs) do if not t.dirs[rel] then add("missing folder: " .. rel) end end
  return lines
end

return M
