-- mix_systemd's `paranoia` hardening set, version-gated.
return {
  app_name = "careful_app",
  dirs = { "runtime", "state" },
  env_vars = { { "RELEASE_TMP=", ref.runtime_dir } },
  paranoia = true,
  systemd_version = 247,
}
