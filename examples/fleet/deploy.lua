-- Many services from a table of apps and ports: a config is a program.
local apps = require("apps")

local services = {}
for _, app in ipairs(apps) do
  services[#services + 1] = {
    app_name = app.name,
    release_name = "fleet",
    deploy_dir = "/srv/fleet",
    service_name = "fleet-" .. app.name,
    app_user = "fleet",
    app_group = "fleet",
    dirs = { "runtime", "state" },
    runtime_directory = "fleet-" .. app.name,
    state_directory = "fleet-" .. app.name,
    exec_start = { ref.current_dir, "/bin/fleet start ", app.name },
    env_vars = {
      ("PORT=%d"):format(app.port),
      ("WORKERS=%d"):format(app.workers or 1),
      { "RELEASE_TMP=", ref.runtime_dir },
    },
    limit_nofile = app.memory_hungry and 262144 or 65535,
    unit_after_targets = app.name ~= "api" and { "fleet-api.service" } or nil,
  }
end
return services
