defmodule Foo.MixProject do
  use Mix.Project

  def project, do: [apps_path: "apps", releases: releases()]
  defp releases when true, do: [real: []]
  defp releases, do: [decoy: []]
  def releases(a, b \\ 1), do: [a: a, b: b]
end
