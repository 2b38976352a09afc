-- What every environment of the shop shares.
return {
  app_name = "shop",
  app_user = "shop",
  app_group = "shop",
  dirs = { "runtime", "configuration", "state" },
  env_files = { { "-", ref.configuration_dir, "/environment" } },
  env_vars = {
    function(c) return "PORT=" .. (c.mix_env == "staging" and 4001 or 4000) end,
    { "RELEASE_TMP=", ref.runtime_dir },
    function(c) return "RELEASE_NODE=" .. c.service_name .. "@127.0.0.1" end,
  },
  restart_method = "systemd_flag",
  systemd_version = 247,
}
