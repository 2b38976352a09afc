-- A script writes the app's environment into the runtime directory
-- before every start (for example from a secrets store); the app reads it
-- through an optional EnvironmentFile. Starting only the app runs it.
return {
  app_name = "env_app",
  dirs = { "runtime" },
  runtime_environment_service_script = "write-runtime-environment",
  env_files = { { "-", ref.runtime_dir, "/environment" } },
  env_vars = { { "RELEASE_TMP=", ref.runtime_dir } },
}
