defmodule Edge.Umbrella.MixProject do
  use Mix.Project

  @releases [edge: [applications: [edge: :permanent]]]

  def project, do: [apps_path: "apps", releases: @releases]
end
