-- The strict profile (paranoia = "strict"): which directives, from which
-- systemd version (facts: docs/design.md). What a release needs to keep
-- working under them (directories, environment) are the strict additions
-- of those keys in the option table, lua/unitforge.options.lua. A directive or a value the
-- target does not know is never emitted: systemd would drop it with only
-- a warning, and the protection would silently disappear.
local H = {}

local function join(list) return table.concat(list, " ") end

-- "Directive=value" lines of the strict set for the resolved config `c`.
function H.strict_directives(c)
  local v, out = c.systemd_version, {}
  local function add(since, directive, value)
    if v >= since then out[#out + 1] = directive .. "=" .. value end
  end
  local capabilities = c.capabilities or {}
  add(0, "NoNewPrivileges", "yes")
  add(0, "PrivateTmp", "yes")
  add(209, "PrivateDevices", "yes")
  add(0, "DevicePolicy", "closed")
  if v >= 232 then add(232, "ProtectSystem", "strict") else add(214, "ProtectSystem", "full") end
  add(214, "ProtectHome", "yes")
  add(232, "ProtectKernelTunables", "yes")
  add(232, "ProtectKernelModules", "yes")
  add(244, "ProtectKernelLogs", "yes")
  add(232, "ProtectControlGroups", "yes")
  add(245, "ProtectClock", "yes")
  add(242, "ProtectHostname", "yes")
  add(247, "ProtectProc", "invisible")
  add(247, "ProcSubset", "pid")
  -- capabilities granted in a private user namespace would not reach the
  -- host's network (binding port 443 needs them there)
  if #capabilities == 0 then add(232, "PrivateUsers", "yes") end
  add(239, "PrivateMounts", "yes")
  add(232, "RemoveIPC", "yes")
  add(233, "RestrictNamespaces", "yes")
  add(231, "RestrictRealtime", "yes")
  add(242, "RestrictSUIDSGID", "yes")
  add(235, "LockPersonality", "yes")
  if c.memory_deny_write_execute ~= false then add(231, "MemoryDenyWriteExecute", "yes") end
  add(235, "KeyringMode", "private")
  add(209, "SystemCallArchitectures", "native")
  -- @system-service exists from 239; an unknown group would void the line
  if v >= 239 then
    add(239, "SystemCallFilter", "@system-service")
    add(239, "SystemCallFilter", "~@privileged")
    -- the VM runs without changing priorities, affinity or limits; only
    -- +sbt scheduler binding needs them: syscall_filter = { "@resources" }
    add(239, "SystemCallFilter", "~@resources")
    for _, entry in ipairs(c.syscall_filter or {}) do add(239, "SystemCallFilter", entry) end
    add(239, "SystemCallErrorNumber", "EPERM")
  end
  add(0, "CapabilityBoundingSet", join(capabilities))
  if #capabilities > 0 then add(229, "AmbientCapabilities", join(capabilities)) end
  local families = { "AF_UNIX", "AF_INET", "AF_INET6" }
  for _, family in ipairs(c.address_families or {}) do families[#families + 1] = family end
  add(211, "RestrictAddressFamilies", join(families))
  if c.network == "local" or c.network == false then
    add(235, "IPAddressDeny", "any")
    add(235, "IPAddressAllow", "localhost")
  end
  if c.network == false then add(0, "PrivateNetwork", "yes") end
  return out
end

-- "Directive=value" lines of hardening_extra, sorted by directive; a
-- list gives one line per value, booleans become yes/no.
function H.extra_directives(extra)
  local names, out = {}, {}
  for name in pairs(extra or {}) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local values = extra[name]
    if type(values) ~= "table" then values = { values } end
    for _, value in ipairs(values) do
      if type(value) == "boolean" then value = value and "yes" or "no" end
      out[#out + 1] = name .. "=" .. tostring(value)
    end
  end
  return out
end

return H
