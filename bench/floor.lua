-- The compute floor for bench/scale.lua: a plain Lua 5.4 script that
-- prints the same bytes as `unitforge bench/scale.lua --stdout`, with
-- string concatenation and io.write, knowing nothing of keys, defaults,
-- validation or escaping. bench/run.sh checks the bytes are identical.
local n = tonumber(os.getenv("FLEET_SIZE") or "10000")
local write = io.write
for i = 1, n do
  local a = "app" .. i
  if i > 1 then write("\n") end
  write("# ", a, ".service\n[Unit]\nDescription=", a, " service\n",
    "After=local-fs.target network.target\n\n[Service]\nType=simple\nUser=", a,
    "\nGroup=", a, "\nWorkingDirectory=/srv/", a, "/current\nExecStart=/srv/", a,
    "/current/bin/", a, " start\nExecStop=/srv/", a, "/current/bin/", a,
    " stop\nEnvironment=RUNTIME_DIR=/run/", a, "\nEnvironment=STATE_DIR=/var/lib/", a,
    "\nEnvironment=LANG=en_US.utf8\nEnvironment=MIX_ENV=prod\nEnvironment=PORT=", 4000 + i,
    "\nEnvironment=RELEASE_TMP=/run/", a, "\nLimitNOFILE=65535\nUMask=0027\nSyslogIdentifier=", a,
    "\nRestart=always\nRuntimeDirectory=", a,
    "\nRuntimeDirectoryMode=750\nRuntimeDirectoryPreserve=no\nStateDirectory=", a,
    "\nStateDirectoryMode=750\n\n[Install]\nWantedBy=multi-user.target\n")
  if i % 10 == 0 then
    write("\n# ", a, "-restart.path\n# https://www.freedesktop.org/software/systemd/man/systemd.path.html\n\n",
      "[Path]\nPathModified=/srv/", a, "/flags/restart.flag\n# MakeDirectory=true\n# DirectoryMode=0750\n",
      "\n[Install]\nWantedBy=multi-user.target\n\n# ", a,
      "-restart.service\n[Unit]\nDescription=", a, " restarter\nAfter=local-fs.target\n\n",
      "[Service]\nType=oneshot\nExecStart=/usr/bin/systemctl restart ", a, ".service\n")
  end
end
