-- Restart by flag file: an unprivileged deploy user touches
-- <flags_dir>/restart.flag and systemd restarts the app. Enable the
-- .path unit; the -restart.service has no [Install] on purpose.
return {
  app_name = "flag_app",
  restart_method = "systemd_flag",
  dirs = { "runtime" },
}
