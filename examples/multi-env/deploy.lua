-- Staging and prod from one base, generated in one run: each service's
-- units land in _build/<its mix_env>/systemd/lib/systemd/system.
local base = require("base")

local overlays = {
  staging = {
    mix_env = "staging",
    service_name = "shop-staging",
    base_dir = "/srv/staging",
  },
  prod = {
    mix_env = "prod",
    paranoia = true,
  },
}

return {
  unitforge.merge(base, overlays.staging),
  unitforge.merge(base, overlays.prod),
}
