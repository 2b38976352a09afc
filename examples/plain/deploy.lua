-- Not Elixir: any program, with release_system = "none" and its own
-- exec_start.
return {
  app_name = "static_site",
  release_system = "none",
  service_type = "exec",
  exec_start = { "/usr/bin/python3 -m http.server 8080 --directory ", ref.deploy_dir, "/public" },
  dirs = { "cache" },
  systemd_version = 252,
}
