defmodule A.MixProject do
  use Mix.Project
  def project, do: [app: :nil, apps_path: "apps", default_release: :rel]
end
