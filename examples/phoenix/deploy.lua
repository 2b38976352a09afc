-- A Phoenix app as mix_systemd users run it: runtime, configuration and
-- state directories, an optional env file in the configuration directory,
-- RELEASE_TMP in the runtime directory, a pre-start step run as root.
return {
  app_name = "phoenix_shop",
  app_user = "shop",
  app_group = "shop",
  dirs = { "runtime", "configuration", "logs", "state", "cache" },
  env_files = { { "-", ref.configuration_dir, "/environment" } },
  env_vars = {
    "PORT=4000",
    "PHX_SERVER=true",
    { "RELEASE_TMP=", ref.runtime_dir },
    function(c) return "RELEASE_NODE=" .. c.service_name .. "@127.0.0.1" end,
  },
  exec_start_pre = { { "!", ref.scripts_dir, "/deploy-sync-config" } },
  limit_nofile = 65535,
  restart_sec = 5,
  systemd_version = 247,
}
