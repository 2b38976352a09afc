-- A scripted config of FLEET_SIZE services (default 10000), for
-- bench/run.sh.
local n = tonumber(os.getenv("FLEET_SIZE") or "10000")
local services = {}
for i = 1, n do
  services[i] = {
    app_name = "app" .. i,
    dirs = { "runtime", "state" },
    env_vars = { "PORT=" .. (4000 + i), { "RELEASE_TMP=", ref.runtime_dir } },
    restart_method = i % 10 == 0 and "systemd_flag" or nil,
  }
end
return services
