-- A Distillery release forking into the background: `start` instead of
-- `foreground`, with the pid file systemd follows.
return {
  app_name = "legacy_app",
  release_system = "distillery",
  service_type = "forking",
  dirs = { "runtime" },
  env_vars = { { "RELEASE_MUTABLE_DIR=", ref.runtime_dir } },
}
