defmodule Shop.Umbrella.MixProject do
  use Mix.Project

  def project do
    [
      apps_path: "apps",
      default_release: :web,
      releases: [all: [applications: [core: :permanent]], web: [applications: [web: :permanent]]]
    ]
  end
end
