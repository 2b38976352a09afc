-- The release runs chrooted into its own directory, with the host's
-- system files bound read-only so its start script can run.
return {
  app_name = "jailed_app",
  dirs = { "runtime" },
  env_vars = { { "RELEASE_TMP=", ref.runtime_dir } },
  chroot = true,
  systemd_version = 247,
}
